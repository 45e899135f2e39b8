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

/** Initialises MikroORM for `databaseUrl` with a pool of at most `poolSize` connections. */
export async function openOrm(databaseUrl: string, poolSize = 10): Promise<Orm> {
  return MikroORM.init({
    clientUrl: databaseUrl,
    entities: storeEntities,
    extensions: [Migrator],
    discovery: { warnWhenNoEntities: false },
    pool: { min: 0, max: poolSize, idleTimeoutMillis: 30_000 },
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
