/**
 * The facade-neutral result of a Bundle-producing interaction (batch, transaction, later search
 * and history): entries carry the stored JSON text of their resource, so a facade can render the
 * Bundle without parsing and re-serialising each resource.
 * https://hl7.org/fhir/R4/bundle.html
 */
import type { OperationOutcome } from '../fhir/outcomes.ts';

export interface BundleEntryResult {
  fullUrl?: string;
  /** The entry's resource as JSON text, exactly as stored. */
  resourceJson?: string;
  search?: { mode: 'match' | 'include' | 'outcome'; score?: number };
  request?: { method: string; url: string };
  response?: {
    status: string;
    location?: string;
    etag?: string;
    lastModified?: string;
    outcome?: OperationOutcome;
  };
}

export interface BundleResult {
  type: 'transaction-response' | 'batch-response' | 'history' | 'searchset';
  total?: number;
  link?: { relation: string; url: string }[];
  entry: BundleEntryResult[];
}
