/**
 * The physical-limit baseline of `npm run bench` (issue 18): a minimal Node `http` server, no
 * framework, with a `pg` pool, answering `GET /fhir/Patient/{id}` with the same JSON and roughly
 * the same headers (`content-type`, `ETag`, `Last-Modified`) as fhirgraph's read by id. It runs
 * in a process of its own, as fhirgraph does, so the read-by-id group compares fhirgraph with the
 * least a Node process can do per read (the in-process raw route shares Fastify's cost).
 *
 * Bench code, not product. Environment: `DATABASE_URL`, `PORT`, `HOST` (default 127.0.0.1),
 * `DB_POOL_SIZE` (default 10, fhirgraph's default), and `BENCH_BASELINE_SECRET` (at least 32
 * characters), which every request must carry in `x-bench-secret`: the route reads patient data.
 * Prints `listening <url>` when ready; stops on SIGTERM/SIGINT.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import pg from 'pg';

const secret = process.env.BENCH_BASELINE_SECRET ?? '';
if (secret.length < 32) throw new Error('BENCH_BASELINE_SECRET must be set (at least 32 characters)');
const expected = Buffer.from(secret);
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_SIZE ?? 10) });
const PREFIX = '/fhir/Patient/';
const READ = {
  name: 'minimal-read-patient',
  text: `SELECT version_id, last_updated, content::text AS content FROM resource WHERE resource_type = 'Patient' AND id = $1 AND NOT deleted`,
};

function end(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(body);
}

const server = createServer((req, res) => {
  const given = Buffer.from(String(req.headers['x-bench-secret'] ?? ''));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return end(res, 401, '{"error":"x-bench-secret required"}');
  const url = req.url ?? '';
  const id = url.startsWith(PREFIX) ? url.slice(PREFIX.length) : '';
  if (req.method !== 'GET' || !id || id.includes('/') || id.includes('?')) return end(res, 404, '{"error":"not found"}');
  pool.query<{ version_id: number; last_updated: Date; content: string }>({ ...READ, values: [id] }).then((result) => {
    const row = result.rows[0];
    if (!row) return end(res, 404, '{"error":"not found"}');
    res.writeHead(200, {
      'content-type': 'application/fhir+json; charset=utf-8', etag: `W/"${row.version_id}"`, 'last-modified': row.last_updated.toUTCString(),
    }).end(row.content);
  }, () => end(res, 500, '{"error":"database"}'));
});

server.keepAliveTimeout = 72_000;
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1', () => {
  const { address, port } = server.address() as { address: string; port: number };
  process.stdout.write(`listening http://${address}:${port}\n`);
});

const stop = () => server.close(() => void pool.end().finally(() => process.exit(0)));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
