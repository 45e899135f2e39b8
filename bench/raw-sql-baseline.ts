/**
 * The benchmark's raw-SQL baseline (DECISIONS.md §10): HTTP routes in the server process that
 * answer the benchmark's requests with hand-written SQL over the same pool, returning the same
 * rows, so `npm run bench` can set every figure beside the practical limit of the machine. No
 * FHIR service, no authorisation, no audit, no validation: only the queries and the JSON.
 *
 * Bench code, not product: `bench/serve-fhirgraph.ts` mounts the routes through
 * `startServer(config, { extraRoutes: [rawSqlBaseline(secret)] })` (a test does the same), and
 * every request must carry the secret (at least 32 characters) in `x-bench-secret`: the routes
 * read patient data, so they are never open.
 *
 * | route | same rows as |
 * |---|---|
 * | `GET /_bench/raw/Patient/:id` | `GET /fhir/Patient/:id` |
 * | `GET /_bench/raw/Patient?name=` | `GET /fhir/Patient?name=` (first page, 20) |
 * | `GET /_bench/raw/Observation?subject=&code=&date=` | `GET /fhir/Observation?subject=&code=system\|code&date=ge…` |
 * | `POST /_bench/raw/nested` | the GraphQL nested query (patients → observations → performer) |
 * | `POST /_bench/raw/Patient` | `POST /fhir/Patient` and `PatientCreate` (resource and history rows) |
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ExtraRouteDeps, ExtraRoutes } from '../src/http/extra-routes.ts';
import { normalizeString } from '../src/search/extract/normalize-string.ts';

/** The path prefix of the baseline routes. */
export const RAW_BASELINE_PREFIX = '/_bench/raw';

/** Page size of the searches and of each patient's observations, as fhirgraph's default `_count`. */
const PAGE = 20;

const BUNDLE_HEAD = '{"resourceType":"Bundle","type":"searchset","entry":[';

function searchset(baseUrl: string, type: string, rows: { id: string; content: string }[]): string {
  const entries = rows.map((r) => `{"fullUrl":"${baseUrl}/${type}/${r.id}","resource":${r.content},"search":{"mode":"match"}}`);
  return `${BUNDLE_HEAD}${entries.join(',')}]}`;
}

/** The baseline routes, guarded by `secret` (at least 32 characters), for `startServer`'s `extraRoutes`. */
export function rawSqlBaseline(secret: string): ExtraRoutes {
  if (secret.length < 32) throw new Error('the raw-SQL baseline secret must be at least 32 characters');
  return { prefix: RAW_BASELINE_PREFIX, register: (app, deps) => registerRoutes(app, deps, secret) };
}

function registerRoutes(app: FastifyInstance, { db, fhirBaseUrl }: ExtraRouteDeps, secret: string): void {
  const expected = Buffer.from(secret);
  const guard = async (request: FastifyRequest, reply: FastifyReply) => {
    const given = Buffer.from(String(request.headers['x-bench-secret'] ?? ''));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return reply.code(401).send({ error: 'x-bench-secret required' });
    }
  };
  const json = (reply: FastifyReply, body: string) => reply.type('application/fhir+json; charset=utf-8').send(body);

  app.get('/Patient/:id', { onRequest: guard }, async (request, reply) => {
    const { id } = request.params as { id: string };
    const rows = await db.query<{ content: string }>(
      `SELECT content::text AS content FROM resource WHERE resource_type = 'Patient' AND id = $1 AND NOT deleted`, [id]);
    if (!rows.length) return reply.code(404).send({ error: 'not found' });
    return json(reply, rows[0].content);
  });

  app.get('/Patient', { onRequest: guard }, async (request, reply) => {
    const norm = normalizeString(String((request.query as Record<string, string>).name ?? ''));
    const rows = await db.query<{ id: string; content: string }>(
      `SELECT r.id, r.content::text AS content FROM resource r
        WHERE r.resource_type = 'Patient' AND NOT r.deleted
          AND EXISTS (SELECT 1 FROM search_string s WHERE s.resource_type = 'Patient' AND s.param = 'name'
                       AND s.norm >= $1 AND s.norm < $1 || chr(1114111) AND s.resource_id = r.id)
        ORDER BY r.id LIMIT ${PAGE}`, [norm]);
    return json(reply, searchset(fhirBaseUrl, 'Patient', rows));
  });

  app.get('/Observation', { onRequest: guard }, async (request, reply) => {
    const q = request.query as Record<string, string>;
    const [system, code] = String(q.code ?? '').split('|');
    const subject = String(q.subject ?? '').replace(/^Patient\//, '');
    const since = String(q.date ?? '').replace(/^ge/, '');
    const rows = await db.query<{ id: string; content: string }>(
      `SELECT r.id, r.content::text AS content FROM resource r
        WHERE r.resource_type = 'Observation' AND NOT r.deleted
          AND EXISTS (SELECT 1 FROM search_reference s WHERE s.resource_type = 'Observation' AND s.param = 'subject'
                       AND s.target_type = 'Patient' AND s.target_id = $1 AND s.resource_id = r.id)
          AND EXISTS (SELECT 1 FROM search_token t WHERE t.resource_type = 'Observation' AND t.param = 'code'
                       AND t.code = $2 AND t.system = $3 AND t.resource_id = r.id)
          AND EXISTS (SELECT 1 FROM search_date d WHERE d.resource_type = 'Observation' AND d.param = 'date'
                       AND coalesce(d.high, 'infinity') >= $4::timestamptz AND d.resource_id = r.id)
        ORDER BY r.id LIMIT ${PAGE}`, [subject, code, system, since]);
    return json(reply, searchset(fhirBaseUrl, 'Observation', rows));
  });

  // The nested GraphQL query's data in three statements (one per level), fields picked in SQL.
  app.post('/nested', { onRequest: guard }, async (request, reply) => {
    const count = Math.min(Number((request.query as Record<string, string>).count ?? 50) || 50, 1000);
    const patients = await db.query<{ id: string; family: string | null }>(
      `SELECT id, content->'name'->0->>'family' AS family FROM resource
        WHERE resource_type = 'Patient' AND NOT deleted ORDER BY id LIMIT $1`, [count]);
    const observations = patients.length ? await db.query<{ parent: string; text: string | null; performer: string | null }>(
      `SELECT parent, text, performer FROM (
         SELECT link.target_id AS parent, r.content->'code'->>'text' AS text,
                r.content->'performer'->0->>'reference' AS performer,
                row_number() OVER (PARTITION BY link.target_id ORDER BY r.id) AS n
           FROM search_reference link JOIN resource r ON r.resource_type = 'Observation' AND r.id = link.resource_id
          WHERE link.resource_type = 'Observation' AND link.param = 'subject' AND link.target_type = 'Patient'
            AND link.target_id = ANY($1::text[]) AND NOT r.deleted) o
        WHERE n <= ${PAGE} ORDER BY parent, n`, [patients.map((p) => p.id)]) : [];
    const practitionerIds = [...new Set(observations.flatMap((o) => (o.performer?.startsWith('Practitioner/') ? [o.performer.slice(13)] : [])))];
    const practitioners = practitionerIds.length ? await db.query<{ id: string; family: string | null }>(
      `SELECT id, content->'name'->0->>'family' AS family FROM resource
        WHERE resource_type = 'Practitioner' AND id = ANY($1::text[]) AND NOT deleted`, [practitionerIds]) : [];
    const familyOf = new Map(practitioners.map((p) => [p.id, p.family]));
    const byPatient = new Map<string, unknown[]>();
    for (const o of observations) {
      const practitioner = o.performer?.startsWith('Practitioner/') ? familyOf.get(o.performer.slice(13)) : undefined;
      const list = byPatient.get(o.parent) ?? [];
      list.push({ code: { text: o.text }, performer: [{ resource: practitioner === undefined ? null : { name: [{ family: practitioner }] } }] });
      byPatient.set(o.parent, list);
    }
    const data = patients.map((p) => ({ name: [{ family: p.family }], ObservationList: byPatient.get(p.id) ?? [] }));
    return reply.type('application/json').send(JSON.stringify({ data: { PatientList: data } }));
  });

  // A create: the resource and its history row in one statement, as fhirgraph's write stores them.
  app.post('/Patient', { onRequest: guard }, async (request, reply) => {
    const body = typeof request.body === 'string' ? request.body : JSON.stringify(request.body ?? {});
    const resource = JSON.parse(body) as Record<string, unknown>;
    const id = randomUUID();
    const now = new Date().toISOString();
    const content = JSON.stringify({ ...resource, resourceType: 'Patient', id, meta: { versionId: '1', lastUpdated: now } });
    await db.query(
      `WITH r AS (INSERT INTO resource (resource_type, id, version_id, last_updated, content) VALUES ('Patient', $1, 1, $2, $3) RETURNING id)
       INSERT INTO resource_history (resource_type, id, version_id, last_updated, method, content) SELECT 'Patient', id, 1, $2, 'POST', $3 FROM r`,
      [id, now, content]);
    return reply.code(201).header('location', `${fhirBaseUrl}/Patient/${id}/_history/1`).type('application/fhir+json; charset=utf-8').send(content);
  });
}
