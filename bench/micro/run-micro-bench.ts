/**
 * `npm run bench:micro`: the in-process timing goals that used to be test assertions (issue 15:
 * a loaded CI machine must not fail the tests; timing goals live in the bench). Each figure is
 * measured here, on an otherwise idle machine, beside its target; the tests keep asserting the
 * behaviour (and the memory kept, which load does not move). Prints a table, writes
 * `bench/results/micro.json`, and exits 0 whether targets pass or not: a benchmark, not a test.
 *
 * | figure | target | from |
 * |---|---|---|
 * | FHIR model load + index | < 300 ms | test/fhir/fhir-model.test.ts |
 * | validateResource(Patient-example) | < 0.1 ms per call | test/fhir/validate-speed.test.ts |
 * | extractIndexRows(Patient / Observation example) | < 0.1 ms per call | test/search/extract-index-rows.test.ts |
 * | extractIndexRows over the examples corpus | < 0.2 ms per resource (DECISIONS.md §10) | test/search/search-param-coverage.test.ts |
 * | executable GraphQL schema build, fresh process | ≤ 1 s, RSS ≤ 300 MB (DECISIONS.md §6) | test/codegen/schema-build-cost.test.ts |
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'lossless-json';
import { indexFhirModel, MODEL_PATH } from '../../src/fhir/fhir-model.ts';
import { validateResource } from '../../src/fhir/validate-resource.ts';
import { extractIndexRows } from '../../src/search/extract-index-rows.ts';
import { examplesDir, listExampleResources } from '../../test/helpers/examples-corpus.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const RESULTS = path.join(HERE, '..', 'results');

/** One measured figure beside its target (`value <= target` passes). */
interface MicroFigure { id: string; title: string; value: number; unit: string; target: number; pass: boolean }

function figure(id: string, title: string, value: number, unit: string, target: number): MicroFigure {
  return { id, title, value: Math.round(value * 1000) / 1000, unit, target, pass: value <= target };
}

/** The median of `runs` timings of `work` (ms), after one untimed run. */
function medianMs(runs: number, work: () => void): number {
  work();
  const times = Array.from({ length: runs }, () => {
    const start = performance.now();
    work();
    return performance.now() - start;
  }).sort((a, b) => a - b);
  return times[Math.floor(runs / 2)];
}

/** Milliseconds per call of `work`, after a warm-up. */
function perCallMs(warmup: number, runs: number, work: () => void): number {
  for (let i = 0; i < warmup; i++) work();
  const start = performance.now();
  for (let i = 0; i < runs; i++) work();
  return (performance.now() - start) / runs;
}

function readExample(file: string): Record<string, unknown> {
  return parse(readFileSync(path.join(examplesDir(), file), 'utf8')) as Record<string, unknown>;
}

function measureInProcess(): MicroFigure[] {
  const modelText = readFileSync(MODEL_PATH, 'utf8');
  const patient = readExample('Patient-example.json');
  const observation = readExample('Observation-example.json');
  const corpus = listExampleResources();
  const corpusMs = medianMs(5, () => { for (const e of corpus) extractIndexRows(e.resource); });
  return [
    figure('fhir-model-load', 'FHIR model: parse and index the committed model', medianMs(5, () => indexFhirModel(JSON.parse(modelText))), 'ms', 300),
    figure('validate-patient', 'validateResource(Patient-example)', perCallMs(2_000, 20_000, () => validateResource(patient)), 'ms per call', 0.1),
    figure('index-patient', 'extractIndexRows(Patient-example)', perCallMs(2_000, 10_000, () => extractIndexRows(patient)), 'ms per call', 0.1),
    figure('index-observation', 'extractIndexRows(Observation-example)', perCallMs(2_000, 10_000, () => extractIndexRows(observation)), 'ms per call', 0.1),
    figure('index-corpus', `extractIndexRows over the ${corpus.length} example resources`, corpusMs / corpus.length, 'ms per resource', 0.2),
  ];
}

/** The server's schema build, in a fresh process so nothing else is in its heap (measure-schema-build.ts). */
function measureSchemaBuild(): MicroFigure[] {
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(HERE, 'measure-schema-build.ts')], { encoding: 'utf8' });
  const cost = JSON.parse(out.trim().split('\n').at(-1)!) as { totalMs: number; rssMb: number };
  return [
    figure('schema-build', 'executable GraphQL schema build, as at server start', cost.totalMs, 'ms', 1_000),
    figure('schema-build-rss', 'RSS after the schema build', cost.rssMb, 'MB', 300),
  ];
}

const figures = [...measureInProcess(), ...measureSchemaBuild()];
const width = Math.max(...figures.map((f) => f.title.length));
for (const f of figures) {
  process.stdout.write(`${f.title.padEnd(width)}  ${String(f.value).padStart(9)} ${f.unit.padEnd(16)} target ≤ ${f.target}  ${f.pass ? 'pass' : 'FALLS SHORT'}\n`);
}
mkdirSync(RESULTS, { recursive: true });
writeFileSync(path.join(RESULTS, 'micro.json'), `${JSON.stringify({
  date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, loadAverage: os.loadavg(), figures,
}, null, 2)}\n`);
