import pg from 'pg';
import { config } from './config.ts';
import { readSecret } from './aws.ts';
import { logger } from './logger.ts';

let pool: Promise<pg.Pool> | undefined;

async function connectionConfig(): Promise<pg.PoolConfig> {
  const url = config.databaseUrl();
  if (url) return { connectionString: url };
  const arn = config.databaseSecretArn();
  if (!arn) throw new Error('neither DATABASE_URL nor DATABASE_SECRET_ARN is set');
  const secret = JSON.parse(await readSecret(arn)) as { username: string; password: string; port?: number };
  return {
    host: config.databaseHost(),
    port: secret.port ?? 5432,
    user: secret.username,
    password: secret.password,
    database: config.databaseName(),
    ssl: { rejectUnauthorized: true },
  };
}

/** The process-wide pool; small, because RDS Proxy multiplexes connections across Lambda instances. */
export function db(): Promise<pg.Pool> {
  pool ??= connectionConfig().then((c) => {
    const created = new pg.Pool({ ...c, max: 4, idleTimeoutMillis: 30_000 });
    // The server may end a connection (a failover, a proxy or server restart, pg_terminate_backend). Idle, the pool
    // drops it and opens another when asked; in use, the query in progress fails and the pool drops it on release.
    // Either way the client emits 'error', which would end the process without a listener: the pool listens only
    // while a client is idle, so every client gets its own, which logs it.
    created.on('connect', (client) => client.on('error', (err) => logger.warn('database connection ended by the server', { error: err.message })));
    created.on('error', () => undefined); // logged by the client's own listener
    return created;
  }).catch((err: unknown) => {
    pool = undefined; // e.g. the credentials' secret could not be read: the next call tries again
    throw err;
  });
  return pool;
}

export async function query<T extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<T[]> {
  return (await (await db()).query<T>(text, values)).rows;
}

export interface TransactionOptions<C extends pg.ClientBase> {
  /** PostgreSQL's default, read committed, unless asked. */
  readonly isolation?: 'read committed' | 'repeatable read' | 'serializable';
  /** The transaction cannot write, whatever its statements. */
  readonly readOnly?: boolean;
  /** A connection the caller holds (one with session state: temporary tables, a search path), else one of the pool's. */
  readonly client?: C;
}

/** Runs `work` in one transaction on one connection: committed when it returns, rolled back when it throws. */
export async function transaction<T, C extends pg.ClientBase = pg.PoolClient>(work: (client: C) => Promise<T>, options: TransactionOptions<C> = {}): Promise<T> {
  const client = options.client ?? ((await (await db()).connect()) as pg.ClientBase as C);
  const modes = [options.isolation && `ISOLATION LEVEL ${options.isolation.toUpperCase()}`, options.readOnly && 'READ ONLY'].filter(Boolean);
  try {
    await client.query(['BEGIN', ...modes].join(' '));
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    if (!options.client) (client as pg.ClientBase as pg.PoolClient).release();
  }
}

export async function closeDb(): Promise<void> {
  if (!pool) return;
  const p = pool;
  pool = undefined;
  await (await p).end();
}
