import { describe, expect, it } from 'vitest';
import { FhirError } from '../../src/fhir/outcomes.ts';
import { toFhirError } from '../../src/store/database.ts';
import { isDatabaseUnavailable } from '../../src/store/database-unavailable.ts';

function pgError(code: string, message = 'x'): Error {
  return Object.assign(new Error(message), { code });
}

describe('an unavailable database (issue 14, item 9)', () => {
  it('is recognised in the errors pg, knex and Node raise when PostgreSQL is down, starting, stopping or full', () => {
    const unavailable = [
      pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'),
      pgError('ECONNRESET', 'read ECONNRESET'),
      pgError('57P03', 'the database system is starting up'),
      pgError('57P03', 'the database system is shutting down'),
      pgError('57P01', 'terminating connection due to administrator command'),
      pgError('57P02', 'terminating connection because of crash of another server process'),
      pgError('53300', 'sorry, too many clients already'),
      pgError('08006', 'connection failure'),
      new Error('Connection terminated unexpectedly'),
      new Error('Client has encountered a connection error and is not queryable'),
      Object.assign(new Error('Knex: Timeout acquiring a connection. The pool is probably full.'), { name: 'KnexTimeoutError' }),
      new AggregateError([pgError('ECONNREFUSED'), pgError('ECONNREFUSED')], 'connect failed'),
    ];
    for (const err of unavailable) expect(isDatabaseUnavailable(err), err.message).toBe(true);
    const others = [pgError('23505', 'duplicate key'), pgError('42P01', 'relation does not exist'), pgError('57014', 'canceling statement'), new Error('boom'), 'text', undefined, new AggregateError([])];
    for (const err of others) expect(isDatabaseUnavailable(err)).toBe(false);
  });

  it('answers 503 with Retry-After and a transient OperationOutcome at the store boundary', () => {
    const err = toFhirError(pgError('57P03', 'the database system is starting up'));
    expect(err).toBeInstanceOf(FhirError);
    expect(err).toMatchObject({ status: 503, headers: { 'Retry-After': '3' }, outcome: { issue: [{ severity: 'error', code: 'transient' }] } });
    expect(toFhirError(new Error('boom'))).not.toBeInstanceOf(FhirError);
  });
});
