/**
 * The token endpoint's logic (`POST /auth/token`, RFC 6749 §3.2) and revocation
 * (`POST /auth/revoke`, RFC 7009): the `client_credentials` grant with a SMART client assertion,
 * and the `refresh_token` grant for API-key clients, whose refresh tokens never expire and do not
 * rotate (DECISIONS.md §7). The granted scope is the intersection of the requested scope and the
 * client's allowed scope.
 */
import { decodeJwt } from 'jose';
import type { Database } from '../store/database.ts';
import { findRefreshToken, insertRevokedAccessToken, revokeRefreshToken } from '../store/oauth-repository.ts';
import type { AccessTokens } from './access-tokens.ts';
import type { AuthState } from './auth-state.ts';
import { hashRefreshToken, REFRESH_TOKEN_PREFIX } from './client-admin.ts';
import { verifyClientAssertion } from './client-assertion.ts';
import { fromVerifiedClient, invalidGrant, invalidRequest, invalidScope, unsupportedGrantType } from './oauth-error.ts';
import { grantScope } from './scopes.ts';

export interface TokenResponse {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
  scope: string;
}

/** What a token request did, for the audit trail. */
export interface TokenGrantResult {
  response: TokenResponse;
  clientId: string;
  clientName: string;
}

/**
 * A token request's client once its credentials (assertion or refresh token) are verified, and
 * the most it may be granted. Until then a request is only an address claiming some client id.
 */
export interface AuthenticatedClient {
  clientId: string;
  clientName: string;
  /** The client's allowed scope (for a refresh token, narrowed to what the token was issued for). */
  allowedScope: string;
}

/**
 * The token endpoint in two steps, so the caller can charge a request to its client only once
 * the client is proven ({@link authenticate}), and then {@link issue}.
 */
export class TokenService {
  constructor(
    private readonly db: Database,
    private readonly state: AuthState,
    private readonly tokens: AccessTokens,
    /** `PUBLIC_URL/auth/token`, the only accepted assertion audience. */
    private readonly tokenEndpoint: string,
  ) {}

  /**
   * The client a token request claims to be before anything is verified (its assertion's `iss`,
   * else its `client_id`): for the audit trail only, never for charging limits to that client.
   */
  claimedClientId(form: URLSearchParams): string | undefined {
    const assertion = form.get('client_assertion');
    if (assertion) {
      try {
        const iss = decodeJwt(assertion).iss;
        return typeof iss === 'string' ? iss.slice(0, 100) : undefined;
      } catch {
        return undefined;
      }
    }
    return form.get('client_id')?.slice(0, 100) ?? undefined;
  }

  /** Handles a whole token request; throws {@link OAuthError}. */
  async grant(form: URLSearchParams): Promise<TokenGrantResult> {
    return this.issue(await this.authenticate(form), form.get('scope') ?? undefined);
  }

  /**
   * Verifies a token request's grant and client credentials; throws {@link OAuthError} when they
   * do not prove a client (the request is then unverified, whatever client it names).
   */
  async authenticate(form: URLSearchParams): Promise<AuthenticatedClient> {
    const grantType = form.get('grant_type');
    if (!grantType) throw invalidRequest('grant_type is required');
    if (grantType === 'client_credentials') return this.clientCredentials(form);
    if (grantType === 'refresh_token') return this.refreshToken(form);
    throw unsupportedGrantType(`grant_type "${grantType.slice(0, 60)}" is not supported`);
  }

  private async clientCredentials(form: URLSearchParams): Promise<AuthenticatedClient> {
    const client = await verifyClientAssertion(
      this.db, this.state, form.get('client_assertion_type') ?? undefined, form.get('client_assertion') ?? undefined, this.tokenEndpoint,
    );
    return { clientId: client.clientId, clientName: client.name, allowedScope: client.scope };
  }

  private async refreshToken(form: URLSearchParams): Promise<AuthenticatedClient> {
    const token = form.get('refresh_token');
    if (!token) throw invalidRequest('refresh_token is required');
    const record = token.startsWith(REFRESH_TOKEN_PREFIX) ? await findRefreshToken(this.db, hashRefreshToken(token)) : undefined;
    if (!record) throw invalidGrant('refresh_token is not valid');
    if (record.revoked) throw invalidGrant('refresh_token has been revoked');
    // From here on the caller holds a real refresh token: refusals are on record as its client.
    const client = await this.state.client(record.clientId);
    if (!client || client.status !== 'active') throw fromVerifiedClient(invalidGrant('the client of this refresh_token is disabled'), record.clientId);
    const claimed = form.get('client_id');
    if (claimed && claimed !== client.clientId) throw fromVerifiedClient(invalidGrant('refresh_token was not issued to this client_id'), client.clientId);
    return { clientId: client.clientId, clientName: client.name, allowedScope: grantScope(record.scope, client.scope) };
  }

  /** Issues an access token to an authenticated client for `requested` (default: all it may have). */
  async issue(client: AuthenticatedClient, requested: string | undefined): Promise<TokenGrantResult> {
    const scope = grantScope(requested, client.allowedScope);
    if (!scope) throw fromVerifiedClient(invalidScope('none of the requested scopes is allowed for this client'), client.clientId);
    const { token, expiresIn } = await this.tokens.issue(client.clientId, scope);
    return { response: { access_token: token, token_type: 'bearer', expires_in: expiresIn, scope }, clientId: client.clientId, clientName: client.clientName };
  }

  /**
   * Revokes a refresh token or an access token (RFC 7009 §2). Unknown or invalid tokens are not
   * an error: the answer is the same, so it reveals nothing.
   */
  async revoke(form: URLSearchParams): Promise<{ clientId?: string }> {
    const token = form.get('token');
    if (!token) throw invalidRequest('token is required');
    if (token.startsWith(REFRESH_TOKEN_PREFIX)) {
      const hash = hashRefreshToken(token);
      const record = await findRefreshToken(this.db, hash);
      await revokeRefreshToken(this.db, hash);
      return { clientId: record?.clientId };
    }
    try {
      const verified = await this.tokens.verify(token);
      await insertRevokedAccessToken(this.db, verified.jti, new Date(verified.exp * 1000));
      await this.state.announce();
      return { clientId: verified.clientId };
    } catch {
      return {};
    }
  }
}
