/**
 * Clients: `GET /admin/clients`, `POST /admin/clients` (the new API key shown once),
 * `PATCH /admin/clients/{id}` (scope, rate limits) and `POST /admin/clients/{id}/disable`.
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import type { Session } from '../api.ts';
import { ErrorLine, Field, errorText, useLoad } from '../ui.tsx';

interface Client {
  client_id: string;
  name: string;
  scope: string;
  status: string;
  admin: boolean;
  auth: string;
  rate?: { per_second: number | null; per_minute: number | null };
}

function rateText(rate: Client['rate']): string {
  if (!rate) return '';
  const part = (value: number | null, unit: string) => (value === null ? `default/${unit}` : value === 0 ? `unlimited/${unit}` : `${value}/${unit}`);
  return `${part(rate.per_second, 's')}, ${part(rate.per_minute, 'min')}`;
}

function rateInput(rate: Client['rate']): string {
  if (!rate) return '';
  return [rate.per_second !== null ? `${rate.per_second}/s` : '', rate.per_minute !== null ? `${rate.per_minute}/min` : ''].filter(Boolean).join(',');
}

function CreateClientForm({ session, onCreated }: { session: Session; onCreated: () => void }): ReactNode {
  const [name, setName] = useState('');
  const [scope, setScope] = useState('system/*.read');
  const [rate, setRate] = useState('');
  const [admin, setAdmin] = useState(false);
  const [error, setError] = useState('');
  const [created, setCreated] = useState<{ client_id: string; refresh_token?: string }>();
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError('');
    try {
      const body = await session.get('/admin/clients', { method: 'POST', json: { name, scope, admin, ...(rate.trim() ? { rate: rate.trim() } : {}) } });
      setCreated(body);
      setName('');
      onCreated();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <section className="panel">
      <h2>New client</h2>
      <form onSubmit={submit} className="row">
        <Field label="Name"><input name="name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} /></Field>
        <Field label="Scope"><input name="scope" value={scope} onChange={(e) => setScope(e.target.value)} required size={30} /></Field>
        <Field label="Rate (N/s,M/min)"><input name="rate" value={rate} onChange={(e) => setRate(e.target.value)} placeholder="default" size={12} /></Field>
        <label className="check"><input type="checkbox" name="admin" checked={admin} onChange={(e) => setAdmin(e.target.checked)} /> admin</label>
        <button type="submit">Create</button>
      </form>
      <ErrorLine error={error} />
      {created && (
        <div className="secret" data-testid="created-client">
          <p>Client <code>{created.client_id}</code> created.</p>
          {created.refresh_token && (
            <p>Its API key (refresh token), shown this once — copy it now: <code data-testid="created-secret">{created.refresh_token}</code></p>
          )}
          <button type="button" onClick={() => setCreated(undefined)}>I have copied it</button>
        </div>
      )}
    </section>
  );
}

function EditClientForm({ session, client, onDone }: { session: Session; client: Client; onDone: () => void }): ReactNode {
  const [scope, setScope] = useState(client.scope);
  const [rate, setRate] = useState(rateInput(client.rate));
  const [error, setError] = useState('');
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    try {
      await session.get(`/admin/clients/${encodeURIComponent(client.client_id)}`, { method: 'PATCH', json: { scope, rate } });
      onDone();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <form onSubmit={submit} className="row edit">
      <Field label="Scope"><input value={scope} onChange={(e) => setScope(e.target.value)} size={30} /></Field>
      <Field label="Rate (empty: default)"><input value={rate} onChange={(e) => setRate(e.target.value)} size={14} /></Field>
      <button type="submit">Save</button>
      <button type="button" onClick={onDone}>Cancel</button>
      <ErrorLine error={error} />
    </form>
  );
}

/** The clients page. */
export function ClientsPage({ session }: { session: Session }): ReactNode {
  const { data, error, reload } = useLoad(() => session.get<{ clients: Client[] }>('/admin/clients'), []);
  const [editing, setEditing] = useState('');
  const [actionError, setActionError] = useState('');
  const disable = async (client: Client) => {
    if (!confirm(`Disable client "${client.name}"? Every token it holds stops working at once.`)) return;
    try {
      await session.get(`/admin/clients/${encodeURIComponent(client.client_id)}/disable`, { method: 'POST' });
      reload();
    } catch (err) {
      setActionError(errorText(err));
    }
  };
  return (
    <>
      <CreateClientForm session={session} onCreated={reload} />
      <section className="panel">
        <h2>Clients</h2>
        <ErrorLine error={error || actionError} />
        <table data-testid="clients">
          <thead><tr><th>Name</th><th>Client id</th><th>Scope</th><th>Rate limits</th><th>Status</th><th>Auth</th><th /></tr></thead>
          <tbody>
            {(data?.clients ?? []).map((client) => (
              <tr key={client.client_id} className={client.status}>
                <td>{client.name}{client.admin ? <span className="tag">admin</span> : null}</td>
                <td><code>{client.client_id}</code></td>
                <td>{editing === client.client_id
                  ? <EditClientForm session={session} client={client} onDone={() => { setEditing(''); reload(); }} />
                  : client.scope}</td>
                <td>{rateText(client.rate)}</td>
                <td>{client.status}</td>
                <td>{client.auth === 'refresh_token' ? 'API key' : 'JWKS'}</td>
                <td className="actions">
                  {client.status === 'active' && editing !== client.client_id && <button type="button" onClick={() => setEditing(client.client_id)}>Edit</button>}
                  {client.status === 'active' && client.client_id !== session.clientId && <button type="button" onClick={() => void disable(client)}>Disable</button>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}
