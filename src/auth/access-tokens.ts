/**
 * Issues and verifies the server's access tokens: ES256 JWTs valid 15 minutes carrying `scope`,
 * `client_id` and `jti`. A verified token is cached for its lifetime, so a request pays no
 * signature check after the first; revocation and client status are still checked on every
 * request against the in-process {@link AuthState}.
 * https://hl7.org/fhir/smart-app-launch/backend-services.html#response-1
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, decodeProtectedHeader, jwtVerify } from 'jose';
import { unauthorized } from '../fhir/outcomes.ts';
import type { AuthState } from './auth-state.ts';
import type { ClientRecord } from '../store/oauth-repository.ts';
import { ScopeSet } from './scopes.ts';
import { ACCESS_TOKEN_ALG, type SigningKeys } from './signing-keys.ts';

export const ACCESS_TOKEN_TTL_S = 900;
const CACHE_LIMIT = 50_000;

/** Who a request acts for: the verified token's client and granted scope. */
export interface AuthInfo {
  clientId: string;
  clientName: string;
  admin: boolean;
  scopes: ScopeSet;
  /** The access token's `jti`. */
  tokenId: string;
  /** The client's own rate limit override, if any. */
  rate: { perSecond: number | null; perMinute: number | null };
  /** When the access token expires (epoch ms); absent for the server's own contexts. A WebSocket closes then. */
  expiresAt?: number;
}

interface VerifiedToken {
  clientId: string;
  scope: string;
  jti: string;
  exp: number;
  scopes: ScopeSet;
}

/** Reasons a bearer token is refused, for the audit trail. */
export type TokenRefusal =
  | 'missing' | 'malformed' | 'algorithm' | 'unknown-key' | 'bad-signature' | 'claims' | 'invalid'
  | 'expired' | 'revoked' | 'client-disabled';

const JOSE_REASONS: Record<string, TokenRefusal> = {
  ERR_JWT_EXPIRED: 'expired',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'bad-signature',
  ERR_JOSE_ALG_NOT_ALLOWED: 'algorithm',
  ERR_JWT_CLAIM_VALIDATION_FAILED: 'claims',
  ERR_JWS_INVALID: 'malformed',
  ERR_JWT_INVALID: 'malformed',
};

export class TokenRefused extends Error {
  constructor(readonly reason: TokenRefusal, readonly clientId?: string) {
    super(`access token refused: ${reason}`);
  }
}

export class AccessTokens {
  private readonly cache = new Map<string, VerifiedToken>();

  constructor(private readonly keys: SigningKeys, private readonly state: AuthState, private readonly issuer: string) {}

  /** Signs a new access token, valid `ttlSeconds` (15 minutes; tests ask for less). */
  async issue(clientId: string, scope: string, ttlSeconds = ACCESS_TOKEN_TTL_S): Promise<{ token: string; jti: string; expiresIn: number }> {
    const jti = randomUUID();
    const { kid, key } = this.keys.signingKey();
    const token = await new SignJWT({ scope, client_id: clientId })
      .setProtectedHeader({ alg: ACCESS_TOKEN_ALG, kid, typ: 'at+jwt' })
      .setIssuer(this.issuer)
      .setSubject(clientId)
      .setAudience(this.issuer)
      .setJti(jti)
      .setIssuedAt()
      .setExpirationTime(`${ttlSeconds}s`)
      .sign(key);
    return { token, jti, expiresIn: ttlSeconds };
  }

  /** A token verified earlier and still cached, or `undefined`; throws {@link TokenRefused} once it has expired. */
  private verifiedEarlier(token: string): VerifiedToken | undefined {
    const cached = this.cache.get(token);
    if (cached && cached.exp * 1000 <= Date.now()) {
      this.cache.delete(token);
      throw new TokenRefused('expired', cached.clientId);
    }
    return cached;
  }

  /** Verifies the signature and claims of a token (cached); throws {@link TokenRefused}. */
  async verify(token: string): Promise<VerifiedToken> {
    const cached = this.verifiedEarlier(token);
    if (cached) return cached;
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new TokenRefused('malformed');
    }
    if (header.alg !== ACCESS_TOKEN_ALG) throw new TokenRefused('algorithm');
    const key = await this.keys.verificationKey(header.kid);
    if (!key) throw new TokenRefused('unknown-key');
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: [ACCESS_TOKEN_ALG],
        issuer: this.issuer,
        audience: this.issuer,
        requiredClaims: ['exp', 'jti', 'sub'],
      });
      if (typeof payload.scope !== 'string' || typeof payload.client_id !== 'string' || payload.client_id !== payload.sub) {
        throw new TokenRefused('claims');
      }
      const verified: VerifiedToken = { clientId: payload.client_id, scope: payload.scope, jti: payload.jti!, exp: payload.exp!, scopes: new ScopeSet(payload.scope) };
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(token, verified);
      return verified;
    } catch (err) {
      if (err instanceof TokenRefused) throw err;
      throw new TokenRefused(JOSE_REASONS[(err as { code?: string }).code ?? ''] ?? 'invalid');
    }
  }

  /** Authenticates a request's bearer token: verified, not revoked, client active. */
  async authenticate(authorization: string | undefined): Promise<AuthInfo> {
    const token = await this.verify(bearerTokenOf(authorization));
    if (this.state.isRevoked(token.jti)) throw new TokenRefused('revoked', token.clientId);
    return authInfoOf(token, await this.state.client(token.clientId));
  }

  /**
   * {@link authenticate} without a promise when the token was verified earlier and its client is
   * cached (almost every request): the same checks, in the same order, revocation and the
   * client's status included; `undefined` when it needs {@link authenticate}'s asynchronous work.
   */
  authenticateNow(authorization: string | undefined): AuthInfo | undefined {
    const token = this.verifiedEarlier(bearerTokenOf(authorization));
    if (!token) return undefined;
    if (this.state.isRevoked(token.jti)) throw new TokenRefused('revoked', token.clientId);
    const client = this.state.cachedClient(token.clientId);
    return client && authInfoOf(token, client);
  }
}

/** The token of an `Authorization: Bearer` header; throws {@link TokenRefused} when it is missing or malformed. */
function bearerTokenOf(authorization: string | undefined): string {
  if (!authorization) throw new TokenRefused('missing');
  // The scheme name is case-insensitive (RFC 9110 §11.1; RFC 6750 §2.1: "Bearer" 1*SP b64token).
  const match = /^Bearer +([A-Za-z0-9\-_.~+/]+=*)$/i.exec(authorization.trim());
  if (!match) throw new TokenRefused('malformed');
  return match[1];
}

/** Who a verified token acts for; throws {@link TokenRefused} unless its client is active. */
function authInfoOf(token: VerifiedToken, client: ClientRecord | undefined): AuthInfo {
  if (!client || client.status !== 'active') throw new TokenRefused('client-disabled', token.clientId);
  return {
    clientId: client.clientId,
    clientName: client.name,
    admin: client.admin,
    scopes: token.scopes,
    tokenId: token.jti,
    rate: { perSecond: client.ratePerSecond, perMinute: client.ratePerMinute },
    expiresAt: token.exp * 1000,
  };
}

/** The 401 a refused token answers with (the facade adds `WWW-Authenticate`). */
export function refusalError(refusal: TokenRefused) {
  const messages: Record<TokenRefusal, string> = {
    missing: 'An access token is required (Authorization: Bearer …)',
    malformed: 'The Authorization header does not hold a Bearer JWT',
    algorithm: 'The access token is not signed with an accepted algorithm',
    'unknown-key': 'The access token is not signed by a key of this server',
    'bad-signature': 'The access token signature is not valid',
    claims: 'The access token was not issued for this server',
    invalid: 'The access token is not valid',
    expired: 'The access token has expired',
    revoked: 'The access token has been revoked',
    'client-disabled': 'The client of this access token is disabled',
  };
  return unauthorized(messages[refusal.reason]);
}
