/**
 * The table the REST facade is built from: each route names the FHIR interaction or operation it
 * implements, so the CapabilityStatement is generated from the same table that registers the
 * routes and cannot list anything that is not served.
 * https://hl7.org/fhir/R4/capabilitystatement.html
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.ts';
import type { Security } from '../access/security.ts';
import type { Permission } from '../service/authorize.ts';
import type { FhirService } from '../service/fhir-service.ts';
import type { RequestContext } from '../service/request-context.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A type-level interaction (https://hl7.org/fhir/R4/valueset-type-restful-interaction.html). */
export type TypeInteraction = 'read' | 'vread' | 'update' | 'patch' | 'delete' | 'history-instance' | 'history-type' | 'create' | 'search-type';

/** What a route implements, in CapabilityStatement terms. */
export type RouteCapability =
  | { level: 'type'; interaction: TypeInteraction }
  | { level: 'system'; interaction: 'transaction' | 'batch' | 'history-system' | 'search-system' }
  | {
    level: 'operation'; name: string; definition: string; scope: 'type' | 'instance' | 'system';
    /** Any one of these on a type lets a caller run it there (empty: it checks each type it touches itself). */
    permissions: readonly Permission[];
    /** The types it is served on; absent: every type. */
    resourceTypes?: readonly string[];
  }
  | { level: 'none' };

export interface RouteDeps {
  config: Config;
  service: FhirService;
  security: Security;
  /** The service context the authentication hook built for this request. */
  context(request: FastifyRequest): RequestContext;
}

/** The part of a route the CapabilityStatement is generated from. */
export type CapabilityRoute = Pick<FhirRoute, 'method' | 'url' | 'capabilities'>;

/**
 * What body a route takes beyond `MAX_RESOURCE_BODY`: `bundle`, always a Bundle (a batch or
 * transaction, up to `MAX_BODY`); `typed`, a resource of the URL's type, up to `MAX_BODY` when
 * that type is `Bundle`. Both read a Bundle entry by entry (`readBundleBody`).
 */
export type RouteBody = 'bundle' | 'typed';

export interface FhirRoute {
  method: HttpMethod;
  url: string;
  capabilities: RouteCapability[];
  /** Unset: a body of at most `MAX_RESOURCE_BODY`. */
  body?: RouteBody;
  /**
   * Serves `Binary` content (routes/binary-routes.ts): for the type `Binary` it takes precedence
   * over the generic route of its URL, and adds no 405 answers of its own.
   */
  binary?: true;
  handler(request: FastifyRequest, reply: FastifyReply, deps: RouteDeps): Promise<unknown>;
}

export type Params = Record<string, string>;
export type Query = Record<string, string | string[] | undefined>;
