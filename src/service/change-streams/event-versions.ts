/**
 * The versions change events wrote, loaded once per event for every stream of the process: the
 * feed fans an event out to each subscriber in one synchronous pass, each stream asks for its
 * events' versions in the same tick, and a DataLoader turns all of those asks into one statement
 * (`ChangeFeed.loadVersions`). Entries stay in a bounded cache (5,000 events, about 32 MB), so
 * streams that catch up from a cursor, or lag a little behind the others, read nothing again. Each version is parsed and
 * indexed for matching at most once, when a stream first needs it.
 * https://github.com/graphql/dataloader#batching
 */
import DataLoader, { type CacheMap } from 'dataloader';
import type { ChangeEvent, ChangeFeed } from '../../changes/index.ts';
import { indexVersion, type IndexedVersion } from '../../changes/index.ts';
import { parseFhirJson } from '../../fhir/fhir-json.ts';
import type { StoredVersion } from '../../store/resource-repository.ts';

/** The versions of one change event, shared by every stream that delivers it. */
export class EventVersions {
  private indexedVersion: IndexedVersion | undefined | null = null;
  private parsed: Record<string, unknown> | null | undefined;

  constructor(
    /** The version the change wrote (a delete's has no content); undefined when history no longer holds it. */
    readonly written: StoredVersion | undefined,
    /** The version criteria see: the one written, or for a delete the one before it. */
    readonly matched: StoredVersion | undefined,
    private readonly fhirBaseUrl: string,
  ) {}

  /** The matched version's search index rows, extracted on first use; undefined without content. */
  get indexed(): IndexedVersion | undefined {
    if (this.indexedVersion === null) this.indexedVersion = this.matched ? indexVersion(this.matched, this.fhirBaseUrl) : undefined;
    return this.indexedVersion;
  }

  /** The written version as FHIR JSON, parsed on first use (null for a delete); treat it as read-only. */
  get resource(): Record<string, unknown> | null {
    if (this.parsed === undefined) {
      const content = this.written && !this.written.deleted ? this.written.content : null;
      this.parsed = content === null ? null : (parseFhirJson(content) as Record<string, unknown>);
    }
    return this.parsed;
  }
}

/**
 * DataLoader's `cacheMap`, bounded: it forgets its oldest entries beyond `maxEntries`, or once the
 * versions it holds pass `maxBytes` (counted when each load settles: content text, twice for what
 * parsing and indexing add).
 */
class BoundedCache implements CacheMap<number, Promise<EventVersions>> {
  private readonly entries = new Map<number, Promise<EventVersions>>();
  private readonly sizes = new Map<number, number>();
  private bytes = 0;

  constructor(private readonly maxEntries: number, private readonly maxBytes: number) {}

  get(key: number): Promise<EventVersions> | undefined {
    return this.entries.get(key);
  }

  set(key: number, value: Promise<EventVersions>): void {
    this.delete(key);
    this.entries.set(key, value);
    value.then((versions) => {
      if (this.entries.get(key) !== value) return;
      const size = sizeOf(versions);
      this.sizes.set(key, size);
      this.bytes += size;
      this.evict();
    }, () => undefined);
    this.evict();
  }

  delete(key: number): void {
    this.entries.delete(key);
    this.bytes -= this.sizes.get(key) ?? 0;
    this.sizes.delete(key);
  }

  clear(): void {
    this.entries.clear();
    this.sizes.clear();
    this.bytes = 0;
  }

  private evict(): void {
    while (this.entries.size > this.maxEntries || (this.bytes > this.maxBytes && this.entries.size > 1)) {
      this.delete(this.entries.keys().next().value!);
    }
  }
}

function sizeOf(versions: EventVersions): number {
  const written = versions.written?.content?.length ?? 0;
  const matched = versions.matched && versions.matched !== versions.written ? versions.matched.content?.length ?? 0 : 0;
  return 256 + 2 * (written + matched);
}

/** The shared loader of {@link EventVersions}, one per process. */
export class EventVersionCache {
  private readonly loader: DataLoader<ChangeEvent, EventVersions, number>;

  /** Keeps the versions of at most `maxEntries` events and about `maxBytes` of their content. */
  constructor(feed: ChangeFeed, fhirBaseUrl: string, maxEntries = 5_000, maxBytes = 32 * 1024 * 1024) {
    this.loader = new DataLoader(async (events) => {
      const loaded = await feed.loadVersions(events);
      return events.map((event) => {
        const versions = loaded.get(event.position);
        return new EventVersions(versions?.written, versions?.matched, fhirBaseUrl);
      });
    }, {
      cacheKeyFn: (event) => event.position,
      // A failed read is not cached: the stream that asked fails, a later ask reads again.
      cacheMap: new BoundedCache(maxEntries, maxBytes),
      maxBatchSize: 1_000,
    });
  }

  /** The versions of each event, in order (one statement for every stream asking in the same tick). */
  async load(events: readonly ChangeEvent[]): Promise<EventVersions[]> {
    const results = await this.loader.loadMany(events);
    return results.map((result, i) => {
      if (result instanceof Error) {
        this.loader.clear(events[i]);
        throw result;
      }
      return result;
    });
  }
}
