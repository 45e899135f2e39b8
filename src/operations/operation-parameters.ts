/**
 * An operation's input parameters, read from the query string and from a `Parameters` body alike
 * and checked against what the operation declares: unknown names, values of the wrong type and
 * counts outside the declared cardinality answer 400 naming the parameter, before the operation
 * runs. Primitives keep their FHIR meaning (a `date` is checked as a date, an `integer` as a 32-bit
 * integer); a `Coding` may be given in the query string as `system|code`.
 * https://hl7.org/fhir/R4/operations.html#request  https://hl7.org/fhir/R4/parameters.html
 */
import { badRequest } from '../fhir/outcomes.ts';
import { checkPrimitive, isJsonNumber } from '../fhir/validate-primitive.ts';
import { isJsonObject } from '../service/resource-content.ts';

/**
 * The FHIR types an operation parameter may take here: primitives arrive as `value[x]` in a
 * `Parameters` body or as text in the query string; `resource` only in a body.
 */
export type OperationParamType =
  | 'string' | 'code' | 'uri' | 'canonical' | 'id' | 'integer' | 'unsignedInt' | 'positiveInt' | 'boolean'
  | 'instant' | 'dateTime' | 'date' | 'Coding' | 'CodeableConcept' | 'Reference' | 'resource';

/** One input parameter (OperationDefinition.parameter with `use = in`). */
export interface OperationParam {
  name: string;
  type: OperationParamType;
  /** At least this many (0 or 1). */
  min?: 0 | 1;
  /** At most one, or any number (`*`); default 1. */
  max?: 1 | '*';
  /** fhirgraph's own parameter, not in the official OperationDefinition (a paging `_cursor`). */
  own?: boolean;
}

/** One parameter value: a primitive as JSON, or a complex value (Coding, Reference, resource) as an object. */
export type OperationValue = string | number | boolean | Record<string, unknown>;

/** Query parameters every FHIR interaction takes, not operation parameters. */
const GENERAL_PARAMS = new Set(['_format', '_pretty']);
/** How many values one request may give in all. */
const MAX_VALUES = 1_000;

const NUMERIC: ReadonlySet<OperationParamType> = new Set(['integer', 'unsignedInt', 'positiveInt']);
const COMPLEX: ReadonlySet<OperationParamType> = new Set(['Coding', 'CodeableConcept', 'Reference', 'resource']);

/** The `value[x]` names a parameter of `type` may arrive as in a body (`code` also as `valueString`, and so on). */
function valueKeys(type: OperationParamType): string[] {
  const own = `value${type[0].toUpperCase()}${type.slice(1)}`;
  switch (type) {
    // A string parameter takes any string-valued primitive (a cursor or an instant, say).
    case 'string': return ['valueString', 'valueCode', 'valueId', 'valueUri', 'valueInstant', 'valueDateTime', 'valueDate'];
    case 'code': case 'id': return [own, 'valueString'];
    case 'uri': case 'canonical': return [own, 'valueUri', 'valueUrl', 'valueCanonical', 'valueString'];
    case 'integer': case 'unsignedInt': case 'positiveInt': return ['valueInteger', 'valueUnsignedInt', 'valuePositiveInt'];
    case 'dateTime': return ['valueDateTime', 'valueInstant', 'valueDate'];
    case 'date': return ['valueDate'];
    case 'instant': return ['valueInstant', 'valueDateTime'];
    default: return [own];
  }
}

/** Checks a primitive value (already JSON-typed) against its FHIR type; 400 naming the parameter. */
function checked(name: string, type: OperationParamType, value: unknown): OperationValue {
  const problem = checkPrimitive(type, value);
  if (problem) throw badRequest(`Parameter "${name}": ${problem.message}`, name);
  return isJsonNumber(value) ? Number(value) : (value as OperationValue);
}

/** A query-string value as the parameter's type. */
function fromQuery(param: OperationParam, text: string): OperationValue {
  const { name, type } = param;
  if (type === 'resource' || type === 'Reference' || type === 'CodeableConcept') {
    if (type === 'Reference') return { reference: checked(name, 'string', text) };
    throw badRequest(`Parameter "${name}" takes a ${type === 'resource' ? 'resource' : type}: send it in a Parameters body (POST)`, name);
  }
  if (type === 'Coding') {
    const bar = text.indexOf('|');
    const code = bar < 0 ? text : text.slice(bar + 1);
    const coding: Record<string, unknown> = { code: checked(name, 'code', code) };
    if (bar > 0) coding.system = checked(name, 'uri', text.slice(0, bar));
    return coding;
  }
  if (type === 'boolean') {
    if (text !== 'true' && text !== 'false') throw badRequest(`Parameter "${name}" must be true or false`, name);
    return text === 'true';
  }
  if (NUMERIC.has(type)) {
    if (!/^-?[0-9]{1,10}$/.test(text)) throw badRequest(`Parameter "${name}" must be an ${type}`, name);
    return checked(name, type, Number(text));
  }
  return checked(name, type, text);
}

/** A `Parameters.parameter` entry's value as the parameter's type. */
function fromBody(param: OperationParam, entry: Record<string, unknown>): OperationValue {
  const { name, type } = param;
  if (type === 'resource') {
    if (!isJsonObject(entry.resource)) throw badRequest(`Parameter "${name}" needs a resource`, name);
    return entry.resource;
  }
  const key = valueKeys(type).find((k) => entry[k] !== undefined);
  if (!key) throw badRequest(`Parameter "${name}" needs ${valueKeys(type).join(' or ')}`, name);
  const value = entry[key];
  if (COMPLEX.has(type)) {
    if (!isJsonObject(value)) throw badRequest(`Parameter "${name}": ${key} must be an object`, name);
    return value;
  }
  return checked(name, type, value);
}

/** The parsed parameters of one invocation. */
export class OperationParams {
  constructor(private readonly values: ReadonlyMap<string, readonly OperationValue[]>) {}

  /** True when `name` was given. */
  has(name: string): boolean {
    return (this.values.get(name)?.length ?? 0) > 0;
  }

  /** Every value of `name`, in the order given. */
  all(name: string): readonly OperationValue[] {
    return this.values.get(name) ?? [];
  }

  /** The value of a string-like parameter (string, code, uri, id, date…). */
  string(name: string): string | undefined {
    const value = this.all(name)[0];
    return value === undefined ? undefined : String(value);
  }

  /** Every value of a string-like parameter. */
  strings(name: string): string[] {
    return this.all(name).map(String);
  }

  /** The value of an integer parameter. */
  integer(name: string): number | undefined {
    const value = this.all(name)[0];
    return typeof value === 'number' ? value : undefined;
  }

  /** The value of a boolean parameter. */
  boolean(name: string): boolean | undefined {
    const value = this.all(name)[0];
    return typeof value === 'boolean' ? value : undefined;
  }

  /** The value of a complex parameter (Coding, CodeableConcept, Reference, resource). */
  object(name: string): Record<string, unknown> | undefined {
    const value = this.all(name)[0];
    return isJsonObject(value) ? value : undefined;
  }
}

/**
 * Reads the parameters of an invocation from its query string and, when there is one, its
 * `Parameters` body, against the operation's declarations; 400 for anything else.
 */
export function parseOperationParams(
  declared: readonly OperationParam[], query: Record<string, string | string[] | undefined>, body: unknown,
): OperationParams {
  const byName = new Map(declared.map((p) => [p.name, p]));
  const values = new Map<string, OperationValue[]>();
  let count = 0;
  const add = (param: OperationParam, value: OperationValue) => {
    if (++count > MAX_VALUES) throw badRequest(`At most ${MAX_VALUES} parameter values may be given`);
    const list = values.get(param.name) ?? [];
    list.push(value);
    values.set(param.name, list);
  };
  const declaredParam = (name: string) => {
    const param = byName.get(name);
    if (!param) {
      const known = declared.map((p) => p.name).join(', ') || 'none';
      throw badRequest(`Unknown parameter "${name.slice(0, 64)}" (this operation takes: ${known})`, name.slice(0, 64));
    }
    return param;
  };
  for (const [name, raw] of Object.entries(query)) {
    if (raw === undefined || GENERAL_PARAMS.has(name)) continue;
    const param = declaredParam(name);
    for (const text of [raw].flat()) add(param, fromQuery(param, text));
  }
  if (body !== undefined) {
    if (!isJsonObject(body) || body.resourceType !== 'Parameters') throw badRequest('The operation\'s body must be a Parameters resource', 'Parameters');
    const entries = body.parameter ?? [];
    if (!Array.isArray(entries)) throw badRequest('Parameters.parameter must be an array', 'Parameters.parameter');
    for (const entry of entries) {
      if (!isJsonObject(entry) || typeof entry.name !== 'string') throw badRequest('Every Parameters.parameter needs a name', 'Parameters.parameter');
      const param = declaredParam(entry.name);
      add(param, fromBody(param, entry));
    }
  }
  for (const param of declared) {
    const given = values.get(param.name)?.length ?? 0;
    if (given < (param.min ?? 0)) throw badRequest(`Parameter "${param.name}" is required`, param.name);
    if ((param.max ?? 1) === 1 && given > 1) throw badRequest(`Parameter "${param.name}" may be given once`, param.name);
  }
  return new OperationParams(values);
}
