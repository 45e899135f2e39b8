/**
 * Which ValueSet a `$expand` or `$validate-code` works on: the stored instance of the URL
 * (`ValueSet/{id}/$expand`), the `url` parameter (with `valueSetVersion`, or `url|version`) found
 * among stored then built-in value sets, or a `valueSet` given in the body (checked like a write,
 * 422 when invalid). Exactly one of them; an unknown URL answers 404.
 * https://hl7.org/fhir/R4/valueset-operation-expand.html
 */
import { badRequest, notFound } from '../../fhir/outcomes.ts';
import { readStoredTerminology } from '../../service/terminology-resources.ts';
import { assertValid } from '../../service/write-ops.ts';
import { formatCanonical, parseCanonical } from '../../terminology/canonical.ts';
import type { ValueSetResource } from '../../terminology/terminology-types.ts';
import type { OperationCall } from '../operation.ts';
import type { OperationTerminology } from './terminology-source.ts';

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
