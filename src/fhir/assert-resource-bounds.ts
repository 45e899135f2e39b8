/**
 * The cheap first look at a resource written (create, update, patch and its result, every entry of
 * a batch or transaction, GraphQL mutations): no array holds more than `RESOURCE_MAX_REPEATS`
 * items, the resource holds at most `RESOURCE_MAX_ITEMS` JSON values and every decimal is bounded
 * ({@link isBoundedDecimal}). It runs before validation and index extraction, whose cost
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
import type { TimeSlice } from './time-slice.ts';

/** Below this depth the walk stops: the validator refuses such nesting on its own. */
const MAX_WALK_DEPTH = 200;

interface Excess {
  path: string;
  message: string;
  /** An item budget ran out: the path is set where that resource starts, not where the count did. */
  items?: boolean;
}

/** The JSON values one resource may still hold (`RESOURCE_MAX_ITEMS`). */
interface ItemBudget { left: number }

function findExcess(value: unknown, limits: ResourceLimits, depth: number, budget: ItemBudget): Excess | undefined {
  if (--budget.left < 0) return { path: '', message: itemsMessage(limits.maxItems), items: true };
  if (value === null || typeof value !== 'object' || depth > MAX_WALK_DEPTH) return undefined;
  if (isLosslessNumber(value)) {
    const text = (value as { value: string }).value;
    const shown = text.length > 24 ? `${text.slice(0, 24)}…` : text;
    return isBoundedDecimal(text) ? undefined : { path: '', message: `the number ${shown} is out of bounds: decimals have ${DECIMAL_BOUNDS}` };
  }
  if (Array.isArray(value)) {
    if (value.length > limits.maxRepeats) return { path: '', message: repetitionsMessage(limits.maxRepeats) };
    for (let i = 0; i < value.length; i++) {
      const found = findExcess(value[i], limits, depth + 1, budget);
      if (found) return within(`[${i}]`, found);
    }
    return undefined;
  }
  const bundle = (value as { resourceType?: unknown }).resourceType === 'Bundle';
  for (const key in value) {
    const child = (value as Record<string, unknown>)[key];
    const found = bundle && key === 'entry' && Array.isArray(child)
      ? findExcessInEntries(child, limits, depth + 1, budget)
      : findExcess(child, limits, depth + 1, budget);
    if (found) return within(`.${key}`, found);
  }
  return undefined;
}

/**
 * A Bundle's entries: each `entry.resource` is a resource of its own (FHIR Bundle), with its own
 * item budget; everything else of an entry counts toward the Bundle's.
 */
function findExcessInEntries(entries: unknown[], limits: ResourceLimits, depth: number, budget: ItemBudget): Excess | undefined {
  if (--budget.left < 0) return { path: '', message: itemsMessage(limits.maxItems), items: true };
  if (entries.length > limits.maxRepeats) return { path: '', message: repetitionsMessage(limits.maxRepeats) };
  for (let i = 0; i < entries.length; i++) {
    const found = findExcessInEntry(entries[i], limits, depth + 1, budget);
    if (found) return within(`[${i}]`, found);
  }
  return undefined;
}

/** One entry of a Bundle: its `resource` against a budget of its own, the rest against the Bundle's. */
function findExcessInEntry(entry: unknown, limits: ResourceLimits, depth: number, budget: ItemBudget): Excess | undefined {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) return findExcess(entry, limits, depth, budget);
  if (--budget.left < 0) return { path: '', message: itemsMessage(limits.maxItems), items: true };
  for (const key in entry) {
    const child = (entry as Record<string, unknown>)[key];
    let found = key === 'resource' ? findExcess(child, limits, depth + 1, { left: limits.maxItems }) : findExcess(child, limits, depth + 1, budget);
    if (found?.items && key === 'resource') found = { ...found, items: false };
    if (found) return within(`.${key}`, found);
  }
  return undefined;
}

/** `found` seen from one level up: `step` before its path, unless an item budget is still bubbling up to its resource. */
function within(step: string, found: Excess): Excess {
  return found.items ? found : { ...found, path: `${step}${found.path}` };
}

function itemsMessage(maxItems: number): string {
  return `more than ${maxItems} JSON values in one resource (RESOURCE_MAX_ITEMS)`;
}

/**
 * The JSON values in `value` (every object, array, string, number, boolean and null), counted up
 * to `cap + 1` at most: what `RESOURCE_MAX_ITEMS` counts, at a cost bounded by the cap.
 */
export function countItems(value: unknown, cap: number): number {
  const budget = { left: cap + 1 };
  countInto(value, budget, 0);
  return cap + 1 - Math.max(budget.left, 0);
}

function countInto(value: unknown, budget: ItemBudget, depth: number): void {
  if (--budget.left <= 0 || value === null || typeof value !== 'object' || depth > MAX_WALK_DEPTH || isLosslessNumber(value)) return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length && budget.left > 0; i++) countInto(value[i], budget, depth + 1);
    return;
  }
  for (const key in value) {
    if (budget.left <= 0) return;
    countInto((value as Record<string, unknown>)[key], budget, depth + 1);
  }
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

/**
 * Throws 422 when `resource` (labelled `label`, e.g. `Patient`) exceeds the bounds: an array
 * over `RESOURCE_MAX_REPEATS`, a decimal out of bounds, or more than `RESOURCE_MAX_ITEMS` JSON
 * values (a Bundle's entry resources each counted on their own), found in one walk.
 */
export function assertResourceBounds(resource: unknown, label: string, limits: ResourceLimits): void {
  const found = findExcess(resource, limits, 0, { left: limits.maxItems });
  if (found) throw excessError(found, label);
}

function excessError(found: Excess, label: string): FhirError {
  return resourceTooCostly(`${label}${found.path}: ${found.message}`, `${label}${found.path}`);
}

/**
 * {@link assertResourceBounds} for a posted Bundle (a batch, a transaction, a Bundle resource),
 * entry by entry, pausing for other clients when `slice` is used up: the same checks and
 * answers, in slices rather than one walk over up to `MAX_BODY` of content.
 */
export async function assertBundleBounds(bundle: Record<string, unknown>, limits: ResourceLimits, slice: TimeSlice): Promise<void> {
  const entries = bundle.entry;
  if (!Array.isArray(entries)) {
    assertResourceBounds(bundle, 'Bundle', limits);
    return;
  }
  const budget: ItemBudget = { left: limits.maxItems };
  const { entry: _entries, ...shell } = bundle;
  const inShell = findExcess(shell, limits, 0, budget);
  if (inShell) throw excessError(inShell, 'Bundle');
  const inArray = --budget.left < 0
    ? { path: '', message: itemsMessage(limits.maxItems), items: true }
    : entries.length > limits.maxRepeats ? { path: '.entry', message: repetitionsMessage(limits.maxRepeats) } : undefined;
  if (inArray) throw excessError(inArray, 'Bundle');
  for (let i = 0; i < entries.length; i++) {
    const found = findExcessInEntry(entries[i], limits, 2, budget);
    if (found) throw excessError(within('.entry', within(`[${i}]`, found)), 'Bundle');
    if (slice.due()) await slice.pause();
  }
}
