/**
 * The relational copy PostGraphile serves in the benchmark: fhirgraph's live (non-deleted)
 * Practitioners, Patients and Observations flattened into three plain tables in a schema of the
 * same database, so both servers answer the nested query from the same data on the same cluster.
 *
 * ```
 * practitioner(id text PK, family text)
 * patient(id text PK, family text)
 * observation(id text PK, patient_id → patient, performer_id → practitioner, code_text text)
 * ```
 *
 * Set-based SQL only (one `INSERT … SELECT` over the JSON per table, foreign keys added and
 * indexes built after the load, then `ANALYZE`), so a 1M-resource store copies in seconds, not
 * row by row. The columns keep what the fhirgraph query reads: `Patient.name[0].family`,
 * `Observation.code.text`, the `Patient/<id>` of `Observation.subject` and the first
 * `Observation.performer` that is a `Practitioner/<id>` present in the copy (a dangling reference
 * resolves to nothing on either side, https://hl7.org/fhir/R4/references.html).
 */
import pg from 'pg';

/** Rows copied into each table. */
export interface RelationalCopyCounts {
  patients: number;
  observations: number;
  practitioners: number;
}

/** A plain lower-case SQL identifier, so the schema name can be spliced into DDL unquoted-safe. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The id of a relative literal reference `Type/id` (or `Type/id/_history/v`), else NULL. String
 * functions, not a regular expression: a regex costs tens of microseconds a row, minutes at 1M.
 */
function referencedId(reference: string, type: 'Patient' | 'Practitioner'): string {
  return `CASE WHEN starts_with(${reference}, '${type}/') THEN split_part(${reference}, '/', 2) END`;
}

/** The DDL and DML of the copy, in order, with their parameters; `s` is the quoted schema. */
function copyStatements(s: string): { tables: string[]; load: Record<keyof RelationalCopyCounts, { sql: string; params: unknown[] }>; finish: string[] } {
  return {
    tables: [
      `DROP SCHEMA IF EXISTS ${s} CASCADE`,
      `CREATE SCHEMA ${s}`,
      `CREATE TABLE ${s}.practitioner (id text PRIMARY KEY, family text)`,
      `CREATE TABLE ${s}.patient (id text PRIMARY KEY, family text)`,
      `CREATE TABLE ${s}.observation (id text PRIMARY KEY, patient_id text, performer_id text, code_text text)`,
    ],
    load: {
      // `content` is `json` (text): cast it to jsonb once per row rather than re-parse it per
      // operator; `OFFSET 0` keeps the planner from inlining the cast into every use of `c`.
      practitioners: {
        sql: `INSERT INTO ${s}.practitioner (id, family)
          SELECT r.id, r.c -> 'name' -> 0 ->> 'family'
          FROM (SELECT id, content::jsonb AS c FROM resource WHERE resource_type = $1 AND NOT deleted OFFSET 0) r`,
        params: ['Practitioner'],
      },
      patients: {
        sql: `INSERT INTO ${s}.patient (id, family)
          SELECT r.id, r.c -> 'name' -> 0 ->> 'family'
          FROM (SELECT id, content::jsonb AS c FROM resource WHERE resource_type = $1 AND NOT deleted OFFSET 0) r`,
        params: ['Patient'],
      },
      observations: {
        sql: `INSERT INTO ${s}.observation (id, patient_id, performer_id, code_text)
          SELECT r.id, subject.id, performer.id, r.c -> 'code' ->> 'text'
          FROM (SELECT id, content::jsonb AS c FROM resource WHERE resource_type = $1 AND NOT deleted OFFSET 0) r
          LEFT JOIN ${s}.patient subject ON subject.id = ${referencedId(`r.c -> 'subject' ->> 'reference'`, 'Patient')}
          LEFT JOIN LATERAL (
            SELECT p.id
            FROM jsonb_array_elements(CASE WHEN jsonb_typeof(r.c -> 'performer') = 'array' THEN r.c -> 'performer' ELSE '[]'::jsonb END)
              WITH ORDINALITY AS e(ref, n)
            JOIN ${s}.practitioner p ON p.id = ${referencedId(`e.ref ->> 'reference'`, 'Practitioner')}
            ORDER BY e.n
            LIMIT 1
          ) performer ON true`,
        params: ['Observation'],
      },
    },
    finish: [
      // Constraints and indexes after the load: one validating scan each instead of a check per row.
      `ALTER TABLE ${s}.observation
         ADD CONSTRAINT observation_patient_id_fkey FOREIGN KEY (patient_id) REFERENCES ${s}.patient (id),
         ADD CONSTRAINT observation_performer_id_fkey FOREIGN KEY (performer_id) REFERENCES ${s}.practitioner (id)`,
      // (patient_id, id): the patient's observations in id order, as fhirgraph's reverse search returns them.
      `CREATE INDEX observation_patient_id_idx ON ${s}.observation (patient_id, id)`,
      `CREATE INDEX observation_performer_id_idx ON ${s}.observation (performer_id)`,
      `COMMENT ON SCHEMA ${s} IS 'fhirgraph benchmark: relational copy served by PostGraphile (bench/postgraphile)'`,
    ],
  };
}

/**
 * (Re)creates `schema` in the database at `databaseUrl` from fhirgraph's current resources, in one
 * transaction (a reader never sees a half-built copy), then `ANALYZE`s it. Returns the row counts.
 */
export async function buildRelationalCopy(databaseUrl: string, schema = 'bench_relational'): Promise<RelationalCopyCounts> {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`schema "${schema}" is not a plain lower-case SQL identifier`);
  const s = `"${schema}"`;
  const { tables, load, finish } = copyStatements(s);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const counts: RelationalCopyCounts = { patients: 0, observations: 0, practitioners: 0 };
    await client.query('BEGIN');
    try {
      for (const statement of tables) await client.query(statement);
      // Practitioners and patients first: the observation load resolves references against them.
      for (const table of ['practitioners', 'patients', 'observations'] as const) {
        const result = await client.query(load[table].sql, load[table].params);
        counts[table] = result.rowCount ?? 0;
      }
      for (const statement of finish) await client.query(statement);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    await client.query(`ANALYZE ${s}.practitioner, ${s}.patient, ${s}.observation`);
    return counts;
  } finally {
    await client.end();
  }
}
