/**
 * What the export tests share: kicking an export off, polling its status to the manifest, and
 * reading its files back line by line, as a Bulk Data client does over HTTP.
 */
import { expect } from 'vitest';

export interface Manifest {
  transactionTime: string;
  request: string;
  requiresAccessToken: boolean;
  output: { type: string; url: string; count: number }[];
  error: { type: string; url: string; count: number }[];
}

/** Sends a kick-off; returns the response (202 with Content-Location when accepted). */
export async function kickOff(url: string, token: string, init: { method?: string; body?: unknown; prefer?: string | null } = {}): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/fhir+json' };
  if (init.prefer !== null) headers.prefer = init.prefer ?? 'respond-async';
  if (init.body !== undefined) headers['content-type'] = 'application/fhir+json';
  return fetch(url, { method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
}

/** Kicks off and returns the status URL (failing the test unless 202). */
export async function startExport(url: string, token: string, init: { method?: string; body?: unknown } = {}): Promise<string> {
  const response = await kickOff(url, token, init);
  const text = await response.text();
  expect(response.status, text).toBe(202);
  const location = response.headers.get('content-location');
  expect(location).toBeTruthy();
  return location!;
}

/** Polls a status URL until the export completes; returns the manifest. */
export async function awaitManifest(statusUrl: string, token: string, timeoutMs = 60_000): Promise<Manifest> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(statusUrl, { headers: { authorization: `Bearer ${token}` } });
    const text = await response.text();
    if (response.status === 200) {
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      return JSON.parse(text) as Manifest;
    }
    expect(response.status, text).toBe(202);
    expect(response.headers.get('x-progress')).toBeTruthy();
    expect(response.headers.get('retry-after')).toBeTruthy();
    if (Date.now() > deadline) throw new Error(`export not complete within ${timeoutMs} ms: ${response.headers.get('x-progress')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Downloads one file; returns its parsed lines (failing the test unless 200 NDJSON). */
export async function download(fileUrl: string, token: string): Promise<Record<string, any>[]> {
  const response = await fetch(fileUrl, { headers: { authorization: `Bearer ${token}`, accept: 'application/fhir+ndjson' } });
  const text = await response.text();
  expect(response.status, text.slice(0, 300)).toBe(200);
  expect(response.headers.get('content-type')).toContain('application/fhir+ndjson');
  expect(text.endsWith('\n') || text === '').toBe(true);
  return text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, any>);
}

/** Every output line of a manifest, by type. */
export async function downloadAll(manifest: Manifest, token: string): Promise<Map<string, Record<string, any>[]>> {
  const byType = new Map<string, Record<string, any>[]>();
  for (const file of manifest.output) {
    const lines = await download(file.url, token);
    expect(lines.length).toBe(file.count);
    for (const line of lines) expect(line.resourceType).toBe(file.type);
    byType.set(file.type, [...(byType.get(file.type) ?? []), ...lines]);
  }
  return byType;
}
