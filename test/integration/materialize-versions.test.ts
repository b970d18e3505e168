// Frozen versions on the shared local cloud. A datastack gets a small synapse table (the tables a bulk upload
// makes, filled with INSERTs: ids on both sides of zero, segmentation ids ≥ 2^63, missing ones); an admin makes
// a version through the API and the job is followed to its end; the frozen table holds the merged rows and
// refuses every write; an analyst reads it with root-id filters in JSON and CSV over several pages; a change of
// the live tables after the version does not show in it; removal at a later "now" keeps the newest valid version
// and at least N; and bad requests get their 4xx.
import type { Context } from 'aws-lambda';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { uint64ToPg } from '../../functions/materialize/decode.ts';
import { createTableSql, indexDefinitions, SCHEMAS, tableColumns } from '../../functions/materialize/schemas.ts';
import { localAdminEnvironment } from '../../infra/local/cloud.ts';
import { apiClient, eventually } from '../support/api.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const endpoints = inject('endpoints');
const admin = apiClient();
const STAMP = `${Date.now().toString(36)}${process.pid}`;
const DATASTACK = `v${STAMP}`;
const EMPTY_DATASTACK = `e${STAMP}`;
const pool = new pg.Pool({ connectionString: endpoints.postgres, max: 2 });
const live = (table: string) => `"ds_${DATASTACK}"."${table}"`;

// Functions' code runs in this process too (the removal at a chosen "now", a task retried), against the cloud.
Object.assign(process.env, localAdminEnvironment(endpoints));
const store = await import('../../functions/materialize/versions/store.ts');
const context = { functionName: 'test', awsRequestId: 'test', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;

afterAll(async () => {
  const versions = await pool.query(`SELECT schema_name FROM datastack_version WHERE datastack = ANY($1)`, [[DATASTACK, EMPTY_DATASTACK]]);
  for (const r of versions.rows) await pool.query(`DROP SCHEMA IF EXISTS "${r.schema_name}" CASCADE`);
  await pool.query(`DELETE FROM datastack_version WHERE datastack = ANY($1)`, [[DATASTACK, EMPTY_DATASTACK]]);
  for (const d of [DATASTACK, EMPTY_DATASTACK]) await pool.query(`DROP SCHEMA IF EXISTS "ds_${d}" CASCADE`);
  await pool.end();
  const { closeDb } = await import('../../functions/lib/pg.ts');
  await closeDb();
});

// ---- the live table: 23 synapses ----

const N = 23;
const ROOTS = [864691135000000007n, 2n ** 64n - 1n, 2n ** 63n, 12345n, null] as const;
interface Synapse {
  id: bigint;
  pre: number[];
  ctr: (number | null)[];
  post: number[];
  size: number | null;
  preSv: bigint;
  postSv: bigint | null;
  preRoot: bigint | null;
  postRoot: bigint | null;
}
const synapse = (i: number): Synapse => ({
  id: i % 3 === 0 ? -BigInt(i + 1) * 1000n : 10n ** 12n + BigInt(i),
  pre: [i, i + 1, 0 - i],
  ctr: i % 4 === 0 ? [null, null, null] : [i * 2, i * 3, i * 4],
  post: [2_000_000 + i, 7, 8],
  size: i % 5 === 0 ? null : i * 0.5,
  preSv: 2n ** 63n + BigInt(i),
  postSv: i % 6 === 0 ? null : BigInt(i + 1),
  preRoot: ROOTS[i % 5]!,
  postRoot: ROOTS[(i + 2) % 5]!,
});
const synapses = Array.from({ length: N }, (_, i) => synapse(i));

const pgId = (u: bigint | null) => (u === null ? null : uint64ToPg(u).toString());
async function insertLive(s: Synapse): Promise<void> {
  await pool.query(
    `INSERT INTO ${live('synapses')} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [s.id.toString(), ...s.pre, ...s.ctr, ...s.post, s.size],
  );
  await pool.query(`INSERT INTO ${live('synapses__seg')} VALUES ($1, $2, $3, $4, $5)`, [s.id.toString(), pgId(s.preSv), pgId(s.postSv), pgId(s.preRoot), pgId(s.postRoot)]);
}

/** A synapse as the read API shows it: every bigint a decimal string, uint64 ids unsigned. */
const shown = (s: Synapse): Record<string, unknown> => ({
  id: s.id.toString(),
  pre_pt_position_x: s.pre[0], pre_pt_position_y: s.pre[1], pre_pt_position_z: s.pre[2],
  ctr_pt_position_x: s.ctr[0], ctr_pt_position_y: s.ctr[1], ctr_pt_position_z: s.ctr[2],
  post_pt_position_x: s.post[0], post_pt_position_y: s.post[1], post_pt_position_z: s.post[2],
  size: s.size,
  pre_pt_supervoxel_id: s.preSv.toString(),
  post_pt_supervoxel_id: s.postSv?.toString() ?? null,
  pre_pt_root_id: s.preRoot?.toString() ?? null,
  post_pt_root_id: s.postRoot?.toString() ?? null,
});
const byId = (a: Synapse, b: Synapse) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const expected = (rows: readonly Synapse[], rootIds?: readonly bigint[]) =>
  [...rows].filter((s) => !rootIds || rootIds.some((r) => r === s.preRoot || r === s.postRoot)).sort(byId).map(shown);

beforeAll(async () => {
  const schema = SCHEMAS.synapse!;
  await pool.query(`CREATE SCHEMA "ds_${DATASTACK}"`);
  await pool.query(`CREATE SCHEMA "ds_${EMPTY_DATASTACK}"`);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SET LOCAL search_path TO "ds_${DATASTACK}"`);
    for (const role of ['annotation', 'segmentation'] as const) {
      const name = role === 'annotation' ? 'synapses' : 'synapses__seg';
      await client.query(createTableSql({ name, columns: tableColumns(schema, role) }));
      for (const def of indexDefinitions(schema, { name, role })) await client.query(def.sql);
    }
    await client.query('COMMIT');
  } finally {
    client.release();
  }
  // Not an annotation table: not versioned.
  await pool.query(`CREATE TABLE ${live('bulk_chunk_ledger')} (table_name text, upload_id text, chunk integer)`);
  await pool.query(`CREATE TABLE "ds_${EMPTY_DATASTACK}"."notes" (id bigint)`);
  for (const s of synapses) await insertLive(s);
});

async function followJob(jobId: string): Promise<Json> {
  return eventually(async () => {
    const res = await admin('GET', `/v1/jobs/${jobId}`);
    return ['succeeded', 'failed'].includes(res.body.state) ? res.body : undefined;
  }, `job ${jobId} to end`, 90_000);
}

async function createThroughApi(body?: unknown): Promise<{ job: Json; version: Json }> {
  const res = await admin('POST', `/v1/materialize/${DATASTACK}/versions`, body);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  expect(res.body).toMatchObject({ kind: 'materialize-version', input: { datastack: DATASTACK, cadence: 'manual' } });
  const job = await followJob(res.body.jobId);
  expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
  const list = await admin('GET', `/v1/materialize/${DATASTACK}/versions`);
  return { job, version: list.body.versions.find((v: Json) => v.jobId === job.jobId) };
}

const tablePath = (version: number | string, query: Record<string, string> = {}) =>
  `/v1/materialize/${DATASTACK}/versions/${version}/tables/synapses?${new URLSearchParams(query)}`;

/** Every page of a JSON read, following nextCursor. */
async function readJson(call: ReturnType<typeof apiClient>, version: number | string, query: Record<string, string>): Promise<{ rows: Json[]; pages: number }> {
  const rows: Json[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res: Json = await call('GET', tablePath(version, { ...query, ...(cursor && { cursor }) }));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    rows.push(...res.body.rows);
    cursor = res.body.nextCursor;
    expect(res.headers.get('next-cursor')).toBe(cursor);
    pages++;
  } while (cursor);
  return { rows, pages };
}

/** Every page of a CSV read, following the Link header; rows as objects of the header's columns. */
async function readCsv(key: string, version: number | string, query: Record<string, string>): Promise<{ rows: Record<string, string>[]; pages: number; header: string[] }> {
  const rows: Record<string, string>[] = [];
  let url: string | null = `${endpoints.api}${tablePath(version, { ...query, format: 'csv' })}`;
  let pages = 0;
  let header: string[] = [];
  while (url) {
    const res: Response = await fetch(url, { headers: { authorization: `Bearer ${key}` } });
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(text.endsWith('\r\n')).toBe(true);
    const lines = text.slice(0, -2).split('\r\n');
    header = lines[0]!.split(',');
    for (const line of lines.slice(1)) rows.push(Object.fromEntries(line.split(',').map((v, i) => [header[i]!, v])));
    const link = res.headers.get('link');
    const next = res.headers.get('next-cursor');
    expect(Boolean(link)).toBe(Boolean(next));
    url = link ? `${endpoints.api}${/^<([^>]+)>; rel="next"$/.exec(link)![1]}` : null;
    if (next) expect(new URL(url!).searchParams.get('cursor')).toBe(next);
    pages++;
  }
  return { rows, pages, header };
}
const asCsv = (row: Record<string, unknown>): Record<string, string> => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v === null ? '' : String(v)]));

describe('materialize: frozen versions', () => {
  let analyst: ReturnType<typeof apiClient>;
  let analystKey: string;
  let first: Json;

  beforeAll(async () => {
    const key = await admin('POST', '/v1/api-keys', { name: `versions analyst ${STAMP}`, role: 'analyst' });
    expect(key.status, JSON.stringify(key.body)).toBe(201);
    analystKey = key.body.key;
    analyst = apiClient(analystKey);
  });

  it('makes a version through the API as a job: valid, with its row counts and expiry', async () => {
    const started = Date.now();
    const { job, version } = await createThroughApi();
    first = version;
    expect(job.steps).toMatchObject({ 'create-version': { state: 'succeeded', attempts: 1 } });
    expect(version).toMatchObject({ version: 1, state: 'valid', cadence: 'manual', tables: { synapses: N }, schema: `dsv_${DATASTACK}__v1`, expiredAt: null });
    expect(Date.parse(version.expiresAt) - Date.parse(version.validAt)).toBe(5 * 86_400_000);
    console.log(`version of ${N} rows made through the API in ${Date.now() - started} ms`);

    const listed = await analyst('GET', `/v1/materialize/${DATASTACK}/versions`);
    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject({ versions: [{ version: 1, state: 'valid' }], nextCursor: null });
  });

  it('holds the live rows merged with their segmentation ids, indexed, and refuses every write', async () => {
    const frozen = `"dsv_${DATASTACK}__v1"."synapses"`;
    const mine = await pool.query(`SELECT * FROM ${frozen} ORDER BY id`);
    const merged = await pool.query(`SELECT a.*, s.pre_pt_supervoxel_id, s.post_pt_supervoxel_id, s.pre_pt_root_id, s.post_pt_root_id
      FROM ${live('synapses')} a LEFT JOIN ${live('synapses__seg')} s USING (id) ORDER BY id`);
    expect(mine.rows).toEqual(merged.rows);
    expect(mine.fields.map((f) => f.name)).toEqual(Object.keys(shown(synapses[0]!)));
    const tables = await pool.query(`SELECT tablename FROM pg_tables WHERE schemaname = $1`, [`dsv_${DATASTACK}__v1`]);
    expect(tables.rows.map((r) => r.tablename)).toEqual(['synapses']);
    const indexes = await pool.query(`SELECT indexname FROM pg_indexes WHERE schemaname = $1 ORDER BY 1`, [`dsv_${DATASTACK}__v1`]);
    expect(indexes.rows.map((r) => r.indexname)).toEqual(
      ['synapses_ctr_pt_position_idx', 'synapses_pkey', 'synapses_post_pt_position_idx', 'synapses_post_pt_root_id_idx', 'synapses_post_pt_supervoxel_id_idx',
        'synapses_pre_pt_position_idx', 'synapses_pre_pt_root_id_idx', 'synapses_pre_pt_supervoxel_id_idx'],
    );
    const writes = [
      `INSERT INTO ${frozen} (id, pre_pt_position_x, pre_pt_position_y, pre_pt_position_z, post_pt_position_x, post_pt_position_y, post_pt_position_z) VALUES (1, 1, 1, 1, 1, 1, 1)`,
      `UPDATE ${frozen} SET pre_pt_root_id = 1`,
      `DELETE FROM ${frozen}`,
      `TRUNCATE ${frozen}`,
    ];
    for (const sql of writes) {
      const err = await pool.query(sql).then(() => undefined, (e: Error & { code?: string }) => e);
      expect(err, sql).toBeDefined();
      // The trigger (any user, also a superuser as here) or, for the non-superuser owner, the revoked privilege.
      expect(['25006', '42501'], `${sql}: ${err!.message}`).toContain(err!.code);
    }
    expect((await pool.query(`SELECT count(*)::int AS n FROM ${frozen}`)).rows[0].n).toBe(N);
  });

  it('reads the version filtered on root ids (pre or post, ids ≥ 2^63 too) in JSON over several pages', async () => {
    const rootIds = [2n ** 64n - 1n, 864691135000000007n];
    const want = expected(synapses, rootIds);
    expect(want.length).toBeGreaterThan(6);
    const { rows, pages } = await readJson(analyst, 1, { rootIds: rootIds.join(','), limit: '3' });
    expect(rows).toEqual(want);
    expect(pages).toBe(Math.ceil(want.length / 3));
    const everything = await readJson(analyst, 1, { limit: '10' });
    expect(everything.rows).toEqual(expected(synapses));
    expect(everything.pages).toBe(3);
    const none = await analyst('GET', tablePath(1, { rootIds: '1' }));
    expect(none.body).toEqual({ rows: [], nextCursor: null });
  });

  it('reads the same in CSV, with a header, the cursor in next-cursor and Link', async () => {
    const rootIds = [2n ** 63n, 999n];
    const { rows, pages, header } = await readCsv(analystKey, 1, { rootIds: rootIds.join(','), limit: '4' });
    expect(header).toEqual(Object.keys(shown(synapses[0]!)));
    const want = expected(synapses, rootIds).map(asCsv);
    expect(want.length).toBeGreaterThan(4);
    expect(want.length).toBeLessThan(N);
    expect(rows).toEqual(want);
    expect(pages).toBe(Math.ceil(want.length / 4));
    expect(rows.some((r) => r.pre_pt_root_id === '9223372036854775808')).toBe(true);
  });

  it('does not change when the live tables change; the next version shows the change', async () => {
    const changed = synapses[1]!;
    await pool.query(`UPDATE ${live('synapses__seg')} SET pre_pt_root_id = $1 WHERE id = $2`, [pgId(2n ** 64n - 2n), changed.id.toString()]);
    const added = synapse(N);
    await insertLive(added);
    await pool.query(`UPDATE ${live('synapses')} SET size = 99 WHERE id = $1`, [synapses[2]!.id.toString()]);

    expect((await readJson(analyst, 1, { limit: '100' })).rows).toEqual(expected(synapses));
    const { version } = await createThroughApi({ expiresInDays: 9 });
    expect(version).toMatchObject({ version: 2, state: 'valid', tables: { synapses: N + 1 } });
    const now = synapses.map((s, i) => (i === 1 ? { ...s, preRoot: 2n ** 64n - 2n } : i === 2 ? { ...s, size: 99 } : s));
    expect((await readJson(analyst, 2, { limit: '100' })).rows).toEqual(expected([...now, added]));
    const latest = await analyst('GET', tablePath('latest', { rootIds: String(2n ** 64n - 2n) }));
    expect(latest.headers.get('x-datastack-version')).toBe('2');
    expect(latest.body.rows.map((r: Json) => r.id)).toEqual([changed.id.toString()]);
    // version 1 still shows the old root id
    expect((await analyst('GET', tablePath(1, { rootIds: String(2n ** 64n - 2n) }))).body.rows).toEqual([]);
  });

  it('makes one version per job: a retried task returns the version it made', async () => {
    const { handler } = (await import('../../functions/materialize/versions/create-version-task.ts')) as { handler: (e: unknown, c: Context) => Promise<Json> };
    const again = await handler({ jobId: first.jobId, datastack: DATASTACK, expiresInDays: '5', cadence: 'manual' }, context);
    expect(again).toEqual({ version: 1, tables: { synapses: N } });
    const count = await pool.query('SELECT count(*)::int AS n FROM datastack_version WHERE datastack = $1', [DATASTACK]);
    expect(count.rows[0].n).toBe(2);
  });

  it('removal drops expired versions, oldest first, but keeps the newest valid one and at least N', async () => {
    // versions 1 and 2 (API: 5 and 9 days); 3..6 made here: 1, 1, 30 and 1 day(s)
    for (const [i, days] of [1, 1, 30, 1].entries()) {
      const made = await store.createVersion({ datastack: DATASTACK, cadence: 'daily', expiresInDays: days, jobId: `version-${DATASTACK}-retention-${i}` });
      expect(made.version).toBe(3 + i);
    }
    const day = 86_400_000;
    const at = (days: number) => new Date(Date.now() + days * day);
    const remove = (days: number, keep: number) => store.removeExpiredVersions({ now: at(days), keep, datastacks: [DATASTACK] });
    const states = async () => Object.fromEntries((await admin('GET', `/v1/materialize/${DATASTACK}/versions`)).body.versions.map((v: Json) => [v.version, v.state]));

    // in 2 days 3, 4 and 6 have expired: 6 is the newest; keep 3 of 6 → 3 and 4 go
    expect(await remove(2, 3)).toEqual([{ datastack: DATASTACK, version: 3 }, { datastack: DATASTACK, version: 4 }]);
    expect(await states()).toEqual({ 1: 'valid', 2: 'valid', 3: 'expired', 4: 'expired', 5: 'valid', 6: 'valid' });
    expect(await remove(2, 3)).toEqual([]);
    // in 6 days 1 has expired too: 4 valid, keep 3 → only 1 goes (6 expired but newest)
    expect(await remove(6, 3)).toEqual([{ datastack: DATASTACK, version: 1 }]);
    // in 40 days all have expired; keep 1: only the newest stays
    expect(await remove(40, 1)).toEqual([{ datastack: DATASTACK, version: 2 }, { datastack: DATASTACK, version: 5 }]);
    expect(await states()).toEqual({ 1: 'expired', 2: 'expired', 3: 'expired', 4: 'expired', 5: 'expired', 6: 'valid' });

    const schemas = await pool.query(`SELECT nspname FROM pg_namespace WHERE nspname LIKE $1 ORDER BY 1`, [`dsv\\_${DATASTACK}\\_\\_v%`]);
    expect(schemas.rows.map((r) => r.nspname)).toEqual([`dsv_${DATASTACK}__v6`]);
    const gone = await analyst('GET', tablePath(1));
    expect(gone.status).toBe(410);
    expect(gone.body.error.code).toBe('Gone');
    expect((await analyst('GET', tablePath('latest'))).headers.get('x-datastack-version')).toBe('6');
    const list = await analyst('GET', `/v1/materialize/${DATASTACK}/versions?limit=4`);
    expect(list.body.versions.map((v: Json) => v.version)).toEqual([6, 5, 4, 3]);
    expect(list.body.versions[1].expiredAt).toEqual(expect.any(String));
    const rest = await analyst('GET', `/v1/materialize/${DATASTACK}/versions?limit=4&cursor=${list.body.nextCursor}`);
    expect(rest.body).toMatchObject({ versions: [{ version: 2 }, { version: 1 }], nextCursor: null });
  });

  it('the daily schedule runs the complete workflow once per datastack per day, however often it fires', async () => {
    // Every datastack with annotation tables, not one without; the runs themselves only for this file's (the
    // workflow would refresh other test files' datastacks under them).
    const all = await store.datastacksWithTables();
    expect(all).toContain(DATASTACK);
    expect(all).not.toContain(EMPTY_DATASTACK);
    const { startScheduledVersions } = await import('../../functions/materialize/versions/schedule-versions.ts');
    const fired = await startScheduledVersions('daily', 2, new Date(), [DATASTACK]);
    const mine = `materialize-${DATASTACK}-daily-${new Date().toISOString().slice(0, 10)}`;
    expect(fired).toEqual({ cadence: 'daily', started: [mine], existing: [] });
    const again = await startScheduledVersions('daily', 2, new Date(), [DATASTACK]);
    expect(again).toEqual({ cadence: 'daily', started: [], existing: [mine] });
    const job = await followJob(mine);
    expect(job).toMatchObject({ kind: 'materialize', state: 'succeeded', result: { ingest: { skipped: 'no segmentation source' }, version: { version: 7 } } });
    const version = await store.getVersion(DATASTACK, 'latest');
    expect(version).toMatchObject({ version: 7, cadence: 'daily', expiresInDays: 2, jobId: mine, tables: { synapses: N + 1 } });
  });

  it('answers bad requests with 4xx and changes nothing', async () => {
    const status = async (call: ReturnType<typeof apiClient>, method: string, path: string, body?: unknown) => {
      const res = await call(method, path, body);
      return [res.status, res.body?.error?.code];
    };
    expect(await status(admin, 'POST', `/v1/materialize/nosuch${STAMP}/versions`)).toEqual([404, 'NotFound']);
    expect(await status(admin, 'GET', `/v1/materialize/nosuch${STAMP}/versions`)).toEqual([404, 'NotFound']);
    expect(await status(admin, 'GET', `/v1/materialize/nosuch${STAMP}/versions/1/tables/synapses`)).toEqual([404, 'NotFound']);
    expect(await status(admin, 'POST', `/v1/materialize/Bad-Stack/versions`)).toEqual([400, 'ValidationFailed']);
    expect(await status(admin, 'POST', `/v1/materialize/${EMPTY_DATASTACK}/versions`)).toEqual([409, 'Conflict']);
    for (const body of [{ expiresInDays: 0 }, { expiresInDays: 1.5 }, { expiresInDays: 3651 }, { expiresInDays: '5' }, { cadence: 'daily' }]) {
      expect(await status(admin, 'POST', `/v1/materialize/${DATASTACK}/versions`, body), JSON.stringify(body)).toEqual([400, 'ValidationFailed']);
    }
    expect(await status(analyst, 'POST', `/v1/materialize/${DATASTACK}/versions`)).toEqual([403, 'Forbidden']);

    expect(await status(analyst, 'GET', tablePath(6, { rootIds: 'abc' }))).toEqual([400, 'BadRequest']);
    expect(await status(analyst, 'GET', tablePath(6, { rootIds: '18446744073709551616' }))).toEqual([400, 'BadRequest']);
    expect(await status(analyst, 'GET', tablePath(6, { rootIds: '1,,2' }))).toEqual([400, 'BadRequest']);
    expect(await status(analyst, 'GET', tablePath(6, { limit: '10001' }))).toEqual([400, 'ValidationFailed']);
    expect(await status(analyst, 'GET', tablePath(6, { format: 'xml' }))).toEqual([400, 'ValidationFailed']);
    expect(await status(analyst, 'GET', tablePath(6, { cursor: 'garbage' }))).toEqual([400, 'InvalidCursor']);
    const page = await analyst('GET', tablePath(6, { limit: '2' }));
    expect(await status(analyst, 'GET', tablePath(6, { limit: '2', cursor: page.body.nextCursor, rootIds: '1' }))).toEqual([400, 'InvalidCursor']);
    expect(await status(analyst, 'GET', tablePath(6, { cursor: page.body.nextCursor, limit: '2' }))).toEqual([200, undefined]);
    expect(await status(analyst, 'GET', tablePath(99))).toEqual([404, 'NotFound']);
    expect(await status(analyst, 'GET', tablePath('x'))).toEqual([400, 'ValidationFailed']);
    expect(await status(analyst, 'GET', `/v1/materialize/${DATASTACK}/versions/6/tables/synapses__seg`)).toEqual([404, 'NotFound']);
    expect(await status(analyst, 'GET', `/v1/materialize/${DATASTACK}/versions/6/tables/nope`)).toEqual([404, 'NotFound']);
    expect(await status(analyst, 'GET', tablePath(3))).toEqual([410, 'Gone']);
    expect(await status(apiClient(''), 'GET', `/v1/materialize/${DATASTACK}/versions`)).toEqual([401, 'Unauthorized']);
    const count = await pool.query('SELECT count(*)::int AS n FROM datastack_version WHERE datastack = $1', [DATASTACK]);
    expect(count.rows[0].n).toBe(7);
  });
});
