/**
 * Client administration, shared by the operator CLI and the admin API: create a client (an
 * API-key client gets a refresh token, shown once and stored only as a hash; a SMART Backend
 * Services client registers its public JWKS), disable one (every token it holds stops at once),
 * list them. CONTRACT.md "Operator CLI".
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { badRequest, forbidden, notFound } from '../fhir/outcomes.ts';
import type { Database } from '../store/database.ts';
import { disableClient, insertClient, insertRefreshToken, listClients, updateClient, type ClientRecord } from '../store/oauth-repository.ts';
import { AUTH_CHANNEL } from './auth-state.ts';
import type { RateLimit } from './rate-limit/rate-decision.ts';
import { isValidScopeString, scopesNotHeld } from './scopes.ts';

export const REFRESH_TOKEN_PREFIX = 'fgr_';

export interface CreateClientInput {
  name: string;
  scope: string;
  /** The client's public JWKS; absent for API-key clients. */
  jwks?: unknown;
  admin?: boolean;
  /** `"N/s,M/min"`. */
  rate?: string;
}

export interface ClientSummary {
  client_id: string;
  name: string;
  scope: string;
  status: string;
  admin: boolean;
  auth: 'private_key_jwt' | 'refresh_token';
  /** The client's own rate limits (`null`: the server's default; 0: unlimited). */
  rate: { per_second: number | null; per_minute: number | null };
}

/** What `PATCH /admin/clients/{id}` changes: the allowed scope, the rate limits (`"N/s,M/min"`; a part left out returns to the default). */
export interface UpdateClientInput {
  scope?: string;
  rate?: string;
}

/** Hash under which a refresh token is stored and looked up. */
export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Parses `"N/s,M/min"` (either part optional). */
export function parseRate(rate: string): { perSecond: number | null; perMinute: number | null } {
  const result = { perSecond: null as number | null, perMinute: null as number | null };
  for (const part of rate.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([0-9]{1,9})\s*\/\s*(s|sec|second|min|minute)$/.exec(part);
    if (!m) throw badRequest(`rate "${part}" is not of the form N/s or M/min`);
    if (m[2].startsWith('s')) result.perSecond = Number(m[1]);
    else result.perMinute = Number(m[1]);
  }
  return result;
}

function checkJwks(jwks: unknown): { keys: Record<string, unknown>[] } {
  const keys = (jwks as { keys?: unknown })?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw badRequest('jwks must be a JWK Set with at least one key');
  for (const key of keys) {
    if (typeof key !== 'object' || key === null) throw badRequest('every JWKS key must be an object');
    const k = key as Record<string, unknown>;
    if (typeof k.kid !== 'string' || !k.kid) throw badRequest('every JWKS key needs a kid');
    if (k.kty !== 'RSA' && k.kty !== 'EC') throw badRequest('JWKS keys must be RSA or EC public keys');
    if ('d' in k) throw badRequest('the JWKS must hold public keys only');
  }
  return { keys: keys as Record<string, unknown>[] };
}

export function summarise(client: ClientRecord): ClientSummary {
  return {
    client_id: client.clientId,
    name: client.name,
    scope: client.scope,
    status: client.status,
    admin: client.admin,
    auth: client.jwks ? 'private_key_jwt' : 'refresh_token',
    rate: { per_second: client.ratePerSecond, per_minute: client.ratePerMinute },
  };
}

/** Who creates a client over the API: an admin client, by the scope of the token it acts with and its own rate limits. */
export interface ClientGrantor {
  /** The admin's granted scope (its access token's `scope`). */
  scope: string;
  /**
   * The admin's rate limits as the server applies them (its own, else the server's defaults;
   * 0 = unlimited) and the server's defaults, which a client created without a rate gets.
   * Absent: the grantor is not limited.
   */
  rate?: { own: RateLimit; defaults: RateLimit };
}

const WINDOW_NAMES = { perSecond: 'per second', perMinute: 'per minute' } as const;

/**
 * The new client's stored rate when `grantor` creates it: an admin grants only limits it holds,
 * so a limit it asks for must be no looser than the admin's own (unlimited, 0, only from an
 * unlimited admin; 403 otherwise), and one it leaves to the server's default gets the admin's own
 * when the default is looser.
 */
function grantedRate(rate: { perSecond: number | null; perMinute: number | null }, grantor: ClientGrantor['rate']): typeof rate {
  if (!grantor) return rate;
  const granted = { ...rate };
  for (const window of ['perSecond', 'perMinute'] as const) {
    const held = grantor.own[window];
    if (held <= 0) continue;
    const asked = rate[window];
    const looser = (value: number) => value <= 0 || value > held;
    if (asked !== null && looser(asked)) {
      throw forbidden(`An admin client may grant only rate limits it holds: ${asked <= 0 ? 'unlimited' : asked} ${WINDOW_NAMES[window]} is beyond its own ${held} ${WINDOW_NAMES[window]}`);
    }
    if (asked === null && looser(grantor.defaults[window])) granted[window] = held;
  }
  return granted;
}

/**
 * Creates a client; returns its id and, for API-key clients, its refresh token (shown once).
 * With a `grantor` (an admin client over the REST or GraphQL admin API) the new client's scope
 * must lie within the grantor's own, and its rate limits too (see {@link grantedRate}): an admin
 * grants only what it holds (403 otherwise). The operator CLI passes none.
 */
export async function createClient(db: Database, input: CreateClientInput, grantor?: ClientGrantor): Promise<{ client_id: string; refresh_token?: string }> {
  if (typeof input.name !== 'string' || !input.name.trim() || input.name.length > 200) throw badRequest('name is required (at most 200 characters)');
  if (typeof input.scope !== 'string' || !isValidScopeString(input.scope)) {
    throw badRequest('scope must be SMART system scopes such as "system/*.read" or "system/Patient.cruds"');
  }
  assertScopeHeld(input.scope, grantor);
  const jwks = input.jwks === undefined ? null : checkJwks(input.jwks);
  const rate = grantedRate(input.rate ? parseRate(input.rate) : { perSecond: null, perMinute: null }, grantor?.rate);
  const clientId = randomUUID();
  return db.transaction(async (tx) => {
    await insertClient(tx, {
      clientId, name: input.name.trim(), scope: input.scope.trim().split(/\s+/).join(' '), jwks, admin: input.admin === true,
      ratePerSecond: rate.perSecond, ratePerMinute: rate.perMinute,
    });
    if (jwks) return { client_id: clientId };
    const refreshToken = `${REFRESH_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    await insertRefreshToken(tx, hashRefreshToken(refreshToken), clientId, input.scope);
    return { client_id: clientId, refresh_token: refreshToken };
  });
}

/** 403 unless `grantor` (when there is one) holds every scope of `scope`. */
function assertScopeHeld(scope: string, grantor: ClientGrantor | undefined): void {
  if (!grantor) return;
  const beyond = scopesNotHeld(scope, grantor.scope);
  if (beyond.length > 0) {
    throw forbidden(`An admin client may grant only scopes it holds: ${beyond.join(' ').slice(0, 300)} is not within "${grantor.scope.slice(0, 300)}"`);
  }
}

/**
 * Changes a client's allowed scope and rate limits, under the same rules as {@link createClient}
 * (an admin grants only scopes and limits it holds), and tells every process at once. Rate limits
 * apply to the client's next request; a scope applies to the tokens issued after the change
 * (access tokens already issued keep theirs until they expire, at most 15 minutes).
 */
export async function updateClientById(db: Database, clientId: string, input: UpdateClientInput, grantor?: ClientGrantor): Promise<ClientSummary> {
  if (input.scope === undefined && input.rate === undefined) throw badRequest('Nothing to change: send "scope" and/or "rate"');
  if (input.scope !== undefined && (typeof input.scope !== 'string' || !isValidScopeString(input.scope))) {
    throw badRequest('scope must be SMART system scopes such as "system/*.read" or "system/Patient.cruds"');
  }
  if (input.rate !== undefined && typeof input.rate !== 'string') throw badRequest('rate must be a string "N/s,M/min"');
  if (input.scope !== undefined) assertScopeHeld(input.scope, grantor);
  const rate = input.rate === undefined ? undefined : grantedRate(parseRate(input.rate), grantor?.rate);
  const client = await updateClient(db, clientId, {
    scope: input.scope?.trim().split(/\s+/).join(' '),
    ...(rate && { ratePerSecond: rate.perSecond, ratePerMinute: rate.perMinute }),
  });
  if (!client) throw notFound(`client ${clientId.slice(0, 80)} is not known`);
  await db.query(`SELECT pg_notify('${AUTH_CHANNEL}', 'client')`);
  return summarise(client);
}

/** Disables a client and tells every process at once. */
export async function disableClientById(db: Database, clientId: string): Promise<{ client_id: string; status: 'disabled' }> {
  const client = await disableClient(db, clientId);
  if (!client) throw notFound(`client ${clientId.slice(0, 80)} is not known`);
  await db.query(`SELECT pg_notify('${AUTH_CHANNEL}', 'client')`);
  return { client_id: client.clientId, status: 'disabled' };
}

/** Lists every client (no secrets). */
export async function listClientSummaries(db: Database): Promise<{ clients: ClientSummary[] }> {
  return { clients: (await listClients(db)).map(summarise) };
}

