/**
 * The schema worker's queue (review #3): one job at a time, at most `queue` more waiting and one
 * per client, the rest refused at once with 503 and `Retry-After`; a closed worker refuses all.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { FhirError } from '../../src/fhir/outcomes.ts';
import { SchemaWorker } from '../../src/graphql/schema-worker.ts';

const workers: SchemaWorker[] = [];
afterAll(async () => { await Promise.all(workers.map((worker) => worker.close())); });

function typeQuery(name: string) {
  return { query: `{ __type(name: "${name}") { name } }` };
}

async function refusal(promise: Promise<unknown>): Promise<FhirError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(FhirError);
  return err as FhirError;
}

describe('SchemaWorker', () => {
  it('answers in its own thread, one client\'s jobs one at a time, and refuses beyond the queue with 503 and Retry-After', async () => {
    const worker = new SchemaWorker(1);
    workers.push(worker);
    const first = worker.run('a', typeQuery('Patient'));
    const sameClient = await refusal(worker.run('a', typeQuery('Observation')));
    expect(sameClient.status).toBe(503);
    expect(sameClient.headers['Retry-After']).toMatch(/^\d+$/);
    expect(sameClient.message).toMatch(/already has an introspection or _service query waiting/);
    const waiting = worker.run('b', typeQuery('Observation'));
    const beyond = await refusal(worker.run('c', typeQuery('Encounter')));
    expect(beyond.status).toBe(503);
    expect(beyond.message).toMatch(/1 introspection or _service queries waiting/);
    const [a, b] = await Promise.all([first, waiting]);
    expect(JSON.parse(a.json.toString('utf8'))).toEqual({ data: { __type: { name: 'Patient' } } });
    expect(JSON.parse(b.json.toString('utf8'))).toEqual({ data: { __type: { name: 'Observation' } } });
    // Answered jobs free their client and their place.
    const again = await worker.run('a', typeQuery('Encounter'));
    expect(JSON.parse(again.json.toString('utf8')).data.__type.name).toBe('Encounter');
  }, 60_000);

  it('gzips answers of 1 KB or more, and refuses every job once closed', async () => {
    const worker = new SchemaWorker(4);
    workers.push(worker);
    const answer = await worker.run('a', { query: '{ __type(name: "Patient") { fields { name } } }' });
    expect(answer.gzip?.length).toBeGreaterThan(0);
    expect(answer.gzip!.length).toBeLessThan(answer.json.length);
    await worker.close();
    expect((await refusal(worker.run('a', typeQuery('Patient')))).status).toBe(503);
  }, 60_000);
});
