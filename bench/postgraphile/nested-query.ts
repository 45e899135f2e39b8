/**
 * The benchmark's nested query on both servers, and one normal form for their answers so a test
 * (or the runner, as a sanity check before it measures) can assert they return the same data.
 *
 * fhirgraph: `PatientList(_count: 50)` is a search with no `_sort`, so it pages by id
 * (`src/search/sql/sort-keys.ts`); `ObservationList(_reference: subject)` returns at most the
 * server's `DEFAULT_COUNT` (20) observations per patient, in id order
 * (`src/search/sql/build-reverse-query.ts`). The PostGraphile query asks for the same: the first 50
 * patients by primary key, and the first 20 observations of each by primary key.
 * https://hl7.org/fhir/R4/graphql.html  https://www.graphile.org/postgraphile/connections/
 */

/** The fhirgraph nested query, as the benchmark issue states it. */
export const FHIRGRAPH_NESTED_QUERY = `{ PatientList(_count: 50) { name { family } ObservationList(_reference: subject) { code { text } performer { resource { ... on Practitioner { name { family } } } } } } }`;

/** fhirgraph's default page size (`DEFAULT_COUNT`), which bounds `ObservationList` without `_count`. */
export const FHIRGRAPH_DEFAULT_COUNT = 20;

/** The PostGraphile query over the relational copy equivalent to {@link FHIRGRAPH_NESTED_QUERY}. */
export function buildPostgraphileNestedQuery(options: { patients?: number; observationsPerPatient?: number } = {}): string {
  const patients = options.patients ?? 50;
  const observations = options.observationsPerPatient ?? FHIRGRAPH_DEFAULT_COUNT;
  return `{ allPatients(first: ${patients}, orderBy: PRIMARY_KEY_ASC) { nodes { family observationsByPatientId(first: ${observations}, orderBy: PRIMARY_KEY_ASC) { nodes { codeText practitionerByPerformerId { family } } } } } }`;
}

/** {@link buildPostgraphileNestedQuery} with the defaults: 50 patients, 20 observations each. */
export const POSTGRAPHILE_NESTED_QUERY = buildPostgraphileNestedQuery();

/** The common shape of both answers. */
export interface NestedPatient {
  family: string | null;
  observations: NestedObservation[];
}

/** One observation in the common shape: `code.text` and the first Practitioner performer's family. */
export interface NestedObservation {
  code: string | null;
  performerFamily: string | null;
}

interface GraphQLBody {
  data?: Record<string, any> | null;
  errors?: { message: string }[];
}

function dataOf(body: GraphQLBody, field: string): any {
  if (body?.errors?.length) throw new Error(`the answer has errors: ${body.errors.map((e) => e.message).join('; ')}`);
  const value = body?.data?.[field];
  if (value == null) throw new Error(`the answer has no data.${field}`);
  return value;
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Observations by (code, performer), patients by (family, observations): independent of ids and server order. */
function sortNested(patients: NestedPatient[]): NestedPatient[] {
  const sorted = patients.map((p) => ({
    family: p.family,
    observations: [...p.observations].sort((a, b) => compareKeys(JSON.stringify([a.code, a.performerFamily]), JSON.stringify([b.code, b.performerFamily]))),
  }));
  return sorted.sort((a, b) => compareKeys(JSON.stringify(a), JSON.stringify(b)));
}

/**
 * The family of the first performer that resolves to a Practitioner: `... on Practitioner` gives
 * `{ name }` for one, `{}` for another type, and `resource` is null for a dangling reference,
 * matching the copy's "first `Practitioner/<id>` performer present".
 */
function firstPractitionerFamily(performers: any[] | null | undefined): string | null {
  const practitioner = (performers ?? []).map((p) => p?.resource).find((r) => r != null && 'name' in r);
  return practitioner?.name?.[0]?.family ?? null;
}

/** Normalises fhirgraph's answer (`POST /graphql` body) to {@link NestedPatient}s. */
export function normaliseFhirgraphNested(body: GraphQLBody): NestedPatient[] {
  const patients: any[] = dataOf(body, 'PatientList');
  return sortNested(patients.map((p) => ({
    family: p.name?.[0]?.family ?? null,
    observations: (p.ObservationList ?? []).map((o: any) => ({ code: o.code?.text ?? null, performerFamily: firstPractitionerFamily(o.performer) })),
  })));
}

/** Normalises PostGraphile's answer to {@link NestedPatient}s. */
export function normalisePostgraphileNested(body: GraphQLBody): NestedPatient[] {
  const patients: any[] = dataOf(body, 'allPatients').nodes;
  return sortNested(patients.map((p) => ({
    family: p.family ?? null,
    observations: (p.observationsByPatientId?.nodes ?? []).map((o: any) => ({ code: o.codeText ?? null, performerFamily: o.practitionerByPerformerId?.family ?? null })),
  })));
}

/** Normalises either server's answer, told apart by its root field (`PatientList` or `allPatients`). */
export function normaliseNestedAnswer(body: GraphQLBody): NestedPatient[] {
  return body?.data && 'allPatients' in body.data ? normalisePostgraphileNested(body) : normaliseFhirgraphNested(body);
}
