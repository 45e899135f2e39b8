/**
 * How many fields share one response name in one selection set, counting the fields of the
 * inline fragments and fragment spreads it holds (each fragment once per set, as graphql-js
 * collects them). graphql-js's OverlappingFieldsCanBeMerged compares every pair of such fields
 * and, for each pair, their sub-selections, so its work grows with the square of this number:
 * 250 copies of one search took 275 ms of validation on a cold server (review #10).
 * https://spec.graphql.org/October2021/#sec-Field-Selection-Merging
 */
import { Kind, visit, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';

/** The response name selected most often in one selection set, and how often. */
export interface MostMerged {
  name: string;
  count: number;
}

/** Counts beyond this are as good as infinite (a fan-out of fragments can multiply them). */
const SATURATED = 1e9;

type Counts = Map<string, number>;

function addCounts(into: Counts, from: Counts): void {
  for (const [name, count] of from) into.set(name, Math.min((into.get(name) ?? 0) + count, SATURATED));
}

/** Counts response names per selection set; each fragment's counts are found once. */
class ResponseNameCounter {
  private readonly fragments = new Map<string, FragmentDefinitionNode>();
  private readonly memo = new Map<string, Counts>();

  constructor(document: DocumentNode) {
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) this.fragments.set(definition.name.value, definition);
    }
  }

  countsOf(set: SelectionSetNode): Counts {
    const counts: Counts = new Map();
    const spreads = new Set<string>();
    const collect = (selections: SelectionSetNode) => {
      for (const selection of selections.selections) {
        if (selection.kind === Kind.FIELD) {
          const name = selection.alias?.value ?? selection.name.value;
          counts.set(name, (counts.get(name) ?? 0) + 1);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) collect(selection.selectionSet);
        else spreads.add(selection.name.value);
      }
    };
    collect(set);
    for (const name of spreads) addCounts(counts, this.fragment(name));
    return counts;
  }

  private fragment(name: string): Counts {
    const known = this.memo.get(name);
    if (known) return known;
    // A cycle (validation refuses it) or an unknown fragment counts nothing.
    this.memo.set(name, new Map());
    const definition = this.fragments.get(name);
    const counts = definition ? this.countsOf(definition.selectionSet) : new Map<string, number>();
    this.memo.set(name, counts);
    return counts;
  }
}

/**
 * The response name that the most fields share in any one selection set of `document`, its
 * fragments' included. Linear in the document but for the merging of each fragment's counts
 * into the sets that spread it. Call it on a document within the other caps (its nesting bounded).
 */
export function findMostMergedResponseName(document: DocumentNode): MostMerged {
  const counter = new ResponseNameCounter(document);
  let most: MostMerged = { name: '', count: 0 };
  visit(document, {
    SelectionSet(node) {
      for (const [name, count] of counter.countsOf(node)) {
        if (count > most.count) most = { name, count };
      }
    },
  });
  return most;
}
