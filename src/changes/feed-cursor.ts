/**
 * Feed cursors: the opaque strings a client holds to resume after an event (GraphQL `since`, a
 * webhook `$replay`). A cursor encodes a feed position; it is checked on the way in (400 when it
 * is not one of ours, {@link CursorExpired} when retention has pruned what follows it), so a
 * resumed stream never has a silent gap.
 */
import { FhirError, badRequest, outcome } from '../fhir/outcomes.ts';

const PREFIX = 'fc1:';
const DECODED = /^fc1:(0|[1-9]\d{0,15})$/;
const BASE64URL = /^[A-Za-z0-9_-]{1,40}$/;

/** The cursor of a feed position. */
export function encodeCursor(position: number): string {
  return Buffer.from(`${PREFIX}${position}`).toString('base64url');
}

/** The position a cursor stands for; 400 when the text is not a cursor of this server. */
export function decodeCursor(cursor: string): number {
  const decoded = BASE64URL.test(cursor) ? DECODED.exec(Buffer.from(cursor, 'base64url').toString('latin1')) : null;
  const position = decoded ? Number(decoded[1]) : NaN;
  if (!Number.isSafeInteger(position)) throw invalidCursor();
  return position;
}

/** 400: the text is not a cursor of this feed (malformed, or from another database). */
export function invalidCursor(): FhirError {
  return badRequest('The cursor is not a change-feed cursor of this server', 'since');
}

/**
 * The events after a cursor have been pruned (they were older than `CHANGE_RETENTION`): resuming
 * from it would skip changes, so it is refused (410). The client starts again from now, after
 * re-reading what it needs.
 */
export class CursorExpired extends FhirError {
  readonly code = 'CURSOR_EXPIRED';

  constructor() {
    super(410, outcome('error', 'not-found',
      'The cursor is older than the change feed keeps (CHANGE_RETENTION): the events after it were pruned. Subscribe again without a cursor, after re-reading the data you need.', 'since'));
    this.name = 'CursorExpired';
  }
}
