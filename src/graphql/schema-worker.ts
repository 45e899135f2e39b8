/**
 * The schema worker: one `worker_threads` thread (`schema-thread.ts`) that answers the operations
 * asking the schema (`__schema`, `__type`, `_service`) off the main thread, started on the first
 * such operation and stopped after {@link IDLE_MS} without one. It runs one job at a time; at most
 * `GRAPHQL_SCHEMA_QUEUE` more wait, at most one per client, and beyond that a request is refused
 * with 503 and `Retry-After` rather than queued without end. A job that outlives
 * {@link JOB_TIMEOUT_MS}, or a thread that dies (its heap is capped at {@link MAX_HEAP_MB} MB, so
 * RSS stays bounded), fails its jobs with 503; the next job starts a new thread.
 * https://nodejs.org/api/worker_threads.html
 */
import { Worker } from 'node:worker_threads';
import { FhirError, outcome } from '../fhir/outcomes.ts';
import type { SchemaJob, SchemaReply } from './schema-thread.ts';

/** A job's answer as the thread serialised it: `{"data":…}` as JSON bytes, and gzipped when not tiny. */
export interface SchemaAnswer {
  json: Buffer;
  gzip: Buffer | undefined;
  /** The answer carries `errors` (never expected of introspection): it is not kept. */
  failed: boolean;
}

/** What the main thread asks of a job: the request's text, operation name and variables. */
export type SchemaQuery = Omit<SchemaJob, 'id'>;

/** How long a job may run: the full introspection takes 2–5 s on a busy machine. */
export const JOB_TIMEOUT_MS = 60_000;
/** The thread's old-generation heap: the schema and a full introspection need about 250 MB. */
export const MAX_HEAP_MB = 512;
/** The thread stops after this long without a job, giving its ~300 MB back. */
export const IDLE_MS = 5 * 60_000;

const ENTRY = new URL('./schema-thread-entry.js', import.meta.url);

interface Pending {
  job: SchemaJob;
  client: string;
  resolve(answer: SchemaAnswer): void;
  reject(err: unknown): void;
}

/** A 503 with `Retry-After`: the worker is busy or failed; the request may be sent again. */
function unavailable(message: string): FhirError {
  return new FhirError(503, outcome('error', 'transient', message), { 'Retry-After': '2' });
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The worker and its queue; see the module comment. */
export class SchemaWorker {
  private worker: Worker | undefined;
  private running: Pending | undefined;
  private readonly waiting: Pending[] = [];
  private readonly clients = new Set<string>();
  private nextId = 1;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  /** `queue`: jobs that may wait while one runs (`GRAPHQL_SCHEMA_QUEUE`). */
  constructor(private readonly queue: number) {}

  /**
   * Answers `query` for `client` in the thread. Throws a 503 {@link FhirError} at once when the
   * client already has a job waiting or running, or the queue is full; rejects with one when the
   * job times out or the thread dies.
   */
  run(client: string, query: SchemaQuery): Promise<SchemaAnswer> {
    if (this.closed) return Promise.reject(unavailable('The server is stopping'));
    if (this.clients.has(client)) {
      return Promise.reject(unavailable('This client already has an introspection or _service query waiting for the schema worker; send the next when it is answered'));
    }
    if (this.running && this.waiting.length >= this.queue) {
      return Promise.reject(unavailable(`The schema worker has ${this.waiting.length} introspection or _service queries waiting; retry shortly`));
    }
    this.clients.add(client);
    return new Promise<SchemaAnswer>((resolve, reject) => {
      this.waiting.push({ job: { ...query, id: this.nextId++ }, client, resolve, reject });
      this.next();
    });
  }

  /** Fails every job and stops the thread. */
  async close(): Promise<void> {
    this.closed = true;
    this.failAll(unavailable('The server is stopping'));
    await this.stop();
  }

  private next(): void {
    if (this.running || this.waiting.length === 0) return;
    const pending = this.waiting.shift()!;
    this.running = pending;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.onTimeout(), JOB_TIMEOUT_MS).unref();
    this.thread().postMessage(pending.job);
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(ENTRY, { resourceLimits: { maxOldGenerationSizeMb: MAX_HEAP_MB } });
    worker.unref();
    worker.on('message', (reply: SchemaReply) => this.onReply(reply));
    worker.on('error', (err) => this.onExit(worker, unavailable(`The schema worker failed (${String(err.message).slice(0, 200)}); retry`)));
    worker.on('exit', () => this.onExit(worker, unavailable('The schema worker stopped; retry')));
    this.worker = worker;
    return worker;
  }

  private settle(pending: Pending): void {
    this.clients.delete(pending.client);
    if (this.running === pending) this.running = undefined;
  }

  private onReply(reply: SchemaReply): void {
    const pending = this.running;
    if (!pending || pending.job.id !== reply.id) return;
    this.settle(pending);
    clearTimeout(this.timer);
    if ('error' in reply) pending.reject(unavailable(`The schema worker could not answer: ${reply.error}`));
    else pending.resolve({ json: toBuffer(reply.json), gzip: reply.gzip && toBuffer(reply.gzip), failed: reply.failed });
    if (this.waiting.length > 0) this.next();
    else this.timer = setTimeout(() => void this.stop(), IDLE_MS).unref();
  }

  private onTimeout(): void {
    const pending = this.running;
    if (!pending) return;
    this.settle(pending);
    pending.reject(unavailable(`The schema worker took more than ${JOB_TIMEOUT_MS / 1000} s; retry`));
    // The thread may be stuck in the job: a new one takes the queue.
    void this.stop().then(() => this.next());
  }

  /** The thread died or was stopped: its running job fails; waiting jobs go to a new thread. */
  private onExit(worker: Worker, err: FhirError): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    const pending = this.running;
    if (pending) {
      this.settle(pending);
      pending.reject(err);
    }
    if (!this.closed) this.next();
  }

  private async stop(): Promise<void> {
    clearTimeout(this.timer);
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  private failAll(err: FhirError): void {
    for (const pending of [...(this.running ? [this.running] : []), ...this.waiting.splice(0)]) {
      this.settle(pending);
      pending.reject(err);
    }
  }
}
