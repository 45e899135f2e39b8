/**
 * Label values a client chooses (a GraphQL operation name) kept to a bounded set: each distinct
 * value is a time series in every Prometheus that scrapes us, so a client sending a fresh name
 * per request must not grow the scrape without end.
 * https://prometheus.io/docs/practices/naming/#labels
 */

/** What a client's operation name must look like to be a label: a GraphQL Name of at most 64 characters. */
const LABEL_NAME = /^[A-Z_a-z]\w{0,63}$/;

/** The label of an operation without a name. */
export const ANONYMOUS_LABEL = '(anonymous)';
/** The label of every name beyond the bound, or not shaped like a GraphQL name. */
export const OTHER_LABEL = '(other)';

/**
 * The first `max` distinct well-formed names are their own label, for the life of the process;
 * every later one, and every malformed one, is {@link OTHER_LABEL}.
 */
export class BoundedLabels {
  private readonly seen = new Set<string>();

  constructor(private readonly max: number) {}

  labelOf(name: string | null | undefined): string {
    if (!name) return ANONYMOUS_LABEL;
    if (this.seen.has(name)) return name;
    if (this.seen.size >= this.max || !LABEL_NAME.test(name)) return OTHER_LABEL;
    this.seen.add(name);
    return name;
  }
}
