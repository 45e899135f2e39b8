/**
 * A lightweight scanner for XHTML narrative (`Narrative.div`): the root must be an XHTML `div`,
 * no active content (`script`, `object`, `applet`, `iframe`, `form`, `embed`, ...), no `on*`
 * event attributes, no `javascript:` URLs, tags balanced, and some text or an image (txt-1, txt-2).
 * No DOM parser: a tag scanner is enough to refuse what the rules forbid (DECISIONS §8). Every
 * step is linear in the length of the text, whatever it holds (issue 14: a regular expression
 * for tags backtracked exponentially on a tag with many attributes).
 * https://hl7.org/fhir/R4/narrative.html#xhtml
 */
import { scanTag, type MarkupTag } from './scan-markup-tag.ts';

const ROOT_OPEN = /^<div(\s[^>]*)?>/;
const XMLNS = /\sxmlns\s*=\s*("http:\/\/www\.w3\.org\/1999\/xhtml"|'http:\/\/www\.w3\.org\/1999\/xhtml')/;
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

function checkAttributes(tag: string, attributes: MarkupTag['attributes']): string | undefined {
  for (const [rawName, raw] of attributes) {
    const name = rawName.toLowerCase();
    if (name.startsWith('on')) return `event attribute ${name} on <${tag}> is not allowed in narrative`;
    if (!raw) continue;
    const value = raw.includes('&') ? decodeEntities(raw) : raw;
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
    const tag = scanTag(text, lt);
    if (!tag) return `malformed markup at offset ${lt} in narrative`;
    pos = tag.end;
    const name = tag.name.toLowerCase();
    const local = name.includes(':') ? name.slice(name.indexOf(':') + 1) : name;
    if (FORBIDDEN.has(local)) return `<${local}> is not allowed in narrative`;
    if (tag.closing) {
      if (stack.pop() !== name) return `unbalanced </${name}> in narrative`;
      continue;
    }
    const problem = checkAttributes(local, tag.attributes);
    if (problem) return problem;
    if (local === 'img') hasContent = true;
    if (!tag.selfClosing && !VOID.has(local)) stack.push(name);
  }
  if (!hasContent && HAS_TEXT.test(text.slice(pos))) hasContent = true;
  if (stack.length) return `unclosed <${stack[stack.length - 1]}> in narrative`;
  if (!hasContent) return 'narrative must have some non-whitespace content';
  return undefined;
}
