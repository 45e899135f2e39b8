/**
 * PostgreSQL's out-of-band cancel: a new connection sending a `CancelRequest` with the backend's
 * process id and secret key, which interrupts the statement that backend is running. It needs no
 * pooled connection (the pool may be exhausted by the very statements to cancel) and no
 * authentication. https://www.postgresql.org/docs/current/protocol-flow.html#PROTOCOL-FLOW-CANCELING-REQUESTS
 */
import net from 'node:net';

/** The fields of a connected `pg` client that a cancel request needs. */
export interface CancelTarget {
  host: string;
  port: number;
  processID: number | null;
  secretKey: number | null;
}

/** `CancelRequest` code (1234 << 16 | 5678). */
const CANCEL_REQUEST_CODE = 80877102;
/** Give up on an unreachable postmaster after this long: the statement timeout still bounds the statement. */
const CANCEL_TIMEOUT_MS = 2_000;

/**
 * Sends a cancel request for `target`'s backend and resolves once the server has closed the
 * cancel connection (by then it has signalled the backend), or on any failure: cancelling is best
 * effort and never throws.
 */
export function sendCancelRequest(target: CancelTarget): Promise<void> {
  const { host, port, processID, secretKey } = target;
  if (processID === null || secretKey === null) return Promise.resolve();
  return new Promise((resolve) => {
    const socket = host.startsWith('/') ? net.connect(`${host}/.s.PGSQL.${port}`) : net.connect(port, host);
    const packet = Buffer.alloc(16);
    packet.writeInt32BE(16, 0);
    packet.writeInt32BE(CANCEL_REQUEST_CODE, 4);
    packet.writeInt32BE(processID, 8);
    packet.writeInt32BE(secretKey, 12);
    socket.setTimeout(CANCEL_TIMEOUT_MS, () => socket.destroy());
    socket.once('connect', () => socket.end(packet));
    socket.once('error', () => socket.destroy());
    socket.once('close', () => resolve());
  });
}
