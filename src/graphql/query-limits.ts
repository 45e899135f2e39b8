/**
 * Query protection, enforced as validation rules (the query is refused before it runs, with
 * `extensions.code = "BAD_USER_INPUT"`): a maximum depth, and a maximum cost where a list field
 * costs its `_count` (default 20) times whatever it nests, so `PatientList(_count: 50) {
 * ObservationList(_count: 10) { … } }` costs 50 + 50 × 10. https://spec.graphql.org/October2021/#sec-Validation
 */
import {
  GraphQLError, Kind, type ASTVisitor, type FieldNode, type FragmentDefinitionNode, type SelectionSetNode, type ValidationContext,
} from 'graphql';

export interface QueryLimits {
  maxDepth: number;
  maxCost: number;
  defaultCount: number;
}

function countOf(field: FieldNode, variables: Record<string, unknown>, defaultCount: number): number | undefined {
  if (field.name.value === '_entities') {
    // Federation: each representation is one resource to read.
    const representations = field.arguments?.find((a) => a.name.value === 'representations')?.value;
    if (representations?.kind === Kind.LIST) return representations.values.length;
    if (representations?.kind === Kind.VARIABLE) {
      const value = variables[representations.name.value];
      return Array.isArray(value) ? value.length : defaultCount;
    }
    return defaultCount;
  }
  const arg = field.arguments?.find((a) => a.name.value === '_count');
  if (!arg) return field.name.value.endsWith('List') || field.name.value.endsWith('Connection') ? defaultCount : undefined;
  if (arg.value.kind === Kind.INT) return Number(arg.value.value);
  if (arg.value.kind === Kind.VARIABLE) return Number(variables[arg.value.name.value] ?? defaultCount);
  return defaultCount;
}

function measure(
  set: SelectionSetNode | undefined, fragments: Record<string, FragmentDefinitionNode>, limits: QueryLimits,
  variables: Record<string, unknown>, depth: number, seen: Set<string>,
): { depth: number; cost: number } {
  if (!set) return { depth, cost: 0 };
  let maxDepth = depth;
  let cost = 0;
  for (const selection of set.selections) {
    let inner: { depth: number; cost: number };
    if (selection.kind === Kind.FIELD) {
      const nested = measure(selection.selectionSet, fragments, limits, variables, depth + 1, seen);
      const count = countOf(selection, variables, limits.defaultCount);
      inner = { depth: nested.depth, cost: count === undefined ? nested.cost : count + count * nested.cost };
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      inner = measure(selection.selectionSet, fragments, limits, variables, depth, seen);
    } else {
      const name = selection.name.value;
      if (seen.has(name)) continue;
      inner = measure(fragments[name]?.selectionSet, fragments, limits, variables, depth, new Set([...seen, name]));
    }
    maxDepth = Math.max(maxDepth, inner.depth);
    cost += inner.cost;
  }
  return { depth: maxDepth, cost };
}

/** A validation rule refusing operations deeper or costlier than the limits. */
export function queryLimitsRule(limits: QueryLimits, variables: () => Record<string, unknown> = () => ({})) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments: Record<string, FragmentDefinitionNode> = {};
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
    }
    return {
      OperationDefinition(operation) {
        const { depth, cost } = measure(operation.selectionSet, fragments, limits, variables(), 0, new Set());
        if (depth > limits.maxDepth) {
          context.reportError(new GraphQLError(`The query is ${depth} levels deep; the limit is ${limits.maxDepth}`, { nodes: [operation], extensions: { code: 'BAD_USER_INPUT' } }));
        }
        if (cost > limits.maxCost) {
          context.reportError(new GraphQLError(`The query may return about ${cost} resources; the limit is ${limits.maxCost}`, { nodes: [operation], extensions: { code: 'BAD_USER_INPUT' } }));
        }
      },
    };
  };
}
