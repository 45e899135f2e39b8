/**
 * One change of the feed as its readers see it: what changed (type, id, the version written and
 * the action) and where it sits in the feed (its position and the opaque cursor to resume after
 * it). https://hl7.org/fhir/R4/subscription.html
 */
import type { ChangeAction, ChangeEventRow } from '../store/change-event-repository.ts';
import { encodeCursor } from './feed-cursor.ts';

export type { ChangeAction } from '../store/change-event-repository.ts';

/** A committed change, in feed order. */
export interface ChangeEvent {
  /** Its place in the feed: dense and increasing in the order changes became visible. */
  readonly position: number;
  /** Opaque: resume after this event with it. */
  readonly cursor: string;
  readonly resourceType: string;
  readonly id: string;
  /** The version the change wrote (a delete writes a deletion version: its content is null). */
  readonly versionId: number;
  readonly action: ChangeAction;
  /** When the write's transaction recorded it. */
  readonly recordedAt: Date;
}

/** Which events a reader wants; absent fields do not filter. */
export interface ChangeFilter {
  resourceTypes?: readonly string[];
  actions?: readonly ChangeAction[];
}

/** The event of a stored row. */
export function toChangeEvent(row: ChangeEventRow): ChangeEvent {
  return { ...row, cursor: encodeCursor(row.position) };
}

/** True when `event` passes `filter`. */
export function passesFilter(event: ChangeEvent, filter: ChangeFilter | undefined): boolean {
  if (!filter) return true;
  if (filter.resourceTypes && !filter.resourceTypes.includes(event.resourceType)) return false;
  if (filter.actions && !filter.actions.includes(event.action)) return false;
  return true;
}
