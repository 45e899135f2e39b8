/**
 * The server process (`npm start`): reads the configuration, starts everything, and stops cleanly
 * (HTTP, pool, embedded PostgreSQL) on SIGINT or SIGTERM (`http/run-server.ts`).
 */
import { runServer } from './http/run-server.ts';

await runServer();
