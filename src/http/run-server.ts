/**
 * The server process's life: reads the configuration, starts everything, logs where it listens,
 * and stops cleanly (HTTP, pool, embedded PostgreSQL) on SIGINT or SIGTERM. `src/main.ts` runs it
 * as it is; the benchmark's entry (`bench/serve-fhirgraph.ts`) adds its baseline routes, so the
 * benchmarked process is otherwise the one `npm start` runs.
 */
import { loadConfig } from '../config.ts';
import { describeDatabase } from '../store/resolve-database.ts';
import type { ExtraRoutes } from './extra-routes.ts';
import { startServer } from './start-server.ts';

/** Starts the server from `process.env` and installs the signal handlers that stop it. */
export async function runServer(options: { extraRoutes?: readonly ExtraRoutes[] } = {}): Promise<void> {
  const started = performance.now();
  const config = loadConfig();
  // Everything it logs (the embedded database's progress, requests, background failures) is pino JSON on stdout.
  const server = await startServer(config, { extraRoutes: options.extraRoutes });
  server.app.log.info(
    { url: server.url, metricsUrl: server.metricsUrl, publicUrl: config.publicUrl, startMs: Math.round(performance.now() - started), embedded: !config.databaseUrl, database: describeDatabase(config) },
    'fhirgraph listening',
  );

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    server.app.log.info({ signal }, 'shutting down');
    try {
      await server.close();
      process.exit(0);
    } catch (err) {
      server.app.log.error({ err: (err as Error).message }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}
