/**
 * The terminology an operation works over: the caller's stored CodeSystems and ValueSets first,
 * then the built-in ones of R4 (a clinic may store a newer version of a canonical, or its own
 * under the same URL). Stored resources are fetched before the expansion runs — the value set's
 * code systems and imported value sets, transitively, at most {@link MAX_FETCHES} canonicals —
 * so the pure expander (src/terminology/) runs no I/O. A type the caller may not read is not
 * consulted, and a failure to find something says so.
 * https://hl7.org/fhir/R4/terminology-service.html
 */
import type { RequestContext } from '../../service/request-context.ts';
import type { FhirService } from '../../service/fhir-service.ts';
import { findStoredTerminology, readableTerminology, type TerminologyType } from '../../service/terminology-resources.ts';
import { loadBuiltinTerminology } from '../../terminology/builtin-terminology.ts';
import { formatCanonical, type Canonical } from '../../terminology/canonical.ts';
import { composeReferences } from '../../terminology/compose-references.ts';
import { expansionTooCostly, TerminologyError } from '../../terminology/terminology-errors.ts';
import type { CodeSystemResource, TerminologySource, ValueSetResource } from '../../terminology/terminology-types.ts';

/** At most this many canonicals are looked up in the store for one request (422 `too-costly` beyond). */
export const MAX_FETCHES = 50;

/** A source over stored then built-in resources, and what it could not consult. */
export interface OperationTerminology extends TerminologySource {
  /** Loads what `vs` needs (and what that needs) from the store. */
  prepare(vs: ValueSetResource): Promise<void>;
  /** Finds one canonical now (stored first). */
  findCodeSystem(canonical: Canonical): Promise<CodeSystemResource | undefined>;
  findValueSet(canonical: Canonical): Promise<ValueSetResource | undefined>;
  /** Adds why an unknown canonical may be unknown (a type the caller may not read) to a 422. */
  explain(err: unknown): unknown;
}

const keyOf = (c: Canonical) => formatCanonical(c);

/** Builds the source for one request. */
export async function createOperationTerminology(service: FhirService, ctx: RequestContext): Promise<OperationTerminology> {
  const builtin = await loadBuiltinTerminology();
  const stored = { CodeSystem: new Map<string, CodeSystemResource | null>(), ValueSet: new Map<string, ValueSetResource | null>() };
  let fetches = 0;

  async function fetchStored(type: TerminologyType, canonical: Canonical): Promise<void> {
    const cache = stored[type] as Map<string, unknown>;
    const key = keyOf(canonical);
    if (cache.has(key)) return;
    if (++fetches > MAX_FETCHES) throw expansionTooCostly(`The value set draws on more than ${MAX_FETCHES} code systems and value sets`);
    const found = await findStoredTerminology(service.db, ctx, type, canonical.url, canonical.version);
    cache.set(key, found && found.resource.resourceType === type ? found.resource : null);
  }

  const codeSystem = (url: string, version?: string) => stored.CodeSystem.get(keyOf({ url, version })) ?? builtin.codeSystem(url, version);
  const valueSet = (url: string, version?: string) => stored.ValueSet.get(keyOf({ url, version })) ?? builtin.valueSet(url, version);

  async function prepare(root: ValueSetResource): Promise<void> {
    const queue = [root];
    const seen = new Set<string>();
    while (queue.length > 0) {
      const vs = queue.shift()!;
      const { codeSystems, valueSets } = composeReferences(vs);
      for (const c of codeSystems) await fetchStored('CodeSystem', c);
      for (const c of valueSets) {
        if (seen.has(keyOf(c))) continue;
        seen.add(keyOf(c));
        await fetchStored('ValueSet', c);
        const next = valueSet(c.url, c.version);
        if (next) queue.push(next);
      }
    }
  }

  return {
    codeSystem,
    valueSet,
    prepare,
    async findCodeSystem(c) {
      await fetchStored('CodeSystem', c);
      return codeSystem(c.url, c.version);
    },
    async findValueSet(c) {
      await fetchStored('ValueSet', c);
      return valueSet(c.url, c.version);
    },
    explain(err) {
      if (!(err instanceof TerminologyError) || err.reason !== 'unknown') return err;
      const unread = (['CodeSystem', 'ValueSet'] as const).filter((t) => !readableTerminology(ctx, t));
      if (unread.length === 0) return err;
      const issue = err.outcome.issue[0];
      issue.diagnostics = `${issue.diagnostics} (stored ${unread.join(' and ')} resources were not consulted: the access token may not read them)`;
      return err;
    },
  };
}
