/**
 * Bulk Data `$export` throughput and memory (issue 17's bench line): on a database of its own
 * holding `resources` resources (9 Observations per Patient, loaded with SQL: see
 * test/helpers/seed-resource-rows.ts), a fresh fhirgraph process exports all of them
 * (`/fhir/$export?_type=Patient,Observation`), and the files are downloaded, as a client would:
 *
 * - export: kick-off to the manifest (the job writing NDJSON chunks in PostgreSQL);
 * - download: every file streamed, lines counted without parsing;
 * - end to end: kick-off to the last byte;
 * - baseline: the same rows read by one Node process through a raw SQL cursor
 *   (`DECLARE … CURSOR FOR SELECT content::text …`, `FETCH 5000`), the floor of any exporter;
 * - the server process's peak RSS (VmHWM) over start, export and downloads.
 *
 * The data is kept between runs (`bench_meta`), unless `--reseed`.
 */
import pg from 'pg';
import { createClient } from '../../src/auth/client-admin.ts';
import { Database } from '../../src/store/database.ts';
import { seedResourceRows } from '../../test/helpers/seed-resource-rows.ts';
import { prepareBenchDatabase } from '../lib/bench-database.ts';
import { memoryOf, type Child } from '../lib/child-process.ts';

/** What the export bench measured. */
export interface ExportFigures {
  resources: number;
  files: number;
  bytes: number;
  exportSeconds: number;
  exportPerSecond: number;
  downloadSeconds: number;
  downloadPerSecond: number;
  endToEndPerSecond: number;
  /** Rows per second through a raw SQL cursor into one Node process. */
  baselinePerSecond: number;
  rssAfterStartMb: number;
  /** Peak RSS once the export completed, before the downloads. */
  peakRssAfterExportMb: number;
  peakRssMb: number;
}

/** The goals of issue 17. */
export const EXPORT_GOALS = { perSecond: 20_000, peakRssMb: 400 };

interface ExportBenchDeps {
  resources: number;
  reseed: boolean;
  log: (message: string) => void;
  /** Starts fhirgraph on a database (as the rest of the bench starts it). */
  startServer(databaseUrl: string): Promise<{ child: Child; origin: string }>;
}

const seconds = (from: number) => (performance.now() - from) / 1000;

async function accessToken(databaseUrl: string, origin: string): Promise<string> {
  const admin = await Database.open(databaseUrl, { migrate: false, poolSize: 1 });
  const client = await createClient(admin, { name: `export bench ${new Date().toISOString()}`, scope: 'system/*.read', rate: '0/s,0/min' })
    .finally(() => admin.close());
  const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: client.refresh_token! });
  const answer = await (await fetch(`${origin}/auth/token`, { method: 'POST', body: form })).json() as { access_token: string };
  return answer.access_token;
}

/** Rows per second of a raw cursor over the exported rows. */
async function cursorBaseline(databaseUrl: string): Promise<{ rows: number; perSecond: number }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const started = performance.now();
    let rows = 0;
    for (const type of ['Patient', 'Observation']) {
      await client.query('BEGIN');
      await client.query(`DECLARE c NO SCROLL CURSOR FOR SELECT content::text AS line FROM resource WHERE resource_type = '${type}' AND NOT deleted ORDER BY id`);
      for (;;) {
        const page = await client.query<{ line: string }>('FETCH 5000 FROM c');
        if (page.rows.length === 0) break;
        rows += page.rows.length;
      }
      await client.query('COMMIT');
    }
    return { rows, perSecond: Math.round(rows / seconds(started)) };
  } finally {
    await client.end();
  }
}

/** Streams a file, counting its lines and bytes. */
async function countLines(url: string, token: string): Promise<{ lines: number; bytes: number }> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: 'application/fhir+ndjson' } });
  if (response.status !== 200 || !response.body) throw new Error(`download of ${url} answered ${response.status}`);
  let lines = 0;
  let bytes = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.length;
    for (const byte of chunk) if (byte === 10) lines++;
  }
  return { lines, bytes };
}

/** Runs the export bench; the server it starts is stopped before it returns. */
export async function measureExport(deps: ExportBenchDeps): Promise<ExportFigures> {
  const { resources, log } = deps;
  const db = await prepareBenchDatabase('export', resources, deps.reseed, log);
  try {
    if (!db.kept) {
      await (await Database.open(db.url, { poolSize: 2 })).close(); // migrates
      const started = performance.now();
      const patients = Math.round(resources / 10);
      await seedResourceRows(db.url, { patients, observations: resources - patients });
      const took = seconds(started);
      await db.recordSeed({ resources, seconds: Math.round(took), resourcesPerSecond: Math.round(resources / took), measuredAt: new Date().toISOString() });
      log(`export bench: loaded ${resources.toLocaleString('en-US')} resources with SQL in ${took.toFixed(1)} s`);
    }
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query('DELETE FROM export_job'); // an earlier run's, should it have stopped half-way
      await client.query('VACUUM (ANALYZE) resource');
    } finally {
      await client.end();
    }

    const baseline = await cursorBaseline(db.url);
    log(`export bench: raw SQL cursor ${baseline.rows.toLocaleString('en-US')} rows at ${baseline.perSecond.toLocaleString('en-US')} rows/s`);
    if (baseline.rows !== resources) throw new Error(`the export bench database holds ${baseline.rows} resources, not ${resources}: rerun with --reseed`);

    const { child, origin } = await deps.startServer(db.url);
    try {
      const rssAfterStartMb = memoryOf(child.process.pid!).rssMb;
      const token = await accessToken(db.url, origin);
      const started = performance.now();
      const kickoff = await fetch(`${origin}/fhir/$export?_type=Patient,Observation`, { headers: { authorization: `Bearer ${token}`, prefer: 'respond-async' } });
      const statusUrl = kickoff.headers.get('content-location');
      if (kickoff.status !== 202 || !statusUrl) throw new Error(`kick-off answered ${kickoff.status}: ${await kickoff.text()}`);
      let manifest: { output: { url: string; count: number }[] };
      for (;;) {
        const status = await fetch(statusUrl, { headers: { authorization: `Bearer ${token}` } });
        if (status.status === 200) {
          manifest = await status.json() as typeof manifest;
          break;
        }
        if (status.status !== 202) throw new Error(`status answered ${status.status}: ${await status.text()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const exportSeconds = seconds(started);
      const peakRssAfterExportMb = memoryOf(child.process.pid!).peakRssMb;
      const downloadStarted = performance.now();
      let lines = 0;
      let bytes = 0;
      for (const file of manifest.output) {
        const counted = await countLines(file.url, token);
        if (counted.lines !== file.count) throw new Error(`${file.url} has ${counted.lines} lines; the manifest says ${file.count}`);
        lines += counted.lines;
        bytes += counted.bytes;
      }
      if (lines !== resources) throw new Error(`the export holds ${lines} resources, not ${resources}`);
      const downloadSeconds = seconds(downloadStarted);
      const figures: ExportFigures = {
        resources,
        files: manifest.output.length,
        bytes,
        exportSeconds: Math.round(exportSeconds * 10) / 10,
        exportPerSecond: Math.round(resources / exportSeconds),
        downloadSeconds: Math.round(downloadSeconds * 10) / 10,
        downloadPerSecond: Math.round(resources / downloadSeconds),
        endToEndPerSecond: Math.round(resources / seconds(started)),
        baselinePerSecond: baseline.perSecond,
        rssAfterStartMb,
        peakRssAfterExportMb,
        peakRssMb: memoryOf(child.process.pid!).peakRssMb,
      };
      await fetch(statusUrl, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
      return figures;
    } finally {
      await child.stop();
    }
  } finally {
    await db.close();
  }
}

/** The export section of the report. */
export function exportLines(e: ExportFigures): string[] {
  const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const verdict = (ok: boolean) => (ok ? '**pass**' : '**falls short**');
  return [
    `## Bulk Data export (${fmt(e.resources)} resources)`,
    '',
    `\`/fhir/$export?_type=Patient,Observation\` on a fresh server process: ${fmt(e.files)} files, ${fmt(e.bytes / 2 ** 20, 1)} MiB of NDJSON.`,
    '',
    '| measure | seconds | resources/s | vs raw SQL cursor |',
    '|---|---:|---:|---:|',
    `| raw SQL cursor into one Node process (baseline) | ${fmt(e.resources / e.baselinePerSecond, 1)} | ${fmt(e.baselinePerSecond)} | 1.00 |`,
    `| export: kick-off → manifest | ${fmt(e.exportSeconds, 1)} | ${fmt(e.exportPerSecond)} | ${fmt(e.exportPerSecond / e.baselinePerSecond, 2)} |`,
    `| download: every file streamed | ${fmt(e.downloadSeconds, 1)} | ${fmt(e.downloadPerSecond)} | ${fmt(e.downloadPerSecond / e.baselinePerSecond, 2)} |`,
    `| end to end: kick-off → last byte | ${fmt(e.resources / e.endToEndPerSecond, 1)} | ${fmt(e.endToEndPerSecond)} | ${fmt(e.endToEndPerSecond / e.baselinePerSecond, 2)} |`,
    '',
    `Goals: export ≥ ${fmt(EXPORT_GOALS.perSecond)} resources/s: ${fmt(e.exportPerSecond)} ${verdict(e.exportPerSecond >= EXPORT_GOALS.perSecond)}; `
      + `server peak RSS < ${EXPORT_GOALS.peakRssMb} MB: ${fmt(e.peakRssMb)} MB ${verdict(e.peakRssMb < EXPORT_GOALS.peakRssMb)} (RSS after start ${fmt(e.rssAfterStartMb)} MB, peak ${fmt(e.peakRssAfterExportMb)} MB once the export completed, before the downloads).`,
    '',
  ];
}
