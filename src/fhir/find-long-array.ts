/**
 * Finds an array with more than `max` items in JSON text without parsing it: one pass over the
 * characters that stops at the first such array, so a 4 MB body holding 1,000,000 `given` names
 * is refused after reading its first `max` items — before `JSON.parse` allocates a million
 * strings and long before validation or index extraction (`RESOURCE_MAX_REPEATS`). The text is
 * not validated here; malformed JSON is left for the parser to refuse.
 */
import { jsonStringEnd } from './json-string-end.ts';

interface Frame {
  array: boolean;
  /** Arrays: items begun so far minus one (the index of the current item). */
  index: number;
  /** Objects: the key of the current member. */
  key: string;
  /** Objects: the next string is a key. */
  expectKey: boolean;
}

/** Where {@link findLongArray} found an array longer than its limit: named in the 422 answer. */
export interface LongArray {
  /** The array's path from the root, FHIRPath-like: `.name[0].given`, or `[0].value` in a root array. */
  path: string;
  /** `resourceType` of the root object, when it names one before the long array. */
  resourceType?: string;
}

/** The path of the innermost frame (the members and items that hold it). */
function pathOf(stack: Frame[]): string {
  let path = '';
  for (let i = 0; i < stack.length - 1; i++) path += stack[i].array ? `[${stack[i].index}]` : `.${stack[i].key}`;
  return path;
}

/** The first array holding more than `max` items, or undefined. */
export function findLongArray(text: string, max: number): LongArray | undefined {
  const stack: Frame[] = [];
  let resourceType: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      const end = jsonStringEnd(text, i);
      if (end < 0) return undefined;
      const top = stack[stack.length - 1];
      if (top && !top.array && top.expectKey) {
        top.key = text.slice(i + 1, end);
        top.expectKey = false;
      } else if (stack.length === 1 && top.key === 'resourceType') {
        resourceType ??= text.slice(i + 1, end);
      }
      i = end;
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      stack.push({ array: c === 91, index: 0, key: '', expectKey: c === 123 });
    } else if (c === 125 /* } */ || c === 93 /* ] */) {
      stack.pop();
    } else if (c === 44 /* , */) {
      const top = stack[stack.length - 1];
      if (!top) continue;
      if (!top.array) top.expectKey = true;
      else if (++top.index >= max) return { path: pathOf(stack), resourceType };
    }
  }
  return undefined;
}

