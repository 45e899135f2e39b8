import { describe, expect, it } from 'vitest';
import { checkNarrativeDiv } from '../../src/fhir/validate-narrative.ts';
import { cpuMsOf } from '../helpers/cpu-time.ts';

const div = (inner: string) => `<div xmlns="http://www.w3.org/1999/xhtml">${inner}</div>`;

describe('checkNarrativeDiv', () => {
  it('accepts ordinary XHTML narrative', () => {
    expect(checkNarrativeDiv(div('<p>Hello <b>world</b><br/></p><table><tr><td>1</td></tr></table>'))).toBeUndefined();
    expect(checkNarrativeDiv(div('<img src="x.png" alt="x"/>'))).toBeUndefined();
    expect(checkNarrativeDiv(div('<!-- note --><a href="http://example.org">link</a>'))).toBeUndefined();
  });

  it('requires a div root with the XHTML namespace', () => {
    expect(checkNarrativeDiv('<p>hi</p>')).toMatch(/div/);
    expect(checkNarrativeDiv('<div>hi</div>')).toMatch(/xmlns/);
  });

  it('refuses script, object, applet, iframe, form and embed', () => {
    for (const tag of ['script', 'object', 'applet', 'iframe', 'form', 'embed']) {
      expect(checkNarrativeDiv(div(`<${tag}>x</${tag}>`)), tag).toMatch(tag);
    }
  });

  it('refuses on* event attributes', () => {
    expect(checkNarrativeDiv(div('<p onclick="alert(1)">x</p>'))).toMatch(/onclick/);
    expect(checkNarrativeDiv(div("<img src='a.png' ONERROR='x'/>"))).toMatch(/onerror/);
  });

  it('refuses javascript: URLs, also when entity-encoded', () => {
    expect(checkNarrativeDiv(div('<a href="javascript:alert(1)">x</a>'))).toMatch(/script URL/);
    expect(checkNarrativeDiv(div('<a href=" JavaScript&#58;alert(1)">x</a>'))).toMatch(/script URL/);
  });

  it('refuses unbalanced tags and empty narrative', () => {
    expect(checkNarrativeDiv(div('<p>x'))).toMatch(/unbalanced|unclosed/);
    expect(checkNarrativeDiv(div('<p><b>x</p>'))).toMatch(/unbalanced/);
    expect(checkNarrativeDiv(div('x</p>'))).toMatch(/unbalanced/);
    expect(checkNarrativeDiv(div('  '))).toMatch(/non-whitespace/);
  });

  it('refuses malformed markup and stays fast on hostile input', () => {
    expect(checkNarrativeDiv(div('<a b<a b'))).toMatch(/malformed/);
    expect(checkNarrativeDiv(div('<!-- open'))).toMatch(/unterminated/);
    expect(checkNarrativeDiv(div('<a href="&#99999999999;">x</a>'))).toBeUndefined();
    const cpuMs = cpuMsOf(() => {
      for (const body of ['<!--'.repeat(200_000), '<a b'.repeat(200_000), '<?'.repeat(200_000), '<b>'.repeat(200_000)]) {
        expect(checkNarrativeDiv(div(body))).toBeDefined();
      }
    });
    expect(cpuMs).toBeLessThan(2000);
  });

  it('refuses a tag with thousands of attributes and a stray < in linear time (issue 14: 224 bytes took 10.8 s)', () => {
    // The input: `<p a="b"` then attributes, then `<</p>`; every two more attributes made
    // the old regular expression four times slower. Here 28 attributes, then 20,000.
    for (const attributes of [28, 20_000]) {
      const hostile = div(`<p${' a="b"'.repeat(attributes)}<</p>`);
      const cpuMs = cpuMsOf(() => expect(checkNarrativeDiv(hostile)).toMatch(/malformed/));
      expect(cpuMs, `CPU ms for ${attributes} attributes`).toBeLessThan(200);
    }
    const cpuMs = cpuMsOf(() => {
      expect(checkNarrativeDiv(div('<p a="b"'.repeat(28) + '<</p>'))).toMatch(/malformed/);
      expect(checkNarrativeDiv(div(`<p${" a='b' c=d e".repeat(30_000)}>x</p>`))).toBeUndefined();
    });
    expect(cpuMs).toBeLessThan(400);
  });

  it('reads quoted, unquoted and bare attributes, and self-closing tags', () => {
    expect(checkNarrativeDiv(div('<p class="a" title=\'b\' lang=en hidden>x</p><br /><img src = "i.png"/>'))).toBeUndefined();
    expect(checkNarrativeDiv(div('<a href = \'javascript:x\'>x</a>'))).toMatch(/script URL/);
    expect(checkNarrativeDiv(div('<a href=javascript:x>x</a>'))).toMatch(/script URL/);
    expect(checkNarrativeDiv(div('<p a="b"c="d">x</p>'))).toMatch(/malformed/);
    expect(checkNarrativeDiv(div('<p a="b>x</p>'))).toMatch(/malformed/);
  });
});
