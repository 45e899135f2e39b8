/**
 * The benchmarked server process: `src/main.ts` (the same configuration from the environment, the
 * same start and shutdown) plus the raw-SQL baseline routes (`raw-sql-baseline.ts`), guarded by
 * `BENCH_BASELINE_SECRET` (at least 32 characters). `npm run bench` starts it with the node flags
 * of `npm start`; nothing in `src/` knows of it.
 */
import { runServer } from '../src/http/run-server.ts';
import { rawSqlBaseline } from './raw-sql-baseline.ts';

const secret = process.env.BENCH_BASELINE_SECRET;
if (!secret) throw new Error('BENCH_BASELINE_SECRET must be set (at least 32 characters)');
await runServer({ extraRoutes: [rawSqlBaseline(secret)] });
