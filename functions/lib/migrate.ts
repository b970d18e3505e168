// Applies migrations/NNNN_*.sql in order, each once, each in its own transaction.
// platform-bootstrap runs it on every deploy and at every start of the local cloud.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { transaction } from './pg.ts';

export async function migrate(client: pg.ClientBase, dir: string): Promise<string[]> {
  await client.query(
    'CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
  );
  const done = new Set((await client.query<{ name: string }>('SELECT name FROM schema_migrations')).rows.map((r) => r.name));
  const files = (await readdir(dir)).filter((f) => /^\d{4}_.+\.sql$/.test(f)).sort();
  const applied: string[] = [];
  for (const file of files) {
    if (done.has(file)) continue;
    const sql = await readFile(join(dir, file), 'utf8');
    try {
      await transaction(
        async (c) => {
          await c.query(sql);
          await c.query('INSERT INTO schema_migrations (name) VALUES ($1)', [file]);
        },
        { client },
      );
    } catch (err) {
      throw new Error(`migration ${file} failed: ${(err as Error).message}`);
    }
    applied.push(file);
  }
  return applied;
}
