/**
 * Issue 17's bar: a 50 MiB Binary goes up raw and comes back byte-identical (raw, and as FHIR JSON
 * with base64 `data`) while the server's resident memory grows by less than 100 MiB. The server
 * runs in this process, so its RSS is this process's: sampled before, every 20 ms during, and
 * after. The upload is generated as it is sent and the downloads hashed as they arrive (plain
 * `node:http`, which adds little of its own), so the test's side holds one piece at a time too.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import http from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';

const SIZE = 50 * 1024 * 1024;
const PIECE = 64 * 1024;
const RSS_BOUND = 100 * 1024 * 1024;

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t?.close(); });

/** Samples the process's RSS until stopped; returns the peak seen. */
function sampleRss(): { stop(): number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
  return { stop: () => { clearInterval(timer); return Math.max(peak, process.memoryUsage().rss); } };
}

/** POSTs SIZE random bytes, made as they are sent and hashed on the way (chunked: no Content-Length); resolves with the Location. */
function uploadGenerated(hash: Hash): Promise<{ status: number; location?: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${t.url}/fhir/Binary`, {
      method: 'POST', headers: { authorization: `Bearer ${t.adminToken}`, 'content-type': 'application/pdf', prefer: 'return=minimal' },
    }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode!, location: response.headers.location }));
    });
    request.on('error', reject);
    let sent = 0;
    const write = () => {
      while (sent < SIZE) {
        const piece = randomBytes(Math.min(PIECE, SIZE - sent));
        hash.update(piece);
        sent += piece.length;
        if (!request.write(piece)) {
          request.once('drain', write);
          return;
        }
      }
      request.end();
    };
    write();
  });
}

/** GETs a URL, feeding each piece of the body to `onPiece` as it arrives. */
function download(url: string, accept: string, onPiece: (piece: Buffer) => void): Promise<{ status: number; headers: http.IncomingHttpHeaders; length: number }> {
  return new Promise((resolve, reject) => {
    http.get(url, { headers: { authorization: `Bearer ${t.adminToken}`, accept } }, (response) => {
      let length = 0;
      response.on('data', (piece: Buffer) => { length += piece.length; onPiece(piece); });
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, length }));
      response.on('error', reject);
    }).on('error', reject);
  });
}

/** Decodes the base64 of `"data":"…"` in a JSON text as it streams, hashing the bytes. */
function base64DataHasher(hash: Hash): { feed(piece: Buffer): void; ended(): boolean } {
  let text = '';
  let inData = false;
  let done = false;
  return {
    feed(piece) {
      if (done) return;
      text += piece.toString('latin1');
      if (!inData) {
        const at = text.indexOf('"data":"');
        if (at < 0) return;
        inData = true;
        text = text.slice(at + 8);
      }
      const end = text.indexOf('"');
      const usable = end >= 0 ? text.slice(0, end) : text.slice(0, text.length - (text.length % 4));
      hash.update(Buffer.from(usable, 'base64'));
      text = end >= 0 ? '' : text.slice(usable.length);
      done = end >= 0;
    },
    ended: () => done,
  };
}

it('stores a 50 MiB raw upload and gives it back byte-identical, raw and as base64, with RSS growing < 100 MiB', async () => {
  const before = process.memoryUsage().rss;
  const sampler = sampleRss();

  const sent = createHash('sha256');
  const created = await uploadGenerated(sent);
  expect(created.status).toBe(201);
  const id = /Binary\/([^/]+)\//.exec(created.location!)![1];
  const sentHash = sent.digest('hex');

  const received = createHash('sha256');
  const raw = await download(`${t.url}/fhir/Binary/${id}`, 'application/pdf', (piece) => received.update(piece));
  expect(raw.status).toBe(200);
  expect(raw.headers['content-length']).toBe(String(SIZE));
  expect(raw.length).toBe(SIZE);
  expect(received.digest('hex')).toBe(sentHash);

  const decoded = createHash('sha256');
  const hasher = base64DataHasher(decoded);
  const json = await download(`${t.url}/fhir/Binary/${id}`, 'application/fhir+json', (piece) => hasher.feed(piece));
  expect(json.status).toBe(200);
  expect(json.length).toBe(Number(json.headers['content-length']));
  expect(hasher.ended()).toBe(true);
  expect(decoded.digest('hex')).toBe(sentHash);

  const peak = sampler.stop();
  const grown = peak - before;
  console.log(`50 MiB Binary round trip: RSS before ${(before / 2 ** 20).toFixed(0)} MiB, peak ${(peak / 2 ** 20).toFixed(0)} MiB (+${(grown / 2 ** 20).toFixed(1)} MiB)`);
  expect(grown).toBeLessThan(RSS_BOUND);
}, 180_000);
