/**
 * What the value converters share: the parameter being indexed and the server's base URL.
 * https://hl7.org/fhir/R4/search.html#ptypes
 */

/** Inputs a converter needs beyond the value itself. */
export interface ConvertContext {
  /** The SearchParameter code written into each row. */
  param: string;
  /** Absolute references under this URL index as local `Type/id`. */
  baseUrl?: string;
  /** For reference parameters: the allowed target types (SearchParameter.target). */
  targets?: readonly string[];
}

/** A JSON object's field as a string, or null. */
export function textOf(obj: unknown, key: string): string | null {
  if (!obj || typeof obj !== 'object') return null;
  const v = (obj as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : null;
}

/** A JSON object's field as an array (a single value becomes a one-item array). */
export function listOf(obj: unknown, key: string): unknown[] {
  if (!obj || typeof obj !== 'object') return [];
  const v = (obj as Record<string, unknown>)[key];
  return v === undefined || v === null ? [] : Array.isArray(v) ? v : [v];
}

/** FHIR primitive types whose JSON value is a string (https://hl7.org/fhir/R4/datatypes.html#primitive). */
export const STRING_PRIMITIVES: ReadonlySet<string> = new Set([
  'string', 'code', 'id', 'markdown', 'uri', 'url', 'canonical', 'oid', 'uuid', 'base64Binary',
  'date', 'dateTime', 'instant', 'time', 'xhtml',
]);
