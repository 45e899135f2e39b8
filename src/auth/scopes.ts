/**
 * SMART on FHIR scopes, v1 (`system/Patient.read`, `system/*.write`, `system/*.*`) and v2
 * (`system/Observation.rs`, `system/*.cruds`), for system-level (backend) access.
 * https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html
 *
 * v1 `read` is v2 `rs`, `write` is `cud`, `*` is `cruds`. The granted scope of a token is the
 * intersection of what the client asked for and what it is allowed.
 */

export type Permission = 'c' | 'r' | 'u' | 'd' | 's';

const ORDER: Permission[] = ['c', 'r', 'u', 'd', 's'];
const V1: Record<string, Permission[]> = { read: ['r', 's'], write: ['c', 'u', 'd'], '*': ['c', 'r', 'u', 'd', 's'] };
const SCOPE = /^system\/(\*|[A-Z][A-Za-z]+)\.(read|write|\*|c?r?u?d?s?)$/;

/** One parsed resource scope. */
export interface ResourceScope {
  resourceType: string; // '*' for every type
  permissions: ReadonlySet<Permission>;
  /** The form it was written in, so a granted scope reads like the request. */
  version: 1 | 2;
}

/** Parses one scope token; undefined for anything that is not a system resource scope. */
export function parseScope(token: string): ResourceScope | undefined {
  const m = SCOPE.exec(token);
  if (!m || m[2] === '') return undefined;
  const v1 = V1[m[2]];
  return { resourceType: m[1], permissions: new Set(v1 ?? (m[2].split('') as Permission[])), version: v1 ? 1 : 2 };
}

/** Writes a scope back as a string, in its version's form where possible. */
export function formatScope(scope: ResourceScope): string {
  const perms = ORDER.filter((p) => scope.permissions.has(p)).join('');
  if (scope.version === 1) {
    const v1 = Object.entries(V1).find(([, list]) => list.join('') === perms)?.[0];
    if (v1) return `system/${scope.resourceType}.${v1}`;
  }
  return `system/${scope.resourceType}.${perms}`;
}

/** Splits a space-separated scope string into the resource scopes it holds. */
export function parseScopes(scope: string): ResourceScope[] {
  return scope.split(/\s+/).filter(Boolean).map(parseScope).filter((s): s is ResourceScope => s !== undefined);
}

/** True when every token of a space-separated string is a valid system resource scope. */
export function isValidScopeString(scope: string): boolean {
  const tokens = scope.split(/\s+/).filter(Boolean);
  return tokens.length > 0 && tokens.every((t) => parseScope(t) !== undefined);
}

function intersectOne(requested: ResourceScope, allowed: ResourceScope): ResourceScope | undefined {
  let resourceType: string;
  if (requested.resourceType === '*') resourceType = allowed.resourceType;
  else if (allowed.resourceType === '*' || allowed.resourceType === requested.resourceType) resourceType = requested.resourceType;
  else return undefined;
  const permissions = new Set(ORDER.filter((p) => requested.permissions.has(p) && allowed.permissions.has(p)));
  return permissions.size ? { resourceType, permissions, version: requested.version } : undefined;
}

/**
 * The scope to grant: the intersection of the requested and the allowed scopes, as a
 * space-separated string (empty when nothing overlaps). No requested scope grants all allowed.
 */
export function grantScope(requested: string | undefined, allowed: string): string {
  const allowedScopes = parseScopes(allowed);
  if (!requested || !requested.trim()) return allowedScopes.map(formatScope).join(' ');
  const granted = new Set<string>();
  for (const r of parseScopes(requested)) {
    for (const a of allowedScopes) {
      const overlap = intersectOne(r, a);
      if (overlap) granted.add(formatScope(overlap));
    }
  }
  return [...granted].join(' ');
}

/**
 * The tokens of `requested` that `held` does not cover entirely: what an admin client would grant
 * beyond its own token's scope. Empty when `requested` is a subset of `held`.
 */
export function scopesNotHeld(requested: string, held: string): string[] {
  const holder = new ScopeSet(held);
  return requested.split(/\s+/).filter(Boolean).filter((token) => {
    const scope = parseScope(token);
    if (!scope) return true;
    return [...scope.permissions].some((p) => (scope.resourceType === '*' ? !holder.permitsAll(p) : !holder.permits(scope.resourceType, p)));
  });
}

/** The permissions a granted scope string gives, for fast checks on every request. */
export class ScopeSet {
  private readonly all = new Set<Permission>();
  private readonly byType = new Map<string, Set<Permission>>();

  constructor(readonly scope: string) {
    for (const s of parseScopes(scope)) {
      const target = s.resourceType === '*' ? this.all : this.byType.get(s.resourceType) ?? new Set<Permission>();
      for (const p of s.permissions) target.add(p);
      if (s.resourceType !== '*') this.byType.set(s.resourceType, target);
    }
  }

  /** True when the scope allows `permission` on `resourceType`. */
  permits(resourceType: string, permission: Permission): boolean {
    return this.all.has(permission) || (this.byType.get(resourceType)?.has(permission) ?? false);
  }

  /** True when the scope allows `permission` on every type. */
  permitsAll(permission: Permission): boolean {
    return this.all.has(permission);
  }

  /** The types named explicitly with `permission` (for filtering when not `permitsAll`). */
  typesWith(permission: Permission): string[] {
    return [...this.byType].filter(([, perms]) => perms.has(permission)).map(([type]) => type);
  }
}
