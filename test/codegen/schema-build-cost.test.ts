import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../../bench/micro/measure-schema-build.ts', import.meta.url));

interface Cost { totalMs: number; heapGrowthMb: number; rssMb: number; types: number }

/** Runs the measurement in a fresh process, so other test files' heap does not count. */
function measure(...flags: string[]): Cost {
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', SCRIPT, ...flags], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').at(-1)!) as Cost;
}

// DECISIONS.md §6 / issue 5: build ≤ 1 s and RSS ≤ 300 MB. The build time depends on the machine's
// load, so it is a bench figure (`npm run bench:micro`, and the server's "GraphQL schema ready" log
// line); the heap the schema keeps does not, so it is bounded here.
describe('FHIR schema build cost', () => {
  it('builds the executable schema, as the server does at start, keeping under 60 MB of heap', () => {
    const cost = measure();
    console.log('executable schema build cost:', cost);
    expect(cost.types).toBeGreaterThan(1700);
    expect(cost.heapGrowthMb).toBeLessThan(60);
  });

  it('keeps far more heap when the whole SDL, with every reverse argument, is built instead', () => {
    const cost = measure('--full-sdl');
    console.log('full SDL build cost:', cost);
    expect(cost.heapGrowthMb).toBeGreaterThan(measure().heapGrowthMb * 2);
  });
});
