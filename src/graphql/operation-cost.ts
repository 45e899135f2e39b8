/**
 * What a GraphQL operation may cost, computed before it runs from the operation and its coerced
 * variables (https://spec.graphql.org/October2021/#sec-Coercing-Variable-Values), in one walk
 * that costs each fragment once:
 *
 * - `resources`: how many resources it may return (checked against `GRAPHQL_MAX_COST`). A search
 *   (`TList`, `TConnection`, a reverse reference) returns up to its `_count` (default
 *   `DEFAULT_COUNT`, at most `MAX_COUNT`; a connection's arguments may come from its `_cursor`,
 *   `connection-cursor.ts`) times what it nests; in a connection (a list ignores
 *   them) `_include` up to one resource per match for each parameter, `_revinclude` and `*` up to
 *   `SEARCH_MAX_INCLUDED` (what the search includes at most per page);
 *   an accurate total (`_total: "accurate"`, or a connection's `count`) is priced as a full
 *   page (`MAX_COUNT`); `T(_id:)`, `Reference.resource`, each `_entities` representation,
 *   each mutation and a subscription's field (per event: what one event may return) one; any other root field (`_clients`) a full page; and by the size of their
 *   answer, at about 4 KB a resource: `__schema` {@link SCHEMA_INTROSPECTION_COST} and `_service`
 *   {@link SERVICE_SDL_COST} (each at most `GRAPHQL_MAX_COST`, so one always fits), `__type(name:)`
 *   one per {@link TYPE_ELEMENTS_PER_RESOURCE} members of the named type (`Query` about 210).
 *   How many of those one operation may select is bounded by `schema-operation.ts`.
 * - `units`: the rate-limit units it is charged, one unit being one read, search or write against
 *   the database, as a REST interaction is: each root field 1, a search's accurate or estimated
 *   total 1 and each include parameter 1, a reverse reference or `Reference.resource` 1 wherever
 *   it is selected (the request's loaders read it for every parent of a level in one statement,
 *   so it costs what one REST search with `_revinclude` or `_include` would), `_entities` 1 per
 *   type its representations name. What an operation may return is bounded by `resources`.
 * - `depth`: how deeply fields nest, fragments followed (checked against `GRAPHQL_MAX_DEPTH`).
 *
 * A fragment spread twice in one selection set runs once (graphql-js collects fields that way,
 * https://spec.graphql.org/October2021/#CollectFields()), so it is costed once; fields merged
 * under one response name are costed each (an upper bound). `@skip`/`@include` are ignored.
 * Arithmetic saturates, so a hostile document can reach a huge cost but never `Infinity` or `NaN`.
 */
import {
  getNamedType, getVariableValues, isCompositeType, isEnumType, isInputObjectType, isInterfaceType, isLeafType, isObjectType, isUnionType, Kind,
  SchemaMetaFieldDef, typeFromAST, TypeMetaFieldDef,
  valueFromAST, type DocumentNode, type FieldNode, type FragmentDefinitionNode, type GraphQLCompositeType,
  type GraphQLField, type GraphQLSchema, type OperationDefinitionNode, type SelectionSetNode,
} from 'graphql';
import { decodeConnectionCursor } from './connection-cursor.ts';
import { limitError } from './document-limits.ts';

/**
 * What the search applies to a page (`DEFAULT_COUNT`, `MAX_COUNT`, `SEARCH_MAX_INCLUDED`) and
 * `GRAPHQL_MAX_COST`: the cost of a search is what the search itself would return at most.
 */
export interface CostLimits {
  defaultCount: number;
  maxCount: number;
  maxCost: number;
  /** `SEARCH_MAX_INCLUDED`: resources `_include`/`_revinclude` add to one page at most. */
  maxIncluded: number;
}

/** An operation's cost; see the module comment. */
export interface OperationCost {
  depth: number;
  resources: number;
  units: number;
}

/** `__schema`: the whole schema's introspection is 23 MB of JSON (at most GRAPHQL_MAX_COST, so one always fits). */
export const SCHEMA_INTROSPECTION_COST = 5000;
/** `_service { sdl }`: the subgraph SDL is 3.8 MB (at most GRAPHQL_MAX_COST, so one always fits). */
export const SERVICE_SDL_COST = 1000;
/**
 * `__type(name:)` costs one resource per this many members of the named type (fields and their
 * arguments, input fields, enum values, possible types): the whole schema's ~184,000 members
 * make the 5,000 of `__schema`, so `Query` (~7,600) costs about 210 and `Patient` about 60.
 */
export const TYPE_ELEMENTS_PER_RESOURCE = 36;

/** Values beyond this are as good as infinite, and stay finite numbers. */
const SATURATED = 1e15;
const ZERO: OperationCost = { depth: 0, resources: 0, units: 0 };

function add(a: number, b: number): number {
  return Math.min(a + b, SATURATED);
}

function times(a: number, b: number): number {
  return a === 0 || b === 0 ? 0 : Math.min(a * b, SATURATED);
}

type FieldKind = 'read' | 'list' | 'connection' | 'reverse' | 'reference' | 'entities' | 'schema' | 'type' | 'service' | 'root' | 'mutation' | 'plain';

/** What the walk needs to know of a schema, found once per schema. */
interface SchemaShape {
  resourceTypes: ReadonlySet<string>;
  /** Members of each named type that `__type` asked for, counted on first use. */
  typeSizes: Map<string, number>;
}

const shapes = new WeakMap<GraphQLSchema, SchemaShape>();

function shapeOf(schema: GraphQLSchema): SchemaShape {
  let shape = shapes.get(schema);
  if (!shape) {
    const resource = schema.getType('Resource');
    const resourceTypes = new Set(isInterfaceType(resource) ? schema.getPossibleTypes(resource).map((type) => type.name) : []);
    shape = { resourceTypes, typeSizes: new Map() };
    shapes.set(schema, shape);
  }
  return shape;
}

/**
 * The operation's scalar and enum variables, coerced with their defaults (input objects, such as
 * a mutation's `res`, are never costed and are left to execution). Undefined when they do not
 * coerce: execution then refuses the operation before any resolver runs.
 */
function coerceVariables(schema: GraphQLSchema, operation: OperationDefinitionNode, inputs: Record<string, unknown>): Record<string, unknown> | undefined {
  const definitions = (operation.variableDefinitions ?? []).filter((definition) => {
    const type = typeFromAST(schema, definition.type);
    return type !== undefined && isLeafType(getNamedType(type));
  });
  if (definitions.length === 0) return {};
  const result = getVariableValues(schema, definitions, inputs, { maxErrors: 1 });
  return result.errors ? undefined : result.coerced;
}

class CostWalk {
  private readonly fragments = new Map<string, FragmentDefinitionNode>();
  private readonly memo = new Map<string, OperationCost | 'walking'>();
  /** The arguments each connection field's `_cursor` carries, decoded once. */
  private readonly carried = new WeakMap<FieldNode, Record<string, unknown>>();
  private readonly shape: SchemaShape;

  constructor(
    private readonly schema: GraphQLSchema,
    document: DocumentNode,
    private readonly variables: Record<string, unknown>,
    private readonly limits: CostLimits,
  ) {
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) this.fragments.set(definition.name.value, definition);
    }
    this.shape = shapeOf(schema);
  }

  /** The cost of one instance of `type` with `set` selected. */
  selectionSet(set: SelectionSetNode, type: GraphQLCompositeType | undefined): OperationCost {
    let total: OperationCost = ZERO;
    const spreads = new Set<string>();
    const collect = (selections: SelectionSetNode, within: GraphQLCompositeType | undefined) => {
      for (const selection of selections.selections) {
        if (selection.kind === Kind.FIELD) total = combine(total, this.field(selection, within));
        else if (selection.kind === Kind.FRAGMENT_SPREAD) spreads.add(selection.name.value);
        else collect(selection.selectionSet, selection.typeCondition ? this.compositeType(selection.typeCondition.name.value) : within);
      }
    };
    collect(set, type);
    for (const name of spreads) total = combine(total, this.fragment(name));
    return total;
  }

  private fragment(name: string): OperationCost {
    const known = this.memo.get(name);
    if (known === 'walking') return ZERO; // a cycle: validation refuses it
    if (known) return known;
    const definition = this.fragments.get(name);
    if (!definition) return ZERO;
    this.memo.set(name, 'walking');
    const cost = this.selectionSet(definition.selectionSet, this.compositeType(definition.typeCondition.name.value));
    this.memo.set(name, cost);
    return cost;
  }

  private compositeType(name: string): GraphQLCompositeType | undefined {
    const type = this.schema.getType(name);
    return type && isCompositeType(type) ? type : undefined;
  }

  private fieldDef(parent: GraphQLCompositeType | undefined, name: string): GraphQLField<unknown, unknown> | undefined {
    if (name === '__schema') return SchemaMetaFieldDef;
    if (name === '__type') return TypeMetaFieldDef;
    if (!parent || !('getFields' in parent)) return undefined;
    return parent.getFields()[name];
  }

  private kindOf(parent: GraphQLCompositeType | undefined, name: string): FieldKind {
    const resources = this.shape.resourceTypes;
    const searched = (suffix: string) => name.endsWith(suffix) && resources.has(name.slice(0, -suffix.length));
    if (parent && parent === this.schema.getQueryType()) {
      if (name === '__schema') return 'schema';
      if (name === '__type') return 'type';
      if (name === '_service') return 'service';
      if (name === '__typename') return 'plain';
      if (resources.has(name)) return 'read';
      if (searched('List')) return 'list';
      if (searched('Connection')) return 'connection';
      if (name === '_entities') return 'entities';
      return 'root';
    }
    if (parent && parent === this.schema.getMutationType()) return name === '__typename' ? 'plain' : 'mutation';
    // A subscription's field delivers one resource per event: each event is priced as a read.
    if (parent && parent === this.schema.getSubscriptionType()) return name === '__typename' ? 'plain' : 'read';
    if (parent && resources.has(parent.name) && searched('List')) return 'reverse';
    if (parent?.name === 'Reference' && name === 'resource') return 'reference';
    return 'plain';
  }

  /** An argument as given in the operation (`undefined` when not given). */
  private given(node: FieldNode, field: GraphQLField<unknown, unknown> | undefined, name: string): unknown {
    const argNode = node.arguments?.find((a) => a.name.value === name);
    const argDef = field?.args.find((a) => a.name === name);
    if (!argNode || !argDef) return undefined;
    return valueFromAST(argNode.value, argDef.type, this.variables);
  }

  /**
   * An argument as the field runs with it: given, else carried by the field's `_cursor`
   * (`connection-cursor.ts`), so a cursor alone is priced at the page size it carries. A cursor
   * that does not decode carries nothing here; the resolver refuses it.
   */
  private argument(node: FieldNode, field: GraphQLField<unknown, unknown> | undefined, name: string): unknown {
    const given = this.given(node, field, name);
    if (given !== undefined || name === '_cursor' || !field?.args.some((a) => a.name === '_cursor')) return given;
    let carried = this.carried.get(node);
    if (!carried) {
      const cursor = this.given(node, field, '_cursor');
      try {
        carried = typeof cursor === 'string' ? decodeConnectionCursor(cursor, field.args).args : {};
      } catch {
        carried = {};
      }
      this.carried.set(node, carried);
    }
    return carried[name];
  }

  /** `__type(name:)`: the named type's members, one resource per {@link TYPE_ELEMENTS_PER_RESOURCE}; an unknown type 1. */
  private typeCost(node: FieldNode, field: GraphQLField<unknown, unknown> | undefined): number {
    const name = this.argument(node, field, 'name');
    if (typeof name !== 'string') return 1;
    let members = this.shape.typeSizes.get(name);
    if (members === undefined) {
      members = membersOf(this.schema, name);
      if (members > 0) this.shape.typeSizes.set(name, members);
    }
    return Math.max(1, Math.ceil(members / TYPE_ELEMENTS_PER_RESOURCE));
  }

  /** `_count` as the search applies it; a negative one is refused rather than subtracted. */
  private count(node: FieldNode, field: GraphQLField<unknown, unknown> | undefined): number {
    const value = this.argument(node, field, '_count');
    if (typeof value !== 'number') return this.limits.defaultCount;
    if (value < 0) throw limitError(`_count must not be negative (${node.alias?.value ?? node.name.value} asks for ${value})`);
    return Math.min(value, this.limits.maxCount);
  }

  /** What `_include`, `_revinclude` and `_total` add to a search returning `n` matches. */
  private extras(node: FieldNode, field: GraphQLField<unknown, unknown> | undefined, n: number, accurateTotal: boolean): { included: number; resources: number; units: number } {
    let included = 0;
    let units = 0;
    if (n > 0) {
      const list = (name: string): unknown[] => {
        const value = this.argument(node, field, name);
        return Array.isArray(value) ? value : value == null ? [] : [value];
      };
      const max = this.limits.maxIncluded;
      for (const spec of list('_include')) {
        units++;
        included = add(included, String(spec).endsWith('*') ? max : n);
      }
      const revincludes = list('_revinclude').length;
      units += revincludes;
      if (revincludes > 0) included = max;
      included = Math.min(included, max);
    }
    let resources = included;
    const total = this.argument(node, field, '_total') ?? (accurateTotal ? 'accurate' : undefined);
    if (total === 'accurate' || total === 'estimate') units++;
    if (total === 'accurate') resources += this.limits.maxCount;
    return { included, resources, units };
  }

  field(node: FieldNode, parent: GraphQLCompositeType | undefined): OperationCost {
    const name = node.name.value;
    const field = this.fieldDef(parent, name);
    const innerType = field ? getNamedType(field.type) : undefined;
    const inner = node.selectionSet ? this.selectionSet(node.selectionSet, innerType && isCompositeType(innerType) ? innerType : undefined) : ZERO;
    const depth = inner.depth + 1;
    const kind = this.kindOf(parent, name);
    switch (kind) {
      case 'plain':
        return { depth, resources: inner.resources, units: inner.units };
      case 'read':
      case 'reference':
      case 'mutation':
        return { depth, resources: add(1, inner.resources), units: add(1, inner.units) };
      case 'root':
        // An unpaged list of the server's own (`_clients`): priced as a full page of what it nests.
        return { depth, resources: add(this.limits.maxCount, times(this.limits.maxCount, inner.resources)), units: add(1, inner.units) };
      case 'schema':
        return { depth, resources: Math.min(SCHEMA_INTROSPECTION_COST, this.limits.maxCost), units: 1 };
      case 'service':
        return { depth, resources: Math.min(SERVICE_SDL_COST, this.limits.maxCost), units: 1 };
      case 'type':
        return { depth, resources: this.typeCost(node, field), units: 1 };
      case 'entities': {
        const representations = this.argument(node, field, 'representations');
        const list = Array.isArray(representations) ? representations : [];
        const types = new Set(list.map((r) => (r !== null && typeof r === 'object' ? (r as { __typename?: unknown }).__typename : undefined)));
        return { depth, resources: times(list.length, add(1, inner.resources)), units: times(types.size, add(1, inner.units)) };
      }
      case 'reverse': {
        const n = this.count(node, field);
        return { depth, resources: add(n, times(n, inner.resources)), units: add(1, n > 0 ? inner.units : 0) };
      }
      case 'list':
      case 'connection': {
        const n = this.count(node, field);
        // A connection answers `count` with an accurate total unless `_total` says otherwise.
        const wantsCount = kind === 'connection' && !!node.selectionSet?.selections.some((s) => s.kind === Kind.FIELD && s.name.value === 'count');
        // A list returns its matches only: it ignores `_include`, `_revinclude` and `_total`.
        const extras = kind === 'connection' ? this.extras(node, field, n, wantsCount) : { included: 0, resources: 0, units: 0 };
        // A list returns its matches only; a connection's edges carry the included resources too.
        const instances = kind === 'connection' ? n + extras.included : n;
        return {
          depth,
          resources: add(add(n, extras.resources), times(instances, inner.resources)),
          units: add(1 + extras.units, instances > 0 ? inner.units : 0),
        };
      }
      default:
        return kind satisfies never;
    }
  }
}

/** The members `__type(name:)` lists for a type: fields with their arguments, input fields, enum values, possible types. */
function membersOf(schema: GraphQLSchema, name: string): number {
  const type = schema.getType(name);
  if (!type) return 0;
  let members = 1;
  if (isObjectType(type) || isInterfaceType(type)) {
    for (const field of Object.values(type.getFields())) members += 1 + field.args.length;
  }
  if (isInterfaceType(type) || isUnionType(type)) members += schema.getPossibleTypes(type).length;
  if (isInputObjectType(type)) members += Object.keys(type.getFields()).length;
  if (isEnumType(type)) members += type.getValues().length;
  return members;
}

function combine(a: OperationCost, b: OperationCost): OperationCost {
  return { depth: Math.max(a.depth, b.depth), resources: add(a.resources, b.resources), units: add(a.units, b.units) };
}

/**
 * The cost of `operation` (of `document`) with the request's variables; undefined when the
 * variables do not coerce (execution refuses them). Throws `BAD_USER_INPUT` for a negative
 * `_count`. Linear in the document: each fragment is walked once.
 */
export function measureOperation(
  schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, inputs: Record<string, unknown> | undefined, limits: CostLimits,
): OperationCost | undefined {
  const variables = coerceVariables(schema, operation, inputs ?? {});
  if (!variables) return undefined;
  const root = operation.operation === 'mutation' ? schema.getMutationType() : operation.operation === 'subscription' ? schema.getSubscriptionType() : schema.getQueryType();
  return new CostWalk(schema, document, variables, limits).selectionSet(operation.selectionSet, root ?? undefined);
}
