/**
 * Real subscription clients against the real server (issue 16, "Real clients"): the `graphql-ws`
 * client (`createClient` with `ws` as its WebSocket) and `@apollo/client` with `GraphQLWsLink`
 * receive events of changes made through REST, with the token in the `connection_init` payload.
 */
import { ApolloClient, InMemoryCache, gql } from '@apollo/client/core';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { createClient, type Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { wsUrl } from '../helpers/subscription-client.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let token: string;
const clients: Client[] = [];

const SUBSCRIPTION = `subscription Vitals($since: String, $criteria: String) {
  ObservationChanged(since: $since, criteria: $criteria, actions: [CREATE, UPDATE]) {
    action id versionId cursor
    resource { status code { text } subject { resource { ... on Patient { name { family } } } } }
  }
}`;

async function create(resource: Record<string, unknown>): Promise<string> {
  const res = await fhirFetch(`${t.url}/fhir/${resource.resourceType}`, { method: 'POST', body: resource });
  expect(res.status, res.text).toBe(201);
  return res.body.id;
}

function wsClient(): Client {
  const client = createClient({ url: wsUrl(t.url), webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 });
  clients.push(client);
  return client;
}

beforeAll(async () => {
  t = await startTestServer();
  token = await t.tokenWithScope('system/Patient.rs system/Observation.rs');
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await t?.close();
});

describe('graphql-ws createClient', () => {
  it('iterates events of changes made through REST', async () => {
    const patient = await create({ resourceType: 'Patient', name: [{ family: 'Nightingale' }] });
    const since = await t.server.changes.feed.headCursor();
    const events = wsClient().iterate<any>({ query: SUBSCRIPTION, variables: { since, criteria: `subject=Patient/${patient}` } });
    const id = await create({ resourceType: 'Observation', status: 'final', code: { text: 'Pulse' }, subject: { reference: `Patient/${patient}` } });
    await create({ resourceType: 'Observation', status: 'final', code: { text: 'Someone else' }, subject: { reference: 'Patient/nobody' } });
    const { value } = await events.next();
    expect(value.errors).toBeUndefined();
    expect(value.data.ObservationChanged).toMatchObject({
      action: 'CREATE', id, versionId: '1', resource: { status: 'final', code: { text: 'Pulse' }, subject: { resource: { name: [{ family: 'Nightingale' }] } } },
    });
    await events.return?.();
  });
});

describe('@apollo/client with GraphQLWsLink', () => {
  it('receives events through an Observable, typed by the document', async () => {
    const apollo = new ApolloClient({ link: new GraphQLWsLink(wsClient()), cache: new InMemoryCache() });
    const patient = await create({ resourceType: 'Patient', name: [{ family: 'Seacole' }] });
    const since = await t.server.changes.feed.headCursor();
    const received: any[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const subscription = apollo.subscribe({ query: gql(SUBSCRIPTION), variables: { since, criteria: `subject=Patient/${patient}` }, fetchPolicy: 'no-cache' }).subscribe({
        next: (result) => {
          received.push(result.data?.ObservationChanged);
          if (received.length === 2) {
            subscription.unsubscribe();
            resolve();
          }
        },
        error: reject,
      });
    });
    const id = await create({ resourceType: 'Observation', status: 'preliminary', code: { text: 'Temperature' }, subject: { reference: `Patient/${patient}` } });
    const updated = await fhirFetch(`${t.url}/fhir/Observation/${id}`, {
      method: 'PUT', body: { resourceType: 'Observation', id, status: 'final', code: { text: 'Temperature' }, subject: { reference: `Patient/${patient}` } },
    });
    expect(updated.status).toBe(200);
    await done;
    expect(received.map((e) => [e.action, e.id, e.versionId, e.resource.status])).toEqual([['CREATE', id, '1', 'preliminary'], ['UPDATE', id, '2', 'final']]);
    expect(received[1].resource.subject.resource.name[0].family).toBe('Seacole');
    apollo.stop();
  });
});
