// Frozen versions in PostgreSQL: the registry (datastack_version, migrations/0004_versions.sql), making a
// version, listing and reading them, and removal. The rules live in lifecycle.ts, tables.ts and
// query.ts; this module runs them.
//
// Making a version is two transactions. The first registers it (its number, state 'building') under the job
// that makes it: a retried task finds the same version instead of numbering a second one. The second, at
// REPEATABLE READ so that every table and every row count comes from one snapshot, creates the schema, copies
// and checks each table, builds the indexes, freezes the tables and marks the version valid. A failure rolls
// all of it back; the version is marked failed, and a retry builds it again from scratch.
import type pg from 'pg';
import { AppError, conflict, notFound, TaskError } from '../../lib/errors.ts';
import { query, transaction } from '../../lib/pg.ts';
import { datastackSchema, DATASTACK } from '../datastack.ts';
import { quoteIdent } from '../schemas.ts';
import {
  copyIntoFrozenTableSql,
  createFrozenTableSql,
  freezeTableSql,
  frozenColumns,
  frozenIndexSql,
  versionedTables,
  type LiveColumn,
} from './tables.ts';
import { decodeCursor, encodeCursor, pageQuery, pageWriter, queryScope, rowConverter, type PageFormat } from './query.ts';
import { versionSchemaName, versionsToRemove, type VersionCadence, type VersionState } from './lifecycle.ts';

export interface VersionRecord {
  datastack: string;
  version: number;
  schema: string;
  state: VersionState;
  cadence: VersionCadence;
  jobId: string;
  expiresInDays: number;
  createdAt: string;
  validAt: string | null;
  expiresAt: string | null;
  expiredAt: string | null;
  /** Rows of each frozen table. */
  tables: Record<string, number>;
  error: string | null;
}

interface VersionRow {
  datastack: string;
  version: number;
  schema_name: string;
  state: VersionState;
  cadence: VersionCadence;
  job_id: string;
  expires_in_days: number;
  created_at: Date;
  valid_at: Date | null;
  expires_at: Date | null;
  expired_at: Date | null;
  table_rows: Record<string, number>;
  error: string | null;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);
const toRecord = (r: VersionRow): VersionRecord => ({
  datastack: r.datastack,
  version: r.version,
  schema: r.schema_name,
  state: r.state,
  cadence: r.cadence,
  jobId: r.job_id,
  expiresInDays: r.expires_in_days,
  createdAt: r.created_at.toISOString(),
  validAt: iso(r.valid_at),
  expiresAt: iso(r.expires_at),
  expiredAt: iso(r.expired_at),
  tables: r.table_rows,
  error: r.error,
});

const gone = (message: string) => new AppError(410, 'Gone', message);

// ---- the live side ----

const BASE_TABLES = `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')`;

async function baseTables(c: pg.ClientBase, schema: string): Promise<string[]> {
  return (await c.query<{ name: string }>(BASE_TABLES, [schema])).rows.map((r) => r.name);
}

async function liveColumns(c: pg.ClientBase, schema: string, table: string): Promise<LiveColumn[]> {
  const { rows } = await c.query<LiveColumn>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS "sqlType", a.attnotnull AS "notNull"
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [schema, table],
  );
  return rows;
}

/** The annotation tables a version of the datastack would hold (none: the datastack has nothing to version). */
export async function versionedTablesOf(datastack: string): Promise<string[]> {
  const rows = await query<{ name: string }>(BASE_TABLES, [datastackSchema(datastack)]);
  return versionedTables(rows.map((r) => r.name));
}

/** Every datastack with at least one annotation table (with its segmentation table), by name. */
export async function datastacksWithTables(): Promise<string[]> {
  const rows = await query<{ datastack: string }>(
    `SELECT DISTINCT substr(a.schemaname, 4) AS datastack FROM pg_tables a
       JOIN pg_tables s ON s.schemaname = a.schemaname AND s.tablename = a.tablename || '__seg'
      WHERE a.schemaname LIKE 'ds\\_%' AND strpos(a.tablename, '__') = 0 ORDER BY 1`,
  );
  return rows.map((r) => r.datastack).filter((d) => DATASTACK.test(d));
}

/** A datastack is known when its live schema exists or it has versions (its live tables may be gone). */
export async function datastackKnown(datastack: string): Promise<boolean> {
  const rows = await query(
    `SELECT 1 FROM pg_namespace WHERE nspname = $1 UNION ALL SELECT 1 FROM datastack_version WHERE datastack = $2 LIMIT 1`,
    [datastackSchema(datastack), datastack],
  );
  return rows.length > 0;
}

// ---- the registry ----

const COLUMNS = 'datastack, version, schema_name, state, cadence, job_id, expires_in_days, created_at, valid_at, expires_at, expired_at, table_rows, error';

/** Registers the job's version (numbered next for its datastack) unless the job has one already. */
async function registerVersion(input: { datastack: string; cadence: VersionCadence; expiresInDays: number; jobId: string }): Promise<VersionRecord> {
  return transaction(async (c) => {
    // Numbers are handed out one at a time per datastack.
    await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`datastack_version:${input.datastack}`]);
    const existing = await c.query<VersionRow>(`SELECT ${COLUMNS} FROM datastack_version WHERE job_id = $1`, [input.jobId]);
    if (existing.rows[0]) {
      if (existing.rows[0].datastack !== input.datastack) throw new TaskError('JobMismatch', `job ${input.jobId} made a version of ${existing.rows[0].datastack}`);
      return toRecord(existing.rows[0]);
    }
    const next = await c.query<{ n: number }>('SELECT coalesce(max(version), 0) + 1 AS n FROM datastack_version WHERE datastack = $1', [input.datastack]);
    const version = next.rows[0]!.n;
    const inserted = await c.query<VersionRow>(
      `INSERT INTO datastack_version (datastack, version, schema_name, cadence, job_id, expires_in_days) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
      [input.datastack, version, versionSchemaName(input.datastack, version), input.cadence, input.jobId, input.expiresInDays],
    );
    return toRecord(inserted.rows[0]!);
  });
}

export async function listVersions(datastack: string, opts: { limit: number; before?: number }): Promise<VersionRecord[]> {
  const rows = await query<VersionRow>(
    `SELECT ${COLUMNS} FROM datastack_version WHERE datastack = $1 AND ($2::integer IS NULL OR version < $2) ORDER BY version DESC LIMIT $3`,
    [datastack, opts.before ?? null, opts.limit],
  );
  return rows.map(toRecord);
}

/** A version by number, or `latest`: the newest valid one. */
export async function getVersion(datastack: string, version: number | 'latest'): Promise<VersionRecord | undefined> {
  const rows =
    version === 'latest'
      ? await query<VersionRow>(`SELECT ${COLUMNS} FROM datastack_version WHERE datastack = $1 AND state = 'valid' ORDER BY version DESC LIMIT 1`, [datastack])
      : await query<VersionRow>(`SELECT ${COLUMNS} FROM datastack_version WHERE datastack = $1 AND version = $2`, [datastack, version]);
  return rows[0] && toRecord(rows[0]);
}

// ---- making a version ----

export interface CreatedVersion {
  version: number;
  schema: string;
  /** Rows of each frozen table. */
  tables: Record<string, number>;
}

const created = (r: VersionRecord): CreatedVersion => ({ version: r.version, schema: r.schema, tables: r.tables });

/** Makes the job's version of the datastack, once: a retry of a finished job returns the version it made. */
export async function createVersion(input: { datastack: string; cadence: VersionCadence; expiresInDays: number; jobId: string }): Promise<CreatedVersion> {
  const record = await registerVersion(input);
  if (record.state === 'valid' || record.state === 'expired') return created(record);
  await query(`UPDATE datastack_version SET state = 'building', error = NULL WHERE datastack = $1 AND version = $2 AND state = 'failed'`, [record.datastack, record.version]);
  try {
    return await buildVersion(record);
  } catch (err) {
    await query(`UPDATE datastack_version SET state = 'failed', error = $3 WHERE datastack = $1 AND version = $2 AND state = 'building'`, [
      record.datastack,
      record.version,
      `${(err as Error).name}: ${(err as Error).message}`,
    ]).catch(() => undefined);
    throw err;
  }
}

async function count(c: pg.ClientBase, sql: string): Promise<number> {
  return Number((await c.query<{ n: string }>(sql)).rows[0]!.n);
}

async function buildVersion(record: VersionRecord): Promise<CreatedVersion> {
  return transaction(
    async (client) => {
      // A concurrent attempt of the same job waits here, then fails to serialize (40001) once the first is done;
      // its retry finds the version made.
      const current = await client.query<VersionRow>(`SELECT ${COLUMNS} FROM datastack_version WHERE datastack = $1 AND version = $2 FOR UPDATE`, [record.datastack, record.version]);
      if (current.rows[0]?.state === 'valid') return created(toRecord(current.rows[0]));
      const live = datastackSchema(record.datastack);
      const tables = versionedTables(await baseTables(client, live));
      if (tables.length === 0) throw new TaskError('NothingToVersion', `datastack ${record.datastack} has no annotation tables (a table T with its segmentation table T__seg)`);
      const frozen = record.schema;
      await client.query(`DROP SCHEMA IF EXISTS ${quoteIdent(frozen)} CASCADE`);
      await client.query(`CREATE SCHEMA ${quoteIdent(frozen)}`);
      const rows: Record<string, number> = {};
      for (const table of tables) {
        const columns = frozenColumns(table, await liveColumns(client, live, table), await liveColumns(client, live, `${table}__seg`));
        await client.query(createFrozenTableSql(frozen, table, columns));
        const copied = (await client.query(copyIntoFrozenTableSql(frozen, live, table, columns))).rowCount ?? 0;
        const a = `${quoteIdent(live)}.${quoteIdent(table)}`;
        const s = `${quoteIdent(live)}.${quoteIdent(`${table}__seg`)}`;
        const annotations = await count(client, `SELECT count(*) AS n FROM ${a}`);
        const segmentations = await count(client, `SELECT count(*) AS n FROM ${s}`);
        const matched = await count(client, `SELECT count(*) AS n FROM ${a} x JOIN ${s} y ON y."id" = x."id"`);
        if (copied !== annotations) throw new TaskError('RowCountMismatch', `${table}: copied ${copied} rows, the live table has ${annotations}`);
        if (matched !== segmentations) {
          throw new TaskError('RowCountMismatch', `${table}__seg: ${segmentations} rows, of which ${matched} belong to an annotation of ${table}`);
        }
        for (const sql of frozenIndexSql(frozen, table, columns)) await client.query(sql);
        const frozenRows = await count(client, `SELECT count(*) AS n FROM ${quoteIdent(frozen)}.${quoteIdent(table)}`);
        if (frozenRows !== annotations) throw new TaskError('RowCountMismatch', `${frozen}.${table} holds ${frozenRows} rows, the live table ${annotations}`);
        for (const sql of freezeTableSql(frozen, table)) await client.query(sql);
        rows[table] = frozenRows;
      }
      const done = await client.query<VersionRow>(
        `UPDATE datastack_version SET state = 'valid', valid_at = t.at, expires_at = t.at + make_interval(days => expires_in_days), table_rows = $3, error = NULL
           FROM (SELECT clock_timestamp() AS at) t WHERE datastack = $1 AND version = $2 RETURNING ${COLUMNS}`,
        [record.datastack, record.version, JSON.stringify(rows)],
      );
      return created(toRecord(done.rows[0]!));
    },
    // Every table and every row count from one snapshot.
    { isolation: 'repeatable read' },
  );
}

// ---- removal ----

export interface RemovedVersion {
  datastack: string;
  version: number;
}

/**
 * Drops the versions the retention policy gives up at `now` (lifecycle.ts versionsToRemove), per datastack (or
 * only the ones named): the schema goes, the registry keeps the version as 'expired'.
 */
export async function removeExpiredVersions(opts: { now: Date; keep: number; datastacks?: readonly string[] }): Promise<RemovedVersion[]> {
  const rows = await query<{ datastack: string; version: number; state: VersionState; expires_at: Date | null }>(
    `SELECT datastack, version, state, expires_at FROM datastack_version WHERE state = 'valid' AND ($1::text[] IS NULL OR datastack = ANY($1)) ORDER BY datastack, version`,
    [opts.datastacks ?? null],
  );
  const byDatastack = new Map<string, typeof rows>();
  for (const r of rows) byDatastack.set(r.datastack, [...(byDatastack.get(r.datastack) ?? []), r]);
  const removed: RemovedVersion[] = [];
  for (const [datastack, versions] of byDatastack) {
    const drop = versionsToRemove(versions.map((v) => ({ version: v.version, state: v.state, expiresAt: v.expires_at })), opts.now, opts.keep);
    for (const version of drop) {
      const dropped = await transaction(async (c) => {
        const row = await c.query<{ state: VersionState; schema_name: string }>(
          'SELECT state, schema_name FROM datastack_version WHERE datastack = $1 AND version = $2 FOR UPDATE',
          [datastack, version],
        );
        if (row.rows[0]?.state !== 'valid') return false;
        await c.query(`DROP SCHEMA IF EXISTS ${quoteIdent(row.rows[0].schema_name)} CASCADE`);
        await c.query(`UPDATE datastack_version SET state = 'expired', expired_at = now() WHERE datastack = $1 AND version = $2`, [datastack, version]);
        return true;
      });
      if (dropped) removed.push({ datastack, version });
    }
  }
  return removed;
}

// ---- reading a frozen table ----

export interface PageRequest {
  datastack: string;
  version: number | 'latest';
  table: string;
  rootIds: readonly bigint[];
  cursor?: string;
  limit: number;
  format: PageFormat;
}

export interface Page {
  version: number;
  body: Buffer;
  rows: number;
  nextCursor: string | null;
}

/** Rows fetched from the PostgreSQL cursor at a time: the page is encoded batch by batch, never held as rows. */
const FETCH_ROWS = 500;
/**
 * A page also ends at this many encoded bytes: API Gateway takes at most 6 MB from a Lambda response, and a
 * page travels base64-encoded (4/3 of its size).
 */
export const MAX_PAGE_BYTES = 4 * 1024 * 1024;

/** A version that can be read, or the error saying why not (404 unknown, 410 removed, 409 not ready). */
export async function readableVersion(datastack: string, version: number | 'latest'): Promise<VersionRecord> {
  const record = await getVersion(datastack, version);
  if (!record) {
    if (!(await datastackKnown(datastack))) throw notFound('datastack', datastack);
    throw version === 'latest' ? notFound(`a valid version of datastack ${datastack}`) : notFound(`version ${version} of datastack`, datastack);
  }
  if (record.state === 'expired') throw gone(`version ${record.version} of datastack ${datastack} expired and was removed at ${record.expiredAt}`);
  if (record.state !== 'valid') throw conflict(`version ${record.version} of datastack ${datastack} is ${record.state}`, { state: record.state, error: record.error });
  return record;
}

export async function readVersionPage(req: PageRequest): Promise<Page> {
  const record = await readableVersion(req.datastack, req.version);
  if (!Object.hasOwn(record.tables, req.table)) throw notFound(`table ${req.table} in version ${record.version} of datastack`, req.datastack);
  const scope = queryScope(req.datastack, record.version, req.table, req.rootIds);
  const afterId = req.cursor === undefined ? undefined : decodeCursor(req.cursor, scope);

  try {
    return await transaction(
      async (client) => {
        const columns = (await liveColumns(client, record.schema, req.table)).map((c) => c.name);
        if (columns.length === 0) throw gone(`version ${record.version} of datastack ${req.datastack} was removed`);
        const { text, values } = pageQuery({ schema: record.schema, table: req.table, columns, rootIds: req.rootIds, afterId, rows: req.limit + 1 });
        await client.query(`DECLARE version_page NO SCROLL CURSOR FOR ${text}`, values);
        const convert = rowConverter(columns);
        const writer = pageWriter(req.format, columns);
        const idAt = columns.indexOf('id');
        const parts: Buffer[] = [Buffer.from(writer.open())];
        let bytes = parts[0]!.length;
        let rows = 0;
        let lastId: string | undefined;
        let more = false;
        for (;;) {
          const batch = await client.query<unknown[]>({ text: `FETCH ${FETCH_ROWS} FROM version_page`, rowMode: 'array' });
          for (const raw of batch.rows) {
            if (rows === req.limit || bytes >= MAX_PAGE_BYTES) {
              more = true;
              break;
            }
            const part = Buffer.from(writer.row(convert(raw), rows));
            parts.push(part);
            bytes += part.length;
            rows++;
            lastId = raw[idAt] as string;
          }
          if (more || batch.rows.length < FETCH_ROWS) break;
        }
        const nextCursor = more && lastId !== undefined ? encodeCursor(BigInt(lastId), scope) : null;
        parts.push(Buffer.from(writer.close(nextCursor)));
        return { version: record.version, body: Buffer.concat(parts), rows, nextCursor };
      },
      // Whatever the query, it cannot write.
      { readOnly: true },
    );
  } catch (err) {
    // Removal dropped the version between the registry read and the query.
    if (['3F000', '42P01'].includes((err as { code?: string }).code ?? '')) throw gone(`version ${record.version} of datastack ${req.datastack} was removed`);
    throw err;
  }
}
