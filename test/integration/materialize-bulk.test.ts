// POST /v1/materialize/{datastack}/bulk-upload on the shared local cloud: small `.npy` files (several dtypes and
// byte orders, a Fortran-ordered 2-D file, uint64 ids above 2^63) in the media bucket, loaded in chunks of 7 rows
// by the bulk-upload workflow's Map, then every row checked in PostgreSQL, and the indexes rebuilt. The same
// upload posted again is the same job and adds nothing; a chunk loaded twice (the load-chunk handler called twice
// in-process, as a retry would) is written once; a chunk missing from the ledger is reloaded by Finish. Every
// kind of bad upload is a 400 listing its problems, with no schema or table created.
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { uint64FromPg } from '../../functions/materialize/decode.ts';
import { encodeNpy } from '../../functions/materialize/npy-write.ts';
import { indexDefinitions, SCHEMAS, SYNAPSE_NPY_MAPPING } from '../../functions/materialize/schemas.ts';
import { functionEnvironment } from '../../infra/local/cloud.ts';
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
  Object.assign(process.env, functionEnvironment(endpoints));
  return ((await import(`../../functions/materialize/${task}-task.ts`)) as { handler: Handler }).handler;
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
    console.log(`bulk upload of ${N} rows in ${Math.ceil(N / CHUNK_ROWS)} chunks: ${uploadMs} ms`);
  });

  it('treats the same upload posted again as the same job, adding nothing', async () => {
    const res = await admin('POST', `/v1/materialize/${DATASTACK}/bulk-upload`, upload);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ jobId: job.jobId, state: 'succeeded' });
    await expectAllRows();
  });

  it('writes a chunk once when its load is retried, and Finish reloads a chunk missing from the ledger', async () => {
    const { inspectUpload } = await import('../../functions/materialize/bulk.ts');
    const loadChunk = await handlerOf('load-chunk');
    const finish = await handlerOf('finish');
    const input = job.input as Record<string, string>;
    const { files, uploadId } = await inspectUpload({ ...input, datastack: DATASTACK, columnMapping: MAPPING } as never, CHUNK_ROWS);
    expect(uploadId).toBe(input.uploadId);
    const common = { jobId: job.jobId, datastack: DATASTACK, uploadId, bucket: BUCKET, table: 'synapses', schema: 'synapse', columnMapping: input.columnMapping, files };

    /** Takes chunk c out of the tables and the ledger, as if it had never been loaded. */
    const forget = async (c: number) => {
      const chunkIds = ids.slice(c * CHUNK_ROWS, (c + 1) * CHUNK_ROWS).map(String);
      for (const t of ['synapses', 'synapses__seg']) await pool.query(`DELETE FROM ${table(t)} WHERE id = ANY($1::bigint[])`, [chunkIds]);
      await pool.query(`DELETE FROM ${table('bulk_chunk_ledger')} WHERE upload_id = $1 AND chunk = $2`, [uploadId, c]);
    };

    await forget(0);
    const chunk0 = { ...common, chunk: { index: 0, firstRow: 0, rows: CHUNK_ROWS } };
    expect(await loadChunk(chunk0, context)).toEqual({ chunk: 0, loaded: true });
    expect(await loadChunk(chunk0, context)).toEqual({ chunk: 0, loaded: false });
    // Concurrent attempts: the ledger's key lets exactly one of them write.
    await forget(0);
    const both = await Promise.all([loadChunk(chunk0, context), loadChunk(chunk0, context)]);
    expect(both.filter((r) => r.loaded)).toHaveLength(1);
    await expectAllRows();

    await forget(3);
    const chunks = Array.from({ length: Math.ceil(N / CHUNK_ROWS) }, (_, c) => ({ index: c, firstRow: c * CHUNK_ROWS, rows: Math.min(CHUNK_ROWS, N - c * CHUNK_ROWS) }));
    const finished = await finish({ ...common, chunks }, context);
    expect(finished).toMatchObject({ rows: N, chunks: chunks.length, reloaded: [3], tables: [{ name: 'synapses', rows: N }, { name: 'synapses__seg', rows: N }] });
    await expectAllRows();
    expect(await indexesOf('synapses')).toEqual(expectedIndexes('synapses', 'annotation'));
  });
});

describe('materialize: a value its column cannot hold', () => {
  it('fails the job with the file, column and row before any row is written (values of checked conversions are read first)', async () => {
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
    // chunks 0-1 (rows 0-5) hold only good values: none of them was loaded, the table was not even created
    const exists = await pool.query(`SELECT to_regclass($1) AS t`, [`"ds_${DATASTACK}"."cells_oor"`]);
    expect(exists.rows[0].t).toBeNull();
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
