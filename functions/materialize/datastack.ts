// A datastack: a named set of annotation tables `T`, each with its segmentation table `T__seg`, in a PostgreSQL schema
// of its own, `ds_<datastack>` (created on first use by a bulk upload or a segmentation source). What bulk uploads,
// segmentation and versions agree on about it: its name, its schema, and the tables that schema keeps for
// materialization itself.
import type pg from 'pg';
import { transaction } from '../lib/pg.ts';
import { quoteIdent } from './schemas.ts';

/** A datastack name: a plain identifier short enough that `ds_<name>` is one too. */
export const DATASTACK = /^[a-z][a-z0-9_]{0,39}$/;

/** The PostgreSQL schema of a datastack. */
export function datastackSchema(datastack: string): string {
  if (!DATASTACK.test(datastack)) throw new Error(`not a datastack name: ${JSON.stringify(datastack)}`);
  return `ds_${datastack}`;
}

/** The datastack's schema as SQL names it. */
export const schemaOf = (datastack: string): string => quoteIdent(datastackSchema(datastack));

/** Runs `work` in one transaction with the datastack's schema first on the search path. */
export function inDatastack<T>(datastack: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return transaction(async (client) => {
    await client.query(`SET LOCAL search_path TO ${schemaOf(datastack)}`);
    return work(client);
  });
}

/** One row per (table, upload, chunk) a bulk upload loaded. */
export const LEDGER_TABLE = 'bulk_chunk_ledger';
/** One row per bulk upload published. */
export const PUBLISHED_TABLE = 'bulk_published_upload';
/** The segmentation's supervoxel → root table. */
export const SUPERVOXEL_ROOT_TABLE = 'supervoxel_root';

const RESERVED_TABLES: Readonly<Record<string, string>> = {
  [LEDGER_TABLE]: 'the upload ledger',
  [PUBLISHED_TABLE]: 'the published uploads',
  [SUPERVOXEL_ROOT_TABLE]: 'the supervoxel → root table',
};

/** What a table name the datastack's schema keeps for itself is used for; undefined for any other name. */
export const reservedTableUse = (table: string): string | undefined => (Object.hasOwn(RESERVED_TABLES, table) ? RESERVED_TABLES[table] : undefined);
