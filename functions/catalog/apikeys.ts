// API keys: created by an admin, shown once, stored only as a SHA-256 hash (see functions/lib/auth.ts).
import { hashApiKey, newApiKey, type Role } from '../lib/auth.ts';
import { query } from '../lib/pg.ts';
import { notFound } from '../lib/errors.ts';
import { Repository, type Page, type ListOptions } from './repository.ts';
import { apiKeyTable } from './tables.ts';

const repo = new Repository(apiKeyTable);

/** How many leading characters of a key are kept for display. */
export const KEY_PREFIX_LENGTH = 8;

export interface CreatedApiKey {
  id: string;
  name: string;
  role: Role;
  clientId: string | null;
  key: string;
  keyPrefix: string;
  createdAt: string;
}

export async function createApiKey(input: { name: string; role: Role; clientId?: string }): Promise<CreatedApiKey> {
  const key = newApiKey();
  const row = await repo.insert({
    name: input.name,
    role: input.role,
    clientId: input.clientId ?? null,
    keyHash: hashApiKey(key),
    keyPrefix: key.slice(0, KEY_PREFIX_LENGTH),
  });
  return {
    id: row.id as string,
    name: row.name as string,
    role: row.role as Role,
    clientId: (row.clientId as string | null) ?? null,
    key,
    keyPrefix: row.keyPrefix as string,
    createdAt: row.createdAt as string,
  };
}

export const listApiKeys = (opts: ListOptions): Promise<Page> => repo.list(opts);

/** Revokes the key (idempotent: revoking a revoked key keeps its first revocation time); 404 if unknown. */
export async function revokeApiKey(id: string): Promise<void> {
  const rows = await query<{ id: string }>(
    'UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id',
    [id],
  );
  if (rows.length) return;
  if (!(await repo.get(id))) throw notFound('api-key', id);
}
