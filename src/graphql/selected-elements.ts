/**
 * Which top-level elements of a resource a GraphQL selection reads, so the loaders fetch only
 * those from PostgreSQL (`json_each` in SQL) instead of every resource's whole JSON: a nested
 * query over 500 Observations then parses their `code` and `performer`, not 650 KB of JSON.
 * FHIR element names are the GraphQL field names (choice types `valueQuantity`, primitive
 * extensions `_birthDate`); a reverse-reference field (`ObservationList`) needs the `id`.
 * https://hl7.org/fhir/R4/graphql.html
 */
import { GraphQLObjectType, Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';

/** What a selection is read from: a field's resolve info, or the same parts of it for a field not yet resolved. */
export type SelectionInfo = Pick<GraphQLResolveInfo, 'fieldNodes' | 'schema' | 'fragments'>;

/** Elements every projected resource keeps: what resolvers and `__resolveType` rely on. */
const ALWAYS = ['resourceType', 'id'];

/**
 * The sorted element names that the field being resolved selects on the resource type
 * `typeName` (following fragments whose type condition is that type or an interface it
 * implements), or `undefined` when the selection cannot be mapped and the whole resource is
 * needed.
 */
export function selectedElements(info: SelectionInfo, typeName: string): string[] | undefined {
  // Parsed documents are cached by Apollo, so a field node stands for the same selection on every
  // request (and every item of a list); fragments come from the same document.
  let byType = memo.get(info.fieldNodes[0]);
  if (!byType) memo.set(info.fieldNodes[0], (byType = new Map()));
  if (!byType.has(typeName)) byType.set(typeName, computeElements(info, typeName));
  return byType.get(typeName);
}

const memo = new WeakMap<FieldNode, Map<string, string[] | undefined>>();

function computeElements(info: SelectionInfo, typeName: string): string[] | undefined {
  const type = info.schema.getType(typeName);
  if (!(type instanceof GraphQLObjectType)) return undefined;
  const applies = new Set([typeName, ...type.getInterfaces().map((i) => i.name)]);
  const fields = type.getFields();
  const names = new Set(ALWAYS);
  const visited = new Set<string>();
  let complete = true;
  const visit = (selectionSet: SelectionSetNode | undefined) => {
    for (const selection of selectionSet?.selections ?? []) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        if (name === '__typename') continue;
        const field = fields[name];
        if (!field) complete = false;
        // A reverse reference (`ObservationList(_reference: …)`) reads only this resource's id.
        else if (field.args.some((arg) => arg.name === '_reference')) names.add('id');
        else names.add(name);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        if (!selection.typeCondition || applies.has(selection.typeCondition.name.value)) visit(selection.selectionSet);
      } else {
        const fragment = info.fragments[selection.name.value];
        if (!fragment) complete = false;
        else if (applies.has(fragment.typeCondition.name.value) && !visited.has(fragment.name.value)) {
          visited.add(fragment.name.value);
          visit(fragment.selectionSet);
        }
      }
    }
  };
  for (const node of info.fieldNodes) visit(node.selectionSet);
  // `Binary.data` is read from the bytes of the version its `meta` names (build-resolvers.ts).
  if (typeName === 'Binary' && names.has('data')) names.add('meta');
  return complete ? [...names].sort() : undefined;
}
