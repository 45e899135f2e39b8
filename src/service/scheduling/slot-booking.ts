/**
 * Safe slot booking (issue 17): an Appointment that holds a `free` Slot marks it `busy`, one that
 * lets it go (cancelled, deleted, the slot dropped from `Appointment.slot`) marks it `free` again,
 * as one more write of the same transaction. It runs in the one write path (`applyWrites`), so
 * REST, GraphQL, conditional writes and Bundle entries all book alike, and the Slot's new version
 * is stored like any other (history, search index, change event: subscribers and webhooks see it).
 *
 * Concurrency: each Slot is locked with the store's write lock (the one every write of that Slot
 * takes) before its status is read, so of concurrent bookings of one Slot exactly one finds it
 * `free`; every other waits for it to commit, then finds it `busy` and gets a 409.
 * https://hl7.org/fhir/R4/appointment.html#status  https://hl7.org/fhir/R4/slot.html
 */
import { parseFhirJson, stringifyFhirJson } from '../../fhir/fhir-json.ts';
import { conflict } from '../../fhir/outcomes.ts';
import type { TimeSlice } from '../../fhir/time-slice.ts';
import { extractIndexRows } from '../../search/extract-index-rows.ts';
import type { Queryable } from '../../store/database.ts';
import { lockResourceKeys, readCurrentMany, type StoredVersion, type VersionToWrite } from '../../store/resource-repository.ts';
import type { RequestContext } from '../request-context.ts';
import { buildStoredResource, isJsonObject, type FhirResource } from '../resource-content.ts';
import { heldSlotsOf, type HeldSlot } from './booked-slots.ts';

/** One Appointment write of a batch: its content before and after it (`undefined`: absent or deleted). */
export interface AppointmentChange {
  before: unknown;
  after: unknown;
  /** The write's label (`Bundle.entry[3]`), prefixed to a refusal. */
  label?: string;
}

/** What booking needs besides the transaction: the caller, the write's time, the index bound and the batch's time slice. */
export interface BookingEnv {
  ctx: RequestContext;
  now: Date;
  maxIndexRows: number;
  /** A large transaction's Slots are parsed and serialised in slices, pausing for other clients. */
  slice: TimeSlice;
}

/** A booking asked for by one Appointment write. */
interface Claim extends HeldSlot {
  label?: string;
}

/** A Slot as this batch leaves it: `resource` is null when deleted, undefined when this server holds no such Slot. */
interface SlotView {
  id: string;
  resource: Record<string, unknown> | null | undefined;
  /** Its status before booking changed anything. */
  status: unknown;
  stored?: StoredVersion;
  /** The version a write of this same batch gives the Slot, changed in place rather than followed by a second one. */
  planned?: VersionToWrite;
}

/**
 * Books and frees the Slots that `changes` take and let go, appending each Slot's new version to
 * `versions` (or changing the version that an earlier write of the batch gives it). Frees come
 * first, so one transaction may move a booking from one appointment to another. Throws a 409
 * naming the Slot when one is taken (any status but `free`) or deleted; a reference to a Slot this
 * server does not hold books nothing (references are not checked for existence, DECISIONS.md §4).
 */
export async function bookSlots(tx: Queryable, changes: AppointmentChange[], versions: VersionToWrite[], env: BookingEnv): Promise<void> {
  const { released, claims } = planSlotChanges(changes, env.ctx.fhirBaseUrl);
  if (released.size === 0 && claims.length === 0) return;
  const keys = [...new Set([...released, ...claims.map((c) => c.key)])];
  const slotKeys = keys.map((key) => ({ resourceType: 'Slot', id: key.slice('Slot/'.length) }));
  await lockResourceKeys(tx, slotKeys);
  const stored = await readCurrentMany(tx, slotKeys);
  const planned = new Map(versions.filter((v) => v.resourceType === 'Slot').map((v) => [`Slot/${v.id}`, v]));
  const views = new Map<string, SlotView>();
  for (const key of keys) {
    await env.slice.yieldIfDue();
    views.set(key, viewOf(key, stored.get(key), planned.get(key)));
  }

  for (const key of released) {
    const view = views.get(key)!;
    if (view.resource?.status === 'busy') view.resource.status = 'free';
  }
  const bookedBy = new Map<string, Claim>();
  for (const claim of claims) {
    assertBookable(views.get(claim.key)!, claim, bookedBy.get(claim.key));
    const { resource } = views.get(claim.key)!;
    if (!resource) continue;
    resource.status = 'busy';
    bookedBy.set(claim.key, claim);
  }
  for (const [key, view] of views) {
    if (!view.resource || view.resource.status === view.status) continue;
    await env.slice.yieldIfDue();
    writeSlotVersion(view, view.resource, versions, env);
    env.ctx.audit.touch(key);
  }
}

/** The Slots let go (no longer held by the appointment that held them) and those newly claimed, in write order. */
function planSlotChanges(changes: AppointmentChange[], fhirBaseUrl: string): { released: Set<string>; claims: Claim[] } {
  const released = new Set<string>();
  const claims: Claim[] = [];
  for (const change of changes) {
    const before = heldSlotsOf(change.before, fhirBaseUrl);
    const after = heldSlotsOf(change.after, fhirBaseUrl);
    const kept = new Set(after.map((s) => s.key));
    for (const slot of before) if (!kept.has(slot.key)) released.add(slot.key);
    // An update that keeps a Slot keeps its booking: it does not claim its own Slot again.
    const held = new Set(before.map((s) => s.key));
    for (const slot of after) if (!held.has(slot.key)) claims.push({ ...slot, label: change.label });
  }
  return { released, claims };
}

/** The Slot as the batch leaves it: the batch's own version when it writes the Slot, else the stored one. */
function viewOf(key: string, stored: StoredVersion | undefined, planned: VersionToWrite | undefined): SlotView {
  const id = key.slice('Slot/'.length);
  const content = planned ? planned.content : stored?.content;
  const resource = planned || stored ? parseSlot(content ?? null) : undefined;
  return { id, resource, status: resource?.status, stored, planned };
}

function parseSlot(content: string | null): Record<string, unknown> | null {
  if (content === null) return null;
  const parsed = parseFhirJson(content);
  return isJsonObject(parsed) ? parsed : null;
}

/** Throws a 409 unless the claimed Slot is `free` (or unknown to this server, which books nothing). */
function assertBookable(view: SlotView, claim: Claim, earlier: Claim | undefined): void {
  if (view.resource === undefined) return;
  const prefix = claim.label ? `${claim.label}: ` : '';
  const expression = claim.label ? `${claim.label}.resource.slot[${claim.index}]` : `Appointment.slot[${claim.index}]`;
  const name = `Slot/${view.id}`;
  if (view.resource === null) throw conflict(`${prefix}${name} has been deleted, so it cannot be booked`, expression);
  if (earlier) {
    const by = earlier.label ? `${earlier.label} of this transaction` : 'another appointment of this transaction';
    throw conflict(`${prefix}${name} is taken: ${by} books it`, expression);
  }
  const status = view.resource.status;
  if (status !== 'free') throw conflict(`${prefix}${name} is taken (its status is "${String(status)}"), so it cannot be booked`, expression);
}

/** Stores the Slot's new status: in the version the batch already gives it, else in a new version. */
function writeSlotVersion(view: SlotView, resource: Record<string, unknown>, versions: VersionToWrite[], env: BookingEnv): void {
  const indexOptions = { baseUrl: env.ctx.fhirBaseUrl, maxRows: env.maxIndexRows };
  if (view.planned) {
    view.planned.content = stringifyFhirJson(resource);
    view.planned.indexRows = extractIndexRows(resource as FhirResource, indexOptions);
    return;
  }
  const versionId = view.stored!.versionId + 1;
  const stored = buildStoredResource(resource as FhirResource, view.id, versionId, env.now);
  versions.push({
    resourceType: 'Slot',
    id: view.id,
    versionId,
    lastUpdated: env.now,
    deleted: false,
    content: stringifyFhirJson(stored),
    method: 'PUT',
    action: 'update',
    indexRows: extractIndexRows(stored, indexOptions),
  });
}
