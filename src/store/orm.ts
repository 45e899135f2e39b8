/**
 * Opens MikroORM on a PostgreSQL database: the entity schemas, the migration list and a bounded
 * connection pool (DECISIONS.md §3: 10 per process by default, so several processes fit
 * `max_connections = 100`). Only `store/` imports MikroORM.
 */
import { MikroORM } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { storeEntities } from './entities.ts';
import { migrationsList } from './migrations/index.ts';

export type Orm = MikroORM;

/**
 * Initialises MikroORM for `databaseUrl` with a pool of at most `poolSize` connections. A query
 * waits at most `acquireTimeoutMs` for a connection, and opening one gives up after as long, so a
 * request fails fast (503) when the database is gone instead of hanging for knex's default minute.
 */
export async function openOrm(databaseUrl: string, poolSize = 10, acquireTimeoutMs = 5_000): Promise<Orm> {
  return MikroORM.init({
    clientUrl: databaseUrl,
    entities: storeEntities,
    extensions: [Migrator],
    discovery: { warnWhenNoEntities: false },
    pool: { min: 0, max: poolSize, idleTimeoutMillis: 30_000, acquireTimeoutMillis: acquireTimeoutMs },
    driverOptions: { acquireConnectionTimeout: acquireTimeoutMs, connection: { connectionTimeoutMillis: acquireTimeoutMs } },
    migrations: {
      migrationsList,
      tableName: 'mikro_orm_migrations',
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      silent: true,
    },
    debug: false,
    allowGlobalContext: true,
  });
}
