/**
 * The resource a FHIR reference names on this server: `Type/id`, optionally after a base URL and
 * before `/_history/n` (https://hl7.org/fhir/R4/references.html#literal).
 */
const TYPE = /^[A-Z][A-Za-z]+$/;
const ID = /^[A-Za-z0-9\-.]{1,64}$/;
/** What a base URL before the type may not hold (the line terminators a regex `.` does not match). */
const LINE_TERMINATOR = /[\n\r\u2028\u2029]/;

/**
 * The type and id a reference names, or undefined when it names no local resource. It reads the
 * last two path segments (`Patient/1`), else the last four (`Patient/1/_history/2`), whatever
 * comes before them: split on `/` rather than one regex with a free prefix (`^(?:.*\/)?Type/id…`),
 * whose backtracking is polynomial in the reference's length.
 */
export function parseLocalReference(reference: string): { type: string; id: string } | undefined {
  const segments = reference.split('/');
  for (const length of [2, 4]) {
    if (segments.length < length) continue;
    const [type, id, history, version] = segments.slice(segments.length - length);
    if (!TYPE.test(type) || !ID.test(id)) continue;
    if (length === 4 && (history !== '_history' || !ID.test(version))) continue;
    if (LINE_TERMINATOR.test(segments.slice(0, segments.length - length).join('/'))) continue;
    return { type, id };
  }
  return undefined;
}
