/**
 * The OAuth2 endpoints: `POST /auth/token` (RFC 6749 §3.2, SMART Backend Services),
 * `POST /auth/revoke` (RFC 7009), `GET /auth/jwks` (RFC 7517) and the SMART configuration
 * (https://hl7.org/fhir/smart-app-launch/conformance.html). Limited per client and per IP
 * against brute force; every issue and refusal is audited.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import { ASSERTION_ALGORITHMS } from '../../auth/client-assertion.ts';
import { OAuthError } from '../../auth/oauth-error.ts';
import { FhirError } from '../../fhir/outcomes.ts';
import type { Security } from '../../http/security.ts';

function formOf(request: FastifyRequest): URLSearchParams {
  const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new OAuthError(400, 'invalid_request', 'the body must be application/x-www-form-urlencoded');
  }
  return new URLSearchParams(typeof request.body === 'string' ? request.body : '');
}

/** The client a token request claims to be, before verification (for limits and audit only). */
function claimedClient(form: URLSearchParams): string | undefined {
  const assertion = form.get('client_assertion');
  if (assertion) {
    try {
      const iss = decodeJwt(assertion).iss;
      if (typeof iss === 'string') return iss.slice(0, 100);
    } catch {
      return undefined;
    }
  }
  return form.get('client_id')?.slice(0, 100) ?? undefined;
}

function sendOAuthError(reply: FastifyReply, err: OAuthError): FastifyReply {
  for (const [name, value] of Object.entries(err.headers)) reply.header(name, value);
  return reply.code(err.status).header('Cache-Control', 'no-store').type('application/json').send(JSON.stringify(err));
}

/** Registers the auth endpoints on the app. */
export function registerAuthRoutes(app: FastifyInstance, security: Security): void {
  const { config } = security;
  const limit = config.tokenRateLimit;

  const limited = (reply: FastifyReply, key: string): void => {
    try {
      security.enforceRate(reply, key, limit);
    } catch (err) {
      if (err instanceof FhirError) throw new OAuthError(429, 'slow_down', 'too many token requests; retry later', err.headers);
      throw err;
    }
  };

  app.post('/auth/token', async (request, reply) => {
    let clientId: string | undefined;
    try {
      const form = formOf(request);
      clientId = claimedClient(form);
      limited(reply, `token-ip:${request.ip}`);
      if (clientId) limited(reply, `token-client:${clientId}`);
      const result = await security.tokenService.grant(form);
      security.auditLog.enqueue({
        action: 'E', interaction: 'token', clientId: result.clientId, clientName: result.clientName, ip: request.ip,
        status: 200, description: `token issued (${form.get('grant_type')})`, entities: [], recorded: new Date(),
      });
      return reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache').type('application/json').send(JSON.stringify(result.response));
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      security.auditRefusal({
        action: 'E', interaction: 'token', clientId, ip: request.ip, status: err.status,
        description: `token refused: ${err.error}: ${err.description}`, entities: [], recorded: new Date(),
      });
      return sendOAuthError(reply, err);
    }
  });

  app.post('/auth/revoke', async (request, reply) => {
    try {
      const form = formOf(request);
      limited(reply, `token-ip:${request.ip}`);
      const { clientId } = await security.tokenService.revoke(form);
      security.auditLog.enqueue({
        action: 'E', interaction: 'revoke', clientId, ip: request.ip, status: 200, description: 'token revocation', entities: [], recorded: new Date(),
      });
      return reply.code(200).header('Cache-Control', 'no-store').send();
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      return sendOAuthError(reply, err);
    }
  });

  app.get('/auth/jwks', async (_request, reply) => reply.type('application/json').send(JSON.stringify(security.keys.jwks())));

  const smartConfiguration = JSON.stringify({
    issuer: config.publicUrl,
    jwks_uri: `${config.publicUrl}/auth/jwks`,
    token_endpoint: `${config.publicUrl}/auth/token`,
    revocation_endpoint: `${config.publicUrl}/auth/revoke`,
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
    grant_types_supported: ['client_credentials', 'refresh_token'],
    scopes_supported: ['system/*.read', 'system/*.write', 'system/*.*', 'system/*.cruds', 'system/*.rs'],
    response_types_supported: ['token'],
    capabilities: ['client-confidential-asymmetric', 'permission-v1', 'permission-v2'],
  });
  app.get('/fhir/.well-known/smart-configuration', async (_request, reply) => reply.type('application/json').send(smartConfiguration));
}
