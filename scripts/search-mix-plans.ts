/**
 * Times every search shape of the Health Samurai search mix on a loaded database (DATABASE_URL):
 * the SQL the search builder makes for each value drawn by the mix, run 3 times, best time kept;
 * prints per-shape median and max, and with PLANS=1 the EXPLAIN (ANALYZE, BUFFERS) of the slowest.
 */
import pg from 'pg';
import { loadFhirModel } from '../src/fhir/fhir-model.ts';
import { parseSearch } from '../src/search/parse-search.ts';
import { buildSearchQuery } from '../src/search/sql/build-search-query.ts';
import { sampleSearchMixValues, searchMixSpecs } from '../bench/health-samurai/search-mix.ts';

const url = process.env.DATABASE_URL!;
const model = loadFhirModel();
const values = await sampleSearchMixValues(url);
const client = new pg.Client({ connectionString: url });
await client.connect();
const only = process.env.ONLY;
const shapes = new Map<string, { ms: number; buffers: number; path: string; sql: string; params: unknown[]; rows: number }[]>();
for (const spec of searchMixSpecs(values)) {
  for (const modifier of spec.modifiers ?? ['']) {
    for (const prefix of spec.prefixes ?? ['']) {
      const shape = `${spec.type}?${spec.param}${modifier}=${prefix}`;
      if (only && !shape.includes(only)) continue;
      for (const value of spec.values) {
        const path = `${spec.type}?${spec.param}${modifier}=${prefix}${encodeURIComponent(value)}&_count=20`;
        const [type, query] = path.split('?');
        const request = parseSearch(model, type, [...new URLSearchParams(query)], { strict: false, defaultCount: 20, maxCount: 1000 });
        const built = buildSearchQuery(request, [type], model, 'http://localhost/fhir', undefined);
        let best = Infinity;
        let rows = 0;
        let buffers = 0;
        for (let i = 0; i < 3; i++) {
          const t = performance.now();
          rows = (await client.query(built.sql, built.params)).rowCount ?? 0;
          best = Math.min(best, performance.now() - t);
        }
        const [{ 'QUERY PLAN': [explained] }] = (await client.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${built.sql}`, built.params)).rows;
        buffers = explained.Plan['Shared Hit Blocks'] + explained.Plan['Shared Read Blocks'];
        const list = shapes.get(shape) ?? [];
        list.push({ ms: best, buffers, path, sql: built.sql, params: built.params, rows });
        shapes.set(shape, list);
      }
    }
  }
}
let total = 0;
// The mix draws a spec in turn, then its modifier or prefix and its value uniformly: its mean cost per search.
const perSpec = new Map<string, { ms: number; buffers: number }[]>();
console.log('| shape | median ms | max ms | mean buffers | max buffers | slowest |\n|---|---:|---:|---:|---:|---|');
for (const [shape, list] of shapes) {
  const sorted = [...list].sort((a, b) => a.ms - b.ms);
  const mean = { ms: list.reduce((s, x) => s + x.ms, 0) / list.length, buffers: list.reduce((s, x) => s + x.buffers, 0) / list.length };
  total += mean.ms;
  const spec = shape.split(/[:=]/)[0];
  perSpec.set(spec, [...(perSpec.get(spec) ?? []), mean]);
  const worst = sorted[sorted.length - 1];
  const buffers = list.map((x) => x.buffers);
  console.log(`| ${shape} | ${sorted[Math.floor(sorted.length / 2)].ms.toFixed(2)} | ${worst.ms.toFixed(2)} | ${Math.round(buffers.reduce((a, b) => a + b, 0) / list.length)} | ${Math.max(...buffers)} | ${worst.path} (${worst.rows} rows) |`);
}
console.log(`sum of per-shape means: ${total.toFixed(1)} ms`);
const specMeans = [...perSpec.values()].map((l) => ({ ms: l.reduce((s, x) => s + x.ms, 0) / l.length, buffers: l.reduce((s, x) => s + x.buffers, 0) / l.length }));
const mixMs = specMeans.reduce((s, x) => s + x.ms, 0) / specMeans.length;
const mixBuffers = specMeans.reduce((s, x) => s + x.buffers, 0) / specMeans.length;
console.log(`mean per search of the mix: ${mixMs.toFixed(2)} ms, ${mixBuffers.toFixed(0)} buffers`);
if (process.env.PLANS) {
  for (const [shape, list] of shapes) {
    const worst = [...list].sort((a, b) => b.ms - a.ms)[0];
    const plan = await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${worst.sql}`, worst.params);
    console.log(`\n### ${shape}: ${worst.path}\n${worst.sql}\n${JSON.stringify(worst.params)}\n${plan.rows.map((r) => r['QUERY PLAN']).join('\n')}`);
  }
}
await client.end();
