/**
 * FHIR primitive types as GraphQL scalars, and the custom scalars the schema declares.
 * `integer`-like types are `Int` (FHIR integers are 32-bit, as GraphQL's), `decimal` is a
 * `Decimal` that keeps its exact digits (DECISIONS.md §3), the date/time types are scalars whose
 * runtime checks the FHIR format, `id` is `ID`, other string-like primitives are `String`.
 * https://hl7.org/fhir/R4/datatypes.html#primitive  https://hl7.org/fhir/R4/graphql.html#schema
 */

/** GraphQL scalar per FHIR primitive type code (also the FHIRPath `System.*` codes of `value` elements). */
const SCALAR_OF: Readonly<Record<string, string>> = {
  integer: 'Int',
  positiveInt: 'Int',
  unsignedInt: 'Int',
  boolean: 'Boolean',
  decimal: 'Decimal',
  date: 'Date',
  dateTime: 'DateTime',
  instant: 'Instant',
  time: 'Time',
  id: 'ID',
  'http://hl7.org/fhirpath/System.Boolean': 'Boolean',
  'http://hl7.org/fhirpath/System.Integer': 'Int',
  'http://hl7.org/fhirpath/System.Decimal': 'Decimal',
  'http://hl7.org/fhirpath/System.Date': 'Date',
  'http://hl7.org/fhirpath/System.DateTime': 'DateTime',
  'http://hl7.org/fhirpath/System.Time': 'Time',
};

/**
 * The GraphQL scalar of a FHIR primitive type code: `String` for every primitive not listed
 * (string, code, uri, url, canonical, oid, uuid, markdown, base64Binary, xhtml).
 * https://hl7.org/fhir/R4/datatypes.html#primitive
 */
export function scalarOfPrimitive(code: string): string {
  return Object.hasOwn(SCALAR_OF, code) ? SCALAR_OF[code] : 'String';
}

/** Whether a type code names a FHIRPath system type (only the `value` of a primitive uses them). */
export function isSystemTypeCode(code: string): boolean {
  return code.startsWith('http://hl7.org/fhirpath/System.');
}

/** Name of the scalar that holds a whole FHIR resource as JSON in inputs (DECISIONS.md §6). */
export const JSON_SCALAR = 'JSON';

/** The custom scalars, in SDL order, with the FHIR page that defines each format. */
const CUSTOM_SCALARS: readonly { name: string; description: string; url: string }[] = [
  { name: 'Decimal', description: 'A FHIR decimal that keeps its exact digits (1.50 stays 1.50).', url: 'https://hl7.org/fhir/R4/datatypes.html#decimal' },
  { name: 'Date', description: 'A FHIR date: YYYY, YYYY-MM or YYYY-MM-DD.', url: 'https://hl7.org/fhir/R4/datatypes.html#date' },
  { name: 'DateTime', description: 'A FHIR dateTime: a date, or a date and time with a time zone.', url: 'https://hl7.org/fhir/R4/datatypes.html#dateTime' },
  { name: 'Instant', description: 'A FHIR instant: a date and time to the second with a time zone.', url: 'https://hl7.org/fhir/R4/datatypes.html#instant' },
  { name: 'Time', description: 'A FHIR time of day: hh:mm:ss.', url: 'https://hl7.org/fhir/R4/datatypes.html#time' },
  { name: JSON_SCALAR, description: 'A FHIR resource as JSON, validated like a REST body.', url: 'https://hl7.org/fhir/R4/json.html' },
];

/** Names of the custom scalars the SDL declares. */
export const CUSTOM_SCALAR_NAMES: readonly string[] = CUSTOM_SCALARS.map((s) => s.name);

/**
 * SDL declarations of the custom scalars, each with `@specifiedBy` pointing at its FHIR definition.
 * https://spec.graphql.org/October2021/#sec--specifiedBy
 */
export function renderScalars(): string {
  return CUSTOM_SCALARS.map((s) => `"${s.description}"\nscalar ${s.name} @specifiedBy(url: "${s.url}")\n`).join('\n');
}
