import { LosslessNumber } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { checkPrimitive } from '../../src/fhir/validate-primitive.ts';

const ok = (type: string, value: unknown) => expect(checkPrimitive(type, value), `${type} ${String(value)}`).toBeUndefined();
const bad = (type: string, value: unknown, code = 'value') =>
  expect(checkPrimitive(type, value)?.code, `${type} ${String(value)}`).toBe(code);

describe('checkPrimitive', () => {
  it('accepts only JSON booleans for boolean', () => {
    ok('boolean', true);
    ok('boolean', false);
    bad('boolean', 'true', 'structure');
    bad('boolean', 1, 'structure');
  });

  it('checks integer JSON type and 32-bit range', () => {
    ok('integer', 0);
    ok('integer', -2147483648);
    ok('integer', 2147483647);
    bad('integer', 2147483648);
    bad('integer', 1.5);
    bad('integer', '1', 'structure');
  });

  it('checks unsignedInt and positiveInt lower bounds', () => {
    ok('unsignedInt', 0);
    bad('unsignedInt', -1);
    ok('positiveInt', 1);
    bad('positiveInt', 0);
  });

  it('treats LosslessNumber as a number and checks its exact text', () => {
    ok('decimal', new LosslessNumber('1.50'));
    ok('decimal', new LosslessNumber('-0.0001e10'));
    ok('integer', new LosslessNumber('42'));
    bad('integer', new LosslessNumber('1.0'));
    bad('integer', new LosslessNumber('99999999999'));
    ok('decimal', 3.14);
    bad('decimal', '3.14', 'structure');
    bad('decimal', Number.NaN, 'structure');
  });

  it('refuses empty and whitespace-only strings and strings over 1 MB', () => {
    ok('string', ' padded ');
    bad('string', '');
    bad('string', '   ');
    bad('string', 'x'.repeat(1024 * 1024 + 1), 'too-long');
    bad('string', 12, 'structure');
  });

  it('checks code, id, uri, oid and uuid shapes', () => {
    ok('code', 'final');
    ok('code', 'two words');
    bad('code', ' leading');
    bad('code', 'double  space');
    ok('id', 'a-B.9');
    bad('id', 'under_score');
    bad('id', 'x'.repeat(65));
    ok('uri', 'http://example.org/a');
    bad('uri', 'has space');
    ok('oid', 'urn:oid:1.2.840.10008');
    bad('oid', 'urn:oid:3.1');
    ok('uuid', 'urn:uuid:c757873d-ec9a-4326-a141-556f43239520');
    bad('uuid', 'urn:uuid:C757873D-EC9A-4326-A141-556F43239520');
  });

  it('checks base64Binary', () => {
    ok('base64Binary', 'SGVsbG8=');
    ok('base64Binary', 'SGVs\nbG8h');
    bad('base64Binary', 'SGVsbG8');
    bad('base64Binary', 'SG=sbG8=');
  });

  it('checks dates with real calendar days', () => {
    ok('date', '2023');
    ok('date', '2023-02');
    ok('date', '2024-02-29');
    bad('date', '2023-02-29');
    bad('date', '2023-02-30');
    bad('date', '2023-04-31');
    bad('date', '2023-13');
    bad('date', '0000');
    ok('date', '2000-02-29');
    bad('date', '1900-02-29');
  });

  it('checks dateTime, instant and time', () => {
    ok('dateTime', '2015-02-07T13:28:17-05:00');
    ok('dateTime', '2015-02-07');
    bad('dateTime', '2015-02-07T13:28:17');
    bad('dateTime', '2015-02-30T13:28:17Z');
    ok('instant', '2015-02-07T13:28:17.239+02:00');
    bad('instant', '2015-02-07');
    ok('time', '23:59:59');
    bad('time', '24:00:00');
  });
});
