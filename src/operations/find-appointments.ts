/**
 * `Appointment/$find` (type level, GET and POST): the free slots of one or more actors
 * (`Practitioner/x`, `Location/y`…) in a period, across all their schedules, offered as
 * `proposed` Appointments a client can book by creating them (src/service/scheduling books the
 * Slot in the same transaction). It runs the same search a client could run itself
 * (`Slot?schedule.actor=…&status=free&start=ge…&start=lt…&_sort=start&_include=Slot:schedule`),
 * with the caller's search rights on Slot and Schedule, soonest first, at most `_count` of them.
 * Modelled on the Argonaut Scheduling IG's `$find`.
 * https://fhir.org/guides/argonaut/scheduling/OperationDefinition-appointment-find.html
 */
import { parseFhirJson } from '../fhir/fhir-json.ts';
import { badRequest } from '../fhir/outcomes.ts';
import type { BundleEntryResult } from '../service/bundle-result.ts';
import type { FhirService } from '../service/fhir-service.ts';
import type { RequestContext } from '../service/request-context.ts';
import { renderBundle } from '../rest/render-bundle.ts';
import { sendJson } from '../rest/reply.ts';
import type { Operation, OperationCall } from './operation.ts';

/** Actors one request may name. */
const MAX_ACTORS = 20;
/** Free slots offered by default, and at most. */
const DEFAULT_OFFERS = 20;
const MAX_OFFERS = 200;
const LOCAL_REFERENCE = /^[A-Z][A-Za-z]{1,63}\/[A-Za-z0-9\-.]{1,64}$/;

/** What to look for. */
export interface FindQuery {
  start: string;
  end: string;
  actors: string[];
  count: number;
}

/** A stored resource's JSON as an object. */
function parsed(entry: BundleEntryResult): Record<string, any> {
  return parseFhirJson(entry.resourceJson!) as Record<string, any>;
}

/**
 * The work: the free slots of `query.actors` between `start` (inclusive) and `end` (exclusive),
 * as `proposed` Appointments (each referencing its Slot and the schedule's actors), with the Slots
 * as included entries.
 */
export async function findAppointments(service: FhirService, ctx: RequestContext, query: FindQuery): Promise<BundleEntryResult[]> {
  const found = await service.search(ctx, 'Slot', [
    ['schedule.actor', query.actors.join(',')],
    ['status', 'free'],
    ['start', `ge${query.start}`],
    ['start', `lt${query.end}`],
    ['_sort', 'start'],
    ['_count', String(query.count)],
    ['_include', 'Slot:schedule'],
  ]);
  const schedules = new Map<string, Record<string, any>>();
  for (const entry of found.entry) {
    if (entry.search?.mode !== 'include' || !entry.resourceJson) continue;
    const resource = parsed(entry);
    if (resource.resourceType === 'Schedule') schedules.set(`Schedule/${resource.id}`, resource);
  }
  const offers: BundleEntryResult[] = [];
  for (const entry of found.entry) {
    if (entry.search?.mode === 'outcome') offers.push(entry);
    if (entry.search?.mode !== 'match' || !entry.resourceJson) continue;
    const slot = parsed(entry);
    const actors = (schedules.get(slot.schedule?.reference)?.actor ?? []) as { reference?: string }[];
    const appointment = {
      resourceType: 'Appointment',
      status: 'proposed',
      start: slot.start,
      end: slot.end,
      ...(slot.serviceType ? { serviceType: slot.serviceType } : {}),
      ...(slot.appointmentType ? { appointmentType: slot.appointmentType } : {}),
      slot: [{ reference: `Slot/${slot.id}` }],
      participant: actors.filter((a) => a.reference).map((a) => ({ actor: { reference: a.reference }, status: 'needs-action' })),
    };
    offers.push({ resourceJson: JSON.stringify(appointment), search: { mode: 'match' } });
    offers.push({ fullUrl: entry.fullUrl, resourceJson: entry.resourceJson, search: { mode: 'include' } });
  }
  return offers;
}

/** The query of an invocation; 400 when the period or an actor is malformed. */
function readQuery({ params }: OperationCall): FindQuery {
  const start = params.string('start')!;
  const end = params.string('end')!;
  if (Date.parse(end) <= Date.parse(start)) throw badRequest('end must come after start', 'end');
  const actors = params.strings('actor');
  if (actors.length > MAX_ACTORS) throw badRequest(`At most ${MAX_ACTORS} actors may be given`, 'actor');
  const malformed = actors.find((a) => !LOCAL_REFERENCE.test(a));
  if (malformed !== undefined) throw badRequest(`actor "${malformed.slice(0, 80)}" must be a reference such as Practitioner/123`, 'actor');
  const count = params.integer('_count') ?? DEFAULT_OFFERS;
  if (count < 1 || count > MAX_OFFERS) throw badRequest(`_count must be between 1 and ${MAX_OFFERS}`, '_count');
  return { start, end, actors, count };
}

async function handle(call: OperationCall): Promise<unknown> {
  const entries = await findAppointments(call.deps.service, call.ctx, readQuery(call));
  return sendJson(call.request, call.reply, 200, renderBundle({ type: 'searchset', total: entries.filter((e) => e.search?.mode === 'match').length, entry: entries }));
}

export const findAppointmentsOperation: Operation = {
  name: 'find',
  definition: 'http://fhir.org/guides/argonaut/scheduling/OperationDefinition/appointment-find',
  levels: ['type'],
  resourceTypes: ['Appointment'],
  // It searches Slot and Schedule with the caller's own rights (403 without them).
  permissions: [],
  action: 'R',
  methods: ['GET', 'POST'],
  parameters: [
    { name: 'start', type: 'dateTime', min: 1 },
    { name: 'end', type: 'dateTime', min: 1 },
    { name: 'actor', type: 'string', min: 1, max: '*' },
    { name: '_count', type: 'integer' },
  ],
  handle,
};
