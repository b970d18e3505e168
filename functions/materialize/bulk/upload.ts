// Bulk upload of `.npy` column files into a datastack's tables: the S3 and PostgreSQL side of the pure core
// (npy, chunks, chunk-copy, schemas, load). Used by the API (inspect), and by the three Tasks of the
// bulk-upload workflow (prepare, load a chunk, finish).
//
// Storage: in the datastack's schema (datastack.ts), besides its tables `T` and `T__seg`, `bulk_chunk_ledger`: one
// row per (table, upload, chunk) loaded, and `bulk_published_upload`: one row per upload published. An upload
// loads into staging tables of its own and Finish publishes them into `T` and `T__seg` in one transaction, so a
// failed upload leaves the tables (rows and indexes) as they were. A chunk's rows and its ledger row are written in ONE transaction, the ledger
// row first (its primary key is the claim: a concurrent or retried load of the same chunk waits on it, then sees
// the conflict and skips), so a chunk is in the staging tables exactly once or not at all.
import { TaskError } from '../../lib/errors.ts';
import { createHash } from 'node:crypto';
import { finished } from 'node:stream/promises';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { z } from 'zod';
import { listObjects, s3 } from '../../lib/aws.ts';
import { query, transaction } from '../../lib/pg.ts';
import { DATASTACK, datastackSchema, inDatastack, LEDGER_TABLE, PUBLISHED_TABLE, reservedTableUse } from '../datastack.ts';
import { byteRanges, planChunks, type Chunk } from './chunks.ts';
import { chunkCopyBytes, chunkFiles, encodeChunkCopy, type ChunkFileBytes } from './chunk-copy.ts';
import { ConversionError } from '../decode.ts';
import { copyFromSql } from './load.ts';
import { headerBytesNeeded, NpyError, readNpyHeader, type NpyHeader } from '../npy.ts';
import {
  columnMappingSchema,
  createTableSql,
  indexDefinitions,
  quoteIdent,
  SCHEMAS,
  validateMapping,
  type ColumnMapping,
  type LoadPlan,
  type NpyFileInfo,
  type Problem,
  type TablePlan,
  type TableRole,
  type ValidateResult,
} from '../schemas.ts';

/**
 * The staging table of an upload for one role. `__` keeps it apart from the tables uploads create (their names may
 * not contain it), and its two tables do not pair as `T` and `T__seg`, so versions and refreshes never see them.
 */
export const stagingTableName = (uploadId: string, role: TableRole): string => `__bulk_${uploadId}_${role === 'annotation' ? 'ann' : 'seg'}`;

const staged = <T extends Pick<TablePlan, 'name' | 'role'>>(table: T, uploadId: string): T => ({ ...table, name: stagingTableName(uploadId, table.role) });
const ROLES: readonly TableRole[] = ['annotation', 'segmentation'];

/** A mapped file as the workflow carries it from Prepare to the chunk loads. */
export interface UploadFile {
  name: string;
  key: string;
  objectSize: number;
  header: NpyHeader;
}

export interface UploadRequest {
  datastack: string;
  bucket: string;
  prefix: string;
  table: string;
  schema: string;
  columnMapping: ColumnMapping;
}

/** `materialize/x` and `materialize/x/` name the same folder. */
export const normalizePrefix = (prefix: string): string => (prefix.endsWith('/') ? prefix : `${prefix}/`);

interface NpyObject {
  name: string;
  key: string;
  size: number;
  etag: string;
}

/** The `.npy` objects directly under the prefix (not in sub-folders), by name without `.npy`. */
export async function listNpyObjects(bucket: string, prefix: string): Promise<NpyObject[]> {
  const out: NpyObject[] = [];
  for (const o of await listObjects(bucket, prefix)) {
    const rest = o.key.slice(prefix.length);
    if (rest.includes('/') || !rest.endsWith('.npy') || rest.length === 4) continue;
    out.push({ name: rest.slice(0, -4), key: o.key, size: o.size, etag: o.etag });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The bytes of rows `chunk` of every mapped file (only the chunk's byte ranges are read), in one spare buffer: give
 * it back (spareBuffers.give) once they are encoded.
 */
async function readChunkBytes(bucket: string, files: readonly UploadFile[], chunk: Pick<Chunk, 'firstRow' | 'rows'>): Promise<{ files: Map<string, ChunkFileBytes>; buffer: Buffer }> {
  const ranges = files.map((f) => ({ file: f, ranges: byteRanges(f.header, f.header.dataOffset, chunk) }));
  const buffer = spareBuffers.take(ranges.reduce((sum, f) => f.ranges.reduce((n, r) => n + r.length, sum), 0));
  let at = 0;
  const reads: Promise<unknown>[] = [];
  const out = new Map<string, ChunkFileBytes>();
  for (const { file, ranges: rs } of ranges) {
    const buffers = rs.map((r) => {
      const into = buffer.subarray(at, (at += r.length));
      reads.push(readRange(bucket, file.key, r.offset, r.offset + r.length, into));
      return into;
    });
    out.set(file.name, { header: file.header, buffers });
  }
  await Promise.all(reads);
  return { files: out, buffer };
}

/** Bytes [start, end) of an object, exactly (a short read is a truncated file), into `into` if given. */
async function readRange(bucket: string, key: string, start: number, end: number, into: Uint8Array = new Uint8Array(end - start)): Promise<Uint8Array> {
  const out = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}` }));
  // Straight into one buffer of the length asked for (collecting the parts and joining them copies every byte twice).
  let got = 0;
  for await (const part of out.Body as AsyncIterable<Uint8Array>) {
    if (got + part.length <= into.length) into.set(part, got);
    got += part.length;
  }
  if (got !== end - start) throw new NpyError('TRUNCATED', `${key}: asked for bytes [${start}, ${end}), got ${got}`);
  return into;
}

/**
 * Large buffers of finished chunk loads, kept for the next ones: a chunk's bytes and COPY streams are tens of MB,
 * and allocating them afresh for every chunk made the collector walk the whole heap again and again. A buffer is
 * given back only when nothing refers to it any more (its COPY has completed).
 */
const spareBuffers = {
  free: [] as ArrayBuffer[],
  /** At most this many bytes kept: four concurrent chunk loads' worth and more. */
  limit: 256 * 2 ** 20,
  /** The smallest spare buffer that holds `size` bytes, or a new one. */
  take(size: number): Buffer {
    let i = -1;
    this.free.forEach((b, j) => {
      if (b.byteLength >= size && (i < 0 || b.byteLength < this.free[i]!.byteLength)) i = j;
    });
    const b = i >= 0 ? this.free.splice(i, 1)[0]! : new ArrayBuffer(size);
    return Buffer.from(b, 0, size);
  },
  give(buffer: Buffer): void {
    const b = buffer.buffer as ArrayBuffer;
    if (this.free.includes(b) || this.free.reduce((sum, f) => sum + f.byteLength, b.byteLength) > this.limit) return;
    this.free.push(b);
  },
};

/** numpy's headers are 64-byte aligned and almost always 128 bytes: one Range GET of this much usually suffices. */
const FIRST_READ = 256;

/** The header of an object, read with Range GETs of just the bytes headerBytesNeeded asks for. */
async function readHeader(bucket: string, o: NpyObject): Promise<NpyFileInfo> {
  try {
    let have: Uint8Array = new Uint8Array(0);
    let need = Math.min(o.size, FIRST_READ);
    for (;;) {
      if (need > o.size) throw new NpyError('INCOMPLETE_HEADER', `the object ends (${o.size} bytes) before its header does (${need} bytes)`);
      if (need > have.length) have = Buffer.concat([have, await readRange(bucket, o.key, have.length, need)]);
      const next = headerBytesNeeded(have);
      if (next <= have.length) break;
      need = next;
    }
    return { name: o.name, objectSize: o.size, header: readNpyHeader(have) };
  } catch (err) {
    if (err instanceof NpyError) return { name: o.name, error: err };
    throw err;
  }
}

function reservedTableProblem(table: string): Problem[] {
  const use = reservedTableUse(table);
  return use ? [{ code: 'INVALID_IDENTIFIER', message: `table name '${table}' is reserved for ${use}` }] : [];
}

export interface Inspection {
  result: ValidateResult;
  files: UploadFile[];
  /** Identifies what is loaded: the same request over the same objects (same ETags) gives the same id. */
  uploadId: string;
}

/** Lists the prefix, reads every header, and validates the mapping: the plan, or every problem at once. */
export async function inspectUpload(req: UploadRequest, chunkRows: number): Promise<Inspection> {
  const prefix = normalizePrefix(req.prefix);
  const objects = await listNpyObjects(req.bucket, prefix);
  const infos = await Promise.all(objects.map((o) => readHeader(req.bucket, o)));
  let result = validateMapping({ schema: req.schema, table: req.table, columnMapping: req.columnMapping, files: infos });
  const reserved = reservedTableProblem(req.table);
  if (reserved.length > 0) result = { ok: false, problems: [...(result.ok ? [] : result.problems), ...reserved] };
  const keys = new Map(objects.map((o) => [o.name, o.key]));
  const files = result.ok ? result.plan.files.map((f) => ({ name: f.name, key: keys.get(f.name)!, objectSize: f.header.dataOffset + f.header.dataBytes, header: f.header })) : [];
  const mapping = Object.keys(req.columnMapping)
    .sort()
    .map((k) => [k, req.columnMapping[k]]);
  const mapped = objects.filter((o) => Object.hasOwn(req.columnMapping, o.name)).map((o) => [o.key, o.size, o.etag]);
  const uploadId = createHash('sha256')
    .update(JSON.stringify([req.datastack, req.table, req.schema, req.bucket, prefix, mapping, chunkRows, mapped]))
    .digest('hex')
    .slice(0, 20);
  return { result, files, uploadId };
}

/** The load plan again, from the headers Prepare read (pure: each chunk load rebuilds it without S3). */
export function planOf(req: Pick<UploadRequest, 'schema' | 'table' | 'columnMapping'>, files: readonly UploadFile[]): LoadPlan {
  const result = validateMapping({ schema: req.schema, table: req.table, columnMapping: req.columnMapping, files });
  if (!result.ok) throw new TaskError('InvalidUpload', result.problems.map((p) => p.message).join('; '));
  return result.plan;
}

/** Problems with an existing table of the same name but other columns (an upload never alters a table). */
export async function existingTableProblems(datastack: string, plan: LoadPlan, client?: pg.PoolClient): Promise<Problem[]> {
  const problems: Problem[] = [];
  for (const t of plan.tables) {
    const sql = 'SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position';
    const params = [datastackSchema(datastack), t.name];
    const rows = client ? (await client.query<{ column_name: string; data_type: string }>(sql, params)).rows : await query<{ column_name: string; data_type: string }>(sql, params);
    if (rows.length === 0) continue;
    const have = rows.map((r) => `${r.column_name} ${r.data_type}`).join(', ');
    const want = t.columns.map((c) => `${c.name} ${c.sqlType}`).join(', ');
    if (have !== want) {
      problems.push({ code: 'TABLE_MISMATCH', message: `table ${t.name} exists with other columns (${have}); schema '${plan.schema}' needs (${want})` });
    }
  }
  return problems;
}

export interface Prepared {
  files: UploadFile[];
  chunks: Chunk[];
}

/** Whether the upload was published into the table (a Finish that ran before, or a run after a successful one). */
async function isPublished(client: pg.PoolClient, table: string, uploadId: string): Promise<boolean> {
  const r = await client.query(`SELECT 1 FROM ${quoteIdent(PUBLISHED_TABLE)} WHERE table_name = $1 AND upload_id = $2`, [table, uploadId]);
  return (r.rowCount ?? 0) > 0;
}

/**
 * Prepare: re-reads the headers (the objects may have changed since the request), creates the schema, the ledger
 * and the upload's staging tables if missing (not for an upload already published), and plans the chunks. The
 * tables the user sees are not touched.
 */
export async function prepareUpload(req: UploadRequest, uploadId: string, chunkRows: number): Promise<Prepared> {
  const inspection = await inspectUpload(req, chunkRows);
  if (!inspection.result.ok) throw new TaskError('InvalidUpload', inspection.result.problems.map((p) => p.message).join('; '));
  if (inspection.uploadId !== uploadId) throw new TaskError('UploadChanged', `the objects under ${req.prefix} changed since the upload was requested`);
  const { plan } = inspection.result;
  const mismatch = await existingTableProblems(req.datastack, plan);
  if (mismatch.length > 0) throw new TaskError('TableMismatch', mismatch.map((p) => p.message).join('; '));
  const schema = datastackSchema(req.datastack);
  await transaction(async (client) => {
    // Serializes concurrent prepares of one datastack (CREATE … IF NOT EXISTS races on the catalog otherwise).
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [schema]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await client.query(`SET LOCAL search_path TO ${quoteIdent(schema)}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${quoteIdent(LEDGER_TABLE)} (table_name text NOT NULL, upload_id text NOT NULL, chunk integer NOT NULL,
        first_row bigint NOT NULL, rows integer NOT NULL, loaded_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (table_name, upload_id, chunk))`,
    );
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${quoteIdent(PUBLISHED_TABLE)} (table_name text NOT NULL, upload_id text NOT NULL, rows bigint NOT NULL,
        published_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (table_name, upload_id))`,
    );
    if (await isPublished(client, req.table, uploadId)) return;
    for (const t of plan.tables) await client.query(createTableSql(staged(t, uploadId), { ifNotExists: true }));
  });
  return { files: inspection.files, chunks: planChunks({ rows: plan.rows, chunkRows }) };
}

export interface ChunkLoad {
  datastack: string;
  uploadId: string;
  bucket: string;
  table: string;
  schema: string;
  columnMapping: ColumnMapping;
  files: UploadFile[];
  chunk: Chunk;
}

/**
 * The COPY streams of one chunk for every table of the plan, in spare buffers. A value its column cannot hold fails
 * the upload (not retried: the bytes will not change). Found by the chunk that holds it, after earlier chunks were
 * staged: the failed upload's staging tables are discarded, so the tables the user sees are as they were.
 */
function encodeChunk(plan: LoadPlan, bytes: ReadonlyMap<string, ChunkFileBytes>, chunk: Chunk): { table: TablePlan; copy: Buffer }[] {
  const copies: { table: TablePlan; copy: Buffer }[] = [];
  try {
    const files = chunkFiles(bytes, chunk.rows);
    for (const table of plan.tables) copies.push({ table, copy: encodeChunkCopy(table, files, chunk, spareBuffers.take(chunkCopyBytes(table, chunk.rows))) });
    return copies;
  } catch (err) {
    throw err instanceof ConversionError ? new TaskError('ValueOutOfRange', `${err.message}; the tables are as they were`) : err;
  }
}

/** Whether the chunk is recorded in the ledger (a chunk loaded before, by an earlier attempt or another load). */
async function inLedger(datastack: string, ledgerKey: readonly unknown[]): Promise<boolean> {
  const ledger = `${quoteIdent(datastackSchema(datastack))}.${quoteIdent(LEDGER_TABLE)}`;
  return (await query(`SELECT 1 FROM ${ledger} WHERE table_name = $1 AND upload_id = $2 AND chunk = $3`, [...ledgerKey])).length > 0;
}

/**
 * Loads one chunk into every table of the plan, once: reads only the chunk's byte ranges and encodes them exactly
 * into COPY streams, then in one transaction claims the chunk in the ledger and COPYs (binary) into the upload's
 * staging tables. A chunk already in the ledger is skipped. Returns whether this call loaded it.
 */
export async function loadChunk(input: ChunkLoad): Promise<boolean> {
  const plan = planOf(input, input.files);
  const { chunk } = input;
  const ledgerKey = [input.table, input.uploadId, chunk.index];
  if (await inLedger(input.datastack, ledgerKey)) return false;
  const bytes = await readChunkBytes(input.bucket, input.files.filter((f) => plan.files.some((p) => p.name === f.name)), chunk);
  const copies = encodeChunk(plan, bytes.files, chunk);
  spareBuffers.give(bytes.buffer);

  const loaded = await inDatastack(input.datastack, async (client) => {
    // The chunk and its ledger row commit together or not at all, so a commit lost in a crash only loses the whole
    // chunk, which Finish finds missing from the ledger and loads again: no need to wait for the WAL flush.
    await client.query('SET LOCAL synchronous_commit TO off');
    const claimed = await client.query(
      `INSERT INTO ${quoteIdent(LEDGER_TABLE)} (table_name, upload_id, chunk, first_row, rows) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
      [...ledgerKey, chunk.firstRow, chunk.rows],
    );
    if (claimed.rowCount === 0) return false; // loaded meanwhile by another attempt
    for (const { table, copy: bytes } of copies) {
      const copy = client.query(copyFrom(copyFromSql(staged(table, input.uploadId))));
      copy.end(bytes);
      await finished(copy);
      if (copy.rowCount !== chunk.rows) throw new TaskError('RowCountMismatch', `${table.name}: COPY wrote ${copy.rowCount} rows of chunk ${chunk.index}, expected ${chunk.rows}`);
    }
    return true;
  });
  // Every COPY completed (or never began): the server has all their bytes, so the buffers can be used again.
  for (const { copy } of copies) spareBuffers.give(copy);
  return loaded;
}

export interface Finished {
  rows: number;
  chunks: number;
  /** Chunks the ledger lacked after the Map, loaded by Finish. */
  reloaded: number[];
  /** Rows in each table after the upload (all uploads into it). */
  tables: { name: string; rows: number }[];
  /** How each table received the rows: its staging table renamed into place (it was empty), or appended to it. */
  published: ('renamed' | 'appended')[];
  /** Time spent building indexes (the same SQL a load without the pipeline would run after it). */
  indexBuildMs: number;
}

/** A duplicate key in a unique index (the primary key on id) becomes DuplicateIds. */
async function uniqueIds<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw new TaskError('DuplicateIds', `${what}: ${(err as Error).message}; the table is as it was`);
    throw err;
  }
}

async function indexExists(client: pg.PoolClient, schema: string, name: string): Promise<boolean> {
  const r = await client.query(`SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind = 'i'`, [
    schema,
    name,
  ]);
  return (r.rowCount ?? 0) > 0;
}

const countRows = async (client: pg.PoolClient, table: string): Promise<number> =>
  Number((await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${quoteIdent(table)}`)).rows[0]!.n);

/**
 * Moves one table's `rows` staged rows into the table the user sees, inside the publish transaction. An absent or
 * empty table is replaced by the staging table, indexed first (a rename: no row is copied); otherwise the staged
 * rows are appended with INSERT … SELECT under the table's indexes (built first if a table lacks any), which refuse
 * an id it already holds. Returns how, and the table's rows after.
 */
async function publishTable(client: pg.PoolClient, schemaName: string, datastack: string, t: TablePlan, uploadId: string, rows: number, timing: { indexBuildMs: number }) {
  const schema = datastackSchema(datastack);
  const staging = staged(t, uploadId);
  const live = (await client.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [`${quoteIdent(schema)}.${quoteIdent(t.name)}`])).rows[0]!.t;
  // Writers wait until the publication commits (readers do not), so the table stays empty or not until then.
  if (live !== null) await client.query(`LOCK TABLE ${quoteIdent(t.name)} IN EXCLUSIVE MODE`);
  const empty = live === null || (await client.query(`SELECT 1 FROM ${quoteIdent(t.name)} LIMIT 1`)).rowCount === 0;
  const buildIndexes = async (table: Pick<TablePlan, 'name' | 'role'>) => {
    const started = performance.now();
    for (const def of indexDefinitions(SCHEMAS[schemaName]!, table)) {
      if (!(await indexExists(client, schema, def.name))) await uniqueIds(`${t.name}: ids must be unique in the table`, () => client.query(def.sql));
    }
    timing.indexBuildMs += performance.now() - started;
  };
  if (empty) {
    await buildIndexes(staging);
    await client.query(`DROP TABLE IF EXISTS ${quoteIdent(t.name)}`);
    await client.query(`ALTER TABLE ${quoteIdent(staging.name)} RENAME TO ${quoteIdent(t.name)}`);
    const names = indexDefinitions(SCHEMAS[schemaName]!, t).map((d) => d.name);
    for (const [i, def] of indexDefinitions(SCHEMAS[schemaName]!, staging).entries()) {
      await client.query(`ALTER INDEX ${quoteIdent(def.name)} RENAME TO ${quoteIdent(names[i]!)}`);
    }
    return { how: 'renamed' as const, rows };
  }
  await buildIndexes(t);
  const columns = t.columns.map((c) => quoteIdent(c.name)).join(', ');
  const inserted = await uniqueIds(`${t.name}: an id of this upload is already in the table`, () =>
    client.query(`INSERT INTO ${quoteIdent(t.name)} (${columns}) SELECT ${columns} FROM ${quoteIdent(staging.name)}`),
  );
  if (inserted.rowCount !== rows) throw new TaskError('RowCountMismatch', `${t.name}: ${inserted.rowCount} rows appended from ${staging.name}, expected ${rows}`);
  await client.query(`DROP TABLE ${quoteIdent(staging.name)}`);
  return { how: 'appended' as const, rows: await countRows(client, t.name) };
}

/**
 * Finish: every planned chunk must be in the ledger with its rows (a missing one is loaded here, in-process) and
 * each staging table must hold exactly those rows; then, in ONE transaction, the staging tables are published
 * into the tables the user sees (publishTable) and the upload is recorded as published. Any failure (DuplicateIds
 * among them) rolls the publication back whole: the tables keep their rows and indexes. A Finish that runs again
 * after its upload was published changes nothing.
 */
export async function finishUpload(input: Omit<ChunkLoad, 'chunk'> & { chunks: Chunk[] }): Promise<Finished> {
  const plan = planOf(input, input.files);
  const current = (client: pg.PoolClient) => Promise.all(plan.tables.map(async (t) => ({ name: t.name, rows: await countRows(client, t.name) })));
  const done = await inDatastack(input.datastack, async (c) => ((await isPublished(c, input.table, input.uploadId)) ? current(c) : undefined));
  const result = { rows: plan.rows, chunks: input.chunks.length };
  if (done) return { ...result, reloaded: [], tables: done, published: [], indexBuildMs: 0 };

  const ledger = await inDatastack(input.datastack, (c) =>
    c.query<{ chunk: number; rows: number }>(`SELECT chunk, rows FROM ${quoteIdent(LEDGER_TABLE)} WHERE table_name = $1 AND upload_id = $2`, [input.table, input.uploadId]),
  );
  const recorded = new Map(ledger.rows.map((r) => [r.chunk, r.rows]));
  const reloaded: number[] = [];
  for (const chunk of input.chunks) {
    const rows = recorded.get(chunk.index);
    if (rows === undefined) {
      await loadChunk({ ...input, chunk });
      reloaded.push(chunk.index);
    } else if (rows !== chunk.rows) {
      throw new TaskError('RowCountMismatch', `chunk ${chunk.index} is recorded with ${rows} rows, the plan has ${chunk.rows}`);
    }
  }

  const timing = { indexBuildMs: 0 };
  return inDatastack(input.datastack, async (client) => {
    // One publication into a table at a time: each sees the rows of the one before.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${datastackSchema(input.datastack)}.${input.table}`]);
    if (await isPublished(client, input.table, input.uploadId)) return { ...result, reloaded, tables: await current(client), published: [], indexBuildMs: 0 };
    const mismatch = await existingTableProblems(input.datastack, plan, client);
    if (mismatch.length > 0) throw new TaskError('TableMismatch', mismatch.map((p) => p.message).join('; '));
    // Each chunk's COPY row counts were checked in the transaction that recorded it in the ledger: the ledger's sum
    // is what each staging table holds, without a scan of it.
    const expected = await client.query<{ n: string }>(`SELECT coalesce(sum(rows), 0)::text AS n FROM ${quoteIdent(LEDGER_TABLE)} WHERE table_name = $1 AND upload_id = $2`, [
      input.table,
      input.uploadId,
    ]);
    const n = Number(expected.rows[0]!.n);
    if (n !== plan.rows) throw new TaskError('RowCountMismatch', `the ledger of the upload records ${n} rows, the plan has ${plan.rows}`);
    const published: Finished['published'] = [];
    const tables: Finished['tables'] = [];
    for (const t of plan.tables) {
      const { how, rows } = await publishTable(client, plan.schema, input.datastack, t, input.uploadId, n, timing);
      published.push(how);
      tables.push({ name: t.name, rows });
    }
    await client.query(`INSERT INTO ${quoteIdent(PUBLISHED_TABLE)} (table_name, upload_id, rows) VALUES ($1, $2, $3)`, [input.table, input.uploadId, plan.rows]);
    return { ...result, reloaded, tables, published, indexBuildMs: Math.round(timing.indexBuildMs) };
  });
}

/**
 * After a failed upload: drops its staging tables and forgets its chunks, so nothing of it stays behind (the tables
 * the user sees were never touched). An upload already published is left alone. Returns whether anything was dropped.
 */
export async function discardUpload(datastack: string, table: string, uploadId: string): Promise<boolean> {
  return inDatastack(datastack, async (client) => {
    const ledger = (await client.query('SELECT to_regclass($1) AS t', [LEDGER_TABLE])).rows[0].t;
    if (!ledger) return false; // Prepare never got as far as the ledger: no staging table either
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${datastackSchema(datastack)}.${table}`]);
    if (await isPublished(client, table, uploadId)) return false;
    for (const role of ROLES) await client.query(`DROP TABLE IF EXISTS ${quoteIdent(stagingTableName(uploadId, role))}`);
    const forgotten = await client.query(`DELETE FROM ${quoteIdent(LEDGER_TABLE)} WHERE table_name = $1 AND upload_id = $2`, [table, uploadId]);
    return (forgotten.rowCount ?? 0) > 0;
  });
}

// ---- the shapes the workflow carries (validated at each Task) ----

const HeaderSchema = z.object({
  major: z.union([z.literal(1), z.literal(2), z.literal(3)]),
  minor: z.literal(0),
  dtype: z.object({
    name: z.enum(['int32', 'int64', 'uint32', 'uint64', 'float32', 'float64', 'bool']),
    itemSize: z.union([z.literal(1), z.literal(4), z.literal(8)]),
    littleEndian: z.boolean(),
    descr: z.string(),
  }),
  fortranOrder: z.boolean(),
  shape: z.union([z.tuple([z.number().int().min(0)]), z.tuple([z.number().int().min(0), z.number().int().min(1)])]),
  rows: z.number().int().min(0),
  columns: z.number().int().min(1),
  dataOffset: z.number().int().min(0),
  dataBytes: z.number().int().min(0),
});
export const UploadFileSchema = z.object({ name: z.string().min(1), key: z.string().min(1), objectSize: z.number().int().min(0), header: HeaderSchema });
export const ChunkSchema = z.object({ index: z.number().int().min(0), firstRow: z.number().int().min(0), rows: z.number().int().min(1) });
/** The job input carries the mapping as JSON text (job inputs are string maps). */
export const MappingText = z.string().transform((text, ctx) => {
  try {
    return JSON.parse(text) as ColumnMapping;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'columnMapping is not JSON' });
    return z.NEVER;
  }
}).pipe(columnMappingSchema);

/** What every task of a bulk upload's workflow is given about the upload it works on. */
export const UploadTaskInput = z.object({
  jobId: z.string().min(1),
  datastack: z.string().regex(DATASTACK),
  uploadId: z.string().min(1),
  bucket: z.string().min(1),
  table: z.string().min(1),
  schema: z.string().min(1),
  columnMapping: MappingText,
});
