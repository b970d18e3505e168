import { createHash, randomBytes } from 'node:crypto';
import { query } from './pg.ts';
import { forbidden, unauthorized } from './errors.ts';

export const ROLES = ['admin', 'analyst', 'client'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling: the API key's role, and for `client` keys the client it reads for. */
export interface Principal {
  readonly keyId: string;
  readonly role: Role;
  readonly clientId: string | null;
}

/** Keys are stored only as SHA-256 hashes: a leaked table gives no usable key. */
export const hashApiKey = (key: string): string => createHash('sha256').update(key).digest('hex');
export const newApiKey = (): string => `fw_${randomBytes(32).toString('base64url')}`;
/** The form of every key newApiKey makes. */
export const isApiKeyForm = (text: string): boolean => /^fw_[A-Za-z0-9_-]{43}$/.test(text);

export async function authenticate(authorization: string | undefined): Promise<Principal> {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!match) throw unauthorized();
  const rows = await query<{ id: string; role: Role; client_id: string | null }>(
    'SELECT id, role, client_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL',
    [hashApiKey(match[1]!)],
  );
  const row = rows[0];
  if (!row) throw unauthorized('The API key is not valid');
  return { keyId: row.id, role: row.role, clientId: row.client_id };
}

/** Admin may do everything; other roles only what the route lists. */
export function requireRole(principal: Principal, allowed: readonly Role[]): void {
  if (principal.role !== 'admin' && !allowed.includes(principal.role)) throw forbidden();
}
