/** Shared rate-limit counters (filled in by the rate-limit work). */
import { Migration } from '@mikro-orm/migrations';

export class Migration0003RateLimit extends Migration {
  override async up(): Promise<void> {
    this.addSql('SELECT 1');
  }
}
