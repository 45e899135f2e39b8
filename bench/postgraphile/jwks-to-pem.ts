/**
 * fhirgraph's access-token verification settings in the form PostGraphile 4 takes them: the ES256
 * public key of the current signing key as an SPKI PEM (`jwtPublicKey`), read from fhirgraph's
 * JWKS (`GET /auth/jwks`, https://datatracker.ietf.org/doc/html/rfc7517), and the issuer that
 * fhirgraph puts in `iss` and `aud` (its `PUBLIC_URL`, published as `issuer` in
 * `/fhir/.well-known/smart-configuration`).
 *
 * fhirgraph lists its newest key first and signs with it; a PEM holds one key, so a key rotation
 * during a run needs a restart of the PostGraphile process (tokens signed by the previous key are
 * refused, never served anonymously).
 */
import { exportSPKI, importJWK, type JWK } from 'jose';
import { trimTrailingSlashes } from '../../src/config.ts';

/** What serve-postgraphile needs: `JWT_PUBLIC_KEY_PEM` and `JWT_ISSUER`. */
export interface JwtVerification {
  publicKeyPem: string;
  issuer: string;
  /** The `kid` of the key the PEM holds. */
  kid: string;
}

/** The SPKI PEM of an ES256 public JWK. */
export async function jwkToSpkiPem(jwk: JWK): Promise<string> {
  const { d: _private, ...publicJwk } = jwk;
  const key = await importJWK({ ...publicJwk, ext: true }, 'ES256');
  if (key instanceof Uint8Array) throw new Error('the JWK is a symmetric key, not an ES256 public key');
  return exportSPKI(key);
}

/** The PEM of the key `kid` in `jwks`, or of its first ES256 key (fhirgraph's current signer). */
export async function jwksToPem(jwks: { keys?: JWK[] }, kid?: string): Promise<{ publicKeyPem: string; kid: string }> {
  const keys = (jwks.keys ?? []).filter((k) => k.kty === 'EC' && k.crv === 'P-256' && (k.alg === undefined || k.alg === 'ES256'));
  const key = kid === undefined ? keys[0] : keys.find((k) => k.kid === kid);
  if (!key) throw new Error(kid === undefined ? 'the JWKS holds no ES256 key' : `the JWKS holds no ES256 key "${kid}"`);
  return { publicKeyPem: await jwkToSpkiPem(key), kid: key.kid ?? '' };
}

async function getJson(url: string): Promise<any> {
  const response = await fetch(url, { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  return response.json();
}

/**
 * Reads the verification settings from a running fhirgraph at `baseUrl` (`http://host:port`,
 * without `/fhir`).
 */
export async function fetchJwtVerification(baseUrl: string, kid?: string): Promise<JwtVerification> {
  const base = trimTrailingSlashes(baseUrl);
  const [jwks, smart] = await Promise.all([getJson(`${base}/auth/jwks`), getJson(`${base}/fhir/.well-known/smart-configuration`)]);
  if (typeof smart?.issuer !== 'string') throw new Error(`${base}/fhir/.well-known/smart-configuration has no issuer`);
  const { publicKeyPem, kid: usedKid } = await jwksToPem(jwks, kid);
  return { publicKeyPem, issuer: smart.issuer, kid: usedKid };
}
