/**
 * What the core service knows about the request it serves. The OAuth2 issue adds the client,
 * its granted scopes and the audit sink here; every facade builds one per request.
 */
export interface RequestContext {
  /** Base URL of the FHIR endpoint (`PUBLIC_URL/fhir`), for absolute references and links. */
  readonly fhirBaseUrl: string;
}
