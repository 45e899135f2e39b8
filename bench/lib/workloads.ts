/**
 * The benchmark's workloads, grouped so each fhirgraph figure stands beside its baselines measured
 * in the same run: REST read by id, the two REST searches, the GraphQL nested query (raw SQL and
 * PostGraphile), and writes (REST create and the GraphQL mutation beside a raw two-row insert).
 */
import { BENCH_WRITE_SYSTEM } from './bench-database.ts';
import type { RequestPlan } from './load-test.ts';

export type Target = 'fhirgraph' | 'raw-sql' | 'postgraphile';

export interface Workload {
  id: string;
  group: string;
  title: string;
  target: Target;
  origin: string;
  plan: RequestPlan;
}

/** The GraphQL nested query of the GraphQL issue: patients → observations → performer. */
export const NESTED_QUERY = '{ PatientList(_count: 50) { name { family } ObservationList(_reference: subject) { code { text } performer { resource { ... on Practitioner { name { family } } } } } } }';
const MUTATION = 'mutation Create($res: Patient_Input!) { PatientCreate(res: $res) { id meta { versionId } } }';

export interface WorkloadInputs {
  fhirgraph: string;
  postgraphile?: { origin: string; query: string };
  token: string;
  benchSecret: string;
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
  );
  return workloads;
}
