/**
 * The change feed (README.md in this folder): committed changes in commit order, without misses,
 * for GraphQL subscriptions and webhooks to build on.
 */
export { ChangeFeed, type ChangeFeedOptions, type EventVersions, type FeedListener, type FeedPage, type FeedSubscription, type SubscribeOptions } from './change-feed.ts';
export { passesFilter, type ChangeAction, type ChangeEvent, type ChangeFilter } from './change-event.ts';
export { ChangeRetention, type ChangeRetentionOptions } from './change-retention.ts';
export { CHANGES_CHANNEL, ChangeSequencer, type ChangeSequencerOptions } from './change-sequencer.ts';
export { createChangeServices, type ChangeServices } from './change-services.ts';
export { claimDurableCursor, createDurableCursor, deleteDurableCursor, loadDurableCursor, saveDurableCursor } from './durable-cursors.ts';
export { CursorExpired, decodeCursor, encodeCursor, invalidCursor } from './feed-cursor.ts';
export { matchesCriteria, parseChangeCriteria, type ChangeCriteria, type CriteriaOptions } from './match/change-criteria.ts';
export { indexVersion, type IndexedVersion } from './match/indexed-version.ts';
