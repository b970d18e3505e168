// `npm run migrate [-- --create-admin-key NAME]`: applies migrations/ to DATABASE_URL (in AWS, the RDS Proxy
// endpoint with the cluster secret's credentials), and optionally creates an admin API key, printed once.
import { resolve } from 'node:path';
import pg from 'pg';
import { hashApiKey, newApiKey } from '../functions/lib/auth.ts';
import { migrate } from '../functions/lib/migrate.ts';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('set DATABASE_URL, e.g. postgres://user:password@proxy-host:5432/framewise?sslmode=require');
  process.exit(2);
}
const nameAt = process.argv.indexOf('--create-admin-key');
const client = new pg.Client({ connectionString: url });
await client.connect();
try {
  const applied = await migrate(client, resolve(import.meta.dirname, '../migrations'));
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'schema is up to date');
  if (nameAt >= 0) {
    const key = newApiKey();
    await client.query(`INSERT INTO api_keys (name, role, key_hash, key_prefix) VALUES ($1, 'admin', $2, $3)`, [
      process.argv[nameAt + 1] ?? 'first admin',
      hashApiKey(key),
      key.slice(0, 8),
    ]);
    console.log(`admin API key (shown once): ${key}`);
  }
} finally {
  await client.end();
}
