/**
 * `ValueSet.compose.include.filter` over one code system: the codes a filter selects, in the
 * system's document order. Implemented: on the hierarchy (property `concept`) `is-a`,
 * `descendent-of`, `is-not-a`, `generalizes`, `=`, `in`, `not-in`; on a concept property `=`,
 * `in`, `not-in`, `exists` (`parent`/`child` also follow the hierarchy). Not implemented, 422
 * `not-supported`: `regex` (a pattern from a stored ValueSet would run on the server: a
 * catastrophic-backtracking risk) and any other operator.
 * https://hl7.org/fhir/R4/valueset.html#filters  https://hl7.org/fhir/R4/valueset-filter-operator.html
 */
import { ancestorsOf, descendantsOf, propertyText, type CodeSystemIndex } from './code-system-index.ts';
import { unknownCanonical, unsupported } from './terminology-errors.ts';
import type { ComposeFilter } from './terminology-types.ts';

/** The properties that name the concept itself (the hierarchy filters). */
const CONCEPT_PROPERTIES = new Set(['concept', 'code']);

function listOf(value: string): Set<string> {
  return new Set(value.split(',').map((v) => v.trim()).filter(Boolean));
}

function rootOf(index: CodeSystemIndex, filter: ComposeFilter, system: string): string {
  if (!index.concepts.has(filter.value)) throw unknownCanonical(`The filter "${filter.property} ${filter.op} ${filter.value}" names a code that ${system} does not define`);
  return filter.value;
}

/** Codes of `index` (document order) for which `keep` holds. */
function select(index: CodeSystemIndex, keep: (code: string) => boolean): string[] {
  return [...index.concepts.keys()].filter(keep);
}

function conceptFilter(index: CodeSystemIndex, filter: ComposeFilter, system: string): string[] {
  switch (filter.op) {
    case 'is-a': {
      const root = rootOf(index, filter, system);
      const within = new Set([root, ...descendantsOf(index, root)]);
      return select(index, (c) => within.has(c));
    }
    case 'descendent-of': {
      const below = new Set(descendantsOf(index, rootOf(index, filter, system)));
      return select(index, (c) => below.has(c));
    }
    case 'is-not-a': {
      const root = rootOf(index, filter, system);
      const within = new Set([root, ...descendantsOf(index, root)]);
      return select(index, (c) => !within.has(c));
    }
    case 'generalizes': {
      const root = rootOf(index, filter, system);
      const above = new Set([root, ...ancestorsOf(index, root)]);
      return select(index, (c) => above.has(c));
    }
    case '=': return index.concepts.has(filter.value) ? [filter.value] : [];
    case 'in': {
      const wanted = listOf(filter.value);
      return select(index, (c) => wanted.has(c));
    }
    case 'not-in': {
      const unwanted = listOf(filter.value);
      return select(index, (c) => !unwanted.has(c));
    }
    default: throw unsupported(`The filter operator "${filter.op}" on "${filter.property}" is not supported (supported: is-a, descendent-of, is-not-a, generalizes, =, in, not-in)`);
  }
}

/** The values of property `code` of a concept, the hierarchy's parents and children included. */
function valuesOf(index: CodeSystemIndex, code: string, property: string): string[] {
  const entry = index.concepts.get(code)!;
  const values = propertyText(entry.concept, property);
  if (property === 'parent') values.push(...entry.parents);
  if (property === 'child') values.push(...entry.children);
  return values;
}

function propertyFilter(index: CodeSystemIndex, filter: ComposeFilter): string[] {
  const { property, op, value } = filter;
  switch (op) {
    case '=': return select(index, (c) => valuesOf(index, c, property).includes(value));
    case 'in': {
      const wanted = listOf(value);
      return select(index, (c) => valuesOf(index, c, property).some((v) => wanted.has(v)));
    }
    case 'not-in': {
      const unwanted = listOf(value);
      return select(index, (c) => !valuesOf(index, c, property).some((v) => unwanted.has(v)));
    }
    case 'exists': {
      if (value !== 'true' && value !== 'false') throw unsupported(`The filter "${property} exists" takes true or false, not "${value.slice(0, 40)}"`);
      return select(index, (c) => (valuesOf(index, c, property).length > 0) === (value === 'true'));
    }
    default: throw unsupported(`The filter operator "${op}" on property "${property}" is not supported (supported on properties: =, in, not-in, exists)`);
  }
}

/** The codes one filter selects from `index`, in document order. */
export function applyComposeFilter(index: CodeSystemIndex, filter: ComposeFilter, system: string): string[] {
  if (typeof filter?.property !== 'string' || typeof filter.op !== 'string' || typeof filter.value !== 'string') {
    throw unsupported(`A filter of the include of ${system} needs a property, an op and a value`);
  }
  return CONCEPT_PROPERTIES.has(filter.property) ? conceptFilter(index, filter, system) : propertyFilter(index, filter);
}
