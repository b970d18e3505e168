// What every deploy runs once the database exists, before the API serves: the migrations, and the first admin
// API key. Both under one PostgreSQL advisory lock, so that two deploys (or two local starts on one database)
// never migrate at once; a second run changes nothing.
import type pg from 'pg';
import { hashApiKey, newApiKey } from '../lib/auth.ts';
import { migrate } from '../lib/migrate.ts';
import { db } from '../lib/pg.ts';
import { readAdminKey, storeAdminKey } from './admin-key-secret.ts';

/** The one advisory lock key of the bootstrap (a session lock: it ends with its connection whatever happens). */
const LOCK = 'framewise:bootstrap';

export interface Bootstrapped {
  /** Migrations applied by this run, in order. */
  readonly applied: string[];
  readonly adminKeyCreated: boolean;
  /** The secret held a key whose row was missing (a database restored from before it): the row is back. */
  readonly adminKeyRowRestored: boolean;
}

export async function bootstrap(opts: { migrationsDir: string; adminKeySecretId: string }): Promise<Bootstrapped> {
  const client = await (await db()).connect();
  try {
    await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [LOCK]);
    const applied = await migrate(client, opts.migrationsDir);
    const key = await ensureAdminKey(client, opts.adminKeySecretId);
    await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [LOCK]);
    client.release();
    return { applied, ...key };
  } catch (err) {
    client.release(err as Error); // the connection is closed, and the lock with it
    throw err;
  }
}

async function ensureAdminKey(client: pg.PoolClient, secretId: string): Promise<Omit<Bootstrapped, 'applied'>> {
  const stored = await readAdminKey(secretId);
  const key = stored ?? newApiKey();
  // The secret first: a run that dies before the row finds the key there and inserts its row.
  if (!stored) await storeAdminKey(secretId, key);
  const inserted = await client.query(
    `INSERT INTO api_keys (name, role, key_hash, key_prefix) VALUES ('first admin', 'admin', $1, $2) ON CONFLICT (key_hash) DO NOTHING`,
    [hashApiKey(key), key.slice(0, 8)],
  );
  return { adminKeyCreated: !stored, adminKeyRowRestored: stored !== undefined && inserted.rowCount === 1 };
}
