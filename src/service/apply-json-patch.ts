/**
 * JSON Patch (RFC 6902, https://hl7.org/fhir/R4/http.html#patch) applied to a stored resource
 * one operation at a time, each charged before it runs. A small patch of `copy` operations that
 * copy an array into itself doubles the document with each operation (20 operations made a
 * million items, 30 ran the process out of memory, review 2 #2), and checking the whole sequence
 * against a clone of the document first (`fast-json-patch`'s `validate`) cloned it again for
 * every `copy`. Here a patch has at most `PATCH_MAX_OPERATIONS` operations, and the document's
 * JSON values plus every value an operation adds (a `copy` the values it copies, counted before
 * it copies them) may not pass `RESOURCE_MAX_ITEMS`; removals earn nothing back, so the work
 * of a patch, not only its result, stays within that budget.
 */
import fastJsonPatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import type { ResourceLimits } from '../config.ts';
import { assertResourceBounds, countItems } from '../fhir/assert-resource-bounds.ts';
import { parseFhirJson } from '../fhir/fhir-json.ts';
import { FhirError, badRequest, resourceTooCostly, unprocessable } from '../fhir/outcomes.ts';
import type { FhirResource } from './resource-content.ts';

const { applyOperation, validator, JsonPatchError } = fastJsonPatch;

/** The value `pointer` (RFC 6901) names in `document`, own members only; undefined when there is none. */
function resolvePointer(document: unknown, pointer: string): unknown {
  if (pointer === '') return document;
  let value = document;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/**
 * `fast-json-patch`'s checks of one operation against the document, except that `copy` and
 * `move` look their `from` up in place: the library checks it by cloning the whole document.
 */
function checkOperation(operation: Operation, index: number, document: unknown, existingPath: string): void {
  if (operation.op !== 'copy' && operation.op !== 'move') {
    validator(operation, index, document, existingPath);
    return;
  }
  validator(operation, index);
  if (resolvePointer(document, operation.from) === undefined) {
    throw new JsonPatchError('Cannot perform the operation from a path that does not exist', 'OPERATION_FROM_UNRESOLVABLE', index, operation, document);
  }
}

/** The JSON values `operation` adds to `document` (at most `cap + 1`, to stay cheap). */
function valuesAdded(operation: Operation, document: unknown, cap: number): number {
  switch (operation.op) {
    case 'add':
    case 'replace':
      return countItems(operation.value, cap);
    case 'copy':
      return countItems(resolvePointer(document, operation.from), cap);
    default:
      return 0;
  }
}

function patchError(err: unknown): Error {
  const name = (err as { name?: string }).name;
  if (name === 'TEST_OPERATION_FAILED') return unprocessable('A JSON Patch test operation failed');
  return unprocessable(`The JSON Patch cannot be applied: ${(err as Error).message.split('\n')[0]}`);
}

/**
 * Applies `patch` to the stored `current` text of `target` and returns the patched resource;
 * 400 when the patch is not an array, 422 when it is over its limits, fails, or changes the
 * resource's type or id.
 */
export function applyJsonPatch(current: string, patch: unknown, target: { resourceType: string; id: string }, limits: ResourceLimits): FhirResource {
  if (!Array.isArray(patch)) throw badRequest('A JSON Patch body must be an array of operations');
  if (patch.length > limits.maxPatchOperations) {
    throw resourceTooCostly(`The JSON Patch has ${patch.length} operations; at most ${limits.maxPatchOperations} are allowed (PATCH_MAX_OPERATIONS)`, 'JSON Patch');
  }
  assertResourceBounds(patch, 'JSON Patch', limits);
  let document = parseFhirJson(current);
  let items = countItems(document, limits.maxItems);
  for (let index = 0; index < patch.length; index++) {
    const operation = patch[index] as Operation;
    try {
      validator(operation, index);
      items += valuesAdded(operation, document, limits.maxItems - items);
      if (items > limits.maxItems) {
        throw resourceTooCostly(
          `JSON Patch operation ${index} (${operation.op}) would grow ${target.resourceType}/${target.id} beyond ${limits.maxItems} JSON values (RESOURCE_MAX_ITEMS)`,
          `JSON Patch[${index}]`,
        );
      }
      document = applyOperation(document, operation, checkOperation, true, true, index).newDocument;
    } catch (err) {
      if (err instanceof FhirError) throw err;
      throw patchError(err);
    }
  }
  const patched = document as FhirResource;
  if (patched === null || typeof patched !== 'object' || Array.isArray(patched)) throw unprocessable('The patch must leave a resource');
  if (patched.resourceType !== target.resourceType) throw unprocessable('A patch must not change resourceType');
  if (patched.id !== target.id) throw unprocessable('A patch must not change the id');
  return patched;
}
