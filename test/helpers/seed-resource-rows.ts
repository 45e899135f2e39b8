/**
 * Loads many resources straight into the store's tables with one SQL statement per table
 * (`resource` and `resource_history`, no search index, no change events), for tests and benches
 * that need volume fast and read it back through `$export`, which reads only those two tables:
 * 100,000 Observations take a few seconds, where the transaction endpoint takes about a minute.
 */
import pg from 'pg';

/** What to load: `count` Observations of `patients` Patients' subjects (ids `obs-0000001`…), and the Patients (`pat-000001`…). */
export interface SeedRows {
  observations: number;
  patients: number;
}

/** The JSON of an Observation built in SQL from `g` (its number), stamped like the server stamps versions. */
const OBSERVATION = `json_build_object(
  'resourceType', 'Observation', 'id', 'obs-' || lpad(g::text, 7, '0'),
  'meta', json_build_object('versionId', '1', 'lastUpdated', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
  'status', 'final',
  'code', json_build_object('coding', json_build_array(json_build_object('system', 'http://loinc.org', 'code', '8867-4', 'display', 'Heart rate'))),
  'subject', json_build_object('reference', 'Patient/pat-' || lpad((g % $2::int + 1)::text, 6, '0')),
  'effectiveDateTime', '2024-01-01T10:00:00Z',
  'valueQuantity', json_build_object('value', 40 + g % 120, 'unit', 'beats/minute', 'system', 'http://unitsofmeasure.org', 'code', '/min'))`;

const PATIENT = `json_build_object(
  'resourceType', 'Patient', 'id', 'pat-' || lpad(g::text, 6, '0'),
  'meta', json_build_object('versionId', '1', 'lastUpdated', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
  'active', true, 'name', json_build_array(json_build_object('family', 'Seed' || g, 'given', json_build_array('Test'))),
  'gender', CASE WHEN g % 2 = 0 THEN 'female' ELSE 'male' END, 'birthDate', '1970-01-01')`;

/** Inserts the rows (in the database at `databaseUrl`); returns the resources written. */
export async function seedResourceRows(databaseUrl: string, seed: SeedRows): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    for (const [type, json, count] of [['Observation', OBSERVATION, seed.observations], ['Patient', PATIENT, seed.patients]] as const) {
      if (count === 0) continue;
      await client.query('BEGIN');
      await client.query(
        `INSERT INTO resource (resource_type, id, version_id, last_updated, deleted, content)
         SELECT $3, (c->>'id'), 1, now(), false, c FROM (SELECT ${json} AS c FROM generate_series(1, $1::int) g WHERE $2::int > 0) s`,
        [count, Math.max(1, seed.patients), type]);
      await client.query(
        `INSERT INTO resource_history (resource_type, id, version_id, last_updated, deleted, method, content)
         SELECT resource_type, id, 1, last_updated, false, 'POST', content FROM resource WHERE resource_type = $1`, [type]);
      await client.query('COMMIT');
    }
    await client.query('ANALYZE resource');
    return seed.observations + seed.patients;
  } finally {
    await client.end();
  }
}
