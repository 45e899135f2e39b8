/**
 * The change feed's parts for one server process, built from the configuration: the reader and
 * fan-out ({@link ChangeFeed}), the sequencer and retention, and the worker list `startServer`
 * starts (reader first, so the sequencer's first round already wakes it) and stops in reverse.
 */
import type { ChangeFeedConfig } from '../config.ts';
import type { Database } from '../store/database.ts';
import type { Worker } from '../store/worker.ts';
import { ChangeFeed } from './change-feed.ts';
import { ChangeRetention } from './change-retention.ts';
import { ChangeSequencer } from './change-sequencer.ts';

/** The change feed of one process. */
export interface ChangeServices {
  feed: ChangeFeed;
  sequencer: ChangeSequencer;
  retention: ChangeRetention;
  /** In start order. */
  workers: Worker[];
}

/** Builds (without starting) the change feed's parts over `db`. */
export function createChangeServices(db: Database, config: ChangeFeedConfig, onError?: (err: unknown) => void): ChangeServices {
  const feed = new ChangeFeed(db, { pollMs: config.pollMs, onError });
  const sequencer = new ChangeSequencer(db, { pollMs: config.pollMs, onError, onStamped: (head) => feed.wake(head) });
  const retention = new ChangeRetention(db, { retentionMs: config.retentionMs, onError });
  return { feed, sequencer, retention, workers: [feed, sequencer, retention] };
}
