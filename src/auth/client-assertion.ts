/**
 * Verifies a SMART Backend Services client assertion (a JWT signed with the client's private
 * key, `private_key_jwt`): allowed algorithm only (RS384, ES384, RS256, ES256; never `none` or
 * `HS*`), key chosen by `kid` from the client's registered JWKS, `iss` = `sub` = client id,
 * `aud` = this token endpoint, `exp` present and at most 5 minutes ahead, `iat` (if present) not
 * ahead of the clock by more than the skew, `jti` never seen before.
 * https://hl7.org/fhir/smart-app-launch/backend-services.html#authorize
 */
import { decodeJwt, decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose';
import type { Database } from '../store/database.ts';
import { rememberAssertionJti, type ClientRecord } from '../store/oauth-repository.ts';
import type { AuthState } from './auth-state.ts';
import { invalidClient, invalidRequest } from './oauth-error.ts';

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const ASSERTION_ALGORITHMS = ['RS384', 'ES384', 'RS256', 'ES256'];
const MAX_LIFETIME_S = 300;
const CLOCK_SKEW_S = 30;

/** Checks a client assertion and returns the client it authenticates. */
export async function verifyClientAssertion(
  db: Database,
  state: AuthState,
  assertionType: string | undefined,
  assertion: string | undefined,
  tokenEndpoint: string,
): Promise<ClientRecord> {
  if (assertionType !== JWT_BEARER) throw invalidClient(`client_assertion_type must be ${JWT_BEARER}`);
  if (!assertion) throw invalidRequest('client_assertion is required');
  let header: ReturnType<typeof decodeProtectedHeader>;
  let unverified: ReturnType<typeof decodeJwt>;
  try {
    header = decodeProtectedHeader(assertion);
    unverified = decodeJwt(assertion);
  } catch {
    throw invalidClient('client_assertion is not a JWT');
  }
  if (!header.alg || !ASSERTION_ALGORITHMS.includes(header.alg)) {
    throw invalidClient(`client_assertion algorithm must be one of ${ASSERTION_ALGORITHMS.join(', ')}`);
  }
  const clientId = unverified.iss;
  if (typeof clientId !== 'string' || clientId !== unverified.sub) throw invalidClient('iss and sub must both be the client id');
  const client = await state.client(clientId);
  if (!client) throw invalidClient('unknown client');
  if (client.status !== 'active') throw invalidClient('client is disabled');
  if (!client.jwks) throw invalidClient('client has no registered JWKS; use its refresh token');
  if (!header.kid) throw invalidClient('client_assertion header needs a kid');
  const jwk = client.jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) throw invalidClient('no registered key has that kid');
  let payload: Awaited<ReturnType<typeof jwtVerify>>['payload'];
  try {
    const key = await importJWK({ ...(jwk as JWK), alg: header.alg }, header.alg);
    ({ payload } = await jwtVerify(assertion, key, {
      algorithms: [header.alg],
      issuer: clientId,
      subject: clientId,
      audience: tokenEndpoint,
      requiredClaims: ['exp', 'jti'],
      clockTolerance: CLOCK_SKEW_S,
    }));
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'ERR_JWS_INVALID';
    throw invalidClient(`client_assertion rejected (${code})`);
  }
  const now = Math.floor(Date.now() / 1000);
  if (payload.exp! > now + MAX_LIFETIME_S + CLOCK_SKEW_S) throw invalidClient('client_assertion exp is more than 5 minutes ahead');
  // jose checks only that iat is a number; an assertion "issued" in the future is refused.
  if (typeof payload.iat === 'number' && payload.iat > now + CLOCK_SKEW_S) throw invalidClient('client_assertion iat is in the future');
  if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 256) throw invalidClient('client_assertion needs a jti');
  const fresh = await rememberAssertionJti(db, clientId, payload.jti, new Date((payload.exp! + CLOCK_SKEW_S) * 1000));
  if (!fresh) throw invalidClient('client_assertion jti was already used');
  return client;
}
