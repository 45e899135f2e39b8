/**
 * The references a reverse-reference list's items will follow (`ObservationList(_reference:
 * subject) { performer { resource { … } } }`), known from the list's own selection, so the list's
 * loader reads them as soon as it has the items (`request-loaders.ts`) and each item's
 * `Reference.resource` is answered at once from what was read, not through a promise per
 * reference. Only plain selections are followed: a reference element selected once, directly (no
 * fragment, directive or second selection of the same key) with a `resource` field taking no
 * arguments; anything else is left to the resolvers, which read it as before.
 * https://hl7.org/fhir/R4/graphql.html#searching
 */
import { getNamedType, GraphQLObjectType, Kind, type FieldNode, type GraphQLResolveInfo, type SelectionNode } from 'graphql';
import type { SelectionInfo } from './selected-elements.ts';

/** A reference element of the list's items and the `resource` field selected under it. */
export interface FollowedReference {
  /** The element holding a Reference, or a list of them (`performer`). */
  element: string;
  /** The `resource` field under it, as its resolver will see it. */
  resource: SelectionInfo;
}

const memo = new WeakMap<FieldNode, Map<string, FollowedReference[]>>();

/** The references followed by the items (of type `typeName`) of the list field being resolved. */
export function followedReferences(info: GraphQLResolveInfo, typeName: string): FollowedReference[] {
  // Parsed documents are cached by Apollo, so a field node stands for the same selection on every request.
  let byType = memo.get(info.fieldNodes[0]);
  if (!byType) memo.set(info.fieldNodes[0], (byType = new Map()));
  let followed = byType.get(typeName);
  if (!followed) byType.set(typeName, (followed = computeFollowed(info, typeName)));
  return followed;
}

/** The plain field selections of `selections` by response key; a key selected twice (or through a fragment) maps to null. */
function plainFields(selections: readonly SelectionNode[]): Map<string, FieldNode | null> {
  const fields = new Map<string, FieldNode | null>();
  for (const selection of selections) {
    if (selection.kind !== Kind.FIELD) continue;
    const key = selection.alias?.value ?? selection.name.value;
    fields.set(key, fields.has(key) || selection.directives?.length ? null : selection);
  }
  return fields;
}

function computeFollowed(info: GraphQLResolveInfo, typeName: string): FollowedReference[] {
  const type = info.schema.getType(typeName);
  if (!(type instanceof GraphQLObjectType) || info.fieldNodes.length !== 1) return [];
  const selections = info.fieldNodes[0].selectionSet?.selections ?? [];
  // A fragment may select a reference element again, merged with the plain selection by the executor.
  if (selections.some((s) => s.kind !== Kind.FIELD)) return [];
  const fields = type.getFields();
  const followed: FollowedReference[] = [];
  for (const node of plainFields(selections).values()) {
    const field = node && fields[node.name.value];
    if (!node?.selectionSet || !field || getNamedType(field.type).name !== 'Reference' || node.arguments?.length) continue;
    const inner = node.selectionSet.selections;
    if (inner.some((s) => s.kind !== Kind.FIELD)) continue;
    for (const resource of plainFields(inner).values()) {
      if (resource?.name.value !== 'resource' || resource.arguments?.length) continue;
      followed.push({ element: node.name.value, resource: { fieldNodes: [resource], schema: info.schema, fragments: info.fragments } });
    }
  }
  return followed;
}
