/**
 * FHIR JSON keeps decimals exact: every number that a JS double would change comes back as an
 * `ExactNumber` with its source text, everything else as native values, and stringifying gives
 * the source text back. Checked against `lossless-json` on hand-picked and generated inputs.
 */
import { isLosslessNumber, parse as parseLossless } from 'lossless-json';
import { describe, expect, it } from 'vitest';
import { ExactNumber, parseFhirJson, stringifyFhirJson } from '../../src/fhir/fhir-json.ts';
import { cpuMsOf } from '../helpers/cpu-time.ts';

const NUMBERS = ['0', '1', '-1', '1.5', '1.50', '-0', '-0.0', '0.0', '100', '1e5', '1.5E+10', '2e-3', '0.000001', '0.0000001',
  '12345678901234567', '0.1000000000000001', '123456789012345', '1.000', '72.5', '-273.150', '99999999999999999999999'];

describe('parseFhirJson', () => {
  it('refuses hostile near-numbers and unterminated strings in linear time (issue 14: 40 KB took 5 s)', () => {
    const hostile = [
      `{"a":0.${'0'.repeat(200_000)}x}`, // a zero run the pre-check backtracked over quadratically
      `{"x":1e5,"a":"${'\\"'.repeat(200_000)}}`, // an unterminated string the tokeniser rescanned at every quote
      `{"a":[${'1.'.repeat(200_000)}}`,
    ];
    for (const text of hostile) {
      const cpuMs = cpuMsOf(() => expect(() => parseFhirJson(text)).toThrow(SyntaxError));
      expect(cpuMs, `CPU ms for ${text.slice(0, 12)}`).toBeLessThan(200);
    }
  });

  it('gives exact numbers where a double would change the text, natives elsewhere', () => {
    for (const n of NUMBERS) {
      const value = (parseFhirJson(`{"v":${n},"a":[${n}, ${n} ]}`) as { v: unknown; a: unknown[] });
      const exact = String(Number(n)) !== n;
      expect(value.v instanceof ExactNumber, n).toBe(exact);
      expect(isLosslessNumber(value.a[1]), n).toBe(exact);
      expect(exact ? (value.v as ExactNumber).value : value.v, n).toEqual(exact ? n : Number(n));
      expect(stringifyFhirJson(value)).toBe(`{"v":${n},"a":[${n},${n}]}`);
    }
  });

  it('leaves number-like text inside strings alone', () => {
    const text = '{"t":"2023-02-01T10:30:00.000Z","s":"ratio:1.50, \\"x\\":2.0]","n":[1.50],"e":"\\u00e9 1e5"}';
    const value = parseFhirJson(text) as Record<string, unknown>;
    expect(value.t).toBe('2023-02-01T10:30:00.000Z');
    expect(value.s).toBe('ratio:1.50, "x":2.0]');
    expect(value.e).toBe('é 1e5');
    expect((value.n as ExactNumber[])[0].value).toBe('1.50');
  });

  it('agrees with lossless-json on generated resources', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
    const numberText = () => {
      const whole = String(Math.floor(random() * 1000) * (random() < 0.2 ? -1 : 1));
      const digits = Math.floor(random() * 5);
      const fraction = digits ? `.${String(Math.floor(random() * 10 ** digits)).padStart(digits, '0')}` : '';
      return `${whole}${fraction}${random() < 0.1 ? `e${Math.floor(random() * 5)}` : ''}`;
    };
    for (let i = 0; i < 500; i++) {
      const numbers = Array.from({ length: 4 }, numberText);
      const text = `{"resourceType":"Observation","meta":{"lastUpdated":"2026-01-0${i % 9 + 1}T10:${numbers[0].replace(/\D/g, '').slice(0, 2).padStart(2, '0')}:00.000Z"},`
        + `"valueQuantity":{"value":${numbers[1]}},"component":[{"valueQuantity":{"value":${numbers[2]}}},{"valueInteger":${Math.floor(random() * 100)}}],"note":[{"text":"${numbers[3]} mg, 1.50"}]}`;
      const ours = parseFhirJson(text);
      const theirs = parseLossless(text, null, (t: string) => (String(Number(t)) === t ? Number(t) : new ExactNumber(t)));
      expect(stringifyFhirJson(ours)).toBe(stringifyFhirJson(theirs));
      expect(stringifyFhirJson(ours)).toBe(text);
    }
  });

  it('throws a SyntaxError on malformed JSON, on both paths', () => {
    for (const bad of ['{"a":1.2.3}', '{"a":1.50', '{"a":01}', '{"a":1.50,}', '{"a":-}', '{"a": "x}']) {
      expect(() => parseFhirJson(bad), bad).toThrow(SyntaxError);
    }
  });
});
