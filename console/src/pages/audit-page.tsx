/**
 * The audit trail: `GET /fhir/AuditEvent` searched by `agent` (client id), `entity`, `action`,
 * `outcome` and `date`, newest first, paged through the Bundle's `next`/`previous` links.
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import { localPath, type Session } from '../api.ts';
import { ErrorLine, Field, formatTime, useLoad } from '../ui.tsx';

const PAGE_SIZE = 20;

interface Filters { agent: string; entity: string; action: string; outcome: string; from: string; to: string }

/** The search URL of a set of filters (a `datetime-local` value is the operator's local time). */
export function auditSearchPath(filters: Filters): string {
  const query = new URLSearchParams({ _sort: '-date', _count: String(PAGE_SIZE) });
  if (filters.agent.trim()) query.set('agent', filters.agent.trim());
  if (filters.entity.trim()) query.set('entity', filters.entity.trim());
  if (filters.action) query.set('action', filters.action);
  if (filters.outcome) query.set('outcome', filters.outcome);
  if (filters.from) query.append('date', `ge${new Date(filters.from).toISOString()}`);
  if (filters.to) query.append('date', `le${new Date(filters.to).toISOString()}`);
  return `/fhir/AuditEvent?${query}`;
}

/** One AuditEvent as a table row's cells. */
export function AuditRows({ bundle }: { bundle: any }): ReactNode {
  const events: any[] = (bundle?.entry ?? []).map((entry: any) => entry.resource).filter((r: any) => r?.resourceType === 'AuditEvent');
  if (events.length === 0) return <tr><td colSpan={7} className="empty">No events</td></tr>;
  return events.map((event) => {
    const who = event.agent?.[0]?.who;
    const entities = (event.entity ?? []).map((e: any) => e.what?.reference).filter(Boolean).join(', ');
    const details = (event.entity?.[0]?.detail ?? []).map((d: any) => `${d.type}=${d.valueString}`).join(' ');
    return (
      <tr key={event.id}>
        <td>{formatTime(event.recorded)}</td>
        <td>{event.subtype?.[0]?.code ?? ''}</td>
        <td>{event.action}</td>
        <td className={event.outcome === '0' ? 'ok' : 'bad'}>{event.outcome}</td>
        <td title={who?.identifier?.value ?? ''}>{who?.display ?? ''}</td>
        <td>{entities}</td>
        <td>{event.outcomeDesc ?? ''}{details ? ` (${details})` : ''}</td>
      </tr>
    );
  });
}

/** A table of AuditEvents loaded from `path`, with links to the next and previous pages (a new `key` starts it again). */
export function AuditTable({ session, path, testId }: { session: Session; path: string; testId: string }): ReactNode {
  const [page, setPage] = useState(path);
  const { data, error, loading, reload } = useLoad(() => session.get(page), [page]);
  const link = (relation: string) => (data?.link ?? []).find((l: any) => l.relation === relation)?.url as string | undefined;
  const next = link('next');
  const previous = link('previous') ?? link('prev');
  return (
    <>
      <ErrorLine error={error} />
      <table data-testid={testId} aria-busy={loading}>
        <thead><tr><th>Recorded</th><th>Interaction</th><th>Action</th><th>Outcome</th><th>Client</th><th>Entities</th><th>Description</th></tr></thead>
        <tbody><AuditRows bundle={data} /></tbody>
      </table>
      <div className="row">
        <button type="button" disabled={!previous} onClick={() => previous && setPage(localPath(previous))}>Previous</button>
        <button type="button" disabled={!next} onClick={() => next && setPage(localPath(next))}>Next</button>
        <button type="button" onClick={reload}>Refresh</button>
      </div>
    </>
  );
}

/** The audit page. */
export function AuditPage({ session }: { session: Session }): ReactNode {
  const empty: Filters = { agent: '', entity: '', action: '', outcome: '', from: '', to: '' };
  const [form, setForm] = useState<Filters>(empty);
  const [search, setSearch] = useState({ path: auditSearchPath(empty), round: 0 });
  const set = (name: keyof Filters) => (e: { target: { value: string } }) => setForm({ ...form, [name]: e.target.value });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    // A new round each time: the table starts again from the first page, even for the same filters.
    setSearch({ path: auditSearchPath(form), round: search.round + 1 });
  };
  return (
    <section className="panel">
      <h2>Audit trail</h2>
      <form onSubmit={submit} className="row">
        <Field label="Client id"><input name="agent" value={form.agent} onChange={set('agent')} size={36} /></Field>
        <Field label="Entity"><input name="entity" value={form.entity} onChange={set('entity')} placeholder="Patient/123" /></Field>
        <Field label="Action">
          <select name="action" value={form.action} onChange={set('action')}>
            <option value="">any</option><option value="C">C create</option><option value="R">R read</option>
            <option value="U">U update</option><option value="D">D delete</option><option value="E">E execute</option>
          </select>
        </Field>
        <Field label="Outcome">
          <select name="outcome" value={form.outcome} onChange={set('outcome')}>
            <option value="">any</option><option value="0">0 success</option><option value="4">4 minor failure</option><option value="8">8 serious failure</option>
          </select>
        </Field>
        <Field label="From"><input type="datetime-local" name="from" value={form.from} onChange={set('from')} /></Field>
        <Field label="To"><input type="datetime-local" name="to" value={form.to} onChange={set('to')} /></Field>
        <button type="submit">Search</button>
        <button type="button" onClick={() => setForm({ ...form, agent: session.clientId })}>Mine</button>
      </form>
      <AuditTable key={search.round} session={session} path={search.path} testId="audit-events" />
    </section>
  );
}
