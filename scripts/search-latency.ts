/**
 * `npm run search:latency`: the search issue's latency check on a loaded database (for example
 * after `npm run seed -- --scale 1m`). Starts the server in process on `DATABASE_URL`, runs each
 * query 50 times over HTTP after a warm-up, prints the median and p95 in milliseconds, then the
 * `EXPLAIN (ANALYZE, BUFFERS)` plan of each query's SQL. Not a test: it prints and exits 0.
 */
import { createClient } from '../src/auth/client-admin.ts';
import { loadConfig } from '../src/config.ts';
import { loadFhirModel } from '../src/fhir/fhir-model.ts';
import { startServer } from '../src/http/start-server.ts';
import { parseSearch } from '../src/search/parse-search.ts';
import { buildSearchQuery } from '../src/search/sql/build-search-query.ts';

const RUNS = 50;
const server = await startServer(loadConfig(process.env, { port: 0, rateLimit: { perSecond: 0, perMinute: 0 }, metrics: { host: '127.0.0.1', port: 0 } }), { logger: false });
const fhir = `${server.url}/fhir`;
const client = await createClient(server.service.db, { name: 'latency', scope: 'system/*.*', admin: true, rate: '0/s,0/min' });
const tokenResponse = await fetch(`${server.url}/auth/token`, {
  method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: client.refresh_token! }),
});
const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
const get = async (url: string) => {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as any;
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
  return body;
};

// Pick real values from the data: a patient with heart-rate observations, and its family name.
const [sample] = await server.service.db.query<{ id: string; family: string }>(
  `SELECT r.target_id AS id, (SELECT s.value FROM search_string s WHERE s.resource_type = 'Patient' AND s.resource_id = r.target_id AND s.param = 'family' LIMIT 1) AS family
     FROM search_token t JOIN search_reference r ON r.resource_type = 'Observation' AND r.resource_id = t.resource_id AND r.param = 'subject'
    WHERE t.resource_type = 'Observation' AND t.param = 'code' AND t.code = '8867-4' LIMIT 1`,
);
if (!sample) throw new Error('no Observation with code 8867-4: load data first (npm run seed)');
let deepCursorUrl = `${fhir}/Observation?code=http://loinc.org|8867-4&_count=20`;
for (let page = 1; page < 50; page++) {
  const bundle = await get(deepCursorUrl);
  deepCursorUrl = bundle.link.find((l: any) => l.relation === 'next').url.replace(/^https?:\/\/[^/]+\/fhir/, fhir);
}
const queries: [string, string][] = [
  ['Patient?name=', `Patient?name=${encodeURIComponent(sample.family.slice(0, 4))}`],
  ['Observation?subject=&code=&date=ge', `Observation?subject=Patient/${sample.id}&code=http://loinc.org|8867-4&date=ge2020-01-01`],
  ['_include', `Observation?subject=Patient/${sample.id}&_include=Observation:performer&_include=Observation:subject`],
  ['page 50 deep', deepCursorUrl.slice(fhir.length + 1)],
];
const [{ n: resources }] = await server.service.db.query<{ n: number }>('SELECT count(*)::int AS n FROM resource');
console.log(`resources in the database: ${resources.toLocaleString('en')}`);
console.log('| query | median ms | p95 ms | entries |\n|---|---|---|---|');
for (const [name, path] of queries) {
  const times: number[] = [];
  let entries = 0;
  for (let i = 0; i < RUNS + 5; i++) {
    const started = performance.now();
    const bundle = await get(`${fhir}/${path}`);
    if (i >= 5) times.push(performance.now() - started);
    entries = bundle.entry.length;
  }
  times.sort((a, b) => a - b);
  console.log(`| \`${name}\` | ${times[RUNS / 2].toFixed(1)} | ${times[Math.floor(RUNS * 0.95)].toFixed(1)} | ${entries} |`);
}
const model = loadFhirModel();
for (const [name, path] of queries) {
  const [type, query] = path.split('?');
  const request = parseSearch(model, type, [...new URLSearchParams(query)], { strict: false, defaultCount: 20, maxCount: 1000 });
  const cursor = request.cursor ? JSON.parse(Buffer.from(request.cursor, 'base64url').toString()) : undefined;
  const built = buildSearchQuery(request, [type], model, `${loadConfig().publicUrl}/fhir`, cursor && { forward: cursor.f, values: cursor.v });
  const plan = await server.service.db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${built.sql}`, built.params);
  console.log(`\n### ${name}: GET /fhir/${path.slice(0, 120)}\n\`\`\`\n${plan.map((r) => r['QUERY PLAN']).join('\n')}\n\`\`\``);
}
await server.close();
