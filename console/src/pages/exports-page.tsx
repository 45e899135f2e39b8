/**
 * Bulk Data exports of every client: `GET /admin/exports` (status and progress, refreshed every
 * 5 s while the page is open) and `DELETE /admin/exports/{id}` (cancel, files deleted).
 */
import { useEffect, useState, type ReactNode } from 'react';
import type { Session } from '../api.ts';
import { ErrorLine, errorText, formatTime, useLoad } from '../ui.tsx';

interface ExportJob {
  id: string;
  client_id: string;
  status: string;
  request: string;
  types: string[];
  progress: string;
  error: string | null;
  transaction_time: string;
  expires_at: string;
}

/** The exports page. */
export function ExportsPage({ session }: { session: Session }): ReactNode {
  const { data, error, reload } = useLoad(() => session.get<{ exports: ExportJob[] }>('/admin/exports'), []);
  const [actionError, setActionError] = useState('');
  useEffect(() => {
    const timer = setInterval(reload, 5000);
    return () => clearInterval(timer);
  }, [reload]);
  const cancel = async (job: ExportJob) => {
    if (!confirm(`Cancel export ${job.id} and delete its files?`)) return;
    try {
      await session.get(`/admin/exports/${encodeURIComponent(job.id)}`, { method: 'DELETE' });
      reload();
    } catch (err) {
      setActionError(errorText(err));
    }
  };
  const jobs = data?.exports ?? [];
  return (
    <section className="panel">
      <h2>Bulk Data exports</h2>
      <ErrorLine error={error || actionError} />
      <table data-testid="exports">
        <thead><tr><th>Started</th><th>Client</th><th>Request</th><th>Status</th><th>Progress</th><th>Error</th><th>Expires</th><th /></tr></thead>
        <tbody>
          {jobs.length === 0 && <tr><td colSpan={8} className="empty">No exports</td></tr>}
          {jobs.map((job) => (
            <tr key={job.id}>
              <td>{formatTime(job.transaction_time)}</td>
              <td><code>{job.client_id}</code></td>
              <td><code>{job.request}</code></td>
              <td>{job.status}</td>
              <td>{job.progress}</td>
              <td>{job.error ?? ''}</td>
              <td>{formatTime(job.expires_at)}</td>
              <td><button type="button" onClick={() => void cancel(job)}>Cancel</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      <button type="button" onClick={reload}>Refresh</button>
    </section>
  );
}
