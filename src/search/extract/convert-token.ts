/**
 * token parameters: Coding, CodeableConcept, Identifier, ContactPoint and code-like primitives.
 * - Coding: system, code; `display` as `text`. CodeableConcept: one row per coding, plus a row
 *   with only `text` for CodeableConcept.text (the `:text` modifier matches either).
 * - Identifier: system and `value` as `code`; `type` codings as `ofType`, `type.text` as `text`.
 * - ContactPoint: `value` as `code`, system null (R4's token table: the ContactPoint system is
 *   "not used" for matching; `phone`/`email` parameters already select it).
 * - code primitives take the implicit system of their required binding when one code system of
 *   the value set holds the code (`gender=http://hl7.org/fhir/administrative-gender|male`);
 *   booleans are `true`/`false`; other string primitives are a code without a system.
 * https://hl7.org/fhir/R4/search.html#token
 */
import { loadFhirModel } from '../../fhir/fhir-model.ts';
import type { IndexRow, TokenRow } from '../index-rows.ts';
import { listOf, STRING_PRIMITIVES, textOf, type ConvertContext } from './convert-context.ts';
import { normalizeString } from './normalize-string.ts';
import type { PathNode } from './path-node.ts';

const implicitSystems = new Map<string, Map<string, string | null>>();

/** The one code system of `valueSet` that defines `code`, or null. */
function implicitSystem(valueSet: string, code: string): string | null {
  let byCode = implicitSystems.get(valueSet);
  if (!byCode) {
    byCode = new Map();
    for (const [system, codes] of Object.entries(loadFhirModel().getValueSet(valueSet)?.codes ?? {})) {
      for (const c of codes) byCode.set(c, byCode.has(c) ? null : system);
    }
    implicitSystems.set(valueSet, byCode);
  }
  return byCode.get(code) ?? null;
}

function norm(text: string | null): string | null {
  return text ? normalizeString(text) : null;
}

function pushCoding(param: string, coding: unknown, out: IndexRow[]): void {
  const system = textOf(coding, 'system');
  const code = textOf(coding, 'code');
  const text = norm(textOf(coding, 'display'));
  if (system === null && code === null && text === null) return;
  out.push({ kind: 'token', param, system, code, text });
}

function pushCodeableConcept(param: string, cc: unknown, out: IndexRow[]): void {
  for (const coding of listOf(cc, 'coding')) pushCoding(param, coding, out);
  const text = norm(textOf(cc, 'text'));
  if (text) out.push({ kind: 'token', param, system: null, code: null, text });
}

function pushIdentifier(param: string, identifier: unknown, out: IndexRow[]): void {
  const system = textOf(identifier, 'system');
  const code = textOf(identifier, 'value');
  if (system === null && code === null) return;
  const type = (identifier as { type?: unknown }).type;
  const row: TokenRow = { kind: 'token', param, system, code, text: norm(textOf(type, 'text')) };
  const ofType = listOf(type, 'coding').map((c) => ({ system: textOf(c, 'system'), code: textOf(c, 'code') }));
  if (ofType.length > 0) row.ofType = ofType;
  out.push(row);
}

function pushPrimitive(node: PathNode, param: string, out: IndexRow[]): void {
  const v = node.value;
  if (typeof v === 'boolean') {
    out.push({ kind: 'token', param, system: null, code: v ? 'true' : 'false' });
  } else if (typeof v === 'string' && v !== '') {
    const system = node.valueSet ? implicitSystem(node.valueSet, v) : null;
    out.push({ kind: 'token', param, system, code: v });
  }
}

/** Appends the token rows of one value. */
export function convertToken(node: PathNode, ctx: ConvertContext, out: IndexRow[]): void {
  switch (node.type) {
    case 'Coding':
      return pushCoding(ctx.param, node.value, out);
    case 'CodeableConcept':
      return pushCodeableConcept(ctx.param, node.value, out);
    case 'Identifier':
      return pushIdentifier(ctx.param, node.value, out);
    case 'ContactPoint': {
      const value = textOf(node.value, 'value');
      if (value) out.push({ kind: 'token', param: ctx.param, system: null, code: value });
      return;
    }
    default:
      if (node.type === 'boolean' || STRING_PRIMITIVES.has(node.type) || typeof node.value === 'string') {
        pushPrimitive(node, ctx.param, out);
      }
  }
}
