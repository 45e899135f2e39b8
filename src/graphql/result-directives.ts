/**
 * The FHIR data-flattening directives (`@flatten`, `@first`, `@singleton`, `@slice`), applied to
 * the result after execution: they change its shape, never what is read, so resolvers, loaders
 * and access rules are untouched. The operation's selection sets (fragments followed, aliases
 * kept) are walked alongside the data, and each object is rebuilt from "slots": an output key and
 * the values collated into it. Operations without these directives pay one cached AST scan.
 *
 * Before execution, {@link prepareResultDirectives} checks each use against the schema and gives
 * every `@slice(path: "a.b")` field a hidden selection of its path (alias `__slice_a_b`), so the
 * discriminator is in the result even when the query does not select it.
 * https://hl7.org/fhir/R4/graphql.html#flattening
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import {
  BREAK, GraphQLError, Kind, TypeInfo, getNamedType, getNullableType, isInterfaceType, isLeafType, isListType, isObjectType,
  valueFromASTUntyped, visit, visitWithTypeInfo,
  type ASTNode, type DirectiveNode, type DocumentNode, type FieldNode, type FragmentDefinitionNode, type GraphQLSchema,
  type GraphQLType, type OperationDefinitionNode, type SelectionNode, type SelectionSetNode,
} from 'graphql';
import { RESULT_DIRECTIVE_NAMES, SLICE_INDEX_PATH } from '../codegen/directives.ts';

type JsonObject = Record<string, unknown>;
type Variables = Readonly<Record<string, unknown>>;

/** The response keys of a selection set, each with the field nodes GraphQL merged under it. */
type Fields = Map<string, readonly FieldNode[]>;

interface FieldDirectives {
  flatten: boolean;
  first: boolean;
  singleton: boolean;
  slice?: string;
}

/** How a slot renders: a list, one value (error if more), or the value as GraphQL produced it. */
type SlotKind = 'repeating' | 'singleton' | 'asIs';
interface Slot { kind: SlotKind; contributions: unknown[]; node: FieldNode }

/** Where fields are being written: the suffix of enclosing slices, and whether a flattened list encloses them. */
interface Scope { suffix: string; inheritedList: boolean; collated: boolean }

const SLICE_ALIAS_PREFIX = '__slice_';
const PATH_SYNTAX = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const KIND_RANK: Record<SlotKind, number> = { asIs: 0, repeating: 1, singleton: 2 };
const usesCache = new WeakMap<DocumentNode, boolean>();

/** A client error (`BAD_USER_INPUT`, HTTP 400 when raised before execution). */
function userError(message: string, node?: ASTNode): GraphQLError {
  return new GraphQLError(message, { nodes: node, extensions: { code: 'BAD_USER_INPUT', status: 400, http: { status: 400 } } });
}

/**
 * Whether the document uses any of the four directives (cached per document: Apollo reuses the
 * parsed document of a repeated query), so that other operations skip all the work here.
 */
export function hasResultDirectives(document: DocumentNode): boolean {
  let uses = usesCache.get(document);
  if (uses === undefined) {
    uses = false;
    visit(document, {
      Directive(node) {
        if (!RESULT_DIRECTIVE_NAMES.includes(node.name.value)) return undefined;
        uses = true;
        return BREAK;
      },
    });
    usesCache.set(document, uses);
  }
  return uses;
}

/** The hidden alias under which the value of a `@slice` path is selected. */
function sliceAlias(path: string): string {
  return SLICE_ALIAS_PREFIX + path.replaceAll('.', '_');
}

function slicePathOf(directive: DirectiveNode, variables: Variables): string {
  const arg = directive.arguments?.find((a) => a.name.value === 'path');
  const path = arg ? valueFromASTUntyped(arg.value, variables) : undefined;
  if (typeof path !== 'string' || path === '') throw userError('@slice needs a path, e.g. @slice(path: "use") or @slice(path: "$index")', directive);
  if (path !== SLICE_INDEX_PATH && !PATH_SYNTAX.test(path)) {
    throw userError(`@slice(path: "${path}") is not supported: use "${SLICE_INDEX_PATH}" or an element path such as "use" or "type.text"`, directive);
  }
  return path;
}

function readDirectives(nodes: readonly FieldNode[], variables: Variables): FieldDirectives {
  const found: FieldDirectives = { flatten: false, first: false, singleton: false };
  for (const node of nodes) {
    for (const directive of node.directives ?? []) {
      const name = directive.name.value;
      if (name === 'flatten') found.flatten = true;
      else if (name === 'first') found.first = true;
      else if (name === 'singleton') found.singleton = true;
      else if (name === 'slice') found.slice = slicePathOf(directive, variables);
    }
  }
  return found;
}

/**
 * Before execution: refuses misuse with `BAD_USER_INPUT` (`@first` or `@slice` on a field that is
 * not a list, `@first` with `@slice`, `@flatten` on a leaf, a missing or unknown `@slice` path, and
 * flattened children of different types collated under one name, which the page forbids), and
 * returns the document with each `@slice` path selected under its hidden alias (the same document
 * when there is none). https://hl7.org/fhir/R4/graphql.html#flattening
 */
export function prepareResultDirectives(schema: GraphQLSchema, document: DocumentNode, variables: Variables = {}): DocumentNode {
  const typeInfo = new TypeInfo(schema);
  // One frame per output object: keys written into it and their types; a flattened field shares its parent's keys.
  const frames: { keys: Map<string, { type: string; flattened: boolean }>; flattened: boolean }[] = [];
  const definition = { enter: () => { frames.push({ keys: new Map(), flattened: false }); }, leave: () => { frames.pop(); } };
  return visit(document, visitWithTypeInfo(typeInfo, {
    OperationDefinition: definition,
    FragmentDefinition: definition,
    Field: {
      enter(node) {
        const type = typeInfo.getType();
        const top = frames[frames.length - 1];
        if (type) recordKey(top, node, type);
        const directives = readDirectives([node], variables);
        if (node.selectionSet) {
          const sliced = directives.flatten && directives.slice !== undefined;
          frames.push(directives.flatten ? { keys: sliced ? new Map() : top.keys, flattened: true } : { keys: new Map(), flattened: false });
        }
        if (!type) return undefined;
        return checkField(node, type, directives);
      },
      leave(node) {
        if (node.selectionSet) frames.pop();
      },
    },
  }));

  function recordKey(frame: (typeof frames)[number], node: FieldNode, type: GraphQLType): void {
    const key = node.alias?.value ?? node.name.value;
    const name = getNamedType(type).name;
    const seen = frame.keys.get(key);
    if (!seen) frame.keys.set(key, { type: name, flattened: frame.flattened });
    else if (seen.type !== name && (seen.flattened || frame.flattened)) {
      throw userError(`@flatten collates "${key}" of types ${seen.type} and ${name}; collated children must have the same type`, node);
    }
  }

  function checkField(node: FieldNode, type: GraphQLType, directives: FieldDirectives): FieldNode | undefined {
    const name = node.name.value;
    const isList = isListType(getNullableType(type));
    if (directives.first && !isList) throw userError(`@first applies to a list field; "${name}" is not a list`, node);
    if (directives.slice !== undefined && !isList) throw userError(`@slice applies to a list field; "${name}" is not a list`, node);
    if (directives.first && directives.slice !== undefined) throw userError(`@first and @slice cannot be combined (on "${name}")`, node);
    if (directives.flatten && !node.selectionSet) throw userError(`@flatten applies to a field with a selection set; "${name}" has none`, node);
    if (directives.slice === undefined || directives.slice === SLICE_INDEX_PATH) return undefined;
    return withSlicePath(node, getNamedType(type), directives.slice);
  }
}

/** The field with its `@slice` path selected under the hidden alias (`a.b` → `__slice_a_b: a { b }`). */
function withSlicePath(node: FieldNode, itemType: GraphQLType, path: string): FieldNode {
  const segments = path.split('.');
  let type: GraphQLType = itemType;
  for (const segment of segments) {
    const named = getNamedType(type);
    const field = isObjectType(named) || isInterfaceType(named) ? named.getFields()[segment] : undefined;
    if (!field) throw userError(`@slice(path: "${path}"): ${named.name} has no element "${segment}"`, node);
    type = field.type;
  }
  if (!isLeafType(getNamedType(type))) throw userError(`@slice(path: "${path}") must end at a primitive element`, node);
  let selection: FieldNode | undefined;
  for (const segment of [...segments].reverse()) {
    selection = {
      kind: Kind.FIELD,
      name: { kind: Kind.NAME, value: segment },
      selectionSet: selection && { kind: Kind.SELECTION_SET, selections: [selection] },
    };
  }
  const hidden: FieldNode = { ...selection!, alias: { kind: Kind.NAME, value: sliceAlias(path) } };
  const selections: readonly SelectionNode[] = node.selectionSet?.selections ?? [];
  return { ...node, selectionSet: { kind: Kind.SELECTION_SET, selections: [...selections, hidden] } };
}

/** The per-operation state of one reshaping: fragments, variables, and memoised field groupings. */
class Shaper {
  private readonly subfields = new WeakMap<readonly FieldNode[], Fields>();
  private readonly directives = new WeakMap<readonly FieldNode[], FieldDirectives>();

  constructor(private readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>, private readonly variables: Variables) {}

  /** GraphQL's CollectFields without the type conditions: the data says which fields are present. */
  collect(sets: readonly SelectionSetNode[], into: Map<string, FieldNode[]> = new Map(), spread = new Set<string>()): Fields {
    for (const set of sets) {
      for (const selection of set.selections) {
        if (selection.kind === Kind.FIELD) {
          const key = selection.alias?.value ?? selection.name.value;
          into.set(key, [...(into.get(key) ?? []), selection]);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          this.collect([selection.selectionSet], into, spread);
        } else if (!spread.has(selection.name.value)) {
          spread.add(selection.name.value);
          const fragment = this.fragments.get(selection.name.value);
          if (fragment) this.collect([fragment.selectionSet], into, spread);
        }
      }
    }
    return into;
  }

  childrenOf(nodes: readonly FieldNode[]): Fields {
    let fields = this.subfields.get(nodes);
    if (!fields) {
      fields = this.collect(nodes.flatMap((n) => (n.selectionSet ? [n.selectionSet] : [])));
      this.subfields.set(nodes, fields);
    }
    return fields;
  }

  directivesOf(nodes: readonly FieldNode[]): FieldDirectives {
    let found = this.directives.get(nodes);
    if (!found) {
      found = readDirectives(nodes, this.variables);
      this.directives.set(nodes, found);
    }
    return found;
  }

  /** An object rebuilt from its selection: a fresh output object, with no enclosing slice or flatten. */
  shapeObject(fields: Fields, source: JsonObject): JsonObject {
    const target = new Map<string, Slot>();
    this.emit(fields, source, target, { suffix: '', inheritedList: false, collated: false });
    return render(target);
  }

  /** A value as a field of a new output object: objects (and lists of them) are rebuilt. */
  shapeValue(value: unknown, nodes: readonly FieldNode[]): unknown {
    if (value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((item) => this.shapeValue(item, nodes));
    const children = this.childrenOf(nodes);
    return children.size === 0 ? value : this.shapeObject(children, value as JsonObject);
  }

  /** Writes the fields of one source object into the target object, as their directives say. */
  emit(fields: Fields, source: JsonObject, target: Map<string, Slot>, scope: Scope): void {
    for (const [key, nodes] of fields) {
      // Absent: skipped (`@skip`/`@include`) or under a type condition this object does not meet.
      if (key.startsWith(SLICE_ALIAS_PREFIX) || !Object.hasOwn(source, key)) continue;
      const value = source[key];
      const d = this.directivesOf(nodes);
      const isList = Array.isArray(value);
      const all: unknown[] = value === null || value === undefined ? [] : isList ? value : [value];
      const items = d.first ? all.slice(0, 1) : all;
      if (d.flatten) {
        const inner = { inheritedList: scope.inheritedList || (isList && !d.first), collated: true };
        const children = this.childrenOf(nodes);
        items.forEach((item, index) => {
          if (item === null || typeof item !== 'object') return;
          const suffix = d.slice === undefined ? scope.suffix : `${scope.suffix}.${discriminator(item as JsonObject, index, d.slice)}`;
          this.emit(children, item as JsonObject, target, { ...inner, suffix });
        });
      } else if (d.slice !== undefined) {
        const kind = d.singleton ? 'singleton' : 'repeating';
        items.forEach((item, index) => {
          const name = `${key}${scope.suffix}.${discriminator(item, index, d.slice!)}`;
          contribute(target, name, kind, this.shapeValue(item, nodes), scope.collated, nodes[0]);
        });
      } else {
        const kind = d.singleton ? 'singleton' : scope.inheritedList ? 'repeating' : 'asIs';
        const shaped = this.shapeValue(d.first ? (items[0] ?? null) : value, nodes);
        contribute(target, key + scope.suffix, kind, shaped, scope.collated, nodes[0]);
      }
    }
  }
}

/** The suffix of one element of a sliced list: its index, or the value of the path on it. */
function discriminator(item: unknown, index: number, path: string): string {
  if (path === SLICE_INDEX_PATH) return String(index);
  if (item === null || typeof item !== 'object') return '';
  const [head, ...rest] = path.split('.');
  const object = item as JsonObject;
  const start = Object.hasOwn(object, sliceAlias(path)) ? object[sliceAlias(path)] : object[head];
  return valuesAt(start, rest).map(String).join(',');
}

function valuesAt(value: unknown, segments: readonly string[]): unknown[] {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value.flatMap((v) => valuesAt(v, segments));
  if (segments.length === 0) return [value];
  if (typeof value !== 'object') return [];
  return valuesAt((value as JsonObject)[segments[0]], segments.slice(1));
}

/** Adds a value to an output key; inside a flattened field, nothing (null, `[]`) adds nothing. */
function contribute(target: Map<string, Slot>, key: string, kind: SlotKind, value: unknown, collated: boolean, node: FieldNode): void {
  if (collated && (value === null || value === undefined || (Array.isArray(value) && value.length === 0))) return;
  const slot = target.get(key);
  if (!slot) target.set(key, { kind, contributions: [value], node });
  else {
    slot.contributions.push(value);
    if (KIND_RANK[kind] > KIND_RANK[slot.kind]) slot.kind = kind;
  }
}

function render(target: Map<string, Slot>): JsonObject {
  const out: JsonObject = {};
  for (const [key, slot] of target) {
    const { kind, contributions } = slot;
    if (kind === 'asIs' && contributions.length === 1) {
      out[key] = contributions[0];
      continue;
    }
    const values = contributions.flatMap((c) => (c === null || c === undefined ? [] : Array.isArray(c) ? c : [c]));
    if (kind !== 'singleton') out[key] = values;
    else if (values.length > 1) throw userError(`"${key}" is marked @singleton but has ${values.length} values`, slot.node);
    else out[key] = values[0] ?? null;
  }
  return out;
}

/**
 * Reshapes an execution result as the operation's directives say: `@flatten` puts a field's
 * children in its parent (lists when the field repeats, unless `@singleton`), `@first` keeps the
 * first element, `@singleton` makes a collated field one value (a `BAD_USER_INPUT` GraphQLError is
 * thrown if it has more), `@slice(path:)` splits a list into `<name>.<value>` fields. Returns the
 * data unchanged when the document uses none of them. `variables` serve a `@slice` path given by
 * a variable. https://hl7.org/fhir/R4/graphql.html#flattening
 */
export function applyResultDirectives(
  document: DocumentNode, operationName: string | undefined, data: Record<string, unknown>, variables: Variables = {},
): Record<string, unknown> {
  if (!hasResultDirectives(document)) return data;
  const fragments = new Map<string, FragmentDefinitionNode>();
  const operations: OperationDefinitionNode[] = [];
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    else if (definition.kind === Kind.OPERATION_DEFINITION) operations.push(definition);
  }
  const operation = operationName === undefined ? (operations.length === 1 ? operations[0] : undefined) : operations.find((o) => o.name?.value === operationName);
  if (!operation) return data;
  const shaper = new Shaper(fragments, variables);
  return shaper.shapeObject(shaper.collect([operation.selectionSet]), data);
}

/**
 * Apollo Server plugin running the directives: `didResolveOperation` checks the operation and
 * selects the `@slice` paths ({@link prepareResultDirectives}; misuse fails the request with
 * `BAD_USER_INPUT` and HTTP 400), `willSendResponse` reshapes `data` ({@link applyResultDirectives};
 * a `@singleton` with several values answers `data: null` and a `BAD_USER_INPUT` error). It must
 * come before any plugin that reshapes `data` itself (the instance-level `$graphql` unwrapping).
 * https://hl7.org/fhir/R4/graphql.html#flattening
 */
export const resultDirectivesPlugin: ApolloServerPlugin<BaseContext> = {
  async requestDidStart() {
    let active = false;
    return {
      async didResolveOperation(requestContext) {
        if (!requestContext.source?.includes('@') || !hasResultDirectives(requestContext.document)) return;
        active = true;
        const prepared = prepareResultDirectives(requestContext.schema, requestContext.document, requestContext.request.variables ?? {});
        // Apollo executes `requestContext.document` after this hook; the cached parsed document is left as it was.
        if (prepared !== requestContext.document) (requestContext as { document: DocumentNode }).document = prepared;
      },
      async willSendResponse({ response, document, request }) {
        if (!active || !document || response.body.kind !== 'single') return;
        const result = response.body.singleResult;
        if (!result.data) return;
        try {
          result.data = applyResultDirectives(document, request.operationName ?? undefined, result.data, request.variables ?? {});
        } catch (err) {
          if (!(err instanceof GraphQLError)) throw err;
          const { http: _http, ...extensions } = err.extensions;
          result.data = null;
          result.errors = [...(result.errors ?? []), { ...err.toJSON(), extensions }];
        }
      },
    };
  },
};
