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
}

/** The defaults, for services built without a configuration (tests, the CLI). */
export const DEFAULT_SERVICE_LIMITS: ServiceLimits = {
  defaultCount: 20, maxCount: 1000, search: DEFAULT_LIMITS.search, resource: DEFAULT_LIMITS.resource,
};
