/**
 * MikroORM entity schemas of the resource store (declared with `EntitySchema`, so no decorator
 * metadata is needed; DECISIONS.md §3). The tables themselves are created by the hand-written
 * migrations in `./migrations`; hot paths query them with plain parameterised SQL through
 * {@link Database}. Layout:
 *
 * - `resource`: the current version of every resource, one row per (type, id), deleted ones kept
 *   as tombstones so a read answers 410 and an update-as-create can continue the version chain.
 * - `resource_history`: every version ever written (including the current one), for vread and
 *   `_history` at instance, type and system level; `seq` orders history stably.
 * - the search index tables (`search_string`, `search_token`, …, `search_reference`), one row per
 *   indexed value of the current version, written with it (`search-index-repository.ts`).
 * - `change_event`: the transactional outbox of the change feed; the sequencer stamps each
 *   committed row with a feed `position`, which readers page by, so a row that commits late is
 *   never skipped (DECISIONS.md §3, src/changes/README.md).
 */
import { EntitySchema } from '@mikro-orm/core';

export interface ResourceRow {
  resourceType: string;
  id: string;
  versionId: number;
  lastUpdated: Date;
  deleted: boolean;
  content: string | null;
}

export const ResourceEntity = new EntitySchema<ResourceRow>({
  name: 'Resource',
  tableName: 'resource',
  properties: {
    resourceType: { type: 'text', primary: true, fieldName: 'resource_type' },
    id: { type: 'text', primary: true },
    versionId: { type: 'integer', fieldName: 'version_id' },
    lastUpdated: { type: 'Date', columnType: 'timestamptz', fieldName: 'last_updated' },
    deleted: { type: 'boolean' },
    content: { type: 'text', columnType: 'json', nullable: true },
  },
});

export interface ResourceHistoryRow extends ResourceRow {
  seq: string;
  method: string;
}

export const ResourceHistoryEntity = new EntitySchema<ResourceHistoryRow>({
  name: 'ResourceHistory',
  tableName: 'resource_history',
  properties: {
    seq: { type: 'bigint', fieldName: 'seq', persist: false },
    resourceType: { type: 'text', primary: true, fieldName: 'resource_type' },
    id: { type: 'text', primary: true },
    versionId: { type: 'integer', primary: true, fieldName: 'version_id' },
    lastUpdated: { type: 'Date', columnType: 'timestamptz', fieldName: 'last_updated' },
    deleted: { type: 'boolean' },
    method: { type: 'text' },
    content: { type: 'text', columnType: 'json', nullable: true },
  },
});

export interface ChangeEventEntityRow {
  seq: string;
  txid: string;
  /** Null until the sequencer stamps the committed row. */
  position: string | null;
  resourceType: string;
  id: string;
  versionId: number;
  action: 'create' | 'update' | 'delete';
  recordedAt: Date;
}

export const ChangeEventEntity = new EntitySchema<ChangeEventEntityRow>({
  name: 'ChangeEvent',
  tableName: 'change_event',
  properties: {
    seq: { type: 'bigint', primary: true },
    txid: { type: 'text', columnType: 'xid8' },
    position: { type: 'bigint', nullable: true },
    resourceType: { type: 'text', fieldName: 'resource_type' },
    id: { type: 'text' },
    versionId: { type: 'integer', fieldName: 'version_id' },
    action: { type: 'text' },
    recordedAt: { type: 'Date', columnType: 'timestamptz', fieldName: 'recorded_at' },
  },
});

/** Every entity schema of the store, for `MikroORM.init`. */
export const storeEntities = [ResourceEntity, ResourceHistoryEntity, ChangeEventEntity];
