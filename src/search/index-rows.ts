/**
 * What search indexing extracts from a resource: one row per value of each search parameter,
 * typed by the parameter's type (https://hl7.org/fhir/R4/search.html#ptypes). The store writes
 * these rows into its search tables at write time; the query engine matches against them.
 *
 * Conventions:
 * - `param` is the SearchParameter `code` (e.g. `name`, `subject`, `code-value-quantity`).
 * - Instants are ISO 8601 UTC strings with milliseconds (`2024-01-01T00:00:00.000Z`); `low` and
 *   `high` are inclusive and either may be null for an open end (a Period without an end).
 * - Decimal values are strings holding the exact digits (`"72.50"`), so no precision is lost.
 */

/** string parameters: `value` as written; `norm` lower-cased with accents removed. */
export interface StringRow { kind: 'string'; param: string; value: string; norm: string }

/** token parameters: a code with its system; `text` is display/text for `:text`. */
export interface TokenRow {
  kind: 'token';
  param: string;
  system: string | null;
  code: string | null;
  /** CodeableConcept.text, Coding.display, Identifier.type.text: for the `:text` modifier (normalised). */
  text?: string | null;
  /** Identifier.type as `system|code` tokens, for `:of-type`. */
  ofType?: { system: string | null; code: string | null }[];
}

/** date parameters: the range the value covers given its precision (`2024` = the whole year). */
export interface DateRow { kind: 'date'; param: string; low: string | null; high: string | null }

/** number parameters: the exact value and the range its precision implies (`100` = [99.5, 100.5)). */
export interface NumberRow { kind: 'number'; param: string; value: string; low: string; high: string }

/** quantity parameters: number plus system, code and unit. */
export interface QuantityRow {
  kind: 'quantity';
  param: string;
  value: string;
  low: string;
  high: string;
  system: string | null;
  code: string | null;
  unit: string | null;
  /**
   * Set when the row comes from a Range (e.g. Condition `onset-age`, `context-quantity`):
   * `closed` = [low, high] are the Range's bounds; `at-least` / `at-most` = a Range with only a
   * low / high bound, whose value is in `value` (= `low` = `high`) and whose other end is open.
   * Absent for a plain Quantity (optional field added by the indexer).
   */
  range?: 'closed' | 'at-least' | 'at-most';
}

/** reference parameters: a local target (`Patient/1`), an absolute URL, or a logical identifier. */
export interface ReferenceRow {
  kind: 'reference';
  param: string;
  targetType: string | null;
  targetId: string | null;
  /** The reference as written when it is not a local `Type/id` (absolute URL, canonical, urn). */
  url: string | null;
  /** Reference.identifier, for `:identifier`. */
  identifierSystem?: string | null;
  identifierValue?: string | null;
}

/** uri parameters. */
export interface UriRow { kind: 'uri'; param: string; value: string }

/**
 * composite parameters: the components taken from the same element, keyed by the component
 * parameter's code (for Observation `code-value-quantity`: `{ code: TokenRow, 'value-quantity':
 * QuantityRow }`). One row per combination found in one element.
 */
export interface CompositeRow {
  kind: 'composite';
  param: string;
  components: Record<string, Exclude<IndexRow, CompositeRow>>;
}

export type IndexRow = StringRow | TokenRow | DateRow | NumberRow | QuantityRow | ReferenceRow | UriRow | CompositeRow;
