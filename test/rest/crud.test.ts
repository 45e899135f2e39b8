import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirFetch, startTestServer, type TestServer } from '../helpers/test-server.ts';

let t: TestServer;
beforeAll(async () => { t = await startTestServer(); });
afterAll(async () => { await t?.close(); });

const patient = { resourceType: 'Patient', name: [{ family: 'Smith', given: ['Ann'] }], birthDate: '1970-01-01' };

async function createPatient(body: object = patient) {
  const res = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body });
  expect(res.status).toBe(201);
  return res;
}

describe('create and read', () => {
  it('creates with a server-assigned id, Location, ETag W/"1" and Last-Modified', async () => {
    const res = await createPatient({ ...patient, id: 'client-chosen' });
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.meta.versionId).toBe('1');
    expect(res.headers.get('etag')).toBe('W/"1"');
    expect(res.headers.get('location')).toBe(`${t.fhirBase}/Patient/${res.body.id}/_history/1`);
    expect(new Date(res.headers.get('last-modified')!).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(res.headers.get('content-type')).toContain('application/fhir+json');
  });

  it('reads back what was created, with meta set by the server', async () => {
    const created = await createPatient();
    const read = await fhirFetch(`${t.url}/fhir/Patient/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(created.body);
    expect(read.body.meta.lastUpdated).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(read.headers.get('etag')).toBe('W/"1"');
  });

  it('keeps the exact digits of decimals', async () => {
    const created = await createPatient({ ...patient, extension: [{ url: 'http://example.org/x', valueDecimal: 1.50 }] });
    const raw = created.text;
    expect(raw).toContain('"valueDecimal":1.5');
    const body = '{"resourceType":"Observation","status":"final","code":{"text":"w"},"valueQuantity":{"value":72.50,"unit":"kg"}}';
    const obs = await fhirFetch(`${t.url}/fhir/Observation`, { method: 'POST', body });
    expect(obs.status).toBe(201);
    const read = await fhirFetch(`${t.url}/fhir/Observation/${obs.body.id}`);
    expect(read.text).toContain('"value":72.50');
  });

  it('answers 404 for an unknown id and for an unknown type', async () => {
    expect((await fhirFetch(`${t.url}/fhir/Patient/does-not-exist`)).status).toBe(404);
    const res = await fhirFetch(`${t.url}/fhir/Unicorn/1`);
    expect(res.status).toBe(404);
    expect(res.body.resourceType).toBe('OperationOutcome');
  });

  it('honours Prefer: return=minimal and return=OperationOutcome', async () => {
    const minimal = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: patient, headers: { prefer: 'return=minimal' } });
    expect(minimal.status).toBe(201);
    expect(minimal.text).toBe('');
    expect(minimal.headers.get('location')).toContain('/fhir/Patient/');
    const oo = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: patient, headers: { prefer: 'return=OperationOutcome' } });
    expect(oo.status).toBe(201);
    expect(oo.body.resourceType).toBe('OperationOutcome');
  });
});

describe('update, versions and optimistic locking', () => {
  it('updates with a correct If-Match and refuses a stale one with 412', async () => {
    const created = await createPatient();
    const id = created.body.id;
    const v2 = await fhirFetch(`${t.url}/fhir/Patient/${id}`, {
      method: 'PUT', body: { ...patient, id, gender: 'female' }, headers: { 'if-match': 'W/"1"' },
    });
    expect(v2.status).toBe(200);
    expect(v2.body.meta.versionId).toBe('2');
    expect(v2.headers.get('etag')).toBe('W/"2"');
    const stale = await fhirFetch(`${t.url}/fhir/Patient/${id}`, {
      method: 'PUT', body: { ...patient, id, gender: 'male' }, headers: { 'if-match': 'W/"1"' },
    });
    expect(stale.status).toBe(412);
    expect(stale.body.resourceType).toBe('OperationOutcome');
    const read = await fhirFetch(`${t.url}/fhir/Patient/${id}`);
    expect(read.body.gender).toBe('female');
  });

  it('creates with a client-chosen id on update-as-create, then vreads each version', async () => {
    const id = `chosen-${Date.now()}`;
    const created = await fhirFetch(`${t.url}/fhir/Patient/${id}`, { method: 'PUT', body: { ...patient, id } });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe(`${t.fhirBase}/Patient/${id}/_history/1`);
    await fhirFetch(`${t.url}/fhir/Patient/${id}`, { method: 'PUT', body: { ...patient, id, active: true } });
    const v1 = await fhirFetch(`${t.url}/fhir/Patient/${id}/_history/1`);
    const v2 = await fhirFetch(`${t.url}/fhir/Patient/${id}/_history/2`);
    expect(v1.body.active).toBeUndefined();
    expect(v2.body.active).toBe(true);
    expect((await fhirFetch(`${t.url}/fhir/Patient/${id}/_history/9`)).status).toBe(404);
    expect((await fhirFetch(`${t.url}/fhir/Patient/${id}/_history/x`)).status).toBe(404);
  });

  it('refuses an update whose body id differs from the URL', async () => {
    const res = await fhirFetch(`${t.url}/fhir/Patient/abc`, { method: 'PUT', body: { ...patient, id: 'other' } });
    expect(res.status).toBe(400);
  });

  it('patches with JSON Patch and refuses a failed test op with 422', async () => {
    const created = await createPatient();
    const id = created.body.id;
    const patched = await fhirFetch(`${t.url}/fhir/Patient/${id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json-patch+json', 'if-match': 'W/"1"' },
      body: [{ op: 'replace', path: '/name/0/family', value: 'Jones' }, { op: 'add', path: '/active', value: true }],
    });
    expect(patched.status).toBe(200);
    expect(patched.body.name[0].family).toBe('Jones');
    expect(patched.body.meta.versionId).toBe('2');
    const failed = await fhirFetch(`${t.url}/fhir/Patient/${id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json-patch+json' },
      body: [{ op: 'test', path: '/active', value: false }],
    });
    expect(failed.status).toBe(422);
    const invalid = await fhirFetch(`${t.url}/fhir/Patient/${id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json-patch+json' },
      body: [{ op: 'add', path: '/birthDate', value: 'not-a-date' }],
    });
    expect(invalid.status).toBe(422);
    expect(JSON.stringify(invalid.body)).toContain('Patient.birthDate');
  });
});

describe('delete and history', () => {
  it('deletes: read then answers 410, history lists every version newest first', async () => {
    const created = await createPatient();
    const id = created.body.id;
    await fhirFetch(`${t.url}/fhir/Patient/${id}`, { method: 'PUT', body: { ...patient, id, active: true } });
    const del = await fhirFetch(`${t.url}/fhir/Patient/${id}`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect((await fhirFetch(`${t.url}/fhir/Patient/${id}`)).status).toBe(410);
    const again = await fhirFetch(`${t.url}/fhir/Patient/${id}`, { method: 'DELETE' });
    expect(again.status).toBe(200);
    const history = await fhirFetch(`${t.url}/fhir/Patient/${id}/_history`);
    expect(history.status).toBe(200);
    expect(history.body.type).toBe('history');
    expect(history.body.total).toBe(3);
    expect(history.body.entry.map((e: any) => e.request.method)).toEqual(['DELETE', 'PUT', 'POST']);
    expect(history.body.entry[0].resource).toBeUndefined();
    expect(history.body.entry[1].resource.meta.versionId).toBe('2');
    expect((await fhirFetch(`${t.url}/fhir/Patient/${id}/_history/3`)).status).toBe(410);
    const resurrected = await fhirFetch(`${t.url}/fhir/Patient/${id}`, { method: 'PUT', body: { ...patient, id } });
    expect(resurrected.status).toBe(201);
    expect(resurrected.body.meta.versionId).toBe('4');
  });

  it('pages type and system history with next and previous links', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await fhirFetch(`${t.url}/fhir/Practitioner`, { method: 'POST', body: { resourceType: 'Practitioner', name: [{ family: `P${i}` }] } })).body.id);
    const page1 = await fhirFetch(`${t.url}/fhir/Practitioner/_history?_count=2`);
    expect(page1.body.entry.map((e: any) => e.resource.id)).toEqual([ids[4], ids[3]]);
    const next = page1.body.link.find((l: any) => l.relation === 'next').url as string;
    const page2 = await fhirFetch(next.replace(t.config.publicUrl, t.url));
    expect(page2.body.entry.map((e: any) => e.resource.id)).toEqual([ids[2], ids[1]]);
    const previous = page2.body.link.find((l: any) => l.relation === 'previous').url as string;
    const back = await fhirFetch(previous.replace(t.config.publicUrl, t.url));
    expect(back.body.entry.map((e: any) => e.resource.id)).toEqual([ids[4], ids[3]]);
    // A non-admin token: system history leaves out AuditEvents, which only admins read.
    const token = await t.tokenWithScope('system/*.*');
    const system = await fhirFetch(`${t.url}/fhir/_history?_count=1`, { token });
    expect(system.body.entry).toHaveLength(1);
    expect(system.body.entry[0].resource.id).toBe(ids[4]);
    const since = await fhirFetch(`${t.url}/fhir/Practitioner/_history?_since=2999-01-01T00:00:00Z`);
    expect(since.body.entry).toEqual([]);
  });
});

describe('concurrent writes to one resource', () => {
  it('serialises concurrent updates: each sees the version the one before it committed', async () => {
    const created = await createPatient({ ...patient, name: [{ family: 'Racer0' }] });
    const url = `${t.url}/fhir/Patient/${created.body.id}`;
    const updates = await Promise.all(Array.from({ length: 8 }, (_, i) => fhirFetch(url, {
      method: 'PUT', body: { ...patient, id: created.body.id, name: [{ family: `Racer${i + 1}` }] },
    })));
    expect(updates.map((u) => u.status)).toEqual(Array(8).fill(200));
    expect(updates.map((u) => Number(u.body.meta.versionId)).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    const history = await fhirFetch(`${url}/_history`);
    expect(history.body.total).toBe(9);
    // Only the last version's index rows remain: the current family is found, earlier ones are not.
    const last = updates.find((u) => u.body.meta.versionId === '9')!.body.name[0].family;
    for (let i = 0; i <= 8; i++) {
      const found = await fhirFetch(`${t.url}/fhir/Patient?family:exact=Racer${i}&_summary=count`);
      expect(found.body.total, `Racer${i}`).toBe(`Racer${i}` === last ? 1 : 0);
    }
  });

  it('lets exactly one of several updates with the same If-Match through', async () => {
    const created = await createPatient();
    const url = `${t.url}/fhir/Patient/${created.body.id}`;
    const updates = await Promise.all(Array.from({ length: 6 }, () => fhirFetch(url, {
      method: 'PUT', body: { ...patient, id: created.body.id, gender: 'other' }, headers: { 'if-match': 'W/"1"' },
    })));
    expect(updates.map((u) => u.status).sort()).toEqual([200, 412, 412, 412, 412, 412]);
    expect((await fhirFetch(url)).body.meta.versionId).toBe('2');
  });
});

describe('conditional create', () => {
  it('creates once for the same If-None-Exist identifier, even when two requests race', async () => {
    const body = { ...patient, identifier: [{ system: 'http://example.org/mrn', value: 'MRN-42' }] };
    const headers = { 'if-none-exist': 'identifier=http://example.org/mrn|MRN-42' };
    const [a, b] = await Promise.all([
      fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body, headers }),
      fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body, headers }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 201]);
    expect(a.body.id).toBe(b.body.id);
  });
});

describe('conditional update, delete and create on any search parameter', () => {
  it('updates the one match, creates when none matches, and refuses several with 412', async () => {
    const body = { resourceType: 'Patient', identifier: [{ system: 'http://example.org/cond', value: 'U-1' }], gender: 'male' };
    const created = await fhirFetch(`${t.url}/fhir/Patient?identifier=http://example.org/cond|U-1`, { method: 'PUT', body });
    expect(created.status).toBe(201);
    const updated = await fhirFetch(`${t.url}/fhir/Patient?identifier=http://example.org/cond|U-1`, { method: 'PUT', body: { ...body, gender: 'female' } });
    expect(updated.status).toBe(200);
    expect(updated.body.id).toBe(created.body.id);
    expect(updated.body.meta.versionId).toBe('2');
    await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { ...body, identifier: [{ system: 'http://example.org/cond', value: 'U-2' }] } });
    const many = await fhirFetch(`${t.url}/fhir/Patient?identifier=http://example.org/cond|`, { method: 'PUT', body });
    expect(many.status).toBe(412);
    const unknown = await fhirFetch(`${t.url}/fhir/Patient?frobnicate=1`, { method: 'PUT', body });
    expect(unknown.status).toBe(400);
  });

  it('deletes the one match and changes nothing when none matches', async () => {
    const created = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body: { resourceType: 'Patient', name: [{ family: 'Conditionally-Deleted' }] } });
    const none = await fhirFetch(`${t.url}/fhir/Patient?family=Nobody-By-That-Name`, { method: 'DELETE' });
    expect(none.status).toBe(200);
    const del = await fhirFetch(`${t.url}/fhir/Patient?family=Conditionally-Deleted`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect((await fhirFetch(`${t.url}/fhir/Patient/${created.body.id}`)).status).toBe(410);
  });

  it('creates once for If-None-Exist on any search parameters', async () => {
    const body = { resourceType: 'Patient', name: [{ family: 'Ifnone' }], birthDate: '1961-02-03' };
    const headers = { 'if-none-exist': 'family=Ifnone&birthdate=1961-02-03' };
    const first = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body, headers });
    const second = await fhirFetch(`${t.url}/fhir/Patient`, { method: 'POST', body, headers });
    expect([first.status, second.status]).toEqual([201, 200]);
    expect(second.body.id).toBe(first.body.id);
  });
});

describe('negotiation', () => {
  it('serves metadata as a CapabilityStatement listing every resource type and implemented interaction', async () => {
    const res = await fhirFetch(`${t.url}/fhir/metadata`);
    expect(res.status).toBe(200);
    expect(res.body.resourceType).toBe('CapabilityStatement');
    expect(res.body.fhirVersion).toBe('4.0.1');
    const types = res.body.rest[0].resource;
    expect(types).toHaveLength(146);
    const patientCaps = types.find((r: any) => r.type === 'Patient');
    expect(patientCaps.interaction.map((i: any) => i.code).sort()).toEqual(
      ['create', 'delete', 'history-instance', 'history-type', 'patch', 'read', 'search-type', 'update', 'vread'],
    );
    expect(res.body.rest[0].interaction.map((i: any) => i.code).sort()).toEqual(['batch', 'history-system', 'search-system', 'transaction']);
    expect(patientCaps.searchParam.map((p: any) => p.name)).toEqual(expect.arrayContaining(['name', 'birthdate', 'identifier', '_id', '_lastUpdated']));
    const location = types.find((r: any) => r.type === 'Location');
    const unsupported = location.extension.map((e: any) => Object.fromEntries(e.extension.map((x: any) => [x.url, x.valueString ?? x.valueCanonical])));
    expect(unsupported).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'near', reason: expect.stringContaining('geographic') })]));
    expect(location.searchParam.map((p: any) => p.name)).not.toContain('near');
  });

  it('pretty-prints with _pretty=true and answers 406 for XML', async () => {
    const pretty = await fhirFetch(`${t.url}/fhir/metadata?_pretty=true`);
    expect(pretty.text).toContain('\n  "resourceType"');
    expect((await fhirFetch(`${t.url}/fhir/metadata?_format=xml`)).status).toBe(406);
    expect((await fhirFetch(`${t.url}/fhir/metadata`, { headers: { accept: 'application/fhir+xml' } })).status).toBe(406);
    expect((await fhirFetch(`${t.url}/fhir/metadata`, { headers: { accept: 'application/fhir+json' } })).status).toBe(200);
  });

  it('gzips large responses when asked', async () => {
    const res = await fetch(`${t.url}/fhir/metadata`, { headers: { 'accept-encoding': 'gzip' } });
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(((await res.json()) as { resourceType: string }).resourceType).toBe('CapabilityStatement');
  });
});
