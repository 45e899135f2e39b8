/**
 * The server process: reads the configuration, starts everything, and stops cleanly (HTTP,
 * pool, embedded PostgreSQL) on SIGINT or SIGTERM.
 */
import { loadConfig } from './config.ts';
import { startServer } from './http/start-server.ts';

const started = performance.now();
const config = loadConfig();
const server = await startServer(config, {
  log: (msg) => process.stderr.write(`${msg}\n`),
});
server.app.log.info(
  { url: server.url, publicUrl: config.publicUrl, startMs: Math.round(performance.now() - started), embedded: !config.databaseUrl },
  'fhirgraph listening',
);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
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
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
