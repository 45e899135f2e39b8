/**
 * Small pieces every page uses. Everything shown goes through React, which sets text, never
 * HTML: resource text is untrusted, and no page uses `dangerouslySetInnerHTML`.
 */
import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { ApiError } from './api.ts';

/** A failed call's message, or nothing. */
export function ErrorLine({ error }: { error: string }): ReactNode {
  return error ? <p className="error" role="alert">{error}</p> : null;
}

/** The message of anything a call threw. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return `${err.status}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

/** Loads `load()` now and whenever `reload` is called; `error` holds why it failed. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data: T | undefined; error: string; loading: boolean; reload: () => void } {
  const [data, setData] = useState<T>();
  const [error, setError] = useState('');
  const [loading, setLoading] = useState(false);
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    setLoading(true);
    load().then((value) => { if (live) { setData(value); setError(''); } }, (err: unknown) => { if (live) setError(errorText(err)); })
      .finally(() => { if (live) setLoading(false); });
    return () => { live = false; };
  }, [...deps, round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  return { data, error, loading, reload };
}

/** A labelled input. */
export function Field({ label, children }: { label: string; children: ReactNode }): ReactNode {
  return <label className="field"><span>{label}</span>{children}</label>;
}

/** An instant as the operator's local time (the ISO text when it is not one). */
export function formatTime(value: unknown): string {
  if (typeof value !== 'string') return '';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : date.toLocaleString();
}
