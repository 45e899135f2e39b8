/**
 * Which Slots an Appointment version holds: the local `Slot/id` references of `Appointment.slot`
 * while the appointment's `status` is one that books (everything but `cancelled`, `noshow` and
 * `entered-in-error`). Pure: the write path (slot-booking.ts) compares the slots held before and
 * after a write to know which to book and which to free.
 * https://hl7.org/fhir/R4/appointment.html  https://hl7.org/fhir/R4/slot.html
 */
import { parseReference } from '../../search/extract/parse-reference.ts';

/**
 * The `Appointment.status` codes that do not hold their slots; every other code of the R4 value
 * set (`proposed`, `pending`, `booked`, `arrived`, `fulfilled`, `checked-in`, `waitlist`) does.
 * https://hl7.org/fhir/R4/valueset-appointmentstatus.html
 */
export const RELEASING_STATUSES: ReadonlySet<string> = new Set(['cancelled', 'noshow', 'entered-in-error']);

/** One Slot an Appointment holds: its key (`Slot/id`) and the index of the first `Appointment.slot` naming it. */
export interface HeldSlot {
  key: string;
  index: number;
}

/** True when an Appointment with this `status` holds the slots it references. */
export function isBookingStatus(status: unknown): boolean {
  return typeof status === 'string' && !RELEASING_STATUSES.has(status);
}

/**
 * The Slots an Appointment version holds, each once, in the order of `Appointment.slot`; none
 * for a missing (deleted) version or a releasing status. References to another server, to a
 * contained resource or by identifier only name no Slot of this server and hold nothing.
 */
export function heldSlotsOf(appointment: unknown, fhirBaseUrl: string): HeldSlot[] {
  if (!appointment || typeof appointment !== 'object') return [];
  const { status, slot } = appointment as { status?: unknown; slot?: unknown };
  if (!isBookingStatus(status) || !Array.isArray(slot)) return [];
  const held = new Map<string, HeldSlot>();
  slot.forEach((ref: unknown, index) => {
    const reference = ref && typeof ref === 'object' ? (ref as { reference?: unknown }).reference : undefined;
    if (typeof reference !== 'string') return;
    const parsed = parseReference(reference, 'Slot', fhirBaseUrl);
    if (parsed.targetType !== 'Slot' || parsed.targetId === null) return;
    const key = `Slot/${parsed.targetId}`;
    if (!held.has(key)) held.set(key, { key, index });
  });
  return [...held.values()];
}
