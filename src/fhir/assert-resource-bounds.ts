/**
 * The cheap first look at a resource written (create, update, patch and its result, every entry of
 * a batch or transaction): no array holds more than `RESOURCE_MAX_REPEATS` items and every decimal
 * is bounded ({@link isBoundedDecimal}). It runs before validation and index extraction, whose cost
 * grows with the content, so a 4 MB Patient with 1,000,000 `given` names is refused in
 * milliseconds instead of writing 3,000,000 index rows (REST bodies meet the same cap earlier,
 * in their text: {@link findLongArray}). Answers 422 (`too-costly`) naming the
 * element. https://hl7.org/fhir/R4/operationoutcome.html (issue type `too-costly`)
 */
import { isLosslessNumber } from 'lossless-json';
import type { ResourceLimits } from '../config.ts';
import { DECIMAL_BOUNDS, isBoundedDecimal } from './bounded-decimal.ts';
import type { LongArray } from './find-long-array.ts';
import { resourceTooCostly, type FhirError } from './outcomes.ts';

/** Below this depth the walk stops: the validator refuses such nesting on its own. */
const MAX_WALK_DEPTH = 200;

interface Excess { path: string; message: string }

function findExcess(value: unknown, maxRepeats: number, depth: number): Excess | undefined {
  if (value === null || typeof value !== 'object' || depth > MAX_WALK_DEPTH) return undefined;
  if (isLosslessNumber(value)) {
    const text = (value as { value: string }).value;
    const shown = text.length > 24 ? `${text.slice(0, 24)}…` : text;
    return isBoundedDecimal(text) ? undefined : { path: '', message: `the number ${shown} is out of bounds: decimals have ${DECIMAL_BOUNDS}` };
  }
  if (Array.isArray(value)) {
    if (value.length > maxRepeats) return { path: '', message: repetitionsMessage(maxRepeats) };
    for (let i = 0; i < value.length; i++) {
      const found = findExcess(value[i], maxRepeats, depth + 1);
      if (found) return { path: `[${i}]${found.path}`, message: found.message };
    }
    return undefined;
  }
  for (const key in value) {
    const found = findExcess((value as Record<string, unknown>)[key], maxRepeats, depth + 1);
    if (found) return { path: `.${key}${found.path}`, message: found.message };
  }
  return undefined;
}

function repetitionsMessage(maxRepeats: number): string {
  return `more than ${maxRepeats} repetitions; at most ${maxRepeats} are allowed (RESOURCE_MAX_REPEATS)`;
}

/**
 * The 422 for an over-long array that {@link findLongArray} found in a body's text (labelled with
 * the body's `resourceType`, or `JSON Patch` for an array body).
 */
export function tooManyRepetitions(found: LongArray, maxRepeats: number): FhirError {
  const expression = `${found.resourceType ?? (found.path.startsWith('[') ? 'JSON Patch' : 'body')}${found.path}`;
  return resourceTooCostly(`${expression}: ${repetitionsMessage(maxRepeats)}`, expression);
}

/** Throws 422 when `resource` (labelled `label`, e.g. `Patient`) exceeds the bounds. */
export function assertResourceBounds(resource: unknown, label: string, limits: ResourceLimits): void {
  const found = findExcess(resource, limits.maxRepeats, 0);
  if (found) throw resourceTooCostly(`${label}${found.path}: ${found.message}`, `${label}${found.path}`);
}
