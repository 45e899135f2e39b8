/**
 * Parsing `Bundle.entry.request` of a batch or transaction: the method, the relative URL
 * (`Patient`, `Patient/1`, `Patient/1/_history/2`, `Patient?identifier=…`) and the conditional
 * headers carried as elements (`ifMatch`, `ifNoneExist`).
 * https://hl7.org/fhir/R4/bundle-definitions.html#Bundle.entry.request
 */
import { badRequest } from '../fhir/outcomes.ts';
import type { FhirModel } from '../fhir/fhir-model.ts';
import { assertId } from './interaction-start.ts';
import { isJsonObject } from './resource-content.ts';
import { parseIfMatch } from './if-match.ts';

export type EntryMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface EntryRequest {
  method: EntryMethod;
  resourceType: string;
  id?: string;
  versionId?: string;
  ifMatch?: number;
  ifNoneExist?: string;
}

const METHODS = new Set<EntryMethod>(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);

/** Parses and checks one entry's request; errors name the entry. */
export function parseEntryRequest(model: FhirModel, raw: unknown, label: string, fhirBaseUrl: string): EntryRequest {
  if (!isJsonObject(raw)) throw badRequest(`${label}.request is required`, `${label}.request`);
  const method = raw.method;
  if (typeof method !== 'string' || !METHODS.has(method as EntryMethod)) {
    throw badRequest(`${label}.request.method must be one of ${[...METHODS].join(', ')}`, `${label}.request.method`);
  }
  if (typeof raw.url !== 'string' || raw.url === '') throw badRequest(`${label}.request.url is required`, `${label}.request.url`);
  let url = raw.url;
  if (url.startsWith(fhirBaseUrl + '/')) url = url.slice(fhirBaseUrl.length);
  url = url.replace(/^\/+/, '');
  const [path, query] = url.split('?', 2) as [string, string | undefined];
  const segments = path.split('/');
  const resourceType = segments[0];
  if (!model.isResourceType(resourceType)) {
    throw badRequest(`${label}.request.url names an unknown resource type "${resourceType.slice(0, 64)}"`, `${label}.request.url`);
  }
  const request: EntryRequest = { method: method as EntryMethod, resourceType };
  if (segments.length >= 2) {
    request.id = segments[1];
    assertId(request.id, `id in ${label}.request.url`);
  }
  if (segments.length === 4 && segments[2] === '_history') request.versionId = segments[3];
  else if (segments.length > 2) throw badRequest(`${label}.request.url "${raw.url.slice(0, 100)}" is not supported`, `${label}.request.url`);
  if (query !== undefined && method !== 'POST') {
    throw badRequest(`${label}: conditional ${method} (request.url with a query) is not supported yet`, `${label}.request.url`);
  }
  if (method === 'POST' && request.id) throw badRequest(`${label}: POST takes a type URL, not an id`, `${label}.request.url`);
  if ((method === 'PUT' || method === 'PATCH' || method === 'DELETE') && !request.id) {
    throw badRequest(`${label}: ${method} needs Type/id in request.url`, `${label}.request.url`);
  }
  if ((method === 'GET' || method === 'HEAD') && !request.id) {
    throw badRequest(`${label}: search entries are not supported yet; GET needs Type/id`, `${label}.request.url`);
  }
  if (raw.ifMatch !== undefined) request.ifMatch = parseIfMatch(String(raw.ifMatch));
  if (raw.ifNoneExist !== undefined) request.ifNoneExist = String(raw.ifNoneExist);
  return request;
}
