/**
 * Which ValueSet a `$expand` or `$validate-code` works on: the stored instance of the URL
 * (`ValueSet/{id}/$expand`), the `url` parameter (with `valueSetVersion`, or `url|version`) found
 * among stored then built-in value sets, or a `valueSet` given in the body (checked like a write,
 * 422 when invalid). Exactly one of them; an unknown URL answers 404. Both operations then expand
 * it the same way ({@link expandNamedValueSet}).
 * https://hl7.org/fhir/R4/valueset-operation-expand.html
 */
import { badRequest, notFound } from '../../fhir/outcomes.ts';
import { readStoredTerminology } from '../../service/terminology-resources.ts';
import { assertValid } from '../../service/write-ops.ts';
import { formatCanonical, parseCanonical } from '../../terminology/canonical.ts';
import { expandValueSet, type Expansion, type ExpandOptions } from '../../terminology/expand-value-set.ts';
import type { ValueSetResource } from '../../terminology/terminology-types.ts';
import type { OperationCall, OperationParam } from '../operation.ts';
import { createOperationTerminology, type OperationTerminology } from './terminology-source.ts';

/** How many codes the expander may compute for one request, as a multiple of the answer's cap. */
const COMPUTE_FACTOR = 10;

/** The parameters that name the value set ({@link resolveValueSet} reads them). */
export const VALUE_SET_PARAMS: readonly OperationParam[] = [
  { name: 'url', type: 'uri' },
  { name: 'valueSet', type: 'resource' },
  { name: 'valueSetVersion', type: 'string' },
];

/** The ValueSet an invocation names. */
export async function resolveValueSet(call: OperationCall, terminology: OperationTerminology): Promise<ValueSetResource> {
  const { params, id, deps, ctx } = call;
  const url = params.string('url');
  const given = params.object('valueSet');
  const sources = [id !== undefined, url !== undefined, given !== undefined].filter(Boolean).length;
  if (sources === 0) throw badRequest('Name the value set: a url parameter, a valueSet resource in a Parameters body, or ValueSet/{id}/$…', 'url');
  if (sources > 1) throw badRequest('Name the value set once: by the instance in the URL, by url, or by a valueSet resource, not several', 'url');
  if (id !== undefined) {
    const stored = await readStoredTerminology(deps.service.db, ctx, 'ValueSet', id);
    return stored.resource as ValueSetResource;
  }
  if (given !== undefined) {
    if (given.resourceType !== 'ValueSet') throw badRequest('The valueSet parameter must be a ValueSet resource', 'valueSet');
    assertValid(given, 'ValueSet', deps.config.limits.resource, 'valueSet');
    return given as ValueSetResource;
  }
  const canonical = parseCanonical(url!, params.string('valueSetVersion'));
  const vs = await terminology.findValueSet(canonical);
  if (!vs) throw notFound(`The value set ${formatCanonical(canonical)} is not known here (neither built in nor stored)`);
  return vs;
}

/**
 * The codes of the ValueSet an invocation names: resolved, its code systems and included value
 * sets fetched, expanded computing at most `TERMINOLOGY_MAX_EXPANSION` × {@link COMPUTE_FACTOR}
 * codes (422 `too-costly` beyond), an unknown system explained (stored ones the token may not read).
 */
export async function expandNamedValueSet(call: OperationCall, options: Omit<ExpandOptions, 'maxEntries'>): Promise<Expansion & { vs: ValueSetResource }> {
  const terminology = await createOperationTerminology(call.deps.service, call.ctx);
  const vs = await resolveValueSet(call, terminology);
  try {
    await terminology.prepare(vs);
    return { vs, ...expandValueSet(vs, terminology, { ...options, maxEntries: call.deps.config.terminology.maxExpansion * COMPUTE_FACTOR }) };
  } catch (err) {
    throw terminology.explain(err);
  }
}
