/**
 * Content negotiation for the REST facade: JSON only, chosen by `_format` (which overrides
 * `Accept`), pretty-printed with `_pretty=true` (https://hl7.org/fhir/R4/http.html#mime-type,
 * https://hl7.org/fhir/R4/http.html#general-parameters).
 */
import { notAcceptable } from '../fhir/outcomes.ts';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

const JSON_TYPES = new Set(['application/fhir+json', 'application/json', 'application/json+fhir', 'json', 'fhir+json']);
const ANY = new Set(['*/*', 'application/*']);

function firstValue(value: unknown): string | undefined {
  if (Array.isArray(value)) return value.length ? String(value[0]) : undefined;
  return value === undefined ? undefined : String(value);
}

/** The media ranges of an `Accept` header with their weights. */
function acceptRanges(accept: string): { type: string; q: number }[] {
  return accept.split(',').map((part) => {
    const [type, ...params] = part.split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return { type: type.trim().toLowerCase(), q: q ? Number(q.slice(2)) : 1 };
  });
}

const FHIR_XML_TYPES = new Set(['application/fhir+xml', 'application/xml+fhir', 'xml', 'fhir+xml']);

/**
 * Whether a read of a `Binary` answers the resource (FHIR JSON, `data` in base64) rather than the
 * content itself (https://hl7.org/fhir/R4/http.html#binary): `_format` always asks for the
 * resource; otherwise an `Accept` naming a FHIR JSON type does. Any other `Accept` (a file's own
 * type, any type, none at all) gets the content as stored, with its own Content-Type; an `Accept`
 * asking only for FHIR XML is a 406.
 */
export function wantsBinaryResource(accept: string | undefined, format: unknown): boolean {
  if (firstValue(format) !== undefined) {
    assertAcceptsJson(undefined, format);
    return true;
  }
  if (!accept) return false;
  const wanted = acceptRanges(accept).filter((r) => r.q > 0);
  if (wanted.some((r) => JSON_TYPES.has(r.type))) return true;
  if (wanted.length > 0 && wanted.every((r) => FHIR_XML_TYPES.has(r.type))) {
    throw notAcceptable(`Accept "${accept.slice(0, 80)}" is not supported: this server speaks application/fhir+json`);
  }
  return false;
}

/** Checks that the client accepts JSON; throws 406 otherwise. */
export function assertAcceptsJson(accept: string | undefined, format: unknown): void {
  const formatValue = firstValue(format);
  if (formatValue !== undefined) {
    const type = formatValue.split(';')[0].trim().toLowerCase();
    if (!JSON_TYPES.has(type)) throw notAcceptable(`_format "${formatValue.slice(0, 60)}" is not supported: this server speaks application/fhir+json`);
    return;
  }
  if (!accept) return;
  const ranges = acceptRanges(accept);
  if (ranges.some((r) => r.q > 0 && (JSON_TYPES.has(r.type) || ANY.has(r.type)))) return;
  throw notAcceptable(`Accept "${accept.slice(0, 80)}" is not supported: this server speaks application/fhir+json`);
}

/** True when `_pretty=true` asks for indented JSON. */
export function wantsPretty(pretty: unknown): boolean {
  return firstValue(pretty) === 'true';
}
