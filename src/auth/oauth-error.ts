/**
 * OAuth 2.0 error responses (RFC 6749 §5.2): a status and an `error` code from the RFC's list,
 * rendered as JSON by the token and revocation endpoints.
 */
export type OAuthErrorCode =
  | 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'unauthorized_client'
  | 'unsupported_grant_type' | 'invalid_scope' | 'unsupported_token_type' | 'slow_down' | 'temporarily_unavailable';

export class OAuthError extends Error {
  /**
   * The client a refusal is known to come from, when its credentials were verified before the
   * refusal (a valid refresh token of a disabled client); unset for unverified requests.
   */
  clientId: string | undefined;

  constructor(
    readonly status: number,
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(`${error}: ${description}`);
    this.name = 'OAuthError';
  }

  toJSON(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.error, error_description: this.description };
  }
}

export const invalidRequest = (d: string) => new OAuthError(400, 'invalid_request', d);
export const invalidClient = (d: string) => new OAuthError(401, 'invalid_client', d);
export const invalidGrant = (d: string) => new OAuthError(400, 'invalid_grant', d);
export const invalidScope = (d: string) => new OAuthError(400, 'invalid_scope', d);
export const unsupportedGrantType = (d: string) => new OAuthError(400, 'unsupported_grant_type', d);

/** Marks `err` as coming from `clientId`, whose credentials were verified (for the audit trail). */
export function fromVerifiedClient(err: OAuthError, clientId: string): OAuthError {
  err.clientId = clientId;
  return err;
}
