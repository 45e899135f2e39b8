/**
 * Background failures are pino JSON lines at `error` with their component and message (quoted
 * values cut out), each distinct message of a component at most once per 10 s.
 */
import { describe, expect, it } from 'vitest';
import { backgroundErrorReporters, createLogger } from '../../src/telemetry/logging/index.ts';

describe('background error logs', () => {
  it('logs one JSON line per component and message, throttled, without the quoted value', () => {
    const lines: string[] = [];
    const reportersOf = backgroundErrorReporters(createLogger('info', { write: (line) => { lines.push(line); } }));
    const auth = reportersOf('auth');
    const jobs = reportersOf('jobs');
    const failure = Object.assign(new Error('invalid input syntax for type date: "1970-secret-birthdate"'), { code: '22007' });
    auth(failure);
    auth(failure);
    jobs(failure);
    jobs(new Error('connection terminated'));
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, any>);
    expect(parsed.map((l) => `${l.component}: ${l.err.message}`)).toEqual([
      'auth: invalid input syntax for type date: "…"',
      'jobs: invalid input syntax for type date: "…"',
      'jobs: connection terminated',
    ]);
    expect(parsed[0]).toMatchObject({ level: 50, msg: 'background task failed', err: { code: '22007' } });
    expect(lines.join('\n')).not.toContain('secret');
  });

  it('refuses a LOG_LEVEL pino does not know', () => {
    expect(() => createLogger('verbose', false)).toThrow(/LOG_LEVEL must be one of/);
  });
});
