/**
 * `ValueSet/$expand` (type and instance level, GET and POST): the codes of a value set — stored,
 * built in, or given in the body — as a ValueSet with `expansion` (identifier, timestamp, total,
 * offset, parameters, flat `contains`), narrowed by `filter` (word prefixes of the display or
 * the code's start, case-insensitive), paged by `offset` and `count`, with designations and
 * without inactive codes on request. More than `TERMINOLOGY_MAX_EXPANSION` codes in one answer
 * is 422 `too-costly` (page with `count`); a value set that cannot be expanded here is 422.
 * https://hl7.org/fhir/R4/valueset-operation-expand.html
 */
import { randomUUID } from 'node:crypto';
import { badRequest } from '../fhir/outcomes.ts';
import { sendValue } from '../rest/reply.ts';
import { expansionTooCostly } from '../terminology/terminology-errors.ts';
import { MAX_FILTER_LENGTH, textMatcher } from '../terminology/text-filter.ts';
import type { ExpansionEntry, ValueSetResource } from '../terminology/terminology-types.ts';
import type { Operation, OperationCall } from './operation.ts';
import type { OperationParams } from './operation-parameters.ts';
import { expandNamedValueSet, VALUE_SET_PARAMS } from './terminology/resolve-value-set.ts';

/** What `$expand` was asked for beyond the value set. */
interface ExpandRequest {
  filter?: string;
  offset: number;
  count?: number;
  includeDesignations: boolean;
  activeOnly: boolean;
}

function readRequest(params: OperationParams): ExpandRequest {
  const filter = params.string('filter');
  if (filter !== undefined && filter.length > MAX_FILTER_LENGTH) throw badRequest(`Parameter "filter" may be at most ${MAX_FILTER_LENGTH} characters`, 'filter');
  const offset = params.integer('offset') ?? 0;
  const count = params.integer('count');
  if (offset < 0) throw badRequest('Parameter "offset" must not be negative', 'offset');
  if (count !== undefined && count < 0) throw badRequest('Parameter "count" must not be negative', 'count');
  return { filter, offset, count, includeDesignations: params.boolean('includeDesignations') ?? false, activeOnly: params.boolean('activeOnly') ?? false };
}

/** `expansion.parameter`: what the expansion was computed with. */
function expansionParameters(request: ExpandRequest, systems: Map<string, string | undefined>): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  if (request.filter !== undefined) out.push({ name: 'filter', valueString: request.filter });
  if (request.count !== undefined) out.push({ name: 'count', valueInteger: request.count });
  out.push({ name: 'offset', valueInteger: request.offset });
  if (request.includeDesignations) out.push({ name: 'includeDesignations', valueBoolean: true });
  if (request.activeOnly) out.push({ name: 'activeOnly', valueBoolean: true });
  for (const [system, version] of systems) if (version !== undefined) out.push({ name: 'version', valueUri: `${system}|${version}` });
  return out;
}

/** The work: `vs` expanded as `request` asks, at most `maxExpansion` codes in the answer. */
export function buildExpansion(vs: ValueSetResource, entries: ExpansionEntry[], systems: Map<string, string | undefined>, request: ExpandRequest, maxExpansion: number): ValueSetResource {
  const matching = request.filter === undefined ? entries : entries.filter(textMatcher(request.filter));
  const end = request.count === undefined ? matching.length : Math.min(matching.length, request.offset + request.count);
  const page = matching.slice(request.offset, Math.max(request.offset, end));
  if (page.length > maxExpansion) {
    throw expansionTooCostly(`The expansion has ${matching.length} codes, more than ${maxExpansion} in one answer (TERMINOLOGY_MAX_EXPANSION): page it with count and offset, or narrow it with filter`);
  }
  const { text: _text, expansion: _published, ...rest } = vs;
  return {
    ...rest,
    resourceType: 'ValueSet',
    expansion: {
      identifier: `urn:uuid:${randomUUID()}`,
      timestamp: new Date().toISOString(),
      total: matching.length,
      offset: request.offset,
      parameter: expansionParameters(request, systems),
      ...(page.length > 0 ? { contains: page } : {}),
    },
  };
}

async function handle(call: OperationCall): Promise<unknown> {
  const request = readRequest(call.params);
  const { vs, entries, systems } = await expandNamedValueSet(call, { activeOnly: request.activeOnly, includeDesignations: request.includeDesignations });
  return sendValue(call.request, call.reply, 200, buildExpansion(vs, entries, systems, request, call.deps.config.terminology.maxExpansion));
}

export const expandOperation: Operation = {
  name: 'expand',
  definition: 'http://hl7.org/fhir/OperationDefinition/ValueSet-expand',
  levels: ['type', 'instance'],
  resourceTypes: ['ValueSet'],
  permissions: ['r'],
  action: 'R',
  methods: ['GET', 'POST'],
  parameters: [
    ...VALUE_SET_PARAMS,
    { name: 'filter', type: 'string' },
    { name: 'offset', type: 'integer' },
    { name: 'count', type: 'integer' },
    { name: 'includeDesignations', type: 'boolean' },
    { name: 'activeOnly', type: 'boolean' },
    // Always honoured: the expansion is flat.
    { name: 'excludeNested', type: 'boolean' },
  ],
  handle,
};
