/**
 * Safe slot booking (issue 17): an Appointment that references a free Slot marks it busy in the
 * same transaction, through every facade (REST create/update/patch/delete, GraphQL, transaction
 * and batch Bundles); of concurrent bookings of one Slot exactly one wins and the others get a 409
 * naming the Slot; cancelling or deleting the appointment frees the Slot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, record, type WsConnection } from '../helpers/subscription-client.ts';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let practitioner: string;
let schedule: string;
beforeAll(async () => {
  t = await startTestServer();
  practitioner = (await create({ resourceType: 'Practitioner', name: [{ family: 'Booker' }] })).id;
  schedule = (await create({ resourceType: 'Schedule', actor: [{ reference: `Practitioner/${practitioner}` }] })).id;
});
afterAll(async () => { await t?.close(); });

async function create(resource: Record<string, unknown>, token?: string) {
  const res = await fhirFetch(`${t.url}/fhir/${resource.resourceType as string}`, { method: 'POST', body: resource, token });
  expect(res.status, res.text.slice(0, 500)).toBe(201);
  return res.body;
}

let hour = 0;
/** A Slot of the test schedule, an hour after the previous one. */
async function createSlot(status = 'free', scheduleId = schedule): Promise<string> {
  hour++;
  const start = new Date(Date.UTC(2031, 0, 1, hour));
  const end = new Date(start.getTime() + 30 * 60_000);
  const slot = await create({ resourceType: 'Slot', schedule: { reference: `Schedule/${scheduleId}` }, status, start: start.toISOString(), end: end.toISOString() });
  return slot.id;
}

function appointment(slotIds: string[], status = 'booked') {
  return {
    resourceType: 'Appointment', status,
    slot: slotIds.map((id) => ({ reference: `Slot/${id}` })),
    participant: [{ actor: { reference: `Practitioner/${practitioner}` }, status: 'accepted' }],
  };
}

function book(slotIds: string[], token?: string, status = 'booked') {
  return fhirFetch(`${t.url}/fhir/Appointment`, { method: 'POST', body: appointment(slotIds, status), token });
}

async function readSlot(id: string) {
  const res = await fhirFetch(`${t.url}/fhir/Slot/${id}`);
  expect(res.status).toBe(200);
  return res.body as { status: string; meta: { versionId: string } };
}

function diagnostics(body: { issue?: { diagnostics?: string }[] }): string {
  return (body.issue ?? []).map((i) => i.diagnostics ?? '').join(' | ');
}

describe('booking a slot over REST', () => {
  it('of 20 concurrent bookings of one free slot, exactly one gets 201 and nineteen a 409 saying the slot is taken', async () => {
    const slot = await createSlot();
    const answers = await Promise.all(Array.from({ length: 20 }, () => book([slot])));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(19);
    for (const refused of answers.filter((a) => a.status === 409)) {
      expect(refused.body.resourceType).toBe('OperationOutcome');
      expect(refused.body.issue[0].code).toBe('conflict');
      expect(diagnostics(refused.body)).toContain(`Slot/${slot} is taken`);
    }
    const read = await readSlot(slot);
    expect(read.status).toBe('busy');
    expect(read.meta.versionId).toBe('2');
    // Only the winner's appointment exists.
    const booked = await fhirFetch(`${t.url}/fhir/Appointment?slot=Slot/${slot}&_summary=count`);
    expect(booked.body.total).toBe(1);
  }, 60_000);

  it("stores the slot's new version like any write: in its history and naming it in the request's AuditEvent", async () => {
    const slot = await createSlot();
    expect((await book([slot])).status).toBe(201);
    const history = await fhirFetch(`${t.url}/fhir/Slot/${slot}/_history`);
    expect(history.body.entry.map((e: any) => e.resource.status)).toEqual(['busy', 'free']);
    const audit = await fhirFetch(`${t.url}/fhir/AuditEvent?entity=Slot/${slot}`);
    expect(audit.status).toBe(200);
    const subtypes = audit.body.entry.map((e: any) => e.resource.action);
    expect(subtypes).toContain('C'); // the Appointment create that booked it
  });

  it("publishes the slot's change to subscribers: a SlotChanged subscription receives the booking's busy version", async () => {
    const slot = await createSlot();
    const since = await t.server.changes.feed.headCursor();
    const ws: WsConnection = await connect(t.url, t.adminToken);
    try {
      const sub = record(ws, 'subscription ($since: String) { SlotChanged(since: $since, criteria: "status=busy") { action id versionId resource { status } } }', { since });
      expect((await book([slot])).status).toBe(201);
      const event = (await sub.waitFor((d) => d.SlotChanged.id === slot)).SlotChanged;
      expect(event).toEqual({ action: 'UPDATE', id: slot, versionId: '2', resource: { status: 'busy' } });
    } finally {
      await ws.dispose();
    }
  });

  it('refuses with 409 to book a slot that is busy, busy-unavailable, busy-tentative or entered-in-error', async () => {
    for (const status of ['busy', 'busy-unavailable', 'busy-tentative', 'entered-in-error']) {
      const slot = await createSlot(status);
      const res = await book([slot]);
      expect(res.status, status).toBe(409);
      expect(diagnostics(res.body)).toContain(`Slot/${slot} is taken (its status is "${status}")`);
      expect(res.body.issue[0].expression).toEqual(['Appointment.slot[0]']);
      expect((await readSlot(slot)).meta.versionId).toBe('1');
    }
  });

  it('refuses with 409 to book a deleted slot', async () => {
    const slot = await createSlot();
    expect((await fhirFetch(`${t.url}/fhir/Slot/${slot}`, { method: 'DELETE' })).status).toBe(200);
    const res = await book([slot]);
    expect(res.status).toBe(409);
    expect(diagnostics(res.body)).toContain(`Slot/${slot} has been deleted`);
  });

  it('books nothing for a Slot this server does not hold (references are not checked for existence)', async () => {
    const res = await book(['no-such-slot']);
    expect(res.status).toBe(201);
  });

  it('books every slot an appointment references, or none when one of them is taken', async () => {
    const [a, b, taken] = [await createSlot(), await createSlot(), await createSlot('busy')];
    const refused = await book([a, b, taken]);
    expect(refused.status).toBe(409);
    expect(refused.body.issue[0].expression).toEqual(['Appointment.slot[2]']);
    expect((await readSlot(a)).status).toBe('free');
    expect((await book([a, b])).status).toBe(201);
    expect((await readSlot(a)).status).toBe('busy');
    expect((await readSlot(b)).status).toBe('busy');
  });

  it('does not book for an appointment created cancelled, noshow or entered-in-error', async () => {
    const slot = await createSlot();
    for (const status of ['cancelled', 'noshow', 'entered-in-error']) expect((await book([slot], undefined, status)).status).toBe(201);
    expect((await readSlot(slot)).status).toBe('free');
    expect((await book([slot], undefined, 'proposed')).status).toBe(201);
    expect((await readSlot(slot)).status).toBe('busy');
  });

  it('lets a client with write scope on Appointment only book (the server updates the Slot for it)', async () => {
    const token = await t.tokenWithScope('system/Appointment.cruds');
    const slot = await createSlot();
    expect((await book([slot], token)).status).toBe(201);
    expect((await readSlot(slot)).status).toBe('busy');
    expect((await book([slot], token)).status).toBe(409);
  });
});

describe('changing a booked appointment', () => {
  it('keeps the booking when an update keeps the same slot (no 409 against itself)', async () => {
    const slot = await createSlot();
    const created = (await book([slot])).body;
    const updated = await fhirFetch(`${t.url}/fhir/Appointment/${created.id}`, { method: 'PUT', body: { ...created, status: 'arrived' } });
    expect(updated.status).toBe(200);
    const read = await readSlot(slot);
    expect(read.status).toBe('busy');
    expect(read.meta.versionId).toBe('2');
  });

  it('frees the slot when the appointment is cancelled (PUT), and a new booking then succeeds', async () => {
    const slot = await createSlot();
    const created = (await book([slot])).body;
    const cancelled = await fhirFetch(`${t.url}/fhir/Appointment/${created.id}`, { method: 'PUT', body: { ...created, status: 'cancelled' } });
    expect(cancelled.status).toBe(200);
    expect((await readSlot(slot)).status).toBe('free');
    expect((await book([slot])).status).toBe(201);
    expect((await readSlot(slot)).status).toBe('busy');
  });

  it('frees the slot when the appointment is cancelled by a JSON Patch', async () => {
    const slot = await createSlot();
    const created = (await book([slot])).body;
    const patched = await fhirFetch(`${t.url}/fhir/Appointment/${created.id}`, {
      method: 'PATCH', headers: { 'content-type': 'application/json-patch+json' },
      body: [{ op: 'replace', path: '/status', value: 'noshow' }],
    });
    expect(patched.status).toBe(200);
    expect((await readSlot(slot)).status).toBe('free');
  });

  it('frees the slot when the appointment is deleted', async () => {
    const slot = await createSlot();
    const created = (await book([slot])).body;
    expect((await fhirFetch(`${t.url}/fhir/Appointment/${created.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await readSlot(slot)).status).toBe('free');
    expect((await book([slot])).status).toBe(201);
  });

  it('moves the booking when an update references another slot, and refuses a move to a taken one', async () => {
    const [from, to, taken] = [await createSlot(), await createSlot(), await createSlot('busy')];
    const created = (await book([from])).body;
    const refused = await fhirFetch(`${t.url}/fhir/Appointment/${created.id}`, { method: 'PUT', body: { ...created, slot: [{ reference: `Slot/${taken}` }] } });
    expect(refused.status).toBe(409);
    expect((await readSlot(from)).status).toBe('busy');
    const moved = await fhirFetch(`${t.url}/fhir/Appointment/${created.id}`, { method: 'PUT', body: { ...created, slot: [{ reference: `Slot/${to}` }] } });
    expect(moved.status).toBe(200);
    expect((await readSlot(from)).status).toBe('free');
    expect((await readSlot(to)).status).toBe('busy');
  });

  it('does not free a slot that was made busy-unavailable meanwhile', async () => {
    const slot = await createSlot();
    const created = (await book([slot])).body;
    const current = await fhirFetch(`${t.url}/fhir/Slot/${slot}`);
    expect((await fhirFetch(`${t.url}/fhir/Slot/${slot}`, { method: 'PUT', body: { ...current.body, status: 'busy-unavailable' } })).status).toBe(200);
    await fhirFetch(`${t.url}/fhir/Appointment/${created.id}`, { method: 'PUT', body: { ...created, status: 'cancelled' } });
    expect((await readSlot(slot)).status).toBe('busy-unavailable');
  });
});

describe('booking through Bundles', () => {
  function transaction(entries: object[], type = 'transaction') {
    return fhirFetch(`${t.url}/fhir`, { method: 'POST', body: { resourceType: 'Bundle', type, entry: entries } });
  }
  const post = (resource: object, fullUrl?: string) => ({ fullUrl, resource, request: { method: 'POST', url: (resource as { resourceType: string }).resourceType } });

  it('rolls the slot back when a later entry of the transaction fails', async () => {
    const slot = await createSlot();
    const res = await transaction([post(appointment([slot])), { request: { method: 'GET', url: 'Patient/not-there' } }]);
    expect(res.status).toBe(404);
    const read = await readSlot(slot);
    expect(read.status).toBe('free');
    expect(read.meta.versionId).toBe('1');
  });

  it('refuses with 409 a transaction whose two entries book the same slot', async () => {
    const slot = await createSlot();
    const res = await transaction([post(appointment([slot])), post(appointment([slot]))]);
    expect(res.status).toBe(409);
    expect(diagnostics(res.body)).toContain(`Bundle.entry[1]: Slot/${slot} is taken: Bundle.entry[0] of this transaction books it`);
    expect((await readSlot(slot)).status).toBe('free');
  });

  it('books a slot created in the same transaction, and moves a booking between appointments in one transaction', async () => {
    const slotUrl = 'urn:uuid:0b1c7b2e-6f7e-4d7e-9a43-3d1f0e6c2a11';
    const created = await transaction([
      post({ resourceType: 'Slot', schedule: { reference: `Schedule/${schedule}` }, status: 'free', start: '2032-01-01T09:00:00Z', end: '2032-01-01T09:30:00Z' }, slotUrl),
      post({ ...appointment([]), slot: [{ reference: slotUrl }] }),
    ]);
    expect(created.status, created.text.slice(0, 500)).toBe(200);
    const slot = created.body.entry[0].response.location.split('/')[1];
    expect((await readSlot(slot)).status).toBe('busy');
    expect((await readSlot(slot)).meta.versionId).toBe('1');

    const first = (await fhirFetch(`${t.url}/fhir/Appointment/${created.body.entry[1].response.location.split('/')[1]}`)).body;
    const moved = await transaction([
      post(appointment([slot])),
      { resource: { ...first, status: 'cancelled' }, request: { method: 'PUT', url: `Appointment/${first.id}` } },
    ]);
    expect(moved.status, moved.text.slice(0, 500)).toBe(200);
    expect((await readSlot(slot)).status).toBe('busy');
  });

  it('books entry by entry in a batch: the second booking of one slot gets its own 409', async () => {
    const slot = await createSlot();
    const res = await transaction([post(appointment([slot])), post(appointment([slot]))], 'batch');
    expect(res.status).toBe(200);
    expect(res.body.entry.map((e: any) => e.response.status)).toEqual(['201 Created', '409 Conflict']);
    expect(diagnostics(res.body.entry[1].response.outcome)).toContain(`Slot/${slot} is taken`);
  });
});

describe('booking over GraphQL', () => {
  it('AppointmentCreate books the slot; a second one gets a CONFLICT error naming the slot', async () => {
    const slot = await createSlot();
    const mutation = 'mutation($res: Appointment_Input!) { AppointmentCreate(res: $res) { id status } }';
    const variables = { res: { status: 'booked', slot: [{ reference: `Slot/${slot}` }], participant: [{ status: 'accepted', actor: { reference: `Practitioner/${practitioner}` } }] } };
    const gql = () => fhirFetch(`${t.url}/graphql`, { method: 'POST', body: JSON.stringify({ query: mutation, variables }), headers: { 'content-type': 'application/json' } });
    const first = await gql();
    expect(first.body.errors).toBeUndefined();
    expect(first.body.data.AppointmentCreate.status).toBe('booked');
    expect((await readSlot(slot)).status).toBe('busy');
    const second = await gql();
    expect(second.body.data.AppointmentCreate).toBeNull();
    expect(second.body.errors[0].extensions.code).toBe('CONFLICT');
    expect(second.body.errors[0].message).toContain(`Slot/${slot} is taken`);
  });
});

describe('free-slot search', () => {
  it('Slot?schedule.actor=Practitioner/x&status=free&start=ge… returns only the free slots once one is booked', async () => {
    const own = await create({ resourceType: 'Practitioner', name: [{ family: 'Searched' }] });
    const ownSchedule = await create({ resourceType: 'Schedule', actor: [{ reference: `Practitioner/${own.id}` }] });
    const slots = [await createSlot('free', ownSchedule.id), await createSlot('free', ownSchedule.id), await createSlot('free', ownSchedule.id)];
    const search = () => fhirFetch(`${t.url}/fhir/Slot?schedule.actor=Practitioner/${own.id}&status=free&start=ge2031-01-01&_count=50`);
    expect((await search()).body.entry.map((e: any) => e.resource.id).sort()).toEqual([...slots].sort());
    expect((await book([slots[1]])).status).toBe(201);
    expect((await search()).body.entry.map((e: any) => e.resource.id).sort()).toEqual([slots[0], slots[2]].sort());
  });
});
