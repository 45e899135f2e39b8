/**
 * A SMART Backend Services client for tests: a real key pair (jose), its public JWKS to register,
 * and client assertions signed with it (valid by default; every field can be bent to attack).
 * https://hl7.org/fhir/smart-app-launch/backend-services.html
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

export interface SmartClientKeys {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/** Generates a key pair for `alg` (RS384 or ES384 by default). */
export async function generateClientKeys(alg = 'ES384'): Promise<SmartClientKeys> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomUUID();
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg } };
}

export interface AssertionOptions {
  clientId: string;
  tokenEndpoint: string;
  iss?: string;
  sub?: string;
  aud?: string;
  /** Seconds from now. */
  expiresIn?: number;
  /** `iat`, in seconds from now (default 0). */
  issuedIn?: number;
  jti?: string | null;
  kid?: string;
}

/** Signs a client assertion. */
export async function signAssertion(keys: SmartClientKeys, options: AssertionOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({})
    .setProtectedHeader({ alg: keys.alg, kid: options.kid ?? keys.kid, typ: 'JWT' })
    .setIssuer(options.iss ?? options.clientId)
    .setSubject(options.sub ?? options.clientId)
    .setAudience(options.aud ?? options.tokenEndpoint)
    .setExpirationTime(now + (options.expiresIn ?? 240))
    .setIssuedAt(now + (options.issuedIn ?? 0));
  if (options.jti !== null) jwt.setJti(options.jti ?? randomUUID());
  return jwt.sign(keys.privateKey);
}

/** The form of a `client_credentials` token request carrying `assertion`. */
export function clientCredentialsForm(assertion: string, scope?: string): URLSearchParams {
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
  });
  if (scope) form.set('scope', scope);
  return form;
}
