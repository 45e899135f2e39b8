/**
 * A lightweight scanner for XHTML narrative (`Narrative.div`): the root must be an XHTML `div`,
 * no active content (`script`, `object`, `applet`, `iframe`, `form`, `embed`, ...), no `on*`
 * event attributes, no `javascript:` URLs, tags balanced, and some text or an image (txt-1, txt-2).
 * No DOM parser: a tag scanner is enough to refuse what the rules forbid (DECISIONS §8).
 * https://hl7.org/fhir/R4/narrative.html#xhtml
 */

const ROOT_OPEN = /^<div(\s[^>]*)?>/;
const XMLNS = /\sxmlns\s*=\s*("http:\/\/www\.w3\.org\/1999\/xhtml"|'http:\/\/www\.w3\.org\/1999\/xhtml')/;
// `<` never occurs inside a tag (XML forbids it in attribute values), so a failed match stops at
// the next `<` and scanning stays linear on hostile input. Sticky: matched only where a `<` is.
const TAG = /<(\/?)([A-Za-z][A-Za-z0-9:_.-]*)((?:\s+[^\s=/<>]+(?:\s*=\s*(?:"[^"<]*"|'[^'<]*'|[^\s<>]+))?)*)\s*(\/?)>/y;
const ATTRIBUTE = /([^\s=/<>]+)(?:\s*=\s*("[^"<]*"|'[^'<]*'|[^\s<>]+))?/g;
const HAS_TEXT = /[^ \t\r\n]/;
/** Markup skipped whole: comments, CDATA sections, processing instructions. */
const SKIPPED: [open: string, close: string][] = [['<!--', '-->'], ['<![CDATA[', ']]>'], ['<?', '?>']];
const SCRIPT_URL = /^\s*(javascript|vbscript)\s*:/i;

/** Elements that carry active content or forms; never allowed in narrative. */
const FORBIDDEN = new Set([
  'script', 'object', 'applet', 'iframe', 'frame', 'frameset', 'form', 'input', 'button', 'select',
  'textarea', 'embed', 'base', 'link', 'meta', 'style', 'noscript', 'svg', 'math',
]);
/** Void elements (no closing tag needed). */
const VOID = new Set(['br', 'hr', 'img', 'col', 'area', 'wbr']);

function fromCodePoint(n: number): string {
  return n <= 0x10ffff ? String.fromCodePoint(n) : '';
}

function decodeEntities(text: string): string {
  return text
    .replace(/&#x([0-9a-f]+);?/gi, (_, h: string) => fromCodePoint(parseInt(h, 16)))
    .replace(/&#([0-9]+);?/g, (_, d: string) => fromCodePoint(Number(d)))
    .replace(/&colon;/gi, ':')
    .replace(/&tab;|&newline;/gi, '');
}

function checkAttributes(tag: string, attrs: string): string | undefined {
  ATTRIBUTE.lastIndex = 0;
  for (let m = ATTRIBUTE.exec(attrs); m; m = ATTRIBUTE.exec(attrs)) {
    const name = m[1].toLowerCase();
    if (name.startsWith('on')) return `event attribute ${name} on <${tag}> is not allowed in narrative`;
    const raw = m[2] ?? '';
    const value = decodeEntities(raw.startsWith('"') || raw.startsWith("'") ? raw.slice(1, -1) : raw);
    if (SCRIPT_URL.test(value.replace(/[\u0000-\u001f]/g, ''))) {
      return `script URL in ${name} on <${tag}> is not allowed in narrative`;
    }
  }
  return undefined;
}

/** Checks `Narrative.div`; returns a message for the first problem, or `undefined` when valid. */
export function checkNarrativeDiv(div: string): string | undefined {
  const text = div.trim();
  const open = ROOT_OPEN.exec(text);
  if (!open || !text.endsWith('</div>')) return 'narrative must be a single <div> element';
  if (!XMLNS.test(open[1] ?? '')) return 'narrative <div> must declare xmlns="http://www.w3.org/1999/xhtml"';
  const stack: string[] = [];
  let hasContent = false;
  let pos = 0;
  for (let lt = text.indexOf('<'); lt !== -1; lt = text.indexOf('<', pos)) {
    if (!hasContent && HAS_TEXT.test(text.slice(pos, lt))) hasContent = true;
    const skipped = SKIPPED.find(([open]) => text.startsWith(open, lt));
    if (skipped) {
      const close = text.indexOf(skipped[1], lt + skipped[0].length);
      if (close === -1) return `unterminated ${skipped[0]} in narrative`;
      if (skipped[0] === '<![CDATA[' && !hasContent) hasContent = HAS_TEXT.test(text.slice(lt + 9, close));
      pos = close + skipped[1].length;
      continue;
    }
    TAG.lastIndex = lt;
    const m = TAG.exec(text);
    if (!m) return `malformed markup at offset ${lt} in narrative`;
    pos = TAG.lastIndex;
    const name = m[2].toLowerCase();
    const local = name.includes(':') ? name.slice(name.indexOf(':') + 1) : name;
    if (FORBIDDEN.has(local)) return `<${local}> is not allowed in narrative`;
    if (m[1]) {
      if (stack.pop() !== name) return `unbalanced </${name}> in narrative`;
      continue;
    }
    const problem = checkAttributes(local, m[3] ?? '');
    if (problem) return problem;
    if (local === 'img') hasContent = true;
    if (!m[4] && !VOID.has(local)) stack.push(name);
  }
  if (!hasContent && HAS_TEXT.test(text.slice(pos))) hasContent = true;
  if (stack.length) return `unclosed <${stack[stack.length - 1]}> in narrative`;
  if (!hasContent) return 'narrative must have some non-whitespace content';
  return undefined;
}
