// The segmentation refresh on the shared local cloud: a small precomputed volume (18 chunks of 4³ voxels with a
// voxel_offset, clipped edge chunks, one chunk gzip-encoded, supervoxel ids ≥ 2^63) and supervoxel → root CSVs in
// the media bucket; synapses bulk-uploaded without supervoxel ids and a point table beside them. ingest-annotations
// (through the API, as a job) fills every supervoxel and root id, reading each needed chunk once; update-roots
// replaces expired roots (also one whose interval was closed in the past by a file loaded after the last refresh)
// and leaves every other row as it was. A run cut short by its deadline resumes where it stopped. Bad volumes and
// bad files are 400s that change nothing.
import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { uint64FromPg } from '../../functions/materialize/decode.ts';
import { encodeNpy } from '../../functions/materialize/npy-write.ts';
import { chunkBox, chunkObjectKey, encodeRawChunk, type Vec3 } from '../../functions/materialize/segmentation/precomputed.ts';
import { createTableSql, SCHEMAS, tableColumns } from '../../functions/materialize/schemas.ts';
import { localAdminEnvironment } from '../../infra/local/cloud.ts';
import { apiClient, eventually } from '../support/api.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const endpoints = inject('endpoints');
const admin = apiClient();
const BUCKET = 'framewise-media';
const STAMP = `${Date.now().toString(36)}${process.pid}`;
const DATASTACK = `g${STAMP}`;
const SPARSE = `h${STAMP}`;
const REJECTED = `b${STAMP}`;
const FACES = `f${STAMP}`;
const s3 = new S3Client({ endpoint: endpoints.s3, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
const pool = new pg.Pool({ connectionString: endpoints.postgres, max: 2 });
afterAll(async () => {
  for (const ds of [DATASTACK, SPARSE, FACES]) {
    await pool.query(`DROP SCHEMA IF EXISTS "ds_${ds}" CASCADE`);
    await pool.query('DELETE FROM segmentation_source WHERE datastack = $1', [ds]);
  }
  await pool.end();
});

const put = (key: string, body: Uint8Array | string, contentEncoding?: string) =>
  s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ...(contentEncoding && { ContentEncoding: contentEncoding }) }));

async function followJob(jobId: string): Promise<Json> {
  return eventually(async () => {
    const res = await admin('GET', `/v1/jobs/${jobId}`);
    return ['succeeded', 'failed'].includes(res.body.state) ? res.body : undefined;
  }, `job ${jobId} to end`, 90_000);
}

// ---- the volume: 10 × 9 × 5 voxels from (100, 200, 10), chunks of 4³ (3 × 3 × 2 of them, the last ones clipped) ----
const OFFSET: Vec3 = [100, 200, 10];
const SIZE: Vec3 = [10, 9, 5];
const CHUNK: Vec3 = [4, 4, 4];
const RESOLUTION: Vec3 = [8, 8, 40];
/** Annotation positions count in 4 × 4 × 40 nm: x and y are twice the voxel, z is the voxel. */
const UNIT: Vec3 = [4, 4, 40];
const scale = { key: '8_8_40', size: SIZE, resolution: RESOLUTION, voxelOffset: OFFSET, chunkSize: CHUNK };
const info = (over: Record<string, unknown> = {}) => ({
  '@type': 'neuroglancer_multiscale_volume',
  type: 'segmentation',
  data_type: 'uint64',
  num_channels: 1,
  scales: [
    { key: '8_8_40', size: SIZE, resolution: RESOLUTION, voxel_offset: OFFSET, chunk_sizes: [CHUNK], encoding: 'raw' },
    { key: '16_16_40', size: [5, 5, 5], resolution: [16, 16, 40], voxel_offset: [50, 100, 10], chunk_sizes: [CHUNK], encoding: 'compressed_segmentation' },
  ],
  ...over,
});
const VOLUME = `materialize/segmentation/${STAMP}/volume`;
const SPARSE_VOLUME = `materialize/segmentation/${STAMP}/sparse`;

const inside = (v: Vec3) => [0, 1, 2].every((a) => v[a]! >= OFFSET[a]! && v[a]! < OFFSET[a]! + SIZE[a]!);
/** Supervoxels are 2 × 2 × 2 blocks of voxels; the first block is background (0); blocks with bx ≥ 3 have ids ≥ 2^63. */
const blockOf = (v: Vec3): Vec3 => [0, 1, 2].map((a) => Math.floor((v[a]! - OFFSET[a]!) / 2)) as unknown as Vec3;
function svAt(v: Vec3): bigint {
  const [bx, by, bz] = blockOf(v);
  if (bx === 0 && by === 0 && bz === 0) return 0n;
  return (bx >= 3 ? 2n ** 63n : 1000n) + BigInt(bx + 10 * by + 100 * bz);
}
/** Chunk of a voxel, computed here independently of precomputed.ts. */
const chunkOf = (v: Vec3): string => [0, 1, 2].map((a) => Math.floor((v[a]! - OFFSET[a]!) / CHUNK[a]!)).join(',');
const GZIPPED_CHUNK: Vec3 = [1, 1, 0];

/** Every supervoxel of the volume with its block. */
const supervoxels = new Map<bigint, Vec3>();
for (let x = OFFSET[0]; x < OFFSET[0] + SIZE[0]; x++) {
  for (let y = OFFSET[1]; y < OFFSET[1] + SIZE[1]; y++) for (let z = OFFSET[2]; z < OFFSET[2] + SIZE[2]; z++) supervoxels.set(svAt([x, y, z]), blockOf([x, y, z]));
}
supervoxels.delete(0n);
/** Block (1, 1, 1) is in no root file: its points keep no root. */
const UNMAPPED = svAt([103, 203, 13]);

async function putVolume(prefix: string, skip: (index: Vec3) => boolean = () => false): Promise<number> {
  await put(`${prefix}/info`, JSON.stringify(info()));
  let written = 0;
  const puts: Promise<unknown>[] = [];
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      for (let k = 0; k < 2; k++) {
        const index: Vec3 = [i, j, k];
        if (skip(index)) continue;
        const box = chunkBox(scale, index);
        const bytes = encodeRawChunk(box, svAt);
        const gzip = index.join() === GZIPPED_CHUNK.join();
        puts.push(put(chunkObjectKey(prefix, scale, box), gzip ? gzipSync(bytes) : bytes, gzip ? 'gzip' : undefined));
        written++;
      }
    }
  }
  await Promise.all(puts);
  return written;
}

// ---- supervoxel → root intervals, as the files give them; the model the expectations are computed from ----
interface Interval {
  sv: bigint;
  root: bigint;
  from: string;
  until: string;
}
const T0 = '2024-01-01T00:00:00Z';
const csv = (rows: Interval[]) => `supervoxel_id,root_id,valid_from,valid_until\n${rows.map((r) => `${r.sv},${r.root},${r.from},${r.until}`).join('\n')}\n`;
const model = new Map<string, Interval>();
const remember = (rows: Interval[]) => rows.forEach((r) => model.set(`${r.sv}@${Date.parse(r.from)}`, r));
function rootAt(sv: bigint | null, at: string): bigint | null {
  if (sv === null) return null;
  if (sv === 0n) return 0n;
  const t = Date.parse(at);
  const valid = [...model.values()].filter((r) => r.sv === sv && Date.parse(r.from) <= t && (r.until === '' || Date.parse(r.until) > t));
  expect(valid.length, `intervals of ${sv} at ${at}`).toBeLessThanOrEqual(1);
  return valid[0]?.root ?? null;
}
const FIRST_ROOT_LOW = 864691135000000000n;
const firstRoot = (sv: bigint) => {
  const [bx, by] = supervoxels.get(sv)!;
  return (bx >= 3 ? 2n ** 64n - 100n : FIRST_ROOT_LOW) + BigInt(by);
};
const firstFile: Interval[] = [...supervoxels.keys()].filter((sv) => sv !== UNMAPPED).map((sv) => ({ sv, root: firstRoot(sv), from: T0, until: '' }));

// ---- annotations: 12 synapses (bulk upload, no segmentation ids) and 4 cells (a point table) ----
const PRE: Vec3[] = [
  [100, 200, 10], // background
  [103, 203, 13], // unmapped supervoxel, chunk (0, 0, 0) …
  [104, 203, 13], // … and across the x boundary, chunk (1, 0, 0)
  [109, 208, 14], // the corner edge chunk (2, 2, 1): 2 × 1 × 1 voxels
  [107, 207, 14],
  [108, 200, 10], // id ≥ 2^63
  [99, 200, 10], // outside the volume
  [101, 201, 11],
  [105, 205, 12], // the gzip-encoded chunk (1, 1, 0)
  [106, 204, 11], // block (3, 2, 0): closed in the past by a later file
  [109, 202, 11], // block (4, 1, 0): expires tomorrow
  [104, 204, 14], // its supervoxel id is preset
];
const POST: Vec3[] = PRE.map((_, i) => [100 + ((i * 3) % 10), 200 + ((i * 5) % 9), 10 + ((i * 2) % 5)]);
const N = PRE.length;
const PRESET_ROW = 11;
const PRESET_SV = svAt([104, 204, 14]);
const CELLS: Vec3[] = [
  [100, 200, 14],
  [108, 208, 14],
  [103, 204, 10],
  [106, 206, 13],
];
/** Position of a voxel: x and y at twice the voxel, plus 1 on odd rows (still the same voxel). */
const positionOf = (v: Vec3, i: number): number[] => [2 * v[0] + (i % 2), 2 * v[1] + ((i + 1) % 2), v[2]];
const synapseId = (i: number) => BigInt(i + 1) * 1_000_003n;
const cellId = (i: number) => BigInt(i + 1);

interface PointRow {
  table: string;
  id: bigint;
  point: string;
  voxel: Vec3;
  sv: bigint | null;
  root: bigint | null;
}

/** Every point of both tables as stored. */
async function readPoints(): Promise<PointRow[]> {
  const out: PointRow[] = [];
  const syn = await pool.query(`SELECT id::text, pre_pt_supervoxel_id::text AS a, pre_pt_root_id::text AS b, post_pt_supervoxel_id::text AS c, post_pt_root_id::text AS d
    FROM "ds_${DATASTACK}"."synapses__seg" ORDER BY id`);
  const u = (s: string | null) => (s === null ? null : uint64FromPg(s));
  for (const r of syn.rows) {
    const i = PRE.findIndex((_, k) => synapseId(k) === BigInt(r.id));
    out.push({ table: 'synapses', id: BigInt(r.id), point: 'pre_pt', voxel: PRE[i]!, sv: u(r.a), root: u(r.b) });
    out.push({ table: 'synapses', id: BigInt(r.id), point: 'post_pt', voxel: POST[i]!, sv: u(r.c), root: u(r.d) });
  }
  const cells = await pool.query(`SELECT id::text, pt_supervoxel_id::text AS a, pt_root_id::text AS b FROM "ds_${DATASTACK}"."cells__seg" ORDER BY id`);
  for (const r of cells.rows) out.push({ table: 'cells', id: BigInt(r.id), point: 'pt', voxel: CELLS[Number(r.id) - 1]!, sv: u(r.a), root: u(r.b) });
  return out;
}
const isPreset = (p: PointRow) => p.table === 'synapses' && p.point === 'pre_pt' && p.id === synapseId(PRESET_ROW);
const expectedSv = (p: PointRow) => (isPreset(p) ? PRESET_SV : inside(p.voxel) ? svAt(p.voxel) : null);
const key = (p: PointRow) => `${p.table}:${p.id}:${p.point}`;

function expectPointsAt(points: PointRow[], at: string): void {
  expect(points).toHaveLength(2 * N + CELLS.length);
  for (const p of points) {
    expect(p.sv, `${key(p)} supervoxel`).toBe(expectedSv(p));
    expect(p.root, `${key(p)} root`).toBe(rootAt(expectedSv(p), at));
  }
}

async function rootTableRows(datastack = DATASTACK): Promise<string[]> {
  const { rows } = await pool.query(`SELECT supervoxel_id, root_id, valid_from, valid_until, recorded_at FROM "ds_${datastack}".supervoxel_root ORDER BY 1, 3`);
  return rows.map((r) => JSON.stringify(r));
}

/** A point table `cells` as a bulk upload of schema `point` would create it (without its indexes). */
async function createCells(datastack: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query(`SET search_path TO "ds_${datastack}"`);
    for (const role of ['annotation', 'segmentation'] as const) {
      await client.query(createTableSql({ name: role === 'annotation' ? 'cells' : 'cells__seg', columns: tableColumns(SCHEMAS.point!, role) }));
    }
  } finally {
    await client.query('RESET search_path');
    client.release();
  }
}

const loadRoots = (rows: Interval[] | string, datastack = DATASTACK) => {
  const k = `materialize/segmentation/${STAMP}/roots-${randomUUID().slice(0, 8)}.csv`;
  return put(k, typeof rows === 'string' ? rows : csv(rows)).then(() => admin('POST', `/v1/materialize/${datastack}/supervoxel-roots`, { bucket: BUCKET, key: k }));
};

describe('materialize: segmentation refresh', () => {
  beforeAll(async () => {
    await putVolume(VOLUME);
    await put(`materialize/segmentation/${STAMP}/jpeg/info`, JSON.stringify(info({ data_type: 'uint32', scales: [{ ...info().scales[0], encoding: 'jpeg' }] })));
    const prefix = `materialize/segmentation/${STAMP}/synapses/`;
    const flat = (vs: Vec3[]) => vs.flatMap((v, i) => positionOf(v, i));
    await Promise.all([
      put(`${prefix}id.npy`, encodeNpy({ dtype: 'int64', shape: [N], values: PRE.map((_, i) => synapseId(i)) })),
      put(`${prefix}presyn_coords.npy`, encodeNpy({ dtype: 'int32', shape: [N, 3], values: flat(PRE) })),
      put(`${prefix}postsyn_coords.npy`, encodeNpy({ dtype: 'int32', shape: [N, 3], values: flat(POST) })),
    ]);
  });

  it('refuses a volume it cannot read, and stores nothing', async () => {
    const unsupported = await admin('PUT', `/v1/materialize/${REJECTED}/segmentation`, { bucket: BUCKET, prefix: `materialize/segmentation/${STAMP}/jpeg` });
    expect(unsupported.status, JSON.stringify(unsupported.body)).toBe(400);
    expect(unsupported.body.error.code).toBe('InvalidSegmentation');
    expect(unsupported.body.error.details.map((p: Json) => p.code).sort()).toEqual(['UNSUPPORTED_DATA_TYPE', 'UNSUPPORTED_ENCODING']);
    const missing = await admin('PUT', `/v1/materialize/${REJECTED}/segmentation`, { bucket: BUCKET, prefix: `materialize/segmentation/${STAMP}/nothing-here/` });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details).toEqual([{ code: 'INFO_NOT_FOUND', message: `there is no s3://${BUCKET}/materialize/segmentation/${STAMP}/nothing-here/info` }]);
    const wrongScale = await admin('PUT', `/v1/materialize/${REJECTED}/segmentation`, { bucket: BUCKET, prefix: VOLUME, scale: '16_16_40' });
    expect(wrongScale.body.error.details.map((p: Json) => p.code)).toEqual(['UNSUPPORTED_ENCODING']);
    const bucket = await admin('PUT', `/v1/materialize/${REJECTED}/segmentation`, { bucket: 'someone-elses', prefix: VOLUME });
    expect(bucket.status).toBe(400);
    expect((await admin('GET', `/v1/materialize/${REJECTED}/segmentation`)).status).toBe(404);
    expect((await pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [`ds_${REJECTED}`])).rowCount).toBe(0);
    const roots = await admin('POST', `/v1/materialize/${REJECTED}/supervoxel-roots`, { bucket: BUCKET, key: 'materialize/x.csv' });
    expect(roots.status).toBe(404);
    expect((await admin('POST', `/v1/materialize/${REJECTED}/ingest-annotations`)).status).toBe(404);
  });

  it('registers the volume, with the position unit of the annotations', async () => {
    const res = await admin('PUT', `/v1/materialize/${DATASTACK}/segmentation`, { bucket: BUCKET, prefix: `${VOLUME}/`, positionUnitNm: UNIT });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      datastack: DATASTACK,
      volumePrefix: VOLUME,
      scaleKey: '8_8_40',
      positionUnitNm: UNIT,
      resolutionNm: RESOLUTION,
      fillMissing: false,
      rootsRefreshedAt: null,
      scale: { key: '8_8_40', size: SIZE, voxelOffset: OFFSET, chunkSize: CHUNK },
      scales: ['8_8_40', '16_16_40'],
    });
    expect((await admin('GET', `/v1/materialize/${DATASTACK}/segmentation`)).body).toMatchObject({ datastack: DATASTACK, positionUnitNm: UNIT });
  });

  it('refuses a root file with a bad line, and loads nothing of it', async () => {
    const before = await rootTableRows();
    const lines = csv(firstFile.slice(0, 3)).split('\n');
    lines.splice(3, 0, `${firstFile[5]!.sv},-4,${T0},`);
    const res = await loadRoots(lines.join('\n'));
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.code).toBe('InvalidRootTable');
    expect(res.body.error.details).toEqual([{ line: 4, code: 'BAD_ID', message: "line 4: root_id '-4' is not a decimal unsigned integer" }]);
    expect(await rootTableRows()).toEqual(before);
  });

  it('loads the root file, and loading it again changes nothing', async () => {
    const first = await loadRoots(firstFile);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toMatchObject({ rows: firstFile.length, inserted: firstFile.length, updated: 0, unchanged: 0 });
    remember(firstFile);
    const loaded = await rootTableRows();
    const again = await loadRoots(firstFile);
    expect(again.body).toMatchObject({ rows: firstFile.length, inserted: 0, updated: 0, unchanged: firstFile.length });
    expect(await rootTableRows()).toEqual(loaded);
  });

  it('refuses overlapping and duplicate intervals, against the table and within the file', async () => {
    const before = await rootTableRows();
    const [a, b] = firstFile;
    // a's interval from T0 is still open: another one from a later time overlaps it.
    const overlap = await loadRoots([{ sv: a!.sv, root: 5n, from: '2024-06-01T00:00:00Z', until: '' }]);
    expect(overlap.status).toBe(400);
    expect(overlap.body.error.details).toMatchObject([{ line: 2, code: 'OVERLAPPING_INTERVALS' }]);
    expect(overlap.body.error.details[0].message).toContain(`supervoxel ${a!.sv}: root 5 from 2024-06-01T00:00:00.000000Z (line 2) overlaps root ${a!.root}`);
    const duplicate = await loadRoots([
      { sv: b!.sv, root: 6n, from: '2023-01-01T00:00:00Z', until: '2023-06-01T00:00:00Z' },
      { sv: b!.sv, root: 7n, from: '2023-01-01T00:00:00Z', until: '2023-02-01T00:00:00Z' },
    ]);
    expect(duplicate.status).toBe(400);
    expect(duplicate.body.error.details).toMatchObject([{ line: 3, code: 'DUPLICATE_INTERVAL' }]);
    expect(await rootTableRows()).toEqual(before);
  });

  let ingestAsOf = '';

  it('fills every supervoxel and root id through an ingest-annotations job, reading each needed chunk once', async () => {
    const upload = await admin('POST', `/v1/materialize/${DATASTACK}/bulk-upload`, {
      bucket: BUCKET,
      prefix: `materialize/segmentation/${STAMP}/synapses/`,
      table: 'synapses',
      schema: 'synapse',
      columnMapping: { id: 'id', presyn_coords: 'pre_pt_position', postsyn_coords: 'post_pt_position' },
    });
    expect(upload.status, JSON.stringify(upload.body)).toBe(202);
    expect((await followJob(upload.body.jobId)).state).toBe('succeeded');
    const schema = `"ds_${DATASTACK}"`;
    await pool.query(`UPDATE ${schema}."synapses__seg" SET pre_pt_supervoxel_id = $1 WHERE id = $2`, [BigInt.asIntN(64, PRESET_SV).toString(), synapseId(PRESET_ROW).toString()]);
    await createCells(DATASTACK);
    for (const [i, v] of CELLS.entries()) {
      const [x, y, z] = positionOf(v, i);
      await pool.query(`INSERT INTO ${schema}.cells (id, pt_position_x, pt_position_y, pt_position_z) VALUES ($1, $2, $3, $4)`, [cellId(i).toString(), x, y, z]);
      await pool.query(`INSERT INTO ${schema}.cells__seg (id) VALUES ($1)`, [cellId(i).toString()]);
    }

    const res = await admin('POST', `/v1/materialize/${DATASTACK}/ingest-annotations`);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toMatchObject({ kind: 'ingest-annotations', state: 'queued', input: { datastack: DATASTACK } });
    const job = await followJob(res.body.jobId);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.steps).toEqual({ ingest: { state: 'succeeded', attempts: 1 } });
    ingestAsOf = job.result.asOf;

    const points = await readPoints();
    expectPointsAt(points, ingestAsOf);
    const lookedUp = points.filter((p) => !isPreset(p) && inside(p.voxel));
    expect(job.result).toEqual({
      datastack: DATASTACK,
      complete: true,
      asOf: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/),
      tables: ['cells', 'synapses'],
      supervoxelsLookedUp: lookedUp.length,
      chunksRead: new Set(lookedUp.map((p) => chunkOf(p.voxel))).size,
      outsideVolume: points.filter((p) => !inside(p.voxel)).length,
      rootsAssigned: points.filter((p) => expectedSv(p) !== null && rootAt(expectedSv(p), ingestAsOf) !== null).length,
      rootsUnresolved: points.filter((p) => expectedSv(p) === UNMAPPED).length,
      invocations: 1,
    });
    // The fixture covers what it claims to.
    expect(job.result.chunksRead).toBeLessThan(18);
    expect(points.some((p) => p.sv === 0n && p.root === 0n)).toBe(true);
    expect(points.some((p) => p.sv! >= 2n ** 63n && p.root! >= 2n ** 63n)).toBe(true);
    expect(points.some((p) => chunkOf(p.voxel) === GZIPPED_CHUNK.join())).toBe(true);
    expect(job.result.outsideVolume).toBe(1);
    expect(job.result.rootsUnresolved).toBeGreaterThan(0);
  });

  let firstRefresh = '';

  it('replaces the roots that expired by the roots valid now for each supervoxel, and touches nothing else', async () => {
    const now = Date.now();
    const expired = new Date(now - 3_600_000).toISOString();
    const tomorrow = new Date(now + 86_400_000).toISOString();
    const delta: Interval[] = [];
    for (const [sv, [bx, by]] of supervoxels) {
      if (sv === UNMAPPED) continue;
      // Root FIRST_ROOT_LOW (by = 0, bx < 3) split an hour ago: each bx gets a root of its own.
      if (by === 0 && bx < 3) delta.push({ sv, root: firstRoot(sv), from: T0, until: expired }, { sv, root: 864691136000000000n + BigInt(bx), from: expired, until: '' });
      // Root 2^64 − 99 (by = 1, bx ≥ 3) is replaced tomorrow: not yet.
      if (by === 1 && bx >= 3) delta.push({ sv, root: firstRoot(sv), from: T0, until: tomorrow }, { sv, root: 2n ** 63n + 1000n + BigInt(bx), from: tomorrow, until: '' });
    }
    const res = await loadRoots(delta);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ rows: delta.length, inserted: delta.length / 2, updated: delta.length / 2, unchanged: 0 });
    remember(delta);
    expect((await loadRoots(delta)).body).toMatchObject({ inserted: 0, updated: 0, unchanged: delta.length });

    const before = await readPoints();
    const start = await admin('POST', `/v1/materialize/${DATASTACK}/update-roots`);
    expect(start.status, JSON.stringify(start.body)).toBe(202);
    const job = await followJob(start.body.jobId);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    firstRefresh = job.result.asOf;
    const after = await readPoints();
    expectPointsAt(after, firstRefresh);

    const changed = after.filter((p, i) => p.root !== before[i]!.root).map(key);
    const expected = before.filter((p) => p.root === FIRST_ROOT_LOW).map(key);
    expect(expected.length).toBeGreaterThan(0);
    expect(changed).toEqual(expected);
    after.forEach((p, i) => {
      if (!expected.includes(key(p))) expect(p, key(p)).toEqual(before[i]);
    });
    expect(job.result).toEqual({
      datastack: DATASTACK,
      complete: true,
      asOf: firstRefresh,
      since: null,
      tables: ['cells', 'synapses'],
      expiredRoots: 1,
      rootsReplaced: expected.length,
      rootsUnresolved: 0,
      invocations: 1,
    });
    expect((await admin('GET', `/v1/materialize/${DATASTACK}/segmentation`)).body.rootsRefreshedAt).toBe(firstRefresh);
  });

  it('finds an interval closed in the past by a file loaded after the last refresh', async () => {
    const closed = new Date(Date.parse(firstRefresh) - 7_200_000).toISOString();
    const delta: Interval[] = [];
    for (const [sv, [bx, by]] of supervoxels) {
      if (by === 2 && bx >= 3) delta.push({ sv, root: firstRoot(sv), from: T0, until: closed }, { sv, root: 2n ** 63n + 7n, from: closed, until: '' });
    }
    expect((await loadRoots(delta)).status).toBe(200);
    remember(delta);
    const before = await readPoints();
    const job = await followJob((await admin('POST', `/v1/materialize/${DATASTACK}/update-roots`, {})).body.jobId);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    const after = await readPoints();
    expectPointsAt(after, job.result.asOf);
    const expected = before.filter((p) => p.root === 2n ** 64n - 98n).map(key);
    expect(expected.length).toBeGreaterThan(0);
    expect(after.filter((p, i) => p.root !== before[i]!.root).map(key)).toEqual(expected);
    expect(job.result).toMatchObject({ since: firstRefresh, expiredRoots: 1, rootsReplaced: expected.length });

    // Nothing expired since: a third run replaces nothing.
    const third = await followJob((await admin('POST', `/v1/materialize/${DATASTACK}/update-roots`)).body.jobId);
    expect(third.result).toMatchObject({ since: job.result.asOf, expiredRoots: 0, rootsReplaced: 0 });
    expect(await readPoints()).toEqual(after);
  });

  it('resumes a run cut short by its deadline where it stopped, one chunk per invocation', async () => {
    const schema = `"ds_${DATASTACK}"`;
    await pool.query(`UPDATE ${schema}.cells__seg SET pt_supervoxel_id = NULL, pt_root_id = NULL`);
    await pool.query(`UPDATE ${schema}.synapses__seg SET pre_pt_supervoxel_id = NULL, pre_pt_root_id = NULL WHERE id = ANY($1::bigint[])`, [
      [1, 2, 3, 4, 8].map((i) => synapseId(i).toString()),
    ]);
    const cleared = (await readPoints()).filter((p) => p.sv === null && inside(p.voxel));

    Object.assign(process.env, localAdminEnvironment(endpoints));
    const { createJob } = await import('../../functions/jobs/store.ts');
    const { handler } = (await import('../../functions/materialize/segmentation/ingest-annotations-task.ts')) as { handler: (e: unknown, c: Context) => Promise<Json> };
    const jobId = `segment-${DATASTACK}-resume`;
    await createJob({ jobId, kind: 'ingest-annotations', input: { datastack: DATASTACK } });
    // Less time left than the reserve: each invocation does the least it can (one chunk, or one batch of one row),
    // then stops. (With 0 ms, middy would abort the call before it starts.)
    const { DEADLINE_RESERVE_MS } = await import('../../functions/materialize/segmentation/refresh.ts');
    const context = { functionName: 'test', awsRequestId: 'test', getRemainingTimeInMillis: () => DEADLINE_RESERVE_MS / 2 } as unknown as Context;
    const summaries: Json[] = [];
    for (let continuing = false; summaries.length < 60 && !summaries.at(-1)?.complete; continuing = true) {
      summaries.push(await handler({ jobId, datastack: DATASTACK, continuing, pageRows: 2, batchRows: 1 }, context));
    }
    const last = summaries.at(-1);
    expect(last.complete).toBe(true);
    const chunks = new Set(cleared.map((p) => chunkOf(p.voxel))).size;
    // An invocation per chunk, then about one per point whose root is assigned or cannot be (those are passed over
    // once, not read again by every later invocation).
    const rootless = cleared.length + (await readPoints()).filter((p) => expectedSv(p) === UNMAPPED && !cleared.some((c) => key(c) === key(p))).length;
    expect(summaries.length).toBeGreaterThan(chunks);
    expect(summaries.length).toBeLessThanOrEqual(chunks + rootless + 4);
    expect(last).toMatchObject({ supervoxelsLookedUp: cleared.length, chunksRead: chunks, invocations: summaries.length, outsideVolume: 1 });
    expectPointsAt(await readPoints(), last.asOf);
    const stored = (await admin('GET', `/v1/jobs/${jobId}`)).body;
    expect(stored.steps.ingest).toEqual({ state: 'succeeded', attempts: 1 });
  });
});

describe('materialize: the complete workflow', () => {
  it('ingests new annotations, updates expired roots, then freezes a version with the refreshed ids', async () => {
    const schema = `"ds_${DATASTACK}"`;
    // New annotations: points without ids again; and roots that split a minute ago.
    await pool.query(`UPDATE ${schema}.synapses__seg SET post_pt_supervoxel_id = NULL, post_pt_root_id = NULL WHERE id = ANY($1::bigint[])`, [
      [0, 5, 9].map((i) => synapseId(i).toString()),
    ]);
    const cleared = (await readPoints()).filter((p) => p.sv === null && inside(p.voxel));
    expect(cleared.length).toBeGreaterThan(0);
    const split = new Date(Date.now() - 60_000).toISOString();
    const before = await readPoints();
    // supervoxels of points whose root is valid from the past with no end (not those with a root due tomorrow)
    const open = new Map([...model.values()].filter((r) => r.until === '' && Date.parse(r.from) <= Date.now()).map((r) => [r.sv, r]));
    const splitting = [...new Set(before.filter((p) => p.sv !== null && open.has(p.sv)).map((p) => p.sv!))].slice(0, 2);
    expect(splitting).toHaveLength(2);
    const delta = splitting.flatMap((sv): Interval[] => [
      { ...open.get(sv)!, until: split },
      { sv, root: 2n ** 63n + 5_000n + (sv % 1000n), from: split, until: '' },
    ]);
    const loaded = await loadRoots(delta);
    expect(loaded.status, JSON.stringify(loaded.body)).toBe(200);
    remember(delta);

    const res = await admin('POST', `/v1/materialize/${DATASTACK}/complete-workflow`, { expiresInDays: 3 });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toMatchObject({ kind: 'materialize', input: { datastack: DATASTACK, cadence: 'manual', expiresInDays: '3' } });
    const job = await followJob(res.body.jobId);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.steps).toEqual({ ingest: { state: 'succeeded', attempts: 1 }, update: { state: 'succeeded', attempts: 1 }, 'create-version': { state: 'succeeded', attempts: 1 } });
    expect(job.result.ingest).toMatchObject({ complete: true, supervoxelsLookedUp: cleared.length });
    expect(job.result.update).toMatchObject({ complete: true, expiredRoots: splitting.length });
    expect(job.result.update.rootsReplaced).toBeGreaterThan(0);
    const live = await readPoints();
    expectPointsAt(live, job.result.update.asOf);

    // The version holds the refreshed ids.
    const { version } = job.result.version;
    const page = await admin('GET', `/v1/materialize/${DATASTACK}/versions/${version}/tables/synapses?limit=1000`);
    expect(page.status, JSON.stringify(page.body)).toBe(200);
    const frozen = new Map<string, Json>(page.body.rows.map((r: Json) => [String(r.id), r]));
    for (const p of live.filter((q) => q.table === 'synapses')) {
      expect(String(frozen.get(String(p.id))?.[`${p.point}_root_id`] ?? null), key(p)).toBe(String(p.root));
    }
  });

  it('gives a datastack without a segmentation source its version, passing the refresh steps', async () => {
    const plain = `p${STAMP}`;
    await pool.query(`CREATE SCHEMA "ds_${plain}"`);
    await createCells(plain);
    await pool.query(`INSERT INTO "ds_${plain}".cells VALUES (1, 1, 2, 3)`);
    await pool.query(`INSERT INTO "ds_${plain}".cells__seg (id) VALUES (1)`);
    const job = await followJob((await admin('POST', `/v1/materialize/${plain}/complete-workflow`)).body.jobId);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.result.ingest).toEqual({ complete: true, skipped: 'no segmentation source' });
    expect(job.result.update).toEqual({ complete: true, skipped: 'no segmentation source' });
    expect(job.result.version).toMatchObject({ version: 1, tables: { cells: 1 } });
  });
});

describe('materialize: segmentation chunks that do not exist', () => {
  it('fails the run naming the chunk, unless the source reads missing chunks as background', async () => {
    const written = await putVolume(SPARSE_VOLUME, (index) => index.join() === '1,1,0');
    expect(written).toBe(17);
    expect((await admin('PUT', `/v1/materialize/${SPARSE}/segmentation`, { bucket: BUCKET, prefix: SPARSE_VOLUME })).status).toBe(200);
    const schema = `"ds_${SPARSE}"`;
    await createCells(SPARSE);
    // Positions in voxels (the default unit): (105, 205, 12) is in the missing chunk, (100, 200, 14) is not.
    await pool.query(`INSERT INTO ${schema}.cells VALUES (1, 105, 205, 12), (2, 101, 203, 14)`);
    await pool.query(`INSERT INTO ${schema}.cells__seg (id) VALUES (1), (2)`);

    const failed = await followJob((await admin('POST', `/v1/materialize/${SPARSE}/ingest-annotations`)).body.jobId);
    expect(failed.state).toBe('failed');
    expect(failed.error.code).toBe('MissingChunk');
    expect(failed.error.message).toContain(`s3://${BUCKET}/${SPARSE_VOLUME}/8_8_40/104-108_204-208_10-14 does not exist`);

    expect((await admin('PUT', `/v1/materialize/${SPARSE}/segmentation`, { bucket: BUCKET, prefix: SPARSE_VOLUME, fillMissing: true })).status).toBe(200);
    const done = await followJob((await admin('POST', `/v1/materialize/${SPARSE}/ingest-annotations`)).body.jobId);
    expect(done.state, JSON.stringify(done.error)).toBe('succeeded');
    const { rows } = await pool.query(`SELECT id, pt_supervoxel_id::text AS sv, pt_root_id::text AS root FROM ${schema}.cells__seg ORDER BY id`);
    // No root file yet: the background gets root 0, the other supervoxel none.
    expect(rows).toEqual([
      { id: '1', sv: '0', root: '0' },
      { id: '2', sv: svAt([101, 203, 14]).toString(), root: null },
    ]);
    expect(done.result).toMatchObject({ supervoxelsLookedUp: 2, chunksRead: 2, rootsAssigned: 1, rootsUnresolved: 1 });
  });
});

describe('materialize: points on voxel faces at a fractional resolution', () => {
  it('puts every point on a face in the voxel above it (resolution 4.4 × 8.8 × 40 nm, unit 1 × 4.4 × 40 nm)', async () => {
    // 132 units of 1 nm span 30 voxels of 4.4 nm in x; y units of 4.4 nm are half a voxel of 8.8 nm.
    const size: Vec3 = [30, 66, 1];
    const chunk: Vec3 = [5, 11, 1];
    const faceScale = { key: '4.4_8.8_40', size, resolution: [4.4, 8.8, 40] as Vec3, voxelOffset: [0, 0, 0] as Vec3, chunkSize: chunk };
    const volume = `materialize/segmentation/${STAMP}/faces`;
    const svOf = (v: Vec3) => 1n + BigInt(v[0] + 100 * v[1]);
    await put(`${volume}/info`, JSON.stringify({
      type: 'segmentation', data_type: 'uint64', num_channels: 1,
      scales: [{ key: faceScale.key, size, resolution: [4.4, 8.8, 40], voxel_offset: [0, 0, 0], chunk_sizes: [chunk], encoding: 'raw' }],
    }));
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) {
      const box = chunkBox(faceScale, [i, j, 0]);
      writes.push(put(chunkObjectKey(volume, faceScale, box), encodeRawChunk(box, svOf)));
    }
    await Promise.all(writes);
    const registered = await admin('PUT', `/v1/materialize/${FACES}/segmentation`, { bucket: BUCKET, prefix: volume, positionUnitNm: [1, 4.4, 40] });
    expect(registered.status, JSON.stringify(registered.body)).toBe(200);
    expect(registered.body).toMatchObject({ positionUnitNm: [1, 4.4, 40], resolutionNm: [4.4, 8.8, 40] });
    // Stored as the decimals written, not as the doubles' binary values.
    const stored = await pool.query('SELECT position_unit_nm::text AS unit, resolution_nm::text AS res FROM segmentation_source WHERE datastack = $1', [FACES]);
    expect(stored.rows).toEqual([{ unit: '{1,4.4,40}', res: '{4.4,8.8,40}' }]);

    await createCells(FACES);
    const positions = Array.from({ length: 132 }, (_, p) => p);
    await pool.query(`INSERT INTO "ds_${FACES}".cells (id, pt_position_x, pt_position_y, pt_position_z) SELECT p + 1, p, p, 0 FROM unnest($1::int[]) p`, [positions]);
    await pool.query(`INSERT INTO "ds_${FACES}".cells__seg (id) SELECT p + 1 FROM unnest($1::int[]) p`, [positions]);

    const job = await followJob((await admin('POST', `/v1/materialize/${FACES}/ingest-annotations`)).body.jobId);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    // The voxel in integers, independently of precomputed.ts: x · 10 / 44 and y · 44 / 88.
    const voxelOf = (p: number): Vec3 => [Math.floor((p * 10) / 44), Math.floor((p * 44) / 88), 0];
    const { rows } = await pool.query(`SELECT id::int AS id, pt_supervoxel_id::text AS sv FROM "ds_${FACES}".cells__seg ORDER BY id`);
    expect(rows.map((r) => BigInt(r.sv))).toEqual(positions.map((p) => svOf(voxelOf(p))));
    // The faces the doubles got wrong are among them: 66 / 4.4 = 14.999999999999998 and 30 · 4.4 / 8.8 likewise.
    expect(BigInt(rows[66].sv)).toBe(svOf([15, 33, 0]));
    expect(BigInt(rows[30].sv)).toBe(svOf([6, 15, 0]));
    // The SQL orders the points by chunk with the same arithmetic: each chunk is read once.
    const chunks = new Set(positions.map((p) => voxelOf(p).map((v, a) => Math.floor(v / chunk[a]!)).join()));
    expect(job.result).toMatchObject({ supervoxelsLookedUp: 132, outsideVolume: 0, chunksRead: chunks.size });
  });
});
