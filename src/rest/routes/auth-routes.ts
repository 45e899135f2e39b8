/**
 * The OAuth2 endpoints: `POST /auth/token` (RFC 6749 §3.2, SMART Backend Services),
 * `POST /auth/revoke` (RFC 7009), `GET /auth/jwks` (RFC 7517) and the SMART configuration
 * (https://hl7.org/fhir/smart-app-launch/conformance.html). Token requests whose credentials fail
 * are limited per source address, verified ones per client, against brute force; every issue and
 * refusal is audited.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ASSERTION_ALGORITHMS } from '../../auth/client-assertion.ts';
import { OAuthError } from '../../auth/oauth-error.ts';
import type { AuthenticatedClient } from '../../auth/token-service.ts';
import { FhirError } from '../../fhir/outcomes.ts';
import type { Security } from '../../access/security.ts';
import { handleError } from '../error-handler.ts';

function formOf(request: FastifyRequest): URLSearchParams {
  const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new OAuthError(400, 'invalid_request', 'the body must be application/x-www-form-urlencoded');
  }
  return new URLSearchParams(typeof request.body === 'string' ? request.body : '');
}

function sendOAuthError(reply: FastifyReply, err: OAuthError): FastifyReply {
  for (const [name, value] of Object.entries(err.headers)) reply.header(name, value);
  return reply.code(err.status).header('Cache-Control', 'no-store').type('application/json').send(JSON.stringify(err));
}

/**
 * The auth routes' error handler, for what fails before their handlers run: a body over
 * `MAX_FORM_BODY` (413) or otherwise unreadable (400) is an OAuth `invalid_request` (RFC 6749
 * §5.2), in JSON like every other answer of these endpoints; anything else goes to the app's handler.
 */
function answerUnreadableBody(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const status = err.statusCode;
  if (typeof status !== 'number' || status < 400 || status >= 500) {
    handleError(err, request, reply);
    return;
  }
  const description = err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
    ? 'the request body is larger than this endpoint accepts (MAX_FORM_BODY)'
    : 'the request body cannot be read';
  void sendOAuthError(reply, new OAuthError(status, 'invalid_request', description));
}

/**
 * The OAuth error for a domain error met while handling a token request: a rate-limit refusal
 * becomes `slow_down` (429), an unavailable database `temporarily_unavailable` (503), both with
 * their `Retry-After`; anything else is not the client's doing and goes to the error handler.
 */
function toOAuthError(err: unknown): unknown {
  if (!(err instanceof FhirError)) return err;
  if (err.status === 429) return new OAuthError(429, 'slow_down', 'too many token requests; retry later', err.headers);
  if (err.status === 503) return new OAuthError(503, 'temporarily_unavailable', 'the server cannot reach its database; retry later', err.headers);
  return err;
}

/**
 * Verifies a token request's credentials; when they fail, charges the failure to the source
 * address (`addressKey`) and rethrows it, or the address's 429 once it is over its limit.
 */
async function authenticateOrCharge(security: Security, form: URLSearchParams, addressKey: string, reply: FastifyReply): Promise<AuthenticatedClient> {
  try {
    return await security.tokenService.authenticate(form);
  } catch (err) {
    if (err instanceof OAuthError) security.enforceRate(reply, addressKey, security.config.tokenRateLimit);
    throw err;
  }
}

/**
 * Registers the auth endpoints on the app.
 *
 * A token request is charged to one bucket, once its credentials are checked: a request whose
 * credentials prove its client to that client's own limit, and a request whose credentials fail
 * to its source address (brute force costs the attacker's address only; past the address's limit
 * its failures are answered 429 `slow_down`). Successes never use up the address's allowance, so
 * clients behind one proxy are not capped together, and forged requests from the same address
 * cannot refuse a client its own valid ones: only verifying tells them apart, so a request is
 * verified even from an exhausted address (at the cost of one indexed lookup or one signature
 * check, with no write). A request that merely names a client (`client_id`, an assertion's `iss`)
 * is not charged to it, so nobody can lock a client out by knowing its id, and its refusal is
 * audited as an unverified request claiming that client. Revocations are charged to the address
 * before anything else, as before.
 */
export function registerAuthRoutes(app: FastifyInstance, security: Security): void {
  const { config } = security;
  const limit = config.tokenRateLimit;
  // Any body of these endpoints is a small form: MAX_FORM_BODY whatever its declared type.
  const bodyOptions = { bodyLimit: config.maxFormBodyBytes, errorHandler: answerUnreadableBody };

  app.post('/auth/token', bodyOptions, async (request, reply) => {
    let claimedClientId: string | undefined;
    let client: AuthenticatedClient | undefined;
    try {
      const form = formOf(request);
      claimedClientId = security.tokenService.claimedClientId(form);
      client = await authenticateOrCharge(security, form, `token-ip:${request.ip}`, reply);
      security.enforceRate(reply, `token-client:${client.clientId}`, limit);
      const result = await security.tokenService.issue(client, form.get('scope') ?? undefined);
      security.auditLog.enqueue({
        action: 'E', interaction: 'token', clientId: result.clientId, clientName: result.clientName, ip: request.ip,
        status: 200, description: `token issued (${form.get('grant_type')})`, entities: [], recorded: new Date(),
      });
      return reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache').type('application/json').send(JSON.stringify(result.response));
    } catch (caught) {
      const err = toOAuthError(caught);
      if (!(err instanceof OAuthError)) throw err;
      const verifiedId = client?.clientId ?? err.clientId;
      security.auditRefusal({
        action: 'E', interaction: 'token', ip: request.ip, status: err.status,
        ...(verifiedId ? { clientId: verifiedId, clientName: client?.clientName } : { claimedClientId }),
        description: `token refused: ${err.error}: ${err.description}`, entities: [], recorded: new Date(),
      });
      return sendOAuthError(reply, err);
    }
  });

  app.post('/auth/revoke', bodyOptions, async (request, reply) => {
    try {
      const form = formOf(request);
      security.enforceRate(reply, `token-ip:${request.ip}`, limit);
      const { clientId } = await security.tokenService.revoke(form);
      security.auditLog.enqueue({
        action: 'E', interaction: 'revoke', clientId, ip: request.ip, status: 200, description: 'token revocation', entities: [], recorded: new Date(),
      });
      return reply.code(200).header('Cache-Control', 'no-store').send();
    } catch (caught) {
      const err = toOAuthError(caught);
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
