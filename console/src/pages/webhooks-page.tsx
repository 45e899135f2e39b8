/**
 * Webhooks: `GET /fhir/Subscription` (status, criteria, endpoint, last error), a Subscription's
 * delivery log (`GET /fhir/AuditEvent?entity=Subscription/{id}`) and
 * `POST /fhir/Subscription/{id}/$replay?since=…` (only the Subscription's creator may replay).
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import type { Session } from '../api.ts';
import { ErrorLine, Field, errorText, formatTime, useLoad } from '../ui.tsx';
import { AuditTable } from './audit-page.tsx';

function ReplayForm({ session, id }: { session: Session; id: string }): ReactNode {
  const [since, setSince] = useState('');
  const [result, setResult] = useState('');
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setResult('');
    const value = /^\d+$/.test(since.trim()) ? since.trim() : new Date(since).toISOString();
    try {
      await session.get(`/fhir/Subscription/${encodeURIComponent(id)}/$replay?since=${encodeURIComponent(value)}`, { method: 'POST' });
      setResult('Replay accepted: the matching changes are delivered again.');
    } catch (err) {
      setResult(errorText(err));
    }
  };
  return (
    <form onSubmit={submit} className="row">
      <Field label="Replay since (event cursor or local time)"><input value={since} onChange={(e) => setSince(e.target.value)} placeholder="2026-01-01T00:00" required /></Field>
      <button type="submit">Replay</button>
      {result && <span className="note">{result}</span>}
    </form>
  );
}

/** The webhooks page. */
export function WebhooksPage({ session }: { session: Session }): ReactNode {
  const { data, error, reload } = useLoad(() => session.get('/fhir/Subscription?_count=100&_sort=-_lastUpdated'), []);
  const [selected, setSelected] = useState('');
  const subscriptions: any[] = (data?.entry ?? []).map((e: any) => e.resource).filter(Boolean);
  return (
    <>
      <section className="panel">
        <h2>Subscriptions</h2>
        <ErrorLine error={error} />
        <table data-testid="subscriptions">
          <thead><tr><th>Id</th><th>Status</th><th>Reason</th><th>Criteria</th><th>Channel</th><th>Last error</th><th>Updated</th><th /></tr></thead>
          <tbody>
            {subscriptions.length === 0 && <tr><td colSpan={8} className="empty">No Subscriptions</td></tr>}
            {subscriptions.map((s) => (
              <tr key={s.id} className={selected === s.id ? 'selected' : ''}>
                <td><code>{s.id}</code></td>
                <td className={s.status === 'active' ? 'ok' : s.status === 'error' ? 'bad' : ''}>{s.status}</td>
                <td>{s.reason ?? ''}</td>
                <td><code>{s.criteria}</code></td>
                <td>{s.channel?.type} {s.channel?.endpoint ?? ''}</td>
                <td>{s.error ?? ''}</td>
                <td>{formatTime(s.meta?.lastUpdated)}</td>
                <td><button type="button" onClick={() => setSelected(s.id)}>Delivery log</button></td>
              </tr>
            ))}
          </tbody>
        </table>
        <button type="button" onClick={reload}>Refresh</button>
      </section>
      {selected && (
        <section className="panel">
          <h2>Delivery log of Subscription/{selected}</h2>
          <ReplayForm session={session} id={selected} />
          <AuditTable key={selected} session={session} path={`/fhir/AuditEvent?entity=${encodeURIComponent(`Subscription/${selected}`)}&_sort=-date&_count=20`} testId="delivery-log" />
        </section>
      )}
    </>
  );
}
