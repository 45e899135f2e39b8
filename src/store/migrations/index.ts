/** The ordered list of schema migrations; append new ones, never edit a released one. */
import { Migration0001ResourceStore } from './migration-0001-resource-store.ts';
import { Migration0002Oauth } from './migration-0002-oauth.ts';
import { Migration0003RateLimit } from './migration-0003-rate-limit.ts';
import { Migration0004SearchIndex } from './migration-0004-search-index.ts';
import { Migration0005QuantityRanges } from './migration-0005-quantity-ranges.ts';
import { Migration0006ChangeFeed } from './migration-0006-change-feed.ts';
import { Migration0007Webhooks } from './migration-0007-webhooks.ts';
import { Migration0008BinaryContent } from './migration-0008-binary-content.ts';
import { Migration0009BulkExport } from './migration-0009-bulk-export.ts';
import { Migration0010AuditEventTable } from './migration-0010-audit-event-table.ts';
import { Migration0011LockResources } from './migration-0011-lock-resources.ts';
import { Migration0012SearchWalkIndexes } from './migration-0012-search-walk-indexes.ts';

export const migrationsList = [
  { name: '0001-resource-store', class: Migration0001ResourceStore },
  { name: '0002-oauth', class: Migration0002Oauth },
  { name: '0003-rate-limit', class: Migration0003RateLimit },
  { name: '0004-search-index', class: Migration0004SearchIndex },
  { name: '0005-quantity-ranges', class: Migration0005QuantityRanges },
  { name: '0006-change-feed', class: Migration0006ChangeFeed },
  { name: '0007-webhooks', class: Migration0007Webhooks },
  { name: '0008-binary-content', class: Migration0008BinaryContent },
  { name: '0009-bulk-export', class: Migration0009BulkExport },
  { name: '0010-audit-event-table', class: Migration0010AuditEventTable },
  { name: '0011-lock-resources', class: Migration0011LockResources },
  { name: '0012-search-walk-indexes', class: Migration0012SearchWalkIndexes },
];
