/**
 * The console's one way to the server: the public API, same origin. Signing in exchanges an
 * admin client's API key (its refresh token) for an access token at `POST /auth/token`; the key
 * and the token live in this object's memory only (never localStorage), the token is renewed a
 * minute before it expires, and every call sends it as `Authorization: Bearer`.
 */

/** A JSON answer of the API. */
export interface ApiResponse<T = any> {
  status: number;
  ok: boolean;
  body: T;
}

/** Why a call failed, in words the API gave (an OperationOutcome's diagnostics, an OAuth error). */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** The message of an error answer: OperationOutcome diagnostics, OAuth `error_description`, or the status. */
export function messageOf(status: number, body: any): string {
  const issue = body?.issue?.[0];
  if (issue) return String(issue.diagnostics ?? issue.details?.text ?? issue.code);
  if (body?.error) return `${body.error}${body.error_description ? `: ${body.error_description}` : ''}`;
  return `HTTP ${status}`;
}

async function readJson(response: Response): Promise<any> {
  const text = await response.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The claims of an access token the console shows (the token's own, not verified here: the server does that). */
function claimsOf(token: string): { client_id?: string; scope?: string } {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(payload));
  } catch {
    return {};
  }
}

/** A signed-in admin session. */
export class Session {
  private accessToken = '';
  private timer: ReturnType<typeof setTimeout> | undefined;
  clientId = '';
  scope = '';

  private constructor(private readonly apiKey: string, private readonly onLost: (reason: string) => void) {}

  /** Signs in with an API key; throws {@link ApiError} when the server refuses it or the client is not an admin. */
  static async signIn(apiKey: string, onLost: (reason: string) => void): Promise<Session> {
    const session = new Session(apiKey.trim(), onLost);
    await session.renew();
    const probe = await session.call('/admin/clients');
    if (probe.status === 403) {
      session.signOut();
      throw new ApiError(403, 'This client is not an admin client: the console needs a client created with --admin');
    }
    return session;
  }

  /** The current access token (the GraphQL explorer sends it too). */
  get token(): string {
    return this.accessToken;
  }

  private async renew(): Promise<void> {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: this.apiKey });
    const response = await fetch('/auth/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
    const body = await readJson(response);
    if (!response.ok || typeof body?.access_token !== 'string') throw new ApiError(response.status, messageOf(response.status, body));
    this.accessToken = body.access_token;
    const claims = claimsOf(this.accessToken);
    this.clientId = claims.client_id ?? '';
    this.scope = String(body.scope ?? claims.scope ?? '');
    const renewIn = Math.max(10, Number(body.expires_in ?? 900) - 60) * 1000;
    this.timer = setTimeout(() => {
      this.renew().catch((err: unknown) => this.lose(err instanceof Error ? err.message : 'the token could not be renewed'));
    }, renewIn);
  }

  /** Calls the API with the token; a JSON body is sent as `application/json` unless `contentType` says otherwise. */
  async call<T = any>(path: string, init: { method?: string; json?: unknown; contentType?: string } = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.accessToken}`, accept: 'application/fhir+json, application/json' };
    let body: string | undefined;
    if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      headers['content-type'] = init.contentType ?? 'application/json';
    }
    const response = await fetch(path, { method: init.method ?? 'GET', headers, body });
    const parsed = await readJson(response);
    if (response.status === 401) this.lose(messageOf(401, parsed));
    return { status: response.status, ok: response.ok, body: parsed };
  }

  /** Like {@link call}, but throws {@link ApiError} unless the answer is 2xx. */
  async get<T = any>(path: string, init: { method?: string; json?: unknown; contentType?: string } = {}): Promise<T> {
    const response = await this.call<T>(path, init);
    if (!response.ok) throw new ApiError(response.status, messageOf(response.status, response.body));
    return response.body;
  }

  /** Ends a session the server no longer accepts (nothing to revoke) and tells the page. */
  private lose(reason: string): void {
    clearTimeout(this.timer);
    this.accessToken = '';
    this.onLost(reason);
  }

  /** Stops renewing and revokes the access token (not the API key: it stays valid). */
  signOut(): void {
    clearTimeout(this.timer);
    const token = this.accessToken;
    this.accessToken = '';
    if (token) void fetch('/auth/revoke', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }) });
  }
}

/** The path and query of a link the server made (absolute, under PUBLIC_URL), to call on this origin. */
export function localPath(link: string): string {
  const url = new URL(link, location.origin);
  return `${url.pathname}${url.search}`;
}
