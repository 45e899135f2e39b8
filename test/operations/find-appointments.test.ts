/**
 * `Appointment/$find` (issue 17, scheduling): an actor's free slots in a period, across its
 * schedules, offered as proposed Appointments that book the slot when created.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
let doctor: string;
let nurse: string;
const slots: Record<string, string> = {};

async function create(resource: Record<string, unknown>): Promise<string> {
  const res = await fhirFetch(`${t.url}/fhir/${resource.resourceType as string}`, { method: 'POST', body: resource });
  expect(res.status, res.text.slice(0, 300)).toBe(201);
  return res.body.id;
}

async function slot(name: string, schedule: string, startHour: number, status = 'free'): Promise<void> {
  const start = new Date(Date.UTC(2032, 2, 1, startHour));
  slots[name] = await create({
    resourceType: 'Slot', schedule: { reference: `Schedule/${schedule}` }, status,
    start: start.toISOString(), end: new Date(start.getTime() + 30 * 60_000).toISOString(),
  });
}

function find(query: string, token?: string) {
  return fhirFetch(`${t.url}/fhir/Appointment/$find?${query}`, { token });
}

const PERIOD = 'start=2032-03-01T00:00:00Z&end=2032-03-02T00:00:00Z';

beforeAll(async () => {
  t = await startTestServer();
  doctor = await create({ resourceType: 'Practitioner', name: [{ family: 'Finder' }] });
  nurse = await create({ resourceType: 'Practitioner', name: [{ family: 'Other' }] });
  const morning = await create({ resourceType: 'Schedule', actor: [{ reference: `Practitioner/${doctor}` }] });
  const evening = await create({ resourceType: 'Schedule', actor: [{ reference: `Practitioner/${doctor}` }] });
  const nurses = await create({ resourceType: 'Schedule', actor: [{ reference: `Practitioner/${nurse}` }] });
  await slot('late', evening, 18);
  await slot('early', morning, 9);
  await slot('busy', morning, 10, 'busy');
  await slot('nextDay', morning, 33);
  await slot('nurse', nurses, 11);
});
afterAll(async () => { await t?.close(); });

describe('Appointment/$find', () => {
  it('offers the actor\'s free slots in the period, across its schedules, soonest first, as proposed Appointments', async () => {
    const res = await find(`${PERIOD}&actor=Practitioner/${doctor}`);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 2 });
    const offers = res.body.entry.filter((e: any) => e.search.mode === 'match').map((e: any) => e.resource);
    expect(offers.map((a: any) => a.slot[0].reference)).toEqual([`Slot/${slots.early}`, `Slot/${slots.late}`]);
    expect(offers[0]).toMatchObject({ resourceType: 'Appointment', status: 'proposed', start: '2032-03-01T09:00:00.000Z', participant: [{ actor: { reference: `Practitioner/${doctor}` } }] });
    const included = res.body.entry.filter((e: any) => e.search.mode === 'include').map((e: any) => e.resource.id);
    expect(included).toEqual([slots.early, slots.late]);
  });

  it('takes several actors, and _count bounds the offers', async () => {
    const res = await find(`${PERIOD}&actor=Practitioner/${doctor}&actor=Practitioner/${nurse}&_count=2`);
    expect(res.status, res.text).toBe(200);
    const offered = res.body.entry.filter((e: any) => e.search.mode === 'match').map((e: any) => e.resource.slot[0].reference);
    expect(offered).toEqual([`Slot/${slots.early}`, `Slot/${slots.nurse}`]);
  });

  it('stops offering a slot once a client books the offer', async () => {
    const first = await find(`${PERIOD}&actor=Practitioner/${doctor}`);
    const offer = first.body.entry.find((e: any) => e.search.mode === 'match').resource;
    const booked = await fhirFetch(`${t.url}/fhir/Appointment`, { method: 'POST', body: { ...offer, status: 'booked' } });
    expect(booked.status, booked.text).toBe(201);
    const after = await find(`${PERIOD}&actor=Practitioner/${doctor}`);
    expect(after.body.entry.filter((e: any) => e.search.mode === 'match').map((e: any) => e.resource.slot[0].reference)).toEqual([`Slot/${slots.late}`]);
  });

  it('answers 400 for a missing or malformed period or actor, and 403 without search rights on Slot', async () => {
    for (const query of [`actor=Practitioner/${doctor}`, `${PERIOD}`, `${PERIOD}&actor=nobody`, `start=2032-03-02&end=2032-03-01&actor=Practitioner/${doctor}`, `${PERIOD}&actor=Practitioner/${doctor}&_count=0`, `${PERIOD}&actor=Practitioner/x&colour=red`]) {
      const res = await find(query);
      expect(res.status, query).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
    }
    const reader = await t.tokenWithScope('system/Appointment.rs');
    expect((await find(`${PERIOD}&actor=Practitioner/${doctor}`, reader)).status).toBe(403);
  });

  it('is listed on Appointment only in the CapabilityStatement', async () => {
    const res = await fhirFetch(`${t.url}/fhir/metadata`);
    const withFind = res.body.rest[0].resource.filter((r: any) => (r.operation ?? []).some((o: any) => o.name === 'find')).map((r: any) => r.type);
    expect(withFind).toEqual(['Appointment']);
  });
});
