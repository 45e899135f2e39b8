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

/** Checks that the client accepts JSON; throws 406 otherwise. */
export function assertAcceptsJson(accept: string | undefined, format: unknown): void {
  const formatValue = firstValue(format);
  if (formatValue !== undefined) {
    const type = formatValue.split(';')[0].trim().toLowerCase();
    if (!JSON_TYPES.has(type)) throw notAcceptable(`_format "${formatValue.slice(0, 60)}" is not supported: this server speaks application/fhir+json`);
    return;
  }
  if (!accept) return;
  const ranges = accept.split(',').map((part) => {
    const [type, ...params] = part.split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return { type: type.trim().toLowerCase(), q: q ? Number(q.slice(2)) : 1 };
  });
  if (ranges.some((r) => r.q > 0 && (JSON_TYPES.has(r.type) || ANY.has(r.type)))) return;
  throw notAcceptable(`Accept "${accept.slice(0, 80)}" is not supported: this server speaks application/fhir+json`);
}

/** True when `_pretty=true` asks for indented JSON. */
export function wantsPretty(pretty: unknown): boolean {
  return firstValue(pretty) === 'true';
}
