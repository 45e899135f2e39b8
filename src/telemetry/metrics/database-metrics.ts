/**
 * The PostgreSQL pool (connections in use, idle, and requests waiting for one), read when
 * Prometheus scrapes (no timer), and the duration of each statement by a bounded label: the name
 * of a named (prepared) statement, which the store keeps constant, or else the statement's first
 * keyword (`select`, `insert`, `with`…). Never parameter values, never the whole text: a search's
 * SQL is built per request and would make a label per query shape.
 */
import { Gauge, type Registry } from 'prom-client';
import { CompactHistogram, type HistogramSeries } from './compact-histogram.ts';

/** What the pool says of itself (knex's tarn pool under MikroORM). */
export interface PoolStats {
  inUse: number;
  idle: number;
  waiting: number;
  max: number;
}

/** Buckets in seconds, from an index probe (0.1 ms) to a statement near STATEMENT_TIMEOUT. */
const STATEMENT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The first keyword of a statement, as its label when it has no name. */
const KEYWORD = /^\s*([a-z]{1,16})/i;
const KEYWORDS = new Set(['select', 'insert', 'update', 'delete', 'with', 'copy', 'lock', 'set', 'reset', 'create', 'drop', 'alter', 'notify', 'listen', 'unlisten', 'truncate', 'analyze', 'vacuum']);

/** The label of a statement: its name, or its first keyword (`other` for anything unexpected). */
export function statementLabel(sql: string, name: string | undefined): string {
  if (name) return name;
  const keyword = KEYWORD.exec(sql)?.[1].toLowerCase();
  return keyword && KEYWORDS.has(keyword) ? keyword : 'other';
}

/** What the store records statements into (src/store/database.ts). */
export interface StatementRecorder {
  /** One statement ran (or failed) after `seconds`. */
  observeStatement(sql: string, name: string | undefined, seconds: number): void;
}

/** Database metrics; see the module comment. */
export class DatabaseMetrics implements StatementRecorder {
  private readonly duration: CompactHistogram;
  private readonly children = new Map<string, HistogramSeries>();
  private pool: (() => PoolStats) | undefined;

  constructor(registry: Registry) {
    this.duration = new CompactHistogram(
      'fhirgraph_db_statement_duration_seconds', 'SQL statements, by statement name (named statements) or first keyword, from sending to the last row.',
      STATEMENT_BUCKETS, registry,
    );
    const pool = () => this.pool?.();
    const gauge = (name: string, help: string, read: (stats: PoolStats) => number) => new Gauge({
      name, help, registers: [registry],
      collect() {
        const stats = pool();
        if (stats) this.set(read(stats));
      },
    });
    gauge('fhirgraph_db_pool_connections_in_use', 'Pooled PostgreSQL connections running a statement or transaction.', (s) => s.inUse);
    gauge('fhirgraph_db_pool_connections_idle', 'Pooled PostgreSQL connections open and free.', (s) => s.idle);
    gauge('fhirgraph_db_pool_waiting', 'Statements and transactions waiting for a pooled connection.', (s) => s.waiting);
    gauge('fhirgraph_db_pool_connections_max', 'The pool size (DB_POOL_SIZE).', (s) => s.max);
  }

  /** Reads the pool at scrape time. */
  watchPool(read: () => PoolStats): void {
    this.pool = read;
  }

  observeStatement(sql: string, name: string | undefined, seconds: number): void {
    const label = statementLabel(sql, name);
    let child = this.children.get(label);
    if (!child) this.children.set(label, child = this.duration.series({ statement: label }));
    child.observe(seconds);
  }
}
