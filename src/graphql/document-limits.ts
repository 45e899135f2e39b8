/**
 * Caps on the size of a GraphQL document, checked as validation starts. graphql-js's validation
 * is not linear in every document: OverlappingFieldsCanBeMerged compares the fields and fragments
 * that share a response name pairwise, and prints the arguments of each pair
 * (https://spec.graphql.org/October2021/#sec-Field-Selection-Merging). Bounding the selections
 * (fields, fragment spreads and inline fragments), the aliases, the nesting of a document and
 * the fields sharing one response name, with the parser's own token limit (`maxTokens`), keeps
 * the worst document inside the caps at tens of milliseconds of validation; beyond them a
 * document is refused in a linear pass or two and no other rule walks it.
 */
import { GraphQLError, Kind, visit, type ASTVisitor, type DocumentNode, type ValidationContext } from 'graphql';
import { badRequest } from '../fhir/outcomes.ts';
import { findMostMergedResponseName } from './merged-fields.ts';

/**
 * The caps on one GraphQL document, checked by {@link documentLimitsRule} before any other
 * validation rule walks it (with the parser's own `GRAPHQL_MAX_TOKENS`). Within them the
 * costliest rule, OverlappingFieldsCanBeMerged, stays at tens of milliseconds; beyond them a
 * document is refused with `BAD_USER_INPUT` (HTTP 400).
 * https://spec.graphql.org/October2021/#sec-Field-Selection-Merging
 */
export interface DocumentLimits {
  /** Aliased fields in the document (`GRAPHQL_MAX_ALIASES`). */
  maxAliases: number;
  /** Fields, fragment spreads and inline fragments in the document (`GRAPHQL_MAX_SELECTIONS`). */
  maxSelections: number;
  /** The operation depth limit (`GRAPHQL_MAX_DEPTH`); selection sets may nest twice as deep (an inline fragment per field). */
  maxDepth: number;
  /**
   * Fields sharing one response name in one selection set, its fragments' included
   * (`GRAPHQL_MAX_MERGED_FIELDS`): validation compares each pair of them ({@link findMostMergedResponseName}).
   */
  maxMergedFields: number;
}

/** What {@link measureDocument} counts. */
export interface DocumentSize {
  aliases: number;
  selections: number;
  /** The deepest nesting of selection sets (fields and inline fragments each open one). */
  nesting: number;
}

/**
 * A refusal before execution: `BAD_USER_INPUT`, HTTP 400. Its original error is the domain
 * error, so the error normaliser gives it the OperationOutcome even when Apollo wraps it as a
 * validation error.
 */
export function limitError(message: string): GraphQLError {
  return new GraphQLError(message, { originalError: badRequest(message), extensions: { code: 'BAD_USER_INPUT', status: 400, http: { status: 400 } } });
}

/** Counts a document's aliases, selections and nesting in one pass (graphql-js's `visit` keeps its own stack). */
export function measureDocument(document: DocumentNode): DocumentSize {
  const size: DocumentSize = { aliases: 0, selections: 0, nesting: 0 };
  let open = 0;
  visit(document, {
    Field(node) {
      size.selections++;
      if (node.alias) size.aliases++;
    },
    FragmentSpread() {
      size.selections++;
    },
    InlineFragment() {
      size.selections++;
    },
    SelectionSet: {
      enter() {
        open++;
        if (open > size.nesting) size.nesting = open;
      },
      leave() {
        open--;
      },
    },
  });
  return size;
}

/** The error for a document beyond the caps, or undefined when it is within them. */
export function checkDocumentLimits(document: DocumentNode, limits: DocumentLimits): GraphQLError | undefined {
  const size = measureDocument(document);
  if (size.aliases > limits.maxAliases) return limitError(`The query has ${size.aliases} aliases; the limit is ${limits.maxAliases}`);
  if (size.selections > limits.maxSelections) {
    return limitError(`The query has ${size.selections} selections (fields and fragments); the limit is ${limits.maxSelections}`);
  }
  const maxNesting = 2 * limits.maxDepth;
  if (size.nesting > maxNesting) return limitError(`The query nests selections ${size.nesting} levels deep; the limit is ${maxNesting}`);
  const merged = findMostMergedResponseName(document);
  if (merged.count > limits.maxMergedFields) {
    return limitError(`The query selects "${merged.name.slice(0, 100)}" ${merged.count} times in one selection set (fragments included); the limit is ${limits.maxMergedFields}`);
  }
  return undefined;
}

const EMPTY_DOCUMENT: DocumentNode = { kind: Kind.DOCUMENT, definitions: [] };

/**
 * The caps as a validation rule (Apollo runs it after graphql-js's own rules, on the same walk).
 * On the document node, before any rule has looked at a selection, a document beyond the caps
 * is reported and swapped for an empty one: `visitInParallel` lets a visitor replace a node, and
 * the walk, every rule's included, then continues into the replacement, so no rule walks the
 * hostile document. https://graphql.org/graphql-js/language/#visitinparallel
 */
export function documentLimitsRule(limits: DocumentLimits) {
  return (context: ValidationContext): ASTVisitor => ({
    Document(node) {
      const error = checkDocumentLimits(node, limits);
      if (!error) return undefined;
      context.reportError(error);
      return EMPTY_DOCUMENT;
    },
  });
}
