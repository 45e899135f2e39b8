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
// the next `<` and scanning stays linear on hostile input.
const TAG = /<(!--[\s\S]*?--|!\[CDATA\[[\s\S]*?\]\]|\?[^<]*?\?|!DOCTYPE[^<>]*|(\/?)([A-Za-z][A-Za-z0-9:_.-]*)((?:\s+[^\s=/<>]+(?:\s*=\s*(?:"[^"<]*"|'[^'<]*'|[^\s<>]+))?)*)\s*(\/?))>/g;
const ATTRIBUTE = /([^\s=/<>]+)(?:\s*=\s*("[^"<]*"|'[^'<]*'|[^\s<>]+))?/g;
const SCRIPT_URL = /^\s*(javascript|vbscript)\s*:/i;

/** Elements that carry active content or forms; never allowed in narrative. */
const FORBIDDEN = new Set([
  'script', 'object', 'applet', 'iframe', 'frame', 'frameset', 'form', 'input', 'button', 'select',
  'textarea', 'embed', 'base', 'link', 'meta', 'style', 'noscript', 'svg', 'math',
]);
/** Void elements (no closing tag needed). */
const VOID = new Set(['br', 'hr', 'img', 'col', 'area', 'wbr']);

function decodeEntities(text: string): string {
  return text
    .replace(/&#x([0-9a-f]+);?/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#([0-9]+);?/g, (_, d: string) => String.fromCodePoint(Number(d)))
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
  let last = 0;
  TAG.lastIndex = 0;
  for (let m = TAG.exec(text); m; m = TAG.exec(text)) {
    if (!hasContent && /\S/.test(text.slice(last, m.index))) hasContent = true;
    last = TAG.lastIndex;
    const name = m[3]?.toLowerCase();
    if (!name) continue; // comment, CDATA, processing instruction
    const local = name.includes(':') ? name.slice(name.indexOf(':') + 1) : name;
    if (FORBIDDEN.has(local)) return `<${local}> is not allowed in narrative`;
    if (m[2]) {
      if (stack.pop() !== name) return `unbalanced </${name}> in narrative`;
      continue;
    }
    const problem = checkAttributes(local, m[4] ?? '');
    if (problem) return problem;
    if (local === 'img') hasContent = true;
    if (!m[5] && !VOID.has(local)) stack.push(name);
  }
  if (stack.length) return `unclosed <${stack[stack.length - 1]}> in narrative`;
  if (/<(?![!?/A-Za-z])/.test(text)) return 'narrative contains a stray "<"';
  if (!hasContent) return 'narrative must have some non-whitespace content';
  return undefined;
}
