/**
 * Issue 15: history's `_at` was dropped silently, so a client asking what was current at a time
 * got every version; `_at` keeps the versions that were current at some point during the period
 * its value names. History pages with the same keyset cursor module as search, so its cursors are
 * as opaque and as checked. https://hl7.org/fhir/R4/http.html#history
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let id: string;
/** lastUpdated of versions 1, 2 and 3. */
const times: string[] = [];
beforeAll(async () => {
  t = await startTestServer();
  const created = await fhirFetch(`${t.url}/fhir/Practitioner`, { method: 'POST', body: { resourceType: 'Practitioner', name: [{ family: 'V1' }] } });
  id = created.body.id;
  times.push(created.body.meta.lastUpdated);
  for (const family of ['V2', 'V3']) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const updated = await fhirFetch(`${t.url}/fhir/Practitioner/${id}`, { method: 'PUT', body: { resourceType: 'Practitioner', id, name: [{ family }] } });
    times.push(updated.body.meta.lastUpdated);
  }
});
afterAll(async () => { await t?.close(); });

const versionsAt = async (path: string, at: string) => {
  const res = await fhirFetch(`${t.url}${path}?_at=${encodeURIComponent(at)}`);
  expect(res.status).toBe(200);
  return res.body.entry.filter((e: any) => e.resource?.id === id || e.fullUrl.endsWith(`/${id}`)).map((e: any) => e.resource.meta.versionId);
};

describe('history _at', () => {
  it('keeps the one version current at an instant', async () => {
    const between = new Date((Date.parse(times[1]) + Date.parse(times[2])) / 2).toISOString();
    expect(await versionsAt(`/fhir/Practitioner/${id}/_history`, between)).toEqual(['2']);
    expect(await versionsAt(`/fhir/Practitioner/${id}/_history`, times[0])).toEqual(['1']);
  });

  it('keeps the latest version for an instant after the last change', async () => {
    expect(await versionsAt(`/fhir/Practitioner/${id}/_history`, '2999-01-01T00:00:00Z')).toEqual(['3']);
  });

  it('keeps nothing before the resource existed', async () => {
    expect(await versionsAt(`/fhir/Practitioner/${id}/_history`, '2000-01-01T00:00:00Z')).toEqual([]);
  });

  it('keeps every version current during a period (a date names a whole day)', async () => {
    const day = times[0].slice(0, 10);
    expect(await versionsAt(`/fhir/Practitioner/${id}/_history`, day)).toEqual(['3', '2', '1']);
    expect(await versionsAt('/fhir/Practitioner/_history', day)).toEqual(['3', '2', '1']);
    expect(await versionsAt('/fhir/_history', times[2])).toEqual(['3']);
  });

  it('keeps _at in the paging links', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Practitioner/_history?_at=2999&_count=1`);
    expect(res.body.link.find((l: any) => l.relation === 'self').url).toContain('_at=2999');
  });

  it('refuses an _at that is not a date with 400', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Practitioner/_history?_at=yesterday`);
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });
});

describe('history paging', () => {
  it('pages forward and back through an instance history with opaque cursors', async () => {
    const first = await fhirFetch(`${t.url}/fhir/Practitioner/${id}/_history?_count=2`);
    expect(first.body.total).toBe(3);
    expect(first.body.entry.map((e: any) => e.resource.meta.versionId)).toEqual(['3', '2']);
    const next = first.body.link.find((l: any) => l.relation === 'next').url as string;
    expect(new URL(next).searchParams.get('_cursor')).toMatch(/^[A-Za-z0-9_-]+$/);
    const second = await fhirFetch(next.replace(t.config.publicUrl, t.url));
    expect(second.body.entry.map((e: any) => e.resource.meta.versionId)).toEqual(['1']);
    expect(second.body.link.find((l: any) => l.relation === 'next')).toBeUndefined();
    const previous = second.body.link.find((l: any) => l.relation === 'previous').url as string;
    const back = await fhirFetch(previous.replace(t.config.publicUrl, t.url));
    expect(back.body.entry.map((e: any) => e.resource.meta.versionId)).toEqual(['3', '2']);
  });

  it('refuses a forged or foreign cursor with 400', async () => {
    const forged = [
      // the shape of a search cursor (sort keys: lastUpdated, id)
      Buffer.from(JSON.stringify({ f: true, v: ['2024-01-01 00:00:00+00', id] })).toString('base64url'),
      Buffer.from(JSON.stringify({ f: true, v: ['99999999999999999999'] })).toString('base64url'),
      Buffer.from(JSON.stringify({ f: true, v: ['1 OR 1=1'] })).toString('base64url'),
      Buffer.from(JSON.stringify({ f: true, v: ['1', '2'] })).toString('base64url'),
      'b123',
    ];
    for (const cursor of forged) {
      const res = await fhirFetch(`${t.url}/fhir/Practitioner/_history?_cursor=${cursor}`);
      expect(res.status).toBe(400);
      expect(res.body.issue[0].expression).toEqual(['_cursor']);
    }
  });
});
