// `npm run bench:bulk`: the bulk-upload pipeline against loading the same rows straight into PostgreSQL, in one run.
// ROWS synapse rows (default 2,000,000) are generated as `.npy` files (int64 ids; int32 positions, one of them
// Fortran-ordered; one int64 position file; float32 sizes; uint64 supervoxel and root ids, a quarter above 2^63, the
// root ids big-endian), put in the local cloud's media bucket (multipart), and loaded three ways:
//   (a) pipeline:    POST /v1/materialize/bench/bulk-upload (admin, CHUNK_ROWS rows a chunk, default 100,000),
//                    timed from the request to the job's success (chunks staged, counts verified, indexes built,
//                    the staging tables published into the table), polled every 100 ms (10 ms once Finish runs);
//                    after a warm-up upload into another table of as many chunks as the Map loads at once, so that
//                    the functions' modules are loaded in as many instances as the upload uses (as in warm Lambda
//                    containers) and their first-import compilation is not counted;
//   (b) direct COPY: the same rows from the typed arrays the bench already holds, encoded with the project's
//                    binary COPY encoder (functions/materialize/pgcopy.ts) and streamed with one
//                    `COPY … FROM STDIN (FORMAT binary)` (pg-copy-streams) per table, one connection;
//   (c) INSERT:      multi-row `INSERT … VALUES ($1, …), …` of INSERT_ROWS rows (default 1,000) with parameters,
//                    one connection, as the older engine's executemany-style path did.
// (b) and (c) fill fresh tables of the same layout (createTableSql) in one transaction and then build the same
// indexes (indexDefinitions), as the pipeline does before it publishes. Row counts and column checksums of the three
// loads must match. Prints rows/s side by side and the ratios pipeline / direct COPY and pipeline / INSERT, for the
// rows loaded (committed into the table the user sees) and with the index builds, which take the same time in every
// path. For the pipeline, "rows loaded" is its whole time less the index builds its job reports (indexBuildMs): the
// load, the verification and the publication all count.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { startLocalCloud } from '../infra/local/cloud.ts';
import bulkUploadDefinition from '../statemachines/bulk-upload.asl.json' with { type: 'json' };
import type { PgValues } from '../functions/materialize/decode.ts';
import { npyHeaderText } from '../functions/materialize/npy-write.ts';
import { encodeCopy } from '../functions/materialize/pgcopy.ts';
import { createTableSql, indexDefinitions, quoteIdent, SCHEMAS, segmentationTableName, SYNAPSE_NPY_MAPPING, tableColumns, type TableRole } from '../functions/materialize/schemas.ts';

process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
const ROWS = Number(process.env.ROWS ?? 2_000_000);
const CHUNK_ROWS = Number(process.env.CHUNK_ROWS ?? 100_000);
const INSERT_ROWS = Number(process.env.INSERT_ROWS ?? 1_000);
const DATASTACK = 'bench';
const TABLE = 'synapses';
const REF_SCHEMA = 'bench_ref';
const PART_SIZE = 8 * 1024 * 1024; // the local S3 takes at most ~11 MiB per request
const SYNAPSE = SCHEMAS.synapse!;
/** The bulk-upload Map's MaxConcurrency: chunks loaded at once. */
const WARM_UP_CHUNKS = (bulkUploadDefinition.States.LoadChunks as { MaxConcurrency: number }).MaxConcurrency;

// ---- the rows, as the typed arrays of their PostgreSQL columns ----

interface Rows {
  n: number;
  id: BigInt64Array;
  /** pre, ctr, post: x, y, z each. */
  pos: Record<'pre' | 'ctr' | 'post', [Int32Array, Int32Array, Int32Array]>;
  size: Float32Array;
  /** uint64 ids; `signed` views of the same bits are what PostgreSQL stores (decode.ts). */
  sv: [BigUint64Array, BigUint64Array];
  root: [BigUint64Array, BigUint64Array];
}

function generate(n: number): Rows {
  let s = 0x9e3779b9;
  const next = (): number => {
    // xorshift32: deterministic, cheap
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
  const id = new BigInt64Array(n);
  for (let i = 0; i < n; i++) id[i] = 1_000_000_000_000n + BigInt(i) * 7n;
  const axes = (): [Int32Array, Int32Array, Int32Array] => [new Int32Array(n), new Int32Array(n), new Int32Array(n)];
  const pos = { pre: axes(), ctr: axes(), post: axes() };
  const size = new Float32Array(n);
  const u64 = (): BigUint64Array => new BigUint64Array(n);
  const sv: [BigUint64Array, BigUint64Array] = [u64(), u64()];
  const root: [BigUint64Array, BigUint64Array] = [u64(), u64()];
  const views = [...sv, ...root].map((a) => new DataView(a.buffer));
  for (let i = 0; i < n; i++) {
    const x = next() % 200_000;
    const y = next() % 120_000;
    const z = next() % 8_000;
    pos.pre[0][i] = x;
    pos.pre[1][i] = y;
    pos.pre[2][i] = z;
    pos.ctr[0][i] = x + 3;
    pos.ctr[1][i] = y - 2;
    pos.ctr[2][i] = z + 1;
    pos.post[0][i] = x + 6;
    pos.post[1][i] = y - 4;
    pos.post[2][i] = z + 2;
    size[i] = (next() % 100_000) / 7;
    views.forEach((v, k) => {
      // a quarter of the ids above 2^63; the others ChunkedGraph-like (layer bits 0x0C…)
      const hi = (i + k) % 4 === 0 ? 0x80000000 | (next() >>> 1) : 0x0c000000 | (next() >>> 8);
      v.setUint32(i * 8, next(), true);
      v.setUint32(i * 8 + 4, hi >>> 0, true);
    });
  }
  return { n, id, pos, size, sv, root };
}

// ---- `.npy` bytes (the header as npy-write.ts writes it; the data straight from the typed arrays) ----

function npy(descr: string, shape: readonly number[], fortran: boolean, data: Buffer): Buffer {
  const text = Buffer.from(npyHeaderText(descr, fortran, shape), 'latin1');
  const total = Math.ceil((10 + text.length + 1) / 64) * 64;
  const head = Buffer.alloc(total, 0x20);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(head);
  head.writeUInt16LE(total - 10, 8);
  text.copy(head, 10);
  head[total - 1] = 0x0a;
  return Buffer.concat([head, data]);
}

/** Little-endian bytes of k columns, C order (row by row) or Fortran order (column after column). */
function interleave(columns: readonly (Int32Array | BigInt64Array | BigUint64Array | Float32Array)[], fortran: boolean): Buffer {
  const n = columns[0]!.length;
  const size = columns[0]!.BYTES_PER_ELEMENT;
  const out = Buffer.allocUnsafe(n * size * columns.length);
  if (fortran || columns.length === 1) {
    columns.forEach((c, j) => Buffer.from(c.buffer, c.byteOffset, c.byteLength).copy(out, j * n * size));
    return out;
  }
  const k = columns.length;
  if (size === 4) {
    const v = new Int32Array(out.buffer, out.byteOffset, n * k);
    const cs = columns as Int32Array[];
    for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) v[i * k + j] = cs[j]![i]!;
  } else {
    const v = new BigInt64Array(out.buffer, out.byteOffset, n * k);
    const cs = columns.map((c) => new BigInt64Array(c.buffer, c.byteOffset, n));
    for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) v[i * k + j] = cs[j]![i]!;
  }
  return out;
}

function npyFiles(r: Rows): Record<string, Buffer> {
  const { n } = r;
  const widen = (a: Int32Array): BigInt64Array => BigInt64Array.from(a, (x) => BigInt(x));
  const big = interleave(r.root, false);
  for (let o = 0; o < big.length; o += 8) big.writeBigUInt64BE(big.readBigUInt64LE(o), o); // byte-swapped in place
  return {
    id: npy('<i8', [n], false, interleave([r.id], false)),
    presyn_coords: npy('<i4', [n, 3], false, interleave(r.pos.pre, false)),
    center_coords: npy('<i8', [n, 3], false, interleave(r.pos.ctr.map(widen), false)),
    postsyn_coords: npy('<i4', [n, 3], true, interleave(r.pos.post, true)),
    sizes: npy('<f4', [n], false, interleave([r.size], false)),
    sv_ids_ordered: npy('<u8', [n, 2], false, interleave(r.sv, false)),
    root_ids_ordered: npy('>u8', [n, 2], false, big),
  };
}

const MAPPING = SYNAPSE_NPY_MAPPING;

/** The COPY/INSERT columns of each table, in tableColumns order (every column is mapped). */
function tableValues(r: Rows, role: TableRole): PgValues[] {
  const signed = (a: BigUint64Array): BigInt64Array => new BigInt64Array(a.buffer, a.byteOffset, a.length);
  if (role === 'segmentation') {
    return [r.id, signed(r.sv[0]), signed(r.sv[1]), signed(r.root[0]), signed(r.root[1])].map((values) => ({ type: 'int8', values }));
  }
  return [
    { type: 'int8', values: r.id },
    ...[...r.pos.pre, ...r.pos.ctr, ...r.pos.post].map((values): PgValues => ({ type: 'int4', values })),
    { type: 'float8', values: Float64Array.from(r.size) },
  ];
}

// ---- (b) and (c): fresh tables of the same layout ----

const ROLES: TableRole[] = ['annotation', 'segmentation'];
const refTable = (base: string, role: TableRole) => ({ name: role === 'annotation' ? base : segmentationTableName(base), role, columns: tableColumns(SYNAPSE, role) });

async function freshTables(db: pg.Client, base: string): Promise<void> {
  await db.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(REF_SCHEMA)}`);
  await db.query(`SET search_path TO ${quoteIdent(REF_SCHEMA)}`);
  for (const role of ROLES) {
    const t = refTable(base, role);
    await db.query(`DROP TABLE IF EXISTS ${quoteIdent(t.name)}`);
    await db.query(createTableSql(t));
  }
}

async function buildIndexes(db: pg.Client, base: string): Promise<void> {
  for (const role of ROLES) for (const def of indexDefinitions(SYNAPSE, refTable(base, role))) await db.query(def.sql);
}

async function directCopy(db: pg.Client, r: Rows, base: string): Promise<Timing> {
  await freshTables(db, base);
  const t0 = performance.now();
  await db.query('BEGIN');
  for (const role of ROLES) {
    const t = refTable(base, role);
    const copy = db.query(copyFrom(`COPY ${quoteIdent(t.name)} (${t.columns.map((c) => quoteIdent(c.name)).join(', ')}) FROM STDIN (FORMAT binary)`));
    await pipeline(Readable.from(encodeCopy(tableValues(r, role), r.n)), copy);
    if (copy.rowCount !== r.n) throw new Error(`COPY into ${t.name} wrote ${copy.rowCount} rows`);
  }
  await db.query('COMMIT');
  const t1 = performance.now();
  await buildIndexes(db, base);
  return { loadMs: t1 - t0, totalMs: performance.now() - t0 };
}

async function batchedInsert(db: pg.Client, r: Rows, base: string): Promise<Timing> {
  await freshTables(db, base);
  const t0 = performance.now();
  await db.query('BEGIN');
  for (const role of ROLES) {
    const t = refTable(base, role);
    const cols = tableValues(r, role);
    const k = cols.length;
    const head = `INSERT INTO ${quoteIdent(t.name)} (${t.columns.map((c) => quoteIdent(c.name)).join(', ')}) VALUES `;
    const sqlFor = (rows: number) =>
      head + Array.from({ length: rows }, (_, i) => `(${Array.from({ length: k }, (_, j) => `$${i * k + j + 1}`).join(', ')})`).join(', ');
    const fullSql = sqlFor(INSERT_ROWS);
    for (let from = 0; from < r.n; from += INSERT_ROWS) {
      const to = Math.min(r.n, from + INSERT_ROWS);
      const params: (string | number)[] = [];
      for (let i = from; i < to; i++) for (const c of cols) params.push(c.type === 'int8' ? String(c.values[i]) : c.values[i]!);
      await db.query(to - from === INSERT_ROWS ? fullSql : sqlFor(to - from), params);
    }
  }
  await db.query('COMMIT');
  const t1 = performance.now();
  await buildIndexes(db, base);
  return { loadMs: t1 - t0, totalMs: performance.now() - t0 };
}

interface Timing {
  /** Rows in both tables, committed. */
  loadMs: number;
  /** Including the index builds. */
  totalMs: number;
}

/** Row counts and column sums of both tables: the same for all three loads, or a load is wrong. */
async function checksum(db: pg.Client, schema: string, base: string): Promise<string> {
  const q = (t: string) => `${quoteIdent(schema)}.${quoteIdent(t)}`;
  const a = await db.query(`SELECT count(*)::text AS n, sum(id)::text AS id,
      sum(pre_pt_position_x::bigint + 3 * pre_pt_position_y + 5 * pre_pt_position_z)::text AS pre,
      sum(ctr_pt_position_x::bigint + 3 * ctr_pt_position_y + 5 * ctr_pt_position_z)::text AS ctr,
      sum(post_pt_position_x::bigint + 3 * post_pt_position_y + 5 * post_pt_position_z)::text AS post, sum(size::numeric)::text AS size FROM ${q(base)}`);
  const s = await db.query(`SELECT count(*)::text AS n, sum(id)::text AS id, sum(pre_pt_supervoxel_id::numeric)::text AS a, sum(post_pt_supervoxel_id::numeric)::text AS b,
      sum(pre_pt_root_id::numeric)::text AS c, sum(post_pt_root_id::numeric)::text AS d,
      count(*) FILTER (WHERE pre_pt_supervoxel_id < 0)::text AS above FROM ${q(segmentationTableName(base))}`);
  return JSON.stringify([a.rows[0], s.rows[0]]);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'framewise-bench-bulk-'));
  const cloud = await startLocalCloud({ dir, schedules: false });
  const db = new pg.Client({ connectionString: cloud.endpoints.postgres });
  await db.connect();
  try {
    const bucket = process.env.BUCKET_MEDIA!;
    const s3 = new S3Client({ endpoint: cloud.endpoints.s3, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    let t = performance.now();
    const rows = generate(ROWS);
    const files = npyFiles(rows);
    const bytes = Object.values(files).reduce((sum, b) => sum + b.length, 0);
    console.log(`generated ${ROWS.toLocaleString('en')} synapse rows: ${Object.keys(files).length} .npy files, ${(bytes / 2 ** 20).toFixed(1)} MiB, in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    t = performance.now();
    const prefix = `materialize/bench-${Date.now().toString(36)}/${TABLE}/`;
    for (const [name, body] of Object.entries(files)) {
      await new Upload({ client: s3, params: { Bucket: bucket, Key: `${prefix}${name}.npy`, Body: body }, partSize: PART_SIZE, queueSize: 4 }).done();
    }
    console.log(`put in s3://${bucket}/${prefix} in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    // (a) the pipeline
    await db.query('CHECKPOINT');
    const api = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
      const res = await fetch(`${cloud.endpoints.api}${path}`, {
        method,
        headers: { authorization: `Bearer ${cloud.credentials.adminApiKey}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    /** POSTs an upload and follows its job to its end. */
    const upload = async (from: string, table: string, chunkRows: number): Promise<Record<string, unknown>> => {
      const posted = await api('POST', `/v1/materialize/${DATASTACK}/bulk-upload`, { bucket, prefix: from, table, schema: 'synapse', columnMapping: MAPPING, chunkRows });
      if (posted.status !== 202) throw new Error(`bulk upload refused: ${posted.status} ${JSON.stringify(posted.body)}`);
      for (;;) {
        const job = (await api('GET', `/v1/jobs/${String(posted.body.jobId)}`)).body;
        if (job.state === 'succeeded' || job.state === 'failed') return job;
        // Each poll takes CPU from the load; once Finish runs, finer polls see its end sooner.
        const finishing = (job.steps as Record<string, { state: string }> | undefined)?.finish?.state === 'working';
        await new Promise((r) => setTimeout(r, finishing ? 10 : 100));
      }
    };
    // A warm-up upload first: the functions' first invocations load their modules (a busy function runs in warm
    // containers). It has as many chunks as the Map loads at once, so that each concurrent chunk load finds a warm
    // instance, as it would in a function that is in use.
    const small = `${prefix}warm-up/`;
    for (const [name, body] of Object.entries(npyFiles(generate(WARM_UP_CHUNKS * 250)))) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${small}${name}.npy`, Body: body }));
    const warm = await upload(small, `${TABLE}_warm_up`, 250);
    if (warm.state !== 'succeeded') throw new Error(`warm-up upload failed: ${JSON.stringify(warm.error)}`);
    await cloud.waitForIdle();
    await db.query('CHECKPOINT');
    const t0 = performance.now();
    const job = await upload(prefix, TABLE, CHUNK_ROWS);
    const pipelineMs = performance.now() - t0;
    if (job.state !== 'succeeded') throw new Error(`bulk upload failed: ${JSON.stringify(job.error)}`);
    const { indexBuildMs } = (job.result ?? {}) as { indexBuildMs?: number };
    if (typeof indexBuildMs !== 'number') throw new Error(`the job reports no indexBuildMs: ${JSON.stringify(job.result)}`);
    const loadedMs = pipelineMs - indexBuildMs;
    await cloud.waitForIdle();

    // (b) direct binary COPY, (c) batched INSERTs
    await db.query('CHECKPOINT');
    const copy = await directCopy(db, rows, 'synapses_copy');
    await db.query('CHECKPOINT');
    const insert = await batchedInsert(db, rows, 'synapses_insert');

    const sums = [await checksum(db, `ds_${DATASTACK}`, TABLE), await checksum(db, REF_SCHEMA, 'synapses_copy'), await checksum(db, REF_SCHEMA, 'synapses_insert')];
    if (new Set(sums).size !== 1) throw new Error(`the loads differ:\n${sums.join('\n')}`);
    const count = Number((JSON.parse(sums[0]!) as { n: string }[])[0]!.n);
    if (count !== ROWS) throw new Error(`${count} rows loaded, ${ROWS} generated`);

    const rps = (ms: number) => ROWS / (ms / 1000);
    const line = (name: string, totalMs: number, loadMs: number) =>
      `${name.padEnd(34)} ${(totalMs / 1000).toFixed(2).padStart(9)} ${rps(totalMs).toFixed(0).padStart(12)} ${(loadMs / 1000).toFixed(2).padStart(14)} ${rps(loadMs).toFixed(0).padStart(12)}`;
    console.log(`\n${ROWS.toLocaleString('en')} synapse rows into ${TABLE} + ${TABLE}__seg (16 columns), same rows and checksums in all three`);
    console.log(`${'load'.padEnd(34)} ${'total s'.padStart(9)} ${'rows/s'.padStart(12)} ${'w/o indexes s'.padStart(14)} ${'rows/s'.padStart(12)}`);
    console.log(line(`pipeline (chunks of ${CHUNK_ROWS.toLocaleString('en')})`, pipelineMs, loadedMs));
    console.log(line('direct binary COPY (pgcopy.ts)', copy.totalMs, copy.loadMs));
    console.log(line(`INSERT, ${INSERT_ROWS.toLocaleString('en')} rows a statement`, insert.totalMs, insert.loadMs));
    const ratio = (a: number, b: number) => (rps(a) / rps(b)).toFixed(2);
    console.log(`\n${''.padEnd(24)} ${'rows loaded'.padStart(12)} ${'with indexes'.padStart(13)}`);
    console.log(`${'pipeline / direct COPY'.padEnd(24)} ${ratio(loadedMs, copy.loadMs).padStart(12)} ${ratio(pipelineMs, copy.totalMs).padStart(13)}   target >= 0.9 (rows loaded)`);
    console.log(`${'pipeline / INSERT'.padEnd(24)} ${ratio(loadedMs, insert.loadMs).padStart(12)} ${ratio(pipelineMs, insert.totalMs).padStart(13)}   target >= 5`);
    console.log('("rows loaded" is rows committed into the table the user sees: for the pipeline, the whole job after a warm-up upload');
    console.log(' less the index builds it reports; "with indexes" adds the index builds, the same SQL in every path: the pipeline');
    console.log(' builds them on its staging tables in Finish before publishing, the references after loading)');
  } finally {
    await db.end();
    await cloud.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
