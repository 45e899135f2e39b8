/**
 * The server's one logger: pino writing JSON lines (to stdout, or to a stream a test reads) at
 * `LOG_LEVEL`. Fastify logs each request through a child carrying its `requestId`; background
 * work logs through children carrying their `component`. What may be logged: route patterns,
 * statuses, timings, error messages; never bodies, query strings, tokens or patient data
 * (DECISIONS.md §8), and the `Authorization` header is redacted should a request object be logged.
 * https://getpino.io/#/docs/api?id=options
 */
import { pino, type Logger } from 'pino';

/** Where log lines go instead of stdout (a test reading what the server logs). */
export interface LogStream { write(line: string): void }

/** `true`: stdout; `false`: nothing; a stream: JSON lines to it. */
export type LogDestination = boolean | LogStream;

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** Builds the logger; throws on a `LOG_LEVEL` pino does not know (at start-up, not at the first line). */
export function createLogger(level: string, destination: LogDestination): Logger {
  if (!LEVELS.has(level)) throw new Error(`LOG_LEVEL must be one of ${[...LEVELS].join(', ')}, got "${level}"`);
  if (destination === false) return pino({ enabled: false });
  const options = { level, redact: ['req.headers.authorization', 'headers.authorization'] };
  return destination === true ? pino(options) : pino(options, destination);
}
