/**
 * Expands a ValueSet's `compose` — include and exclude, each by explicit concepts, by filters, by
 * a whole code system (one defined here in full: `content = complete`) and by imported value sets
 * (`include.valueSet`, intersected with the include's system part) — into a flat list of codes,
 * in the order the compose and the code systems give them, each code once. A value set whose
 * compose needs what this server does not have (SNOMED CT, LOINC, an unknown system, an
 * unsupported filter) falls back to the expansion it carries (the built-in ones carry the
 * published expansion where the package cannot expand them), else fails with 422.
 * The same expander derives the model's required bindings (model-value-sets.ts).
 * https://hl7.org/fhir/R4/valueset.html#compositions  https://hl7.org/fhir/R4/valueset-operation-expand.html
 */
import { indexCodeSystem, isAbstract, isInactive, type CodeSystemIndex } from './code-system-index.ts';
import { applyComposeFilter } from './compose-filters.ts';
import { formatCanonical, parseCanonical } from './canonical.ts';
import { expansionTooCostly, TerminologyError, unknownCanonical, unsupported } from './terminology-errors.ts';
import type { ComposeInclude, Designation, ExpansionEntry, TerminologySource, ValueSetResource } from './terminology-types.ts';

/** How to expand. */
export interface ExpandOptions {
  /** Leave inactive codes out (also when the compose says `inactive: false`). */
  activeOnly?: boolean;
  /** Keep designations on the entries. */
  includeDesignations?: boolean;
  /** At most this many codes are computed, in any value set on the way (422 `too-costly` beyond). */
  maxEntries: number;
}

/** An expansion: its codes and the code systems (with the versions) they came from. */
export interface Expansion {
  entries: ExpansionEntry[];
  /** Code system URL → the version used (undefined when the system states none). */
  systems: Map<string, string | undefined>;
}

type Entries = Map<string, ExpansionEntry>;

const keyOf = (system: string, code: string) => `${system}\u0000${code}`;

/** A label for messages: the value set's url (and version) or its id. */
export function labelOf(vs: ValueSetResource): string {
  if (typeof vs.url === 'string') return formatCanonical({ url: vs.url, version: vs.version });
  return vs.id ? `ValueSet/${vs.id}` : 'the ValueSet';
}

class Expander {
  private readonly memo = new Map<string, Entries>();
  private readonly active = new Set<string>();
  readonly systems = new Map<string, string | undefined>();

  constructor(private readonly source: TerminologySource, private readonly options: ExpandOptions) {}

  private bounded(entries: Entries, label: string): Entries {
    if (entries.size > this.options.maxEntries) {
      throw expansionTooCostly(`${label} has more than ${this.options.maxEntries} codes: too many to expand here`);
    }
    return entries;
  }

  private designations(...lists: (Designation[] | undefined)[]): Designation[] | undefined {
    if (!this.options.includeDesignations) return undefined;
    const all = lists.flatMap((l) => l ?? []);
    return all.length > 0 ? all : undefined;
  }

  private completeIndex(inc: ComposeInclude): CodeSystemIndex {
    const system = inc.system!;
    const cs = this.source.codeSystem(system, inc.version);
    const named = formatCanonical({ url: system, version: inc.version });
    if (!cs) throw unknownCanonical(`The code system ${named} is not known here (neither built in nor stored), so its codes cannot be enumerated; list the codes in compose.include.concept instead`);
    if (cs.content !== 'complete') throw unsupported(`The code system ${named} is not held here in full (content = ${cs.content ?? 'unknown'}), so its codes cannot be enumerated; list the codes in compose.include.concept instead`);
    return indexCodeSystem(cs);
  }

  private systemPart(inc: ComposeInclude): Entries {
    const system = inc.system!;
    const out: Entries = new Map();
    if (inc.concept) {
      const cs = this.source.codeSystem(system, inc.version);
      const index = cs ? indexCodeSystem(cs) : undefined;
      const version = cs?.version ?? inc.version;
      this.systems.set(system, version);
      for (const listed of inc.concept) {
        if (typeof listed?.code !== 'string') continue;
        const known = index?.concepts.get(listed.code)?.concept;
        const entry: ExpansionEntry = { system, code: listed.code };
        if (version !== undefined) entry.version = version;
        const display = listed.display ?? known?.display;
        if (display !== undefined) entry.display = display;
        if (known && isAbstract(known)) entry.abstract = true;
        if (known && isInactive(known)) entry.inactive = true;
        const designation = this.designations(listed.designation, known?.designation);
        if (designation) entry.designation = designation;
        out.set(keyOf(system, listed.code), entry);
      }
      return out;
    }
    const index = this.completeIndex(inc);
    const version = index.codeSystem.version;
    this.systems.set(system, version);
    let codes = [...index.concepts.keys()];
    for (const filter of inc.filter ?? []) {
      const keep = new Set(applyComposeFilter(index, filter, system));
      codes = codes.filter((c) => keep.has(c));
    }
    for (const code of codes) {
      const { concept } = index.concepts.get(code)!;
      const entry: ExpansionEntry = { system, code };
      if (version !== undefined) entry.version = version;
      if (concept.display !== undefined) entry.display = concept.display;
      if (isAbstract(concept)) entry.abstract = true;
      if (isInactive(concept)) entry.inactive = true;
      const designation = this.designations(concept.designation);
      if (designation) entry.designation = designation;
      out.set(keyOf(system, code), entry);
    }
    return out;
  }

  private includeEntries(inc: ComposeInclude, label: string): Entries {
    let result: Entries | undefined;
    if (typeof inc?.system === 'string') result = this.systemPart(inc);
    for (const ref of inc?.valueSet ?? []) {
      const { url, version } = parseCanonical(String(ref));
      const vs = this.source.valueSet(url, version);
      if (!vs) throw unknownCanonical(`${label} includes the value set ${String(ref)}, which is not known here (neither built in nor stored)`);
      const other = this.valueSetEntries(vs);
      result = result ? new Map([...result].filter(([key]) => other.has(key))) : other;
    }
    if (!result) throw unsupported(`${label} has an include with neither a system nor a valueSet`);
    return result;
  }

  private fromCompose(vs: ValueSetResource, label: string): Entries {
    if (!vs.compose) throw unsupported(`${label} has no compose to expand`);
    const out: Entries = new Map();
    for (const inc of vs.compose.include ?? []) {
      for (const [key, entry] of this.includeEntries(inc, label)) if (!out.has(key)) out.set(key, entry);
      this.bounded(out, label);
    }
    for (const exc of vs.compose.exclude ?? []) for (const key of this.includeEntries(exc, label).keys()) out.delete(key);
    if (this.options.activeOnly || vs.compose.inactive === false) for (const [key, e] of out) if (e.inactive) out.delete(key);
    return out;
  }

  private fromPublished(vs: ValueSetResource): Entries {
    const out: Entries = new Map();
    const walk = (list: ExpansionEntry[]) => {
      for (const c of list) {
        if (typeof c?.system === 'string' && typeof c.code === 'string' && !out.has(keyOf(c.system, c.code))) {
          const { contains: _nested, ...entry } = c;
          if (!this.options.includeDesignations) delete entry.designation;
          if (!(this.options.activeOnly && entry.inactive)) out.set(keyOf(c.system, c.code), entry);
          if (!this.systems.has(c.system)) this.systems.set(c.system, c.version);
        }
        if (Array.isArray(c?.contains)) walk(c.contains);
      }
    };
    walk(vs.expansion!.contains!);
    return out;
  }

  valueSetEntries(vs: ValueSetResource): Entries {
    const label = labelOf(vs);
    const known = this.memo.get(label);
    if (known) return known;
    if (this.active.has(label)) throw unsupported(`${label} includes itself`);
    this.active.add(label);
    let entries: Entries;
    try {
      entries = this.fromCompose(vs, label);
    } catch (err) {
      if (!(err instanceof TerminologyError) || err.reason === 'too-costly' || !Array.isArray(vs.expansion?.contains)) throw err;
      entries = this.fromPublished(vs);
    } finally {
      this.active.delete(label);
    }
    this.memo.set(label, this.bounded(entries, label));
    return entries;
  }
}

/** Expands `vs` over `source`; throws a {@link TerminologyError} (422) when it cannot. */
export function expandValueSet(vs: ValueSetResource, source: TerminologySource, options: ExpandOptions): Expansion {
  const expander = new Expander(source, options);
  const entries = [...expander.valueSetEntries(vs).values()];
  return { entries, systems: expander.systems };
}
