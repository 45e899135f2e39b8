/**
 * Where a JSON string ends, for the scanners that walk JSON text without parsing it
 * (find-long-array.ts, split-bundle-text.ts): the quote that closes the string opened at
 * `open`, skipping escaped quotes (a quote after an odd number of backslashes), found with
 * `indexOf` rather than character by character.
 */

/** The index of the quote closing the string whose opening quote is at `open`, or -1 when it is not closed. */
export function jsonStringEnd(text: string, open: number): number {
  let end = open + 1;
  for (;;) {
    end = text.indexOf('"', end);
    if (end < 0) return -1;
    let backslashes = 0;
    while (text.charCodeAt(end - 1 - backslashes) === 92 /* \ */) backslashes++;
    if (backslashes % 2 === 0) return end;
    end++;
  }
}
