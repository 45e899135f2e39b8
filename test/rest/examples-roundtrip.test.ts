/**
 * Every example of `hl7.fhir.r4.examples` (DECISIONS.md §4) is accepted by create and reads back
 * equal apart from `id` and the server's `meta`; the truly invalid ones listed in
 * `test/fixtures/invalid-examples.json` are refused with a 422 naming the problem.
 */
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'lossless-json';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listExampleResources, type ExampleResource } from '../helpers/examples-corpus.ts';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

interface InvalidExample { file: string; entry?: number; reason: string; expression: string }

const invalid: InvalidExample[] = JSON.parse(readFileSync(new URL('../fixtures/invalid-examples.json', import.meta.url), 'utf8'));
const isListed = (e: ExampleResource) => invalid.find((i) => i.file === e.file && i.entry === e.entry);

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t?.close(); });

/**
 * A Binary's `data` as the bytes it stands for: its content is stored as bytes (DECISIONS.md §3)
 * and read back as canonical base64, so whitespace inside the example's base64 is not kept.
 */
function canonicalData(resource: Record<string, unknown>): Record<string, unknown> {
  if (resource.resourceType !== 'Binary' || typeof resource.data !== 'string') return resource;
  return { ...resource, data: Buffer.from(resource.data, 'base64').toString('base64') };
}

function withoutServerFields(resource: Record<string, unknown>): Record<string, unknown> {
  const { id: _id, meta, ...rest } = canonicalData(resource);
  const { versionId: _v, lastUpdated: _l, ...keptMeta } = (meta ?? {}) as Record<string, unknown>;
  return Object.keys(keptMeta).length ? { ...rest, meta: keptMeta } : rest;
}

async function post(resource: Record<string, unknown>) {
  const response = await fetch(`${t.url}/fhir/${resource.resourceType}`, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${t.adminToken}` },
    body: stringify(resource)!,
  });
  return { status: response.status, text: await response.text() };
}

/** Runs `work` over `items` with a few requests in flight. */
async function forEachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await work(items[next++]);
  }));
}

describe('the R4 examples corpus', () => {
  const corpus = listExampleResources();

  it('has the expected size', () => {
    expect(corpus.length).toBeGreaterThan(700);
  });

  it('accepts every valid example and reads it back equal apart from id and meta', async () => {
    const failures: string[] = [];
    const valid = corpus.filter((e) => !isListed(e));
    await forEachLimited(valid, 4, async (example) => {
      const created = await post(example.resource);
      if (created.status !== 201) {
        failures.push(`${example.name}: create answered ${created.status} ${created.text.slice(0, 300)}`);
        return;
      }
      const id = (JSON.parse(created.text) as { id: string }).id;
      // Accept names FHIR JSON, as a FHIR client's does: without it a Binary answers its content itself.
      const read = await fetch(`${t.url}/fhir/${example.resource.resourceType}/${id}`, {
        headers: { authorization: `Bearer ${t.adminToken}`, accept: 'application/fhir+json' },
      });
      const stored = parse(await read.text()) as Record<string, unknown>;
      try {
        expect(withoutServerFields(stored)).toEqual(withoutServerFields(example.resource));
      } catch {
        failures.push(`${example.name}: read back differs`);
      }
    });
    expect(failures).toEqual([]);
  }, 240_000);

  it('refuses each listed invalid example with a 422 naming the problem', async () => {
    const listed = corpus.filter((e) => isListed(e));
    expect(listed.length).toBe(invalid.length);
    for (const example of listed) {
      const expected = isListed(example)!;
      const created = await post(example.resource);
      expect(created.status, example.name).toBe(422);
      const outcome = JSON.parse(created.text);
      const expressions: string[] = outcome.issue.flatMap((i: { expression?: string[] }) => i.expression ?? []);
      expect(expressions, `${example.name}: ${expected.reason}`).toContain(expected.expression);
    }
  });
});
