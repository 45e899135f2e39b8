/**
 * The Health Samurai search mix (their `k6/search.js` and `search/searchConfig.js`): each virtual
 * user, in a loop, runs one search of every kind they test, each with `_count=20` and a value
 * drawn at random: string (Patient `name`, Patient `address`, Organization `name`; plain or
 * `:contains`), date (Patient `birthdate`, Observation `date`, Encounter `date`; no prefix or one
 * of eq, lt, gt, ge, le, sa, eb) and token (Observation `category`, bare code or system|code).
 * Theirs draws from lists of Synthea values; ours draws from the bench data set
 * (`sampleSearchMixValues`), and each list holds a value that matches nothing, as theirs does.
 * Draws are seeded per user and iteration, so every run asks the same questions.
 */
import { Random } from '../../scripts/seed/random.ts';
import { benchQuery } from '../lib/bench-database.ts';
import type { Scenario } from '../lib/scenario-load.ts';

export interface SearchMixValues {
  patientNames: string[];
  cities: string[];
  organizationNames: string[];
  birthDates: string[];
  observationDates: string[];
  encounterDates: string[];
}

interface SearchSpec { type: string; param: string; values: string[]; modifiers?: string[]; prefixes?: string[]; escape?: boolean }

const STRING_MODIFIERS = ['', ':contains'];
const DATE_PREFIXES = ['', 'eq', 'lt', 'gt', 'ge', 'le', 'sa', 'eb'];
const CATEGORIES = ['missing-data|for-null-searches', 'laboratory', 'vital-signs', 'http://terminology.hl7.org/CodeSystem/observation-category|laboratory'];
const NO_MATCH = 'NON-EXISTS';
const FUTURE = '2070-01-01';

/** A string search value with FHIR's separators escaped (`,` `$` `|` `\`). https://hl7.org/fhir/R4/search.html#escaping */
function escapeSearchValue(value: string): string {
  let out = '';
  for (const c of value) out += c === ',' || c === '$' || c === '|' || c === '\\' ? `\\${c}` : c;
  return out;
}

/** The searches of one iteration, in their order. */
export function searchMixSpecs(v: SearchMixValues): SearchSpec[] {
  return [
    { type: 'Patient', param: 'name', values: [NO_MATCH, ...v.patientNames], modifiers: STRING_MODIFIERS, escape: true },
    { type: 'Patient', param: 'address', values: [NO_MATCH, ...v.cities], modifiers: STRING_MODIFIERS, escape: true },
    { type: 'Organization', param: 'name', values: [NO_MATCH, ...v.organizationNames], modifiers: STRING_MODIFIERS, escape: true },
    { type: 'Patient', param: 'birthdate', values: [FUTURE, ...v.birthDates], prefixes: DATE_PREFIXES },
    { type: 'Observation', param: 'date', values: [`${FUTURE}T00:00:00Z`, ...v.observationDates], prefixes: DATE_PREFIXES },
    { type: 'Encounter', param: 'date', values: [FUTURE, ...v.encounterDates], prefixes: DATE_PREFIXES },
    { type: 'Observation', param: 'category', values: CATEGORIES },
  ];
}

/** The request path of one search, drawn with `rng`. */
export function searchMixPath(spec: SearchSpec, rng: Random): string {
  const value = rng.pick(spec.values);
  const modifier = spec.modifiers ? rng.pick(spec.modifiers) : '';
  const prefix = spec.prefixes ? rng.pick(spec.prefixes) : '';
  return `/fhir/${spec.type}?${spec.param}${modifier}=${prefix}${encodeURIComponent(spec.escape ? escapeSearchValue(value) : value)}&_count=20`;
}

/** The search mix's scenario with a bearer `token`. */
export function searchMixScenario(token: string, values: SearchMixValues): Scenario {
  const specs = searchMixSpecs(values);
  return {
    headers: { authorization: `Bearer ${token}`, accept: 'application/fhir+json' },
    async iteration(client, user, n) {
      const rng = new Random(18, user, n);
      for (const spec of specs) await client.request('GET', searchMixPath(spec, rng));
    },
  };
}

/** Values for the searches, drawn from the data (deterministically: ordered by a hash of the id). */
export async function sampleSearchMixValues(url: string): Promise<SearchMixValues> {
  const column = async (sql: string) => [...new Set((await benchQuery<{ v: string | null }>(url, sql)).map((r) => r.v).filter((v): v is string => !!v))];
  const sample = (type: string, expression: string, n = 20) =>
    column(`SELECT ${expression} AS v FROM resource WHERE resource_type = '${type}' AND NOT deleted ORDER BY md5(id) LIMIT ${n}`);
  const [families, givens, cities, organizationNames, birthDates, observationDates, encounterDates] = await Promise.all([
    sample('Patient', `content->'name'->0->>'family'`, 10), sample('Patient', `content->'name'->0->'given'->>0`, 10),
    sample('Patient', `content->'address'->0->>'city'`), sample('Organization', `content->>'name'`),
    sample('Patient', `content->>'birthDate'`), sample('Observation', `content->>'effectiveDateTime'`),
    sample('Encounter', `left(content->'period'->>'start', 10)`),
  ]);
  const values = { patientNames: [...families, ...givens], cities, organizationNames, birthDates, observationDates, encounterDates };
  for (const [name, list] of Object.entries(values)) if (!list.length) throw new Error(`the bench database holds no values for the search mix's ${name}`);
  return values;
}
