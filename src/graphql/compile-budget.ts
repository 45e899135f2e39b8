/**
 * What compiling an operation with graphql-jit would cost, so that only operations cheap to
 * compile are compiled (`compiled-executor.ts`). Compilation is synchronous and blocks the event
 * loop: it grows with the fields selected and, above all, with the fields of an abstract type
 * (`Reference.resource` is the `Resource` interface), for each of which graphql-jit generates code
 * for every possible type (~150 resource types, ~4–10 ms each). A 100-alias document within the
 * document caps took over 2 s to compile, where graphql-js runs it at once.
 */
import {
  getNamedType, isAbstractType, isInterfaceType, isObjectType, Kind,
  type FragmentDefinitionNode, type GraphQLNamedType, type GraphQLSchema, type OperationDefinitionNode, type SelectionSetNode,
} from 'graphql';

/**
 * The compile weight of `operation`: one per field selected, plus the number of possible types
 * of each field of an abstract type. Fragments are weighed once each (so a fragment spread many
 * times does not make the walk fan out), with the type of their condition.
 */
export function compileWeight(schema: GraphQLSchema, operation: OperationDefinitionNode, fragments: ReadonlyMap<string, FragmentDefinitionNode>): number {
  const fragmentWeights = new Map<string, number>();
  const weigh = (set: SelectionSetNode, parent: GraphQLNamedType | undefined): number => {
    let weight = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        weight += 1;
        const field = parent && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[selection.name.value] : undefined;
        const type = field && getNamedType(field.type);
        if (type && isAbstractType(type)) weight += schema.getPossibleTypes(type).length;
        if (selection.selectionSet) weight += weigh(selection.selectionSet, type);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        weight += weigh(selection.selectionSet, condition ?? undefined);
      } else {
        const name = selection.name.value;
        let fragmentWeight = fragmentWeights.get(name);
        if (fragmentWeight === undefined) {
          fragmentWeights.set(name, 0); // a cycle (refused by validation) weighs nothing more
          const fragment = fragments.get(name);
          fragmentWeight = fragment ? weigh(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value) ?? undefined) : 0;
          fragmentWeights.set(name, fragmentWeight);
        }
        weight += fragmentWeight;
      }
    }
    return weight;
  };
  return weigh(operation.selectionSet, schema.getRootType(operation.operation) ?? undefined);
}
