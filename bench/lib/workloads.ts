/**
 * The benchmark's workloads, grouped so each fhirgraph figure stands beside its baselines measured
 * in the same run: REST read by id (the in-process raw route and the minimal Node `http` + `pg`
 * server in its own process), the two REST searches, the GraphQL nested query (raw SQL and
 * PostGraphile), writes (REST create and the GraphQL mutation beside a raw two-row insert), and
 * the Health Samurai shapes (CRUD mix, search mix, Bundle load; `bench/health-samurai/`), whose
 * anchors are other servers' published figures. A workload is either an autocannon request plan
 * or a scenario of dependent requests (`scenario-load.ts`).
 */
import { BENCH_WRITE_SYSTEM } from './bench-database.ts';
import type { RequestPlan } from './load-test.ts';
import type { Scenario } from './scenario-load.ts';
import { bundleLoadScenario, type PreparedBundle } from '../health-samurai/bundle-load.ts';
import { crudMixScenario } from '../health-samurai/crud-mix.ts';
import { searchMixScenario, type SearchMixValues } from '../health-samurai/search-mix.ts';

export type Target = 'fhirgraph' | 'raw-sql' | 'postgraphile' | 'minimal-http';

export interface Workload {
  id: string;
  group: string;
  title: string;
  target: Target;
  origin: string;
  /** autocannon's requests, at the run's `--connections`. */
  plan?: RequestPlan;
  /** Dependent requests, by `--users` virtual users. */
  scenario?: Scenario;
}

/** The groups of the Health Samurai shapes. */
export const HS_GROUPS = {
  crud: 'Health Samurai CRUD mix (create, read, update, delete of 9 types)',
  search: 'Health Samurai search mix (string, date, token searches)',
  bundle: 'Health Samurai Bundle load (transaction Bundles)',
} as const;

/** The GraphQL nested query of the GraphQL issue: patients → observations → performer. */
export const NESTED_QUERY = '{ PatientList(_count: 50) { name { family } ObservationList(_reference: subject) { code { text } performer { resource { ... on Practitioner { name { family } } } } } } }';
const MUTATION = 'mutation Create($res: Patient_Input!) { PatientCreate(res: $res) { id meta { versionId } } }';

export interface WorkloadInputs {
  fhirgraph: string;
  postgraphile?: { origin: string; query: string };
  token: string;
  benchSecret: string;
  /** The minimal Node `http` + `pg` server (`bench/minimal-server/`), when started. */
  minimal?: { origin: string };
  /** Values of the Health Samurai search mix, when it runs. */
  searchMix?: SearchMixValues;
  /** Bundles of the Health Samurai Bundle load, when it runs. */
  bundles?: PreparedBundle[];
  patientIds: string[];
  namePrefixes: string[];
  observationQueries: string[];
}

function newPatients(n: number): string[] {
  return Array.from({ length: n }, (_, i) => JSON.stringify({
    resourceType: 'Patient', active: true, gender: i % 2 ? 'female' : 'male', birthDate: `19${50 + (i % 50)}-0${1 + (i % 9)}-1${i % 10}`,
    name: [{ use: 'official', family: `Bench${i}`, given: ['Load', `Test${i}`] }],
    identifier: [{ system: BENCH_WRITE_SYSTEM, value: `b-${i}` }],
  }));
}

export function buildWorkloads(inputs: WorkloadInputs): Workload[] {
  const auth = { authorization: `Bearer ${inputs.token}` };
  const rawHeaders = { 'x-bench-secret': inputs.benchSecret, 'content-type': 'application/json' };
  const gqlHeaders = { ...auth, 'content-type': 'application/json' };
  const patients = newPatients(500);
  const f = inputs.fhirgraph;
  const workloads: Workload[] = [
    { id: 'read', group: 'REST read by id', title: 'GET /fhir/Patient/{id}', target: 'fhirgraph', origin: f,
      plan: { method: 'GET', headers: auth, paths: inputs.patientIds.map((id) => `/fhir/Patient/${id}`) } },
    { id: 'read-raw', group: 'REST read by id', title: 'raw SQL by primary key', target: 'raw-sql', origin: f,
      plan: { method: 'GET', headers: rawHeaders, paths: inputs.patientIds.map((id) => `/_bench/raw/Patient/${id}`) } },
    ...(inputs.minimal ? [{ id: 'read-minimal', group: 'REST read by id', title: 'minimal Node http + pg server, own process', target: 'minimal-http' as const,
      origin: inputs.minimal.origin, plan: { method: 'GET' as const, headers: rawHeaders, paths: inputs.patientIds.map((id) => `/fhir/Patient/${id}`) } }] : []),
    { id: 'search-name', group: 'REST search Patient?name=', title: 'GET /fhir/Patient?name={prefix}', target: 'fhirgraph', origin: f,
      plan: { method: 'GET', headers: auth, paths: inputs.namePrefixes.map((n) => `/fhir/Patient?name=${encodeURIComponent(n)}`) } },
    { id: 'search-name-raw', group: 'REST search Patient?name=', title: 'raw SQL, same index', target: 'raw-sql', origin: f,
      plan: { method: 'GET', headers: rawHeaders, paths: inputs.namePrefixes.map((n) => `/_bench/raw/Patient?name=${encodeURIComponent(n)}`) } },
    { id: 'search-obs', group: 'REST search Observation?subject=&code=&date=ge', title: 'GET /fhir/Observation?subject&code&date=ge', target: 'fhirgraph', origin: f,
      plan: { method: 'GET', headers: auth, paths: inputs.observationQueries.map((q) => `/fhir/Observation?${q}`) } },
    { id: 'search-obs-raw', group: 'REST search Observation?subject=&code=&date=ge', title: 'raw SQL, same indexes', target: 'raw-sql', origin: f,
      plan: { method: 'GET', headers: rawHeaders, paths: inputs.observationQueries.map((q) => `/_bench/raw/Observation?${q}`) } },
    { id: 'graphql-nested', group: 'GraphQL nested query (50 patients → observations → performer)', title: 'POST /graphql', target: 'fhirgraph', origin: f,
      plan: { method: 'POST', headers: gqlHeaders, paths: ['/graphql'], bodies: [JSON.stringify({ query: NESTED_QUERY })] } },
    { id: 'graphql-nested-raw', group: 'GraphQL nested query (50 patients → observations → performer)', title: 'raw SQL, 3 statements', target: 'raw-sql', origin: f,
      plan: { method: 'POST', headers: rawHeaders, paths: ['/_bench/raw/nested?count=50'], bodies: ['{}'] } },
  ];
  if (inputs.postgraphile) {
    workloads.push({ id: 'graphql-nested-postgraphile', group: 'GraphQL nested query (50 patients → observations → performer)', title: 'PostGraphile 4 on a relational copy', target: 'postgraphile',
      origin: inputs.postgraphile.origin, plan: { method: 'POST', headers: gqlHeaders, paths: ['/graphql'], bodies: [JSON.stringify({ query: inputs.postgraphile.query })] } });
  }
  workloads.push(
    { id: 'create', group: 'Writes (a new Patient)', title: 'POST /fhir/Patient', target: 'fhirgraph', origin: f,
      plan: { method: 'POST', headers: { ...auth, 'content-type': 'application/fhir+json' }, paths: ['/fhir/Patient'], bodies: patients } },
    { id: 'graphql-mutation', group: 'Writes (a new Patient)', title: 'GraphQL PatientCreate', target: 'fhirgraph', origin: f,
      plan: { method: 'POST', headers: gqlHeaders, paths: ['/graphql'], bodies: patients.map((p) => JSON.stringify({ query: MUTATION, variables: { res: { ...JSON.parse(p), resourceType: undefined } } })) } },
    { id: 'create-raw', group: 'Writes (a new Patient)', title: 'raw SQL insert (resource + history)', target: 'raw-sql', origin: f,
      plan: { method: 'POST', headers: rawHeaders, paths: ['/_bench/raw/Patient'], bodies: patients } },
    { id: 'crud-mix', group: HS_GROUPS.crud, title: 'POST, GET, PUT, DELETE /fhir/{type}', target: 'fhirgraph', origin: f, scenario: crudMixScenario(inputs.token) },
  );
  if (inputs.searchMix) {
    workloads.push({ id: 'search-mix', group: HS_GROUPS.search, title: 'GET /fhir/{type}?{param}=…&_count=20', target: 'fhirgraph', origin: f, scenario: searchMixScenario(inputs.token, inputs.searchMix) });
  }
  if (inputs.bundles) {
    workloads.push({ id: 'bundle-load', group: HS_GROUPS.bundle, title: 'POST /fhir transaction Bundles', target: 'fhirgraph', origin: f, scenario: bundleLoadScenario(inputs.token, inputs.bundles) });
  }
  return workloads;
}
