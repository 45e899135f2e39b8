/**
 * Operations that ask the schema rather than the data: introspection's `__schema` and
 * `__type(name:)` (https://spec.graphql.org/October2021/#sec-Schema-Introspection) and the
 * Federation subgraph's `_service { sdl }` (https://www.apollographql.com/docs/federation/subgraph-spec/#query_service).
 * The schema worker answers them off the main thread (`schema-worker.ts`): the FHIR schema's
 * introspection is 23 MB of JSON, and executing it blocked the event loop 2.5 s (review #3). The
 * rules here bound what one such operation may make the worker produce to the whole schema once,
 * its SDL once and a few types, whatever its shape:
 *
 * - it asks the schema in a request of its own: besides those fields only `__typename` at its root;
 * - at most one `__schema`, one `_service` and {@link MAX_TYPE_FIELDS} `__type`;
 * - no aliases below them: an alias repeats a field's work (`__schema { a: types {…} b: types {…} }`
 *   is two schemas); no directives but `@skip` and `@include`;
 * - a type reached as a reference (`type`, `ofType`, `interfaces`, `possibleTypes`, `queryType`,
 *   `mutationType`, `subscriptionType`) is only named (`kind`, `name`, `ofType`, …), never expanded
 *   (`fields`, `inputFields`, `enumValues`, `interfaces`, `possibleTypes`): the fields of each
 *   field's type, and theirs, would multiply the schema by itself at every level. The standard
 *   introspection query (graphql-js's `getIntrospectionQuery()`, its `TypeRef` fragment) and the
 *   usual `__type` queries keep to this; a referenced type is expanded with a `__type` of its own.
 *
 * Anything else is refused with `BAD_USER_INPUT` before it runs.
 */
import {
  getNamedType, isCompositeType, Kind, SchemaMetaFieldDef, TypeMetaFieldDef, type DocumentNode, type FieldNode, type FragmentDefinitionNode,
  type GraphQLCompositeType, type GraphQLSchema, type OperationDefinitionNode, type SelectionSetNode,
} from 'graphql';
import { limitError } from './document-limits.ts';

/** `__type` fields one operation may hold. */
export const MAX_TYPE_FIELDS = 10;

/** Root fields answered from the schema alone. */
const SCHEMA_FIELDS = new Set(['__schema', '__type', '_service']);
/** `__Type` fields whose value is a type that may only be named. */
const REFERENCES = new Set(['type', 'ofType', 'interfaces', 'possibleTypes', 'queryType', 'mutationType', 'subscriptionType']);
/** `__Type` fields that expand a type into its members. */
const EXPANSIONS = new Set(['fields', 'inputFields', 'enumValues', 'interfaces', 'possibleTypes']);

/** How many of each schema field an operation's root selects (through its fragments). */
export interface SchemaOperation {
  schema: number;
  types: number;
  service: number;
}

/** The root fields of `set`, through inline fragments and fragment spreads. */
function collectRootFields(set: SelectionSetNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>, into: FieldNode[], seen = new Set<string>()): FieldNode[] {
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) into.push(selection);
    else if (selection.kind === Kind.INLINE_FRAGMENT) collectRootFields(selection.selectionSet, fragments, into, seen);
    else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = fragments.get(selection.name.value);
      if (fragment) collectRootFields(fragment.selectionSet, fragments, into, seen);
    }
  }
  return into;
}

/** `@skip` and `@include` execute anywhere; the FHIR result directives (`@flatten`, …) reshape data, not the schema. */
function assertPlainDirectives(node: FieldNode): void {
  const other = node.directives?.find((directive) => directive.name.value !== 'skip' && directive.name.value !== 'include');
  if (other) throw limitError(`@${other.name.value.slice(0, 100)} does not apply to introspection or _service`);
}

/** Checks the selections below a schema field: no aliases, referenced types only named. */
class SchemaSelectionCheck {
  private readonly checked = new Set<string>();

  constructor(private readonly schema: GraphQLSchema, private readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>) {}

  selectionSet(set: SelectionSetNode, type: GraphQLCompositeType | undefined, reference: boolean): void {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) this.field(selection, type, reference);
      else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition ? this.compositeType(selection.typeCondition.name.value) : type;
        this.selectionSet(selection.selectionSet, condition, reference);
      } else this.fragment(selection.name.value, reference);
    }
  }

  private fragment(name: string, reference: boolean): void {
    // A fragment is checked once as a reference and once as a full type at most.
    const key = `${reference}:${name}`;
    if (this.checked.has(key)) return;
    this.checked.add(key);
    const definition = this.fragments.get(name);
    if (definition) this.selectionSet(definition.selectionSet, this.compositeType(definition.typeCondition.name.value), reference);
  }

  private field(node: FieldNode, parent: GraphQLCompositeType | undefined, reference: boolean): void {
    const name = node.name.value;
    assertPlainDirectives(node);
    if (name === '__typename') return;
    if (node.alias && node.alias.value !== name) {
      throw limitError(`An introspection or _service query may not alias its fields ("${node.alias.value.slice(0, 100)}: ${name}"): an alias repeats the work`);
    }
    if (reference && parent?.name === '__Type' && EXPANSIONS.has(name)) {
      throw limitError(`An introspection query may only name a type it reaches through type, ofType, interfaces, possibleTypes or queryType, not select its "${name}": ask for that type with a __type(name:) of its own`);
    }
    if (!node.selectionSet) return;
    const definition = parent && 'getFields' in parent ? parent.getFields()[name] : undefined;
    const inner = definition ? getNamedType(definition.type) : undefined;
    this.selectionSet(node.selectionSet, inner && isCompositeType(inner) ? inner : undefined, REFERENCES.has(name));
  }

  private compositeType(name: string): GraphQLCompositeType | undefined {
    const type = this.schema.getType(name);
    return type && isCompositeType(type) ? type : undefined;
  }
}

/**
 * What `operation` (of `document`) asks of the schema, or undefined when its root selects no
 * schema field (`__typename` alone is data). Throws `BAD_USER_INPUT` when it asks beyond the
 * module's rules. Linear in the document: each fragment is checked at most twice.
 */
export function readSchemaOperation(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode): SchemaOperation | undefined {
  if (operation.operation !== 'query') return undefined;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const roots = collectRootFields(operation.selectionSet, fragments, []);
  const asked = roots.filter((field) => SCHEMA_FIELDS.has(field.name.value));
  if (asked.length === 0) return undefined;
  const data = roots.find((field) => !SCHEMA_FIELDS.has(field.name.value) && field.name.value !== '__typename');
  if (data) {
    throw limitError(`Send introspection (__schema, __type) and _service in a request of their own, not with "${data.name.value.slice(0, 100)}"`);
  }
  const count = (name: string) => asked.filter((field) => field.name.value === name).length;
  const result: SchemaOperation = { schema: count('__schema'), types: count('__type'), service: count('_service') };
  if (result.schema > 1) throw limitError(`A query may select __schema once; this one selects it ${result.schema} times`);
  if (result.service > 1) throw limitError(`A query may select _service once; this one selects it ${result.service} times`);
  if (result.types > MAX_TYPE_FIELDS) throw limitError(`A query may select __type ${MAX_TYPE_FIELDS} times; this one selects it ${result.types} times`);
  const check = new SchemaSelectionCheck(schema, fragments);
  for (const field of asked) {
    assertPlainDirectives(field);
    if (!field.selectionSet) continue;
    const name = field.name.value;
    const definition = name === '__schema' ? SchemaMetaFieldDef : name === '__type' ? TypeMetaFieldDef : schema.getQueryType()?.getFields()[name];
    const type = definition ? getNamedType(definition.type) : undefined;
    check.selectionSet(field.selectionSet, type && isCompositeType(type) ? type : undefined, false);
  }
  return result;
}
