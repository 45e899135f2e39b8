/**
 * Reads one XML/XHTML start or end tag (`<p class="x">`, `</p>`, `<br/>`) in a single forward
 * pass: each character is looked at once, so the time is linear in the tag's length however
 * hostile the text (a backtracking regular expression for the same grammar took seconds on a
 * 224-byte tag with many attributes, issue 14). The grammar is XML's `STag`/`ETag`/`EmptyElemTag`
 * (https://www.w3.org/TR/xml/#sec-starttags), relaxed as browsers are about unquoted values;
 * `<` never occurs inside a tag, since XML forbids it in attribute values.
 */

/** A scanned tag: its name, attributes (values without quotes, entities not decoded) and end offset. */
export interface MarkupTag {
  closing: boolean;
  name: string;
  attributes: [name: string, value: string | undefined][];
  selfClosing: boolean;
  /** Offset just past the tag's `>`. */
  end: number;
}

const NAME_START = /[A-Za-z]/;
const NAME_CHAR = /[A-Za-z0-9:_.-]/;
const SPACE = /\s/;
/** Characters that end an attribute name. */
const NAME_END = /[\s=/<>]/;

function skipSpaces(text: string, at: number): number {
  while (at < text.length && SPACE.test(text[at])) at++;
  return at;
}

/** Reads an attribute value at `at` (after `=` and spaces); `undefined` when there is none. */
function scanValue(text: string, at: number): { value: string; end: number } | undefined {
  const quote = text[at];
  if (quote === '"' || quote === "'") {
    let close = at + 1;
    while (close < text.length && text[close] !== quote && text[close] !== '<') close++;
    if (text[close] !== quote) return undefined;
    return { value: text.slice(at + 1, close), end: close + 1 };
  }
  let end = at;
  while (end < text.length && !SPACE.test(text[end]) && text[end] !== '<' && text[end] !== '>') end++;
  return end === at ? undefined : { value: text.slice(at, end), end };
}

/** Scans the tag whose `<` is at `lt`; `undefined` when the markup there is not a well-formed tag. */
export function scanTag(text: string, lt: number): MarkupTag | undefined {
  let at = lt + 1;
  const closing = text[at] === '/';
  if (closing) at++;
  const nameStart = at;
  if (!NAME_START.test(text[at] ?? '')) return undefined;
  while (at < text.length && NAME_CHAR.test(text[at])) at++;
  const tag: MarkupTag = { closing, name: text.slice(nameStart, at), attributes: [], selfClosing: false, end: 0 };
  for (;;) {
    const afterSpace = skipSpaces(text, at);
    const c = text[afterSpace];
    if (c === '>' || (c === '/' && text[afterSpace + 1] === '>')) {
      tag.selfClosing = c === '/';
      tag.end = afterSpace + (c === '/' ? 2 : 1);
      return tag;
    }
    // An attribute must be separated from what precedes it by whitespace.
    if (afterSpace === at || c === undefined || NAME_END.test(c)) return undefined;
    at = afterSpace;
    const attrStart = at;
    while (at < text.length && !NAME_END.test(text[at])) at++;
    const name = text.slice(attrStart, at);
    const eq = skipSpaces(text, at);
    if (text[eq] !== '=') {
      tag.attributes.push([name, undefined]);
      continue;
    }
    const value = scanValue(text, skipSpaces(text, eq + 1));
    if (!value) return undefined;
    tag.attributes.push([name, value.value]);
    at = value.end;
  }
}
