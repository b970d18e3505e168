// POST /v1/materialize/{datastack}/bulk-upload on the shared local cloud: small `.npy` files (several dtypes and
// byte orders, a Fortran-ordered 2-D file, uint64 ids above 2^63) in the media bucket, loaded in chunks of 7 rows
// by the bulk-upload workflow's Map into staging tables, then published: every row checked in PostgreSQL, with
// its indexes. The same upload posted again is the same job and adds nothing; a chunk loaded twice (the load-chunk
// handler called twice in-process, as a retry would) is staged once; a chunk missing from the ledger is reloaded
// by Finish. A failed upload (duplicate ids at Finish, a chunk whose load fails) leaves the tables exactly as they
// were and no staging table behind; a correct upload after it appends. Every kind of bad upload is a 400 listing
// its problems, with no schema or table created.
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { uint64FromPg } from '../../functions/materialize/decode.ts';
import { encodeNpy } from '../../functions/materialize/npy-write.ts';
import { indexDefinitions, SCHEMAS, SYNAPSE_NPY_MAPPING, type ColumnMapping } from '../../functions/materialize/schemas.ts';
import { localAdminEnvironment } from '../../infra/local/cloud.ts';
import { apiClient, eventually } from '../support/api.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const endpoints = inject('endpoints');
const admin = apiClient();
const BUCKET = 'framewise-media';
const STAMP = `${Date.now().toString(36)}${process.pid}`;
const DATASTACK = `t${STAMP}`;
const REJECT_DATASTACK = `r${STAMP}`;
const s3 = new S3Client({ endpoint: endpoints.s3, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
const pool = new pg.Pool({ connectionString: endpoints.postgres, max: 2 });
afterAll(async () => {
  await pool.query(`DROP SCHEMA IF EXISTS "ds_${DATASTACK}" CASCADE`);
  await pool.end();
});

const put = (prefix: string, name: string, body: Buffer) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}${name}.npy`, Body: body }));
const copyNpy = async (from: string, to: string, name: string) => {
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${from}${name}.npy` }));
  await put(to, name, Buffer.from(await got.Body!.transformToByteArray()));
};

// ---- the upload: 50 synapses ----
const N = 50;
const CHUNK_ROWS = 7;
const ids = Array.from({ length: N }, (_, i) => (i % 2 === 0 ? 10n ** 15n + BigInt(i) : -BigInt(i) * 1_000_003n));
const pre = (i: number) => [i * 4, -(2 ** 31) + i, 2 ** 31 - 1 - i];
const ctr = (i: number) => [i * 5 + 1, i * 6 + 2, 0 - i];
const post = (i: number) => [i, 2_000_000_000 - i, 7]; // uint32 values that fit int4 (checked conversion)
const sizes = Array.from({ length: N }, (_, i) => i * 0.1 - 2);
const sv = (i: number) => [2n ** 63n + BigInt(i) * 977n, 2n ** 64n - 1n - BigInt(i)];
const root = (i: number) => [864691135000000000n + BigInt(i), i === 3 ? 0n : 2n ** 63n - BigInt(i)];
const MAPPING = SYNAPSE_NPY_MAPPING;
const PREFIX = `materialize/${STAMP}/synapses/`;
const upload = { bucket: BUCKET, prefix: PREFIX, table: 'synapses', schema: 'synapse', columnMapping: MAPPING, chunkRows: CHUNK_ROWS };
const range = (f: (i: number) => unknown[]) => Array.from({ length: N }, (_, i) => f(i)).flat() as never[];

const NPY_FILES = ['id', 'presyn_coords', 'center_coords', 'postsyn_coords', 'sizes', 'sv_ids_ordered', 'root_ids_ordered'];

async function putSynapses(): Promise<void> {
  await Promise.all([
    put(PREFIX, 'id', encodeNpy({ dtype: 'int64', order: '>', shape: [N], values: ids, version: 2 })),
    put(PREFIX, 'presyn_coords', encodeNpy({ dtype: 'int32', shape: [N, 3], fortranOrder: true, values: range(pre) })),
    put(PREFIX, 'center_coords', encodeNpy({ dtype: 'int64', order: '>', shape: [N, 3], values: range((i) => ctr(i).map(BigInt)), version: 3 })),
    put(PREFIX, 'postsyn_coords', encodeNpy({ dtype: 'uint32', shape: [N, 3], values: range(post) })),
    put(PREFIX, 'sizes', encodeNpy({ dtype: 'float32', shape: [N], values: sizes })),
    put(PREFIX, 'sv_ids_ordered', encodeNpy({ dtype: 'uint64', shape: [N, 2], values: range(sv) })),
    put(PREFIX, 'root_ids_ordered', encodeNpy({ dtype: 'uint64', order: '>', shape: [N, 2], fortranOrder: true, values: range(root) })),
    // Not named by the mapping, and in a sub-folder: both ignored.
    put(PREFIX, 'unused', encodeNpy({ dtype: 'bool', shape: [3], values: [true, false, true] })),
    put(`${PREFIX}nested/`, 'id', encodeNpy({ dtype: 'int64', shape: [1], values: [1n] })),
  ]);
}

const table = (name: string) => `"ds_${DATASTACK}"."${name}"`;

/** Every row of both tables, exactly as uploaded. */
async function expectAllRows(): Promise<void> {
  const ann = await pool.query(`SELECT id::text, pre_pt_position_x AS px, pre_pt_position_y AS py, pre_pt_position_z AS pz,
    ctr_pt_position_x AS cx, ctr_pt_position_y AS cy, ctr_pt_position_z AS cz, post_pt_position_x AS qx, post_pt_position_y AS qy,
    post_pt_position_z AS qz, size FROM ${table('synapses')}`);
  expect(ann.rows).toHaveLength(N);
  const byId = new Map(ann.rows.map((r) => [BigInt(r.id), r]));
  ids.forEach((id, i) => {
    const r = byId.get(id);
    expect(r, `row ${i}`).toBeDefined();
    expect([r.px, r.py, r.pz], `pre ${i}`).toEqual(pre(i));
    expect([r.cx, r.cy, r.cz], `ctr ${i}`).toEqual(ctr(i));
    expect([r.qx, r.qy, r.qz], `post ${i}`).toEqual(post(i));
    expect(r.size, `size ${i}`).toBe(Math.fround(sizes[i]!));
  });
  const seg = await pool.query(`SELECT id::text, pre_pt_supervoxel_id::text AS a, post_pt_supervoxel_id::text AS b, pre_pt_root_id::text AS c,
    post_pt_root_id::text AS d FROM ${table('synapses__seg')}`);
  expect(seg.rows).toHaveLength(N);
  const segById = new Map(seg.rows.map((r) => [BigInt(r.id), r]));
  ids.forEach((id, i) => {
    const r = segById.get(id);
    expect([uint64FromPg(r.a), uint64FromPg(r.b)], `sv ${i}`).toEqual(sv(i));
    expect([uint64FromPg(r.c), uint64FromPg(r.d)], `root ${i}`).toEqual(root(i));
  });
}

async function indexesOf(name: string): Promise<string[]> {
  const { rows } = await pool.query('SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 ORDER BY indexname', [`ds_${DATASTACK}`, name]);
  return rows.map((r) => r.indexname as string);
}
const expectedIndexes = (name: string, role: 'annotation' | 'segmentation') =>
  indexDefinitions(SCHEMAS.synapse!, { name, role })
    .map((d) => d.name)
    .sort();

/** What a failed upload must leave as it was: each table's row count, ids and indexes. */
async function snapshot(): Promise<Json> {
  const out: Json = {};
  for (const t of ['synapses', 'synapses__seg']) {
    const rows = await pool.query(`SELECT id::text FROM ${table(t)} ORDER BY id::bigint`);
    out[t] = { rows: rows.rowCount, ids: rows.rows.map((r) => r.id), indexes: await indexesOf(t) };
  }
  return out;
}

async function stagingTables(): Promise<string[]> {
  const { rows } = await pool.query("SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename LIKE '\\_\\_bulk\\_%'", [`ds_${DATASTACK}`]);
  return rows.map((r) => r.tablename as string);
}

// ---- more synapses, with ids of their own ----
const MORE = 20;
const moreIds = (batch: number) => Array.from({ length: MORE }, (_, i) => 7n * 10n ** 16n + BigInt(batch) * 1000n + BigInt(i));
async function putMore(prefix: string, batch: number): Promise<void> {
  const pt = encodeNpy({ dtype: 'int32', shape: [MORE, 3], values: Array.from({ length: MORE * 3 }, (_, i) => i) });
  const u64 = encodeNpy({ dtype: 'uint64', shape: [MORE, 2], values: Array.from({ length: MORE * 2 }, (_, i) => BigInt(i + 1)) });
  await Promise.all([
    put(prefix, 'id', encodeNpy({ dtype: 'int64', shape: [MORE], values: moreIds(batch) })),
    ...['presyn_coords', 'center_coords', 'postsyn_coords'].map((name) => put(prefix, name, pt)),
    put(prefix, 'sizes', encodeNpy({ dtype: 'float32', shape: [MORE], values: Array.from({ length: MORE }, (_, i) => i) })),
    put(prefix, 'sv_ids_ordered', u64),
    put(prefix, 'root_ids_ordered', u64),
  ]);
}

async function followJob(jobId: string): Promise<Json> {
  return eventually(async () => {
    const res = await admin('GET', `/v1/jobs/${jobId}`);
    return ['succeeded', 'failed'].includes(res.body.state) ? res.body : undefined;
  }, `job ${jobId} to end`, 90_000);
}

// ---- the Tasks' handlers, in this process, against the cloud's services ----
type Handler = (event: unknown, context: Context) => Promise<Json>;
const context = { functionName: 'test', awsRequestId: 'test', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
async function handlerOf(task: 'load-chunk' | 'finish'): Promise<Handler> {
  Object.assign(process.env, localAdminEnvironment(endpoints));
  return ((await import(`../../functions/materialize/bulk/${task}-task.ts`)) as { handler: Handler }).handler;
}

describe('materialize: bulk upload', () => {
  let job: Json;
  let uploadMs = 0;

  beforeAll(async () => {
    await putSynapses();
  });

  it('loads every row exactly, chunk by chunk, and rebuilds the indexes', async () => {
    const started = Date.now();
    const res = await admin('POST', `/v1/materialize/${DATASTACK}/bulk-upload`, upload);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toMatchObject({ kind: 'bulk-upload', state: 'queued' });
    job = await followJob(res.body.jobId);
    uploadMs = Date.now() - started;
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.steps).toMatchObject({
      prepare: { state: 'succeeded' },
      load: { state: 'succeeded', total: Math.ceil(N / CHUNK_ROWS), done: Math.ceil(N / CHUNK_ROWS) },
      finish: { state: 'succeeded' },
    });
    await expectAllRows();
    expect(await indexesOf('synapses')).toEqual(expectedIndexes('synapses', 'annotation'));
    expect(await indexesOf('synapses__seg')).toEqual(expectedIndexes('synapses__seg', 'segmentation'));
    const ledger = await pool.query(`SELECT chunk, first_row, rows FROM ${table('bulk_chunk_ledger')} ORDER BY chunk`);
    expect(ledger.rows.map((r) => [r.chunk, Number(r.first_row), r.rows])).toEqual(
      Array.from({ length: Math.ceil(N / CHUNK_ROWS) }, (_, c) => [c, c * CHUNK_ROWS, Math.min(CHUNK_ROWS, N - c * CHUNK_ROWS)]),
    );
    expect(job.result).toMatchObject({ rows: N, published: ['renamed', 'renamed'], indexBuildMs: expect.any(Number) });
    expect(await stagingTables()).toEqual([]);
    console.log(`bulk upload of ${N} rows in ${Math.ceil(N / CHUNK_ROWS)} chunks: ${uploadMs} ms`);
  });

  it('treats the same upload posted again as the same job, adding nothing', async () => {
    const res = await admin('POST', `/v1/materialize/${DATASTACK}/bulk-upload`, upload);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ jobId: job.jobId, state: 'succeeded' });
    await expectAllRows();
  });

  it('stages a chunk once when its load is retried, and Finish reloads a chunk missing from the ledger', async () => {
    // The same files into another table are another upload: prepared, loaded and finished by the handlers here.
    const { inspectUpload, prepareUpload } = await import('../../functions/materialize/bulk/upload.ts');
    const loadChunk = await handlerOf('load-chunk');
    const finish = await handlerOf('finish');
    const request = { datastack: DATASTACK, bucket: BUCKET, prefix: PREFIX, table: 'retried', schema: 'synapse', columnMapping: MAPPING as ColumnMapping };
    const { uploadId } = await inspectUpload(request, CHUNK_ROWS);
    const { files, chunks } = await prepareUpload(request, uploadId, CHUNK_ROWS);
    expect(chunks).toHaveLength(Math.ceil(N / CHUNK_ROWS));
    const common = { jobId: job.jobId, datastack: DATASTACK, uploadId, bucket: BUCKET, table: 'retried', schema: 'synapse', columnMapping: JSON.stringify(MAPPING), files };
    const staging = `__bulk_${uploadId}_ann`;

    expect(await loadChunk({ ...common, chunk: chunks[0] }, context)).toEqual({ chunk: 0, loaded: true });
    expect(await loadChunk({ ...common, chunk: chunks[0] }, context)).toEqual({ chunk: 0, loaded: false });
    // Concurrent attempts: the ledger's key lets exactly one of them write.
    const both = await Promise.all([loadChunk({ ...common, chunk: chunks[1] }, context), loadChunk({ ...common, chunk: chunks[1] }, context)]);
    expect(both.filter((r) => r.loaded)).toHaveLength(1);
    for (const chunk of chunks.slice(2)) if (chunk.index !== 3) await loadChunk({ ...common, chunk }, context);
    expect((await pool.query(`SELECT count(*)::int AS n FROM ${table(staging)}`)).rows[0].n).toBe(N - CHUNK_ROWS);
    // Nothing is in the table the user sees before Finish publishes.
    expect((await pool.query('SELECT to_regclass($1) AS t', [table('retried')])).rows[0].t).toBeNull();

    const finished = await finish({ ...common, chunks }, context);
    expect(finished).toMatchObject({ rows: N, chunks: chunks.length, reloaded: [3], tables: [{ name: 'retried', rows: N }, { name: 'retried__seg', rows: N }], published: ['renamed', 'renamed'] });
    expect(await indexesOf('retried')).toEqual(expectedIndexes('retried', 'annotation'));
    expect(await indexesOf('retried__seg')).toEqual(expectedIndexes('retried__seg', 'segmentation'));
    const rowIds = await pool.query(`SELECT id::text FROM ${table('retried')} ORDER BY id::bigint`);
    expect(rowIds.rows.map((r) => BigInt(r.id))).toEqual([...ids].sort((a, b) => (a < b ? -1 : 1)));
    // Finish again (a retry after its reply was lost) and a late chunk load change nothing.
    expect(await finish({ ...common, chunks }, context)).toMatchObject({ reloaded: [], tables: [{ rows: N }, { rows: N }], published: [] });
    expect(await loadChunk({ ...common, chunk: chunks[3] }, context)).toEqual({ chunk: 3, loaded: false });
    expect((await pool.query(`SELECT count(*)::int AS n FROM ${table('retried')}`)).rows[0].n).toBe(N);
    expect(await stagingTables()).toEqual([]);
  });

  it('fails an upload of ids the table already holds with DuplicateIds at Finish, leaving the tables exactly as they were', async () => {
    const before = await snapshot();
    const again = `materialize/${STAMP}/again/`;
    await Promise.all(NPY_FILES.map((name) => copyNpy(PREFIX, again, name)));
    const res = await admin('POST', `/v1/materialize/${DATASTACK}/bulk-upload`, { ...upload, prefix: again });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body.jobId).not.toBe(job.jobId);
    const failed = await followJob(res.body.jobId);
    expect(failed.state).toBe('failed');
    expect(failed.error.code).toBe('DuplicateIds');
    expect(failed.steps).toMatchObject({ load: { state: 'succeeded' }, finish: { state: 'failed' } });
    expect(await snapshot()).toEqual(before);
    await expectAllRows();
    expect(await stagingTables()).toEqual([]);
    const ledger = await pool.query(`SELECT count(*)::int AS n FROM ${table('bulk_chunk_ledger')} WHERE upload_id = $1`, [failed.input.uploadId]);
    expect(ledger.rows[0].n).toBe(0);
  });

  it('fails an upload whose chunk cannot be loaded, leaving the tables exactly as they were', async () => {
    const { inspectUpload } = await import('../../functions/materialize/bulk/upload.ts');
    const before = await snapshot();
    const prefix = `materialize/${STAMP}/more/`;
    await putMore(prefix, 1);
    const body = { ...upload, prefix, chunkRows: 5 };
    const { uploadId } = await inspectUpload({ ...body, columnMapping: MAPPING as ColumnMapping, datastack: DATASTACK }, 5);
    // The staging table as Prepare would create it, with a constraint one row of chunk 2 violates: that chunk's
    // COPY fails on every attempt, after chunks 0, 1 and 3 may have been staged.
    const staging = table(`__bulk_${uploadId}_ann`);
    await pool.query(`CREATE TABLE ${staging} (LIKE ${table('synapses')}, CHECK (id <> ${moreIds(1)[12]}))`);
    const res = await admin('POST', `/v1/materialize/${DATASTACK}/bulk-upload`, body);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const failed = await followJob(res.body.jobId);
    expect(failed.state).toBe('failed');
    expect(failed.error.message).toContain('check constraint');
    expect(failed.steps).toMatchObject({ load: { state: 'failed' } });
    expect(await snapshot()).toEqual(before);
    await expectAllRows();
    expect(await stagingTables()).toEqual([]);
    const ledger = await pool.query(`SELECT count(*)::int AS n FROM ${table('bulk_chunk_ledger')} WHERE upload_id = $1`, [uploadId]);
    expect(ledger.rows[0].n).toBe(0);
  });

  it('appends a correct upload after the failed ones, under the indexes', async () => {
    const prefix = `materialize/${STAMP}/more-ok/`;
    await putMore(prefix, 2);
    const res = await admin('POST', `/v1/materialize/${DATASTACK}/bulk-upload`, { ...upload, prefix, chunkRows: 5 });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const done = await followJob(res.body.jobId);
    expect(done.state, JSON.stringify(done.error)).toBe('succeeded');
    expect(done.result).toMatchObject({ rows: MORE, published: ['appended', 'appended'], tables: [{ rows: N + MORE }, { rows: N + MORE }] });
    const all = await pool.query(`SELECT id::text FROM ${table('synapses')} ORDER BY id::bigint`);
    expect(all.rows.map((r) => BigInt(r.id))).toEqual([...ids, ...moreIds(2)].sort((a, b) => (a < b ? -1 : 1)));
    expect(await indexesOf('synapses')).toEqual(expectedIndexes('synapses', 'annotation'));
    expect(await indexesOf('synapses__seg')).toEqual(expectedIndexes('synapses__seg', 'segmentation'));
    expect(await stagingTables()).toEqual([]);
  });
});

describe('materialize: an upload into a new table that fails at Finish', () => {
  it('leaves no table behind when the upload holds an id twice', async () => {
    const prefix = `materialize/${STAMP}/twice/`;
    await Promise.all([
      put(prefix, 'id', encodeNpy({ dtype: 'int64', shape: [6], values: [1n, 2n, 3n, 4n, 2n, 6n] })),
      put(prefix, 'pt', encodeNpy({ dtype: 'int32', shape: [6, 3], values: Array.from({ length: 18 }, (_, i) => i) })),
    ]);
    const body = { bucket: BUCKET, prefix, table: 'cells_twice', schema: 'point', columnMapping: { id: 'id', pt: 'pt_position' }, chunkRows: 4 };
    const res = await admin('POST', `/v1/materialize/${DATASTACK}/bulk-upload`, body);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const failed = await followJob(res.body.jobId);
    expect(failed.state).toBe('failed');
    expect(failed.error.code).toBe('DuplicateIds');
    for (const t of ['cells_twice', 'cells_twice__seg']) expect((await pool.query('SELECT to_regclass($1) AS t', [table(t)])).rows[0].t).toBeNull();
    expect(await stagingTables()).toEqual([]);
  });
});

describe('materialize: a value its column cannot hold', () => {
  it('fails the job with the file, column and row, leaving no table and no staged chunk behind', async () => {
    const prefix = `materialize/${STAMP}/oor/`;
    const rows = 10;
    await Promise.all([
      put(prefix, 'id', encodeNpy({ dtype: 'int64', shape: [rows], values: Array.from({ length: rows }, (_, i) => BigInt(i)) })),
      put(prefix, 'pt', encodeNpy({ dtype: 'uint32', shape: [rows, 3], values: Array.from({ length: rows * 3 }, (_, i) => (i === 8 * 3 + 1 ? 3_000_000_000 : i)) })),
    ]);
    const body = { bucket: BUCKET, prefix, table: 'cells_oor', schema: 'point', columnMapping: { id: 'id', pt: 'pt_position' }, chunkRows: 3 };
    const res = await admin('POST', `/v1/materialize/${DATASTACK}/bulk-upload`, body);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const failed = await followJob(res.body.jobId);
    expect(failed.state).toBe('failed');
    expect(failed.error.code).toBe('ValueOutOfRange');
    expect(failed.error.message).toContain('pt.npy → cells_oor.pt_position_y: row 8 has 3000000000');
    // chunks 0-1 (rows 0-5) hold only good values and may have been staged: the failed upload discarded them, and the
    // table was not even created
    const exists = await pool.query(`SELECT to_regclass($1) AS t`, [`"ds_${DATASTACK}"."cells_oor"`]);
    expect(exists.rows[0].t).toBeNull();
    expect(await stagingTables()).toEqual([]);
    const ledger = await pool.query(`SELECT count(*)::int AS n FROM ${table('bulk_chunk_ledger')} WHERE upload_id = $1`, [failed.input.uploadId]);
    expect(ledger.rows[0].n).toBe(0);
  });
});

describe('materialize: bulk upload rejections', () => {
  const P = `materialize/${STAMP}/bad/`;
  const M = 10;
  const idFile = encodeNpy({ dtype: 'int64', shape: [M], values: Array.from({ length: M }, (_, i) => BigInt(i)) });
  const ptFile = (rows: number) => encodeNpy({ dtype: 'int32', shape: [rows, 3], values: Array.from({ length: rows * 3 }, (_, i) => i) });

  beforeAll(async () => {
    await Promise.all([
      put(`${P}ok/`, 'id', idFile),
      put(`${P}ok/`, 'pt', ptFile(M)),
      put(`${P}lengths/`, 'id', idFile),
      put(`${P}lengths/`, 'pt', ptFile(M - 1)),
      put(`${P}float/`, 'id', encodeNpy({ dtype: 'float64', shape: [M], values: Array.from({ length: M }, (_, i) => i + 0.5) })),
      put(`${P}float/`, 'pt', ptFile(M)),
      put(`${P}truncated/`, 'id', idFile.subarray(0, idFile.length - 8)),
      put(`${P}truncated/`, 'pt', ptFile(M)),
    ]);
  });

  const cases: { what: string; folder: string; body?: Record<string, unknown>; codes: string[] }[] = [
    { what: 'arrays of different lengths', folder: 'lengths', codes: ['LENGTH_MISMATCH'] },
    { what: 'a mapping naming a missing file', folder: 'ok', body: { columnMapping: { id: 'id', pt: 'pt_position', gone: 'pt_root_id' } }, codes: ['MISSING_FILE'] },
    { what: 'an unknown column', folder: 'ok', body: { columnMapping: { id: 'id', pt: 'pt_position', ptx: 'no_such_column' } }, codes: ['UNKNOWN_COLUMN', 'MISSING_FILE'] },
    { what: 'a float into an id column', folder: 'float', codes: ['INCOMPATIBLE_DTYPE'] },
    { what: 'a table name with a quote', folder: 'ok', body: { table: 'cells"; DROP TABLE api_keys; --' }, codes: ['INVALID_IDENTIFIER'] },
    { what: 'a table name with a space', folder: 'ok', body: { table: 'my cells' }, codes: ['INVALID_IDENTIFIER'] },
    { what: 'a truncated file', folder: 'truncated', codes: ['TRUNCATED'] },
    { what: 'the table name reserved for the ledger', folder: 'ok', body: { table: 'bulk_chunk_ledger' }, codes: ['INVALID_IDENTIFIER'] },
    { what: 'the table name reserved for the published uploads', folder: 'ok', body: { table: 'bulk_published_upload' }, codes: ['INVALID_IDENTIFIER'] },
  ];

  for (const c of cases) {
    it(`rejects ${c.what} with every problem and writes nothing`, async () => {
      const body = { bucket: BUCKET, prefix: `${P}${c.folder}/`, table: 'cells', schema: 'point', columnMapping: { id: 'id', pt: 'pt_position' }, chunkRows: 3, ...c.body };
      const res = await admin('POST', `/v1/materialize/${REJECT_DATASTACK}/bulk-upload`, body);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error.code).toBe('InvalidUpload');
      expect(res.body.error.details.map((p: Json) => p.code).sort()).toEqual([...c.codes].sort());
      for (const p of res.body.error.details) expect(p.message).toEqual(expect.any(String));
    });
  }

  it('rejects a bucket the topology does not declare, and a datastack that is not a plain identifier', async () => {
    const body = { bucket: 'someone-elses-bucket', prefix: `${P}ok/`, table: 'cells', schema: 'point', columnMapping: { id: 'id', pt: 'pt_position' } };
    const bucket = await admin('POST', `/v1/materialize/${REJECT_DATASTACK}/bulk-upload`, body);
    expect(bucket.status).toBe(400);
    expect(bucket.body.error.details).toMatchObject({ bucket: 'someone-elses-bucket' });
    const ds = await admin('POST', `/v1/materialize/Bad-Stack/bulk-upload`, { ...body, bucket: BUCKET });
    expect(ds.status).toBe(400);
    expect(ds.body.error.code).toBe('ValidationFailed');
  });

  it('rejects an input outside materialize/ (bulk-upload prefix, volume prefix, root file key), saying which prefix is allowed, and stores nothing', async () => {
    // a valid upload, only in the wrong place
    const outside = `elsewhere/${STAMP}/`;
    await Promise.all([put(outside, 'id', idFile), put(outside, 'pt', ptFile(M))]);
    const refused = (res: { status: number; body: Json }, field: string, value: string) => {
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error.code).toBe('BadRequest');
      expect(res.body.error.message).toContain('materialize/');
      expect(res.body.error.details).toEqual({ [field]: value, allowedPrefix: 'materialize/' });
    };
    const body = { bucket: BUCKET, table: 'cells', schema: 'point', columnMapping: { id: 'id', pt: 'pt_position' }, chunkRows: 3 };
    for (const prefix of [outside, outside.slice(0, -1), `/${P}ok/`, `materialize-other/${STAMP}/`, `Materialize/${STAMP}/`]) {
      refused(await admin('POST', `/v1/materialize/${REJECT_DATASTACK}/bulk-upload`, { ...body, prefix }), 'prefix', prefix);
    }
    refused(await admin('PUT', `/v1/materialize/${REJECT_DATASTACK}/segmentation`, { bucket: BUCKET, prefix: `${outside}volume` }), 'prefix', `${outside}volume`);
    refused(await admin('POST', `/v1/materialize/${REJECT_DATASTACK}/supervoxel-roots`, { bucket: BUCKET, key: `${outside}roots.csv` }), 'key', `${outside}roots.csv`);
    expect((await admin('GET', `/v1/materialize/${REJECT_DATASTACK}/segmentation`)).status).toBe(404);
    // the folder itself, with or without its slash, is inside
    const inside = await admin('POST', `/v1/materialize/${REJECT_DATASTACK}/bulk-upload`, { ...body, prefix: `${P}lengths` });
    expect(inside.body.error.code).toBe('InvalidUpload');
  });

  it('created no schema and no table for any rejected upload', async () => {
    const schemas = await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [`ds_${REJECT_DATASTACK}`]);
    expect(schemas.rowCount).toBe(0);
    // (other test files make tables named cells in their own datastacks)
    const tables = await pool.query(
      "SELECT table_schema, table_name FROM information_schema.tables WHERE table_name IN ('cells', 'cells__seg', 'my cells') AND table_schema = ANY($1)",
      [[`ds_${DATASTACK}`, `ds_${REJECT_DATASTACK}`]],
    );
    expect(tables.rows).toEqual([]);
  });
});
