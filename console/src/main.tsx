/**
 * The operator console (`GET /console`): sign in with an admin client's API key, then clients,
 * audit trail, webhooks, exports and a GraphQL explorer, all over the public API with the signed-in
 * token. No inline script: this file is the page's one module (Content-Security-Policy
 * `script-src 'self'`).
 */
import { StrictMode, Suspense, lazy, useCallback, useState, type FormEvent, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { Session } from './api.ts';
import { ErrorLine, errorText } from './ui.tsx';
import { ClientsPage } from './pages/clients-page.tsx';
import { AuditPage } from './pages/audit-page.tsx';
import { WebhooksPage } from './pages/webhooks-page.tsx';
import { ExportsPage } from './pages/exports-page.tsx';
import './console.css';

/** GraphiQL is most of the bundle: loaded when the explorer is first opened. */
const ExplorerPage = lazy(() => import('./pages/explorer-page.tsx'));

const PAGES = ['clients', 'audit', 'webhooks', 'exports', 'explorer'] as const;
type Page = (typeof PAGES)[number];
const TITLES: Record<Page, string> = { clients: 'Clients', audit: 'Audit trail', webhooks: 'Webhooks', exports: 'Exports', explorer: 'GraphQL explorer' };

interface SignInProps {
  onSignedIn: (session: Session) => void;
  /** Called when the session is lost later (a 401, a token that could not be renewed). */
  onLost: (reason: string) => void;
  notice: string;
}

function SignIn({ onSignedIn, onLost, notice }: SignInProps): ReactNode {
  const [key, setKey] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError('');
    try {
      onSignedIn(await Session.signIn(key, onLost));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="sign-in">
      <h1>fhirgraph console</h1>
      <form onSubmit={submit} className="panel">
        <label className="field">
          <span>API key of an admin client (its refresh token, <code>fgr_…</code>)</span>
          <input type="password" name="api-key" autoComplete="off" value={key} onChange={(e) => setKey(e.target.value)} required size={60} />
        </label>
        <button type="submit" disabled={busy}>Sign in</button>
        <ErrorLine error={error || notice} />
        <p className="note">The key stays in this tab's memory; the console exchanges it for 15-minute access tokens at <code>/auth/token</code>.</p>
      </form>
    </main>
  );
}

function Console(): ReactNode {
  const [session, setSession] = useState<Session>();
  const [page, setPage] = useState<Page>('clients');
  const [notice, setNotice] = useState('');
  const lost = useCallback((reason: string) => {
    setSession(undefined);
    setNotice(`Signed out: ${reason}`);
  }, []);
  if (!session) return <SignIn onSignedIn={(s) => { setNotice(''); setSession(s); }} onLost={lost} notice={notice} />;
  return (
    <>
      <header>
        <strong>fhirgraph console</strong>
        <nav>
          {PAGES.map((p) => (
            <button type="button" key={p} className={p === page ? 'current' : ''} aria-current={p === page ? 'page' : undefined} onClick={() => setPage(p)}>{TITLES[p]}</button>
          ))}
        </nav>
        <span className="who" title={session.scope}>client <code>{session.clientId}</code></span>
        <button type="button" onClick={() => { session.signOut(); setSession(undefined); }}>Sign out</button>
      </header>
      <main data-page={page}>
        {page === 'clients' && <ClientsPage session={session} />}
        {page === 'audit' && <AuditPage session={session} />}
        {page === 'webhooks' && <WebhooksPage session={session} />}
        {page === 'exports' && <ExportsPage session={session} />}
        {page === 'explorer' && <Suspense fallback={<p>Loading the explorer…</p>}><ExplorerPage session={session} /></Suspense>}
      </main>
    </>
  );
}

createRoot(document.getElementById('root')!).render(<StrictMode><Console /></StrictMode>);
