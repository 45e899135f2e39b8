/**
 * `fhirgraph reindex [--type T]`: rebuilds the search index, with a progress bar on stderr;
 * prints `{"reindexed": N}`.
 */
import { parseArgs } from 'node:util';
import type { Config } from '../config.ts';
import { loadFhirModel } from '../fhir/fhir-model.ts';
import { reindex } from '../store/reindex.ts';
import { withDatabase } from './with-database.ts';

function drawProgress(done: number, total: number, startedMs: number): void {
  const width = 30;
  const fraction = total === 0 ? 1 : done / total;
  const filled = Math.round(fraction * width);
  const rate = done / Math.max((performance.now() - startedMs) / 1000, 0.001);
  const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done.toLocaleString('en')}/${total.toLocaleString('en')} resources  ${Math.round(rate).toLocaleString('en')}/s`;
  if (process.stderr.isTTY) process.stderr.write(`\r${line}`);
  else if (done === total || done % 10_000 < 500) process.stderr.write(`${line}\n`);
}

export async function reindexCommand(config: Config, args: string[]): Promise<{ reindexed: number }> {
  const { values } = parseArgs({ args, options: { type: { type: 'string' } }, strict: true });
  if (values.type && !loadFhirModel().isResourceType(values.type)) throw new Error(`unknown resource type "${values.type}"`);
  const started = performance.now();
  const reindexed = await withDatabase(config, (db) => reindex(db, {
    resourceType: values.type,
    baseUrl: `${config.publicUrl}/fhir`,
    onProgress: ({ done, total }) => drawProgress(done, total, started),
  }));
  if (process.stderr.isTTY) process.stderr.write('\n');
  return { reindexed };
}
