/**
 * The author's rights apply to every delivery (issue 16): an event goes out only if the client
 * that created the Subscription may read that resource now — its client is active (a disabled
 * client's Subscriptions stop), and both the scope it wrote the Subscription with and the scope
 * its client is allowed today permit reading the type and searching every type the criteria
 * search. Client status and allowed scopes come from the in-process {@link AuthState}, which
 * every process keeps fresh within a second (DECISIONS.md §7), so a check costs no query.
 * https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html
 */
import type { AuthState } from '../auth/auth-state.ts';
import { ScopeSet, type Permission } from '../auth/scopes.ts';
import type { SubscriptionAuthor } from './webhook-subscription.ts';

/** The server's own context writes as this client; it has every right. */
const SYSTEM_CLIENT = 'system';

/** Checks authors' rights against the current client records. */
export class AuthorRights {
  private readonly allowed = new Map<string, ScopeSet>();

  constructor(private readonly state: AuthState) {}

  /**
   * Why `author` may not read `resourceType` (and search `searchedTypes`) now, or undefined when
   * it may.
   */
  async refusal(author: SubscriptionAuthor, resourceType: string, searchedTypes: readonly string[]): Promise<string | undefined> {
    let permits = (type: string, permission: Permission) => author.scopes.permits(type, permission);
    if (author.clientId !== SYSTEM_CLIENT) {
      const client = await this.state.client(author.clientId);
      if (!client || client.status !== 'active') return 'the client that created the Subscription is disabled';
      const allowed = this.scopeSet(client.scope);
      const own = permits;
      permits = (type, permission) => own(type, permission) && allowed.permits(type, permission) && (type !== 'AuditEvent' || client.admin);
    }
    if (!permits(resourceType, 'r')) return `the client that created the Subscription may not read ${resourceType}`;
    const unsearchable = searchedTypes.find((type) => !permits(type, 's'));
    if (unsearchable) return `the client that created the Subscription may not search ${unsearchable}`;
    return undefined;
  }

  private scopeSet(scope: string): ScopeSet {
    let set = this.allowed.get(scope);
    if (!set) {
      if (this.allowed.size > 1_000) this.allowed.clear();
      set = new ScopeSet(scope);
      this.allowed.set(scope, set);
    }
    return set;
  }
}
