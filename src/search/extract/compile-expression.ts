/**
 * Compiles a search parameter's FHIRPath expression once into a function that walks resource JSON
 * directly, typed by the R4 model. The expressions R4 ships use a small subset (paths, unions,
 * `as`, `where(resolve() is T)`, `where(system='email')`, `[0]`, `exists()`); compiling them by hand
 * is exact where the engine is not (DECISIONS §5: `resolve()` means "the reference's target
 * type", `X as T` means "X when it is a T") and about two orders of magnitude faster.
 * Expressions outside the subset fall back to `fhirpath.compile` with its R4 model.
 * https://hl7.org/fhir/R4/searchparameter.html#expression  https://hl7.org/fhirpath/N1/
 */
import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4';
import { isLosslessNumber } from 'lossless-json';
import { FhirPathSyntaxError, parseFhirPath, type PathAst } from './parse-fhir-path.ts';
import { collectChildren, isOfType, type PathNode } from './path-node.ts';
import { referenceTargetType } from './parse-reference.ts';

/** Evaluation context: `%resource` (and `%context`) is the resource being indexed. */
export interface EvalEnv {
  resource: PathNode;
}

/** A compiled expression: maps an input collection to an output collection. */
export type PathEvaluator = (input: readonly PathNode[], env: EvalEnv) => PathNode[];

const TRUE: readonly PathNode[] = [{ value: true, type: 'boolean' }];
const FALSE: readonly PathNode[] = [{ value: false, type: 'boolean' }];

function bool(b: boolean): PathNode[] {
  return (b ? TRUE : FALSE) as PathNode[];
}

/** FHIRPath singleton evaluation of a collection as a boolean: true, false or empty (null). */
function asBoolean(nodes: readonly PathNode[]): boolean | null {
  if (nodes.length === 0) return null;
  const v = nodes[0].value;
  return typeof v === 'boolean' ? v : true;
}

function primitive(v: unknown): unknown {
  return isLosslessNumber(v) ? Number(v.value) : v;
}

/** A capitalised name that is a type name, at the start of a path, filters by type (FHIRPath §Path selection). */
function isTypeFilter(name: string): boolean {
  return /^[A-Z]/.test(name);
}

function compileName(name: string): PathEvaluator {
  if (isTypeFilter(name)) return (input) => input.filter((n) => isOfType(n.type, name));
  return (input) => {
    const out: PathNode[] = [];
    for (const n of input) collectChildren(n, name, out);
    return out;
  };
}

function typeArg(args: PathAst[]): string {
  const a = args[0];
  if (args.length === 1 && a.k === 'name') return a.name;
  if (args.length === 1 && a.k === 'invoke' && a.member.k === 'name') return a.member.name;
  throw new FhirPathSyntaxError('expected a type name');
}

/** `resolve()` as the reference's target type: a typed placeholder, no resource is fetched. */
function resolveTargets(input: readonly PathNode[]): PathNode[] {
  const out: PathNode[] = [];
  for (const n of input) {
    const type = n.type === 'Reference' ? referenceTargetType(n.value) : null;
    if (type) out.push({ value: {}, type });
  }
  return out;
}

function compileFunction(name: string, args: PathAst[]): PathEvaluator {
  switch (name) {
    case 'as':
    case 'ofType': {
      const t = typeArg(args);
      return (input) => input.filter((n) => isOfType(n.type, t));
    }
    case 'is': {
      const t = typeArg(args);
      return (input) => (input.length === 0 ? [] : bool(isOfType(input[0].type, t)));
    }
    case 'where': {
      const criterion = compileAst(args[0]);
      return (input, env) => input.filter((n) => asBoolean(criterion([n], env)) === true);
    }
    case 'resolve':
      return resolveTargets;
    case 'exists':
      if (args.length > 0) throw new FhirPathSyntaxError('exists(criteria) is not in the subset');
      return (input) => bool(input.length > 0);
    case 'empty':
      return (input) => bool(input.length === 0);
    case 'not':
      return (input) => {
        const b = asBoolean(input);
        return b === null ? [] : bool(!b);
      };
    case 'first':
      return (input) => input.slice(0, 1);
    case 'extension': {
      const url = args[0]?.k === 'lit' ? String(args[0].value) : undefined;
      if (url === undefined) throw new FhirPathSyntaxError('extension() needs a literal url');
      const ext = compileName('extension');
      return (input, env) => ext(input, env).filter((n) => (n.value as { url?: unknown }).url === url);
    }
    default:
      throw new FhirPathSyntaxError(`function ${name}() is not in the subset`);
  }
}

/**
 * `|` removes duplicates (FHIRPath §Collections: union). Objects compare by identity here, not
 * deeply: two equal elements at different places index as the same rows twice, which matches
 * the same searches, and a deep comparison would cost more than the rest of the walk.
 */
function distinct(nodes: PathNode[]): PathNode[] {
  if (nodes.length < 2) return nodes;
  const seen = new Set<unknown>();
  return nodes.filter((n) => {
    const key = typeof n.value === 'object' ? n.value : `${n.type}:${String(n.value)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function compileEquality(op: '=' | '!=', left: PathEvaluator, right: PathEvaluator): PathEvaluator {
  return (input, env) => {
    const l = left(input, env);
    const r = right(input, env);
    if (l.length === 0 || r.length === 0) return [];
    const equal = l.length === r.length && l.every((n, i) => primitive(n.value) === primitive(r[i].value));
    return bool(op === '=' ? equal : !equal);
  };
}

function compileLogic(op: 'and' | 'or' | 'xor', left: PathEvaluator, right: PathEvaluator): PathEvaluator {
  return (input, env) => {
    const l = asBoolean(left(input, env));
    if (op === 'and' && l === false) return bool(false);
    if (op === 'or' && l === true) return bool(true);
    const r = asBoolean(right(input, env));
    if (op === 'and') return r === false ? bool(false) : l === true && r === true ? bool(true) : [];
    if (op === 'or') return r === true ? bool(true) : l === false && r === false ? bool(false) : [];
    return l === null || r === null ? [] : bool(l !== r);
  };
}

function compileBinary(ast: Extract<PathAst, { k: 'binop' }>): PathEvaluator {
  const left = compileAst(ast.left);
  const right = compileAst(ast.right);
  switch (ast.op) {
    case '|':
      return (input, env) => distinct([...left(input, env), ...right(input, env)]);
    case '=':
    case '!=':
      return compileEquality(ast.op, left, right);
    default:
      return compileLogic(ast.op, left, right);
  }
}

function compileAst(ast: PathAst): PathEvaluator {
  switch (ast.k) {
    case 'name':
      return compileName(ast.name);
    case 'fn':
      return compileFunction(ast.name, ast.args);
    case 'invoke': {
      const target = compileAst(ast.target);
      const member = compileAst(ast.member);
      // Functions such as exists() and empty() must see an empty input; navigation can skip it.
      if (ast.member.k === 'fn') return (input, env) => member(target(input, env), env);
      return (input, env) => {
        const mid = target(input, env);
        return mid.length === 0 ? [] : member(mid, env);
      };
    }
    case 'index': {
      const target = compileAst(ast.target);
      if (ast.index.k !== 'lit' || typeof ast.index.value !== 'number') throw new FhirPathSyntaxError('only literal indexes');
      const i = ast.index.value;
      return (input, env) => target(input, env).slice(i, i + 1);
    }
    case 'type': {
      const target = compileAst(ast.target);
      const t = ast.typeName;
      if (ast.op === 'as') return (input, env) => target(input, env).filter((n) => isOfType(n.type, t));
      return (input, env) => {
        const nodes = target(input, env);
        return nodes.length === 0 ? [] : bool(isOfType(nodes[0].type, t));
      };
    }
    case 'binop':
      return compileBinary(ast);
    case 'lit': {
      const node: PathNode[] = [{ value: ast.value, type: typeof ast.value === 'string' ? 'string' : typeof ast.value === 'number' ? 'decimal' : 'boolean' }];
      return () => node;
    }
    case 'var':
      if (ast.name !== 'resource' && ast.name !== 'context' && ast.name !== 'rootResource') {
        throw new FhirPathSyntaxError(`%${ast.name} is not supported`);
      }
      return (_input, env) => [env.resource];
  }
}

/** Infers a node type for a value the `fhirpath` engine returned (fallback path only). */
function guessType(value: unknown): string {
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'decimal';
  if (typeof value === 'string') return 'string';
  const o = value as Record<string, unknown>;
  if (typeof o.resourceType === 'string') return o.resourceType;
  if ('reference' in o || ('identifier' in o && 'type' in o)) return 'Reference';
  if ('coding' in o || ('text' in o && Object.keys(o).length === 1)) return 'CodeableConcept';
  if ('family' in o || 'given' in o) return 'HumanName';
  if ('start' in o || 'end' in o) return 'Period';
  if ('code' in o && 'system' in o && !('value' in o)) return 'Coding';
  if ('value' in o && ('unit' in o || 'code' in o)) return 'Quantity';
  if ('value' in o && 'system' in o) return 'Identifier';
  return 'Element';
}

function compileWithEngine(expression: string): PathEvaluator {
  const fn = fhirpath.compile(expression, r4model);
  return (input) => {
    const out: PathNode[] = [];
    for (const n of input) {
      const result = fn(n.value as object);
      if (!Array.isArray(result)) throw new Error(`expression needs asynchronous evaluation: ${expression}`);
      for (const value of result) out.push({ value, type: guessType(value) });
    }
    return out;
  };
}

/** Whether {@link compileExpression} handles `expression` by hand (no `fhirpath` fallback). */
export function isHandCompiled(expression: string): boolean {
  try {
    compileAst(parseFhirPath(expression));
    return true;
  } catch (err) {
    if (err instanceof FhirPathSyntaxError) return false;
    throw err;
  }
}

/**
 * Compiles a search expression (absolute like `Patient.name`, or relative to a composite's element
 * like `value.as(Quantity)`) into a walker over typed JSON nodes.
 */
export function compileExpression(expression: string): PathEvaluator {
  try {
    return compileAst(parseFhirPath(expression));
  } catch (err) {
    if (!(err instanceof FhirPathSyntaxError)) throw err;
    return compileWithEngine(expression);
  }
}
