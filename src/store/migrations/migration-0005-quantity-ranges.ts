/**
 * Quantities that come from a Range (`Condition.onsetRange` for `onset-age`) are matched on their
 * bounds rather than on a point value: `range` says which bounds the row has (null for a point).
 */
import { Migration } from '@mikro-orm/migrations';

export class Migration0005QuantityRanges extends Migration {
  override async up(): Promise<void> {
    this.addSql(`ALTER TABLE search_quantity ADD COLUMN range text CHECK (range IN ('closed', 'at-least', 'at-most'))`);
  }

  override async down(): Promise<void> {
    this.addSql('ALTER TABLE search_quantity DROP COLUMN IF EXISTS range');
  }
}
