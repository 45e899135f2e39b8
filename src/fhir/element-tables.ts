/**
 * Precompiled per-type element tables for the validator: for a type or backbone element, every
 * JSON property name it allows (choice types expanded to `valueString`, `valueQuantity`, ...) with
 * its cardinality, type, reference targets and compiled required binding. Built lazily once per
 * table and kept for the life of the process.
 * https://hl7.org/fhir/R4/json.html  https://hl7.org/fhir/R4/formats.html#choice
 */
import { compileValueSet, type CompiledValueSet } from './validate-binding.ts';
import type { FhirModel } from './fhir-model.ts';
import type { ElementDef } from './model-types.ts';

/** How a child's value is walked. */
export type ChildKind = 'primitive' | 'complex' | 'backbone' | 'resource';

/** One allowed JSON property of an object. */
export interface ChildInfo {
  /** JSON property name (`valueQuantity`, `name`). */
  readonly name: string;
  readonly element: ElementDef;
  readonly isArray: boolean;
  readonly max: number;
  /** The FHIR type of this property (one variant of a choice). */
  readonly type: string;
  readonly kind: ChildKind;
  /** Table key for complex (type name) and backbone (element path) children. */
  readonly tableKey?: string;
  /** Allowed Reference target types; undefined = any. */
  readonly targets?: readonly string[];
  readonly binding?: CompiledValueSet;
}

/** The rules of one element (all its JSON names) for presence, cardinality and choice checks. */
export interface ElementRule {
  readonly element: ElementDef;
  /** Display name for issues: `value[x]` for choices, else the JSON name. */
  readonly label: string;
  readonly names: readonly string[];
  /** `_name` for each of {@link names} (primitive extension siblings). */
  readonly extensionNames: readonly string[];
  readonly isChoice: boolean;
}

/** The compiled table of one type or backbone element. */
export interface ElementTable {
  readonly key: string;
  readonly children: ReadonlyMap<string, ChildInfo>;
  readonly rules: readonly ElementRule[];
}

const EMPTY: ElementTable = { key: '', children: new Map(), rules: [] };

function capitalise(s: string): string {
  return s[0].toUpperCase() + s.slice(1);
}

/** Compiles tables from a model on demand; one instance per model. */
export class ElementTables {
  private readonly tables = new Map<string, ElementTable>();
  private readonly valueSets = new Map<string, CompiledValueSet>();
  private readonly primitives: ReadonlySet<string>;

  constructor(readonly model: FhirModel) {
    this.primitives = new Set(
      Object.entries(model.data.types).filter(([, t]) => t.kind === 'primitive-type').map(([n]) => n),
    );
  }

  /** True for FHIR primitive type names. */
  isPrimitive(type: string): boolean {
    return this.primitives.has(type);
  }

  /** The table for a type name or backbone element path (empty when unknown). */
  get(key: string): ElementTable {
    let table = this.tables.get(key);
    if (!table) {
      table = this.compile(key);
      this.tables.set(key, table);
    }
    return table;
  }

  private compile(key: string): ElementTable {
    const elements = this.model.getChildren(key);
    if (!elements.length) return key === 'Element' || this.model.getType(key) ? { ...EMPTY, key } : EMPTY;
    const children = new Map<string, ChildInfo>();
    const rules: ElementRule[] = [];
    for (const el of elements) {
      const last = el.path.slice(el.path.lastIndexOf('.') + 1);
      const isChoice = last.endsWith('[x]');
      const names: string[] = [];
      for (const info of this.childInfos(el, last, isChoice)) {
        children.set(info.name, info);
        names.push(info.name);
      }
      rules.push({ element: el, label: last, names, extensionNames: names.map((n) => `_${n}`), isChoice });
    }
    return { key, children, rules };
  }

  private childInfos(el: ElementDef, last: string, isChoice: boolean): ChildInfo[] {
    const max = el.max === '*' ? Infinity : Number(el.max);
    const isArray = el.max !== '1' && el.max !== '0';
    const binding = this.binding(el);
    if (el.contentReference) {
      const tableKey = el.contentReference.slice(el.contentReference.indexOf('#') + 1);
      return [{ name: last, element: el, isArray, max, type: 'BackboneElement', kind: 'backbone', tableKey }];
    }
    const base = isChoice ? last.slice(0, -3) : last;
    return (el.types ?? []).map((t) => {
      const name = isChoice ? base + capitalise(t.code) : base;
      const info: { -readonly [K in keyof ChildInfo]: ChildInfo[K] } = {
        name, element: el, isArray, max, type: t.code, kind: 'complex', binding,
      };
      if (t.targets && t.code === 'Reference') info.targets = t.targets;
      if (this.primitives.has(t.code)) info.kind = 'primitive';
      else if (t.code === 'Resource') info.kind = 'resource';
      else if (!isChoice && this.model.getChildren(el.path).length) {
        info.kind = 'backbone';
        info.tableKey = el.path;
      } else info.tableKey = t.code;
      return info;
    });
  }

  private binding(el: ElementDef): CompiledValueSet | undefined {
    const url = el.binding?.strength === 'required' ? el.binding.valueSet : undefined;
    if (!url) return undefined;
    let vs = this.valueSets.get(url);
    const def = this.model.getValueSet(url);
    if (!vs && def) {
      vs = compileValueSet(url, def);
      this.valueSets.set(url, vs);
    }
    return vs;
  }
}
