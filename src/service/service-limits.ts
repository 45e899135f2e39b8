/**
 * The bounds the core service works within (from `Config`): page sizes, the cost bounds of a
 * search and the size bounds of a written resource. Helpers take this, not the service.
 */
import { DEFAULT_LIMITS, type ResourceLimits, type SearchLimits } from '../config.ts';

/** Page sizes and the cost bounds of searches and written resources (`Config`). */
export interface ServiceLimits {
  defaultCount: number;
  maxCount: number;
  search: SearchLimits;
  resource: ResourceLimits;
  /** `WEBHOOK_ALLOW_PRIVATE`: Subscription endpoints may be loopback or private addresses (default false). */
  webhookAllowPrivate?: boolean;
  /** `MAX_BINARY`: the largest Binary content in bytes (default {@link DEFAULT_MAX_BINARY_BYTES}). */
  maxBinaryBytes?: number;
  /**
   * The largest Binary content returned inline as base64 where an answer is built in memory
   * (GraphQL `Binary.data`); default `MAX_RESOURCE_BODY`'s default, 1 MiB.
   */
  maxInlineBinaryBytes?: number;
}

/** `MAX_BINARY`'s default: 64 MiB. */
export const DEFAULT_MAX_BINARY_BYTES = 64 * 1024 * 1024;
/** The default of {@link ServiceLimits.maxInlineBinaryBytes}: 1 MiB. */
export const DEFAULT_MAX_INLINE_BINARY_BYTES = 1024 * 1024;

/** The defaults, for services built without a configuration (tests, the CLI). */
export const DEFAULT_SERVICE_LIMITS: ServiceLimits = {
  defaultCount: 20, maxCount: 1000, search: DEFAULT_LIMITS.search, resource: DEFAULT_LIMITS.resource,
};
