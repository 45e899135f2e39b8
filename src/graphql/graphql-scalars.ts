/**
 * The custom scalars of the graph: `Decimal` keeps the exact digits (serialised as a string, so
 * `1.50` stays `1.50`; DECISIONS.md §3), `Date`, `DateTime`, `Instant` and `Time` check their
 * FHIR format (https://hl7.org/fhir/R4/datatypes.html), `JSON` carries a FHIR resource as is.
 */
import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { isLosslessNumber } from 'lossless-json';
import { ExactNumber } from '../fhir/fhir-json.ts';

const DATE = /^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?$/;
const DATE_TIME = /^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$/;
const INSTANT = /^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$/;
const TIME = /^([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?$/;
const DECIMAL = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;

function formatted(name: string, pattern: RegExp): GraphQLScalarType {
  const check = (value: unknown): string => {
    if (typeof value !== 'string' || !pattern.test(value)) throw new GraphQLError(`${name} must be a FHIR ${name.toLowerCase()}, got ${JSON.stringify(value)?.slice(0, 40)}`, { extensions: { code: 'BAD_USER_INPUT' } });
    return value;
  };
  return new GraphQLScalarType({
    name,
    serialize: (value) => value,
    parseValue: check,
    parseLiteral: (node: ValueNode) => check(node.kind === Kind.STRING ? node.value : undefined),
  });
}

function decimalOf(text: string): number | ExactNumber {
  if (!DECIMAL.test(text)) throw new GraphQLError(`Decimal must be a decimal number, got ${text.slice(0, 40)}`, { extensions: { code: 'BAD_USER_INPUT' } });
  return String(Number(text)) === text ? Number(text) : new ExactNumber(text);
}

export const DecimalScalar = new GraphQLScalarType({
  name: 'Decimal',
  description: 'A FHIR decimal, exact to the digit: serialised as a string holding the number as written.',
  serialize: (value) => (isLosslessNumber(value) ? (value as { value: string }).value : String(value)),
  parseValue: (value) => decimalOf(typeof value === 'number' ? String(value) : String(value)),
  parseLiteral: (node) => {
    if (node.kind === Kind.FLOAT || node.kind === Kind.INT || node.kind === Kind.STRING) return decimalOf(node.value);
    throw new GraphQLError('Decimal must be a number or a string', { extensions: { code: 'BAD_USER_INPUT' } });
  },
});

export const JsonScalar = new GraphQLScalarType({
  name: 'JSON',
  description: 'A FHIR resource (or other JSON value), passed through as is.',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: function literal(node): unknown {
    switch (node.kind) {
      case Kind.STRING: case Kind.BOOLEAN: return node.value;
      case Kind.INT: case Kind.FLOAT: return Number(node.value);
      case Kind.NULL: return null;
      case Kind.LIST: return node.values.map((v) => literal(v));
      case Kind.OBJECT: return Object.fromEntries(node.fields.map((f) => [f.name.value, literal(f.value)]));
      default: throw new GraphQLError('JSON literals cannot hold variables', { extensions: { code: 'BAD_USER_INPUT' } });
    }
  },
});

/** Every custom scalar by name, for the resolver map. */
export const fhirScalars: Record<string, GraphQLScalarType> = {
  Decimal: DecimalScalar,
  JSON: JsonScalar,
  Date: formatted('Date', DATE),
  DateTime: formatted('DateTime', DATE_TIME),
  Instant: formatted('Instant', INSTANT),
  Time: formatted('Time', TIME),
};
