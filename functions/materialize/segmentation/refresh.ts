// Segmentation refresh runs, the PostgreSQL side of sql.ts:
// - ingest-annotations looks up the supervoxel id of every point that has none (streaming the points in chunk
//   order through a cursor, one GET per chunk), then assigns the roots valid at the run's time;
// - update-roots replaces, in every live table, the roots that expired since the last completed run by the root
//   now valid for each point's supervoxel.
// Runs are resumable: each invocation stops before its deadline and reports `complete: false`; the next one
// continues (what is done is no longer missing or expired, and batched passes record where they are). Counters
// are added in the same transaction as the work they count, so a run's summary is exact across invocations.
import { TaskError } from '../../lib/errors.ts';
import type pg from 'pg';
import { z } from 'zod';
import { db, query, transaction } from '../../lib/pg.ts';
import { DATASTACK, datastackSchema, inDatastack, schemaOf } from '../datastack.ts';
import { uint64ToPg } from '../decode.ts';
import { chunkBox, chunkIndexOf, chunkObjectKey, ChunkDecodeError, decodeRawChunk, emptyChunk, voxelLocator, type ChunkBox, type RawChunk, type VolumeScale } from './precomputed.ts';
import {
  getObjectBytes,
  isoUtc,
  lockRootTable,
  readVolumeScale,
  requireSource,
  type SegmentationSource,
} from './source.ts';
import {
  assignRootsBatchSql,
  expiredRootsSql,
  liveSegmentedTables,
  missingSupervoxelsSql,
  replaceExpiredRootsBatchSql,
  rootlessPointsSql,
  setSupervoxelsSql,
  stillExpiredPointsSql,
  type SegmentedTable,
} from './sql.ts';

export type RunKind = 'ingest-annotations' | 'update-roots';

interface RunRow {
  asOf: string;
  since: string | null;
  invocations: number;
  supervoxelsLookedUp: string;
  chunksRead: string;
  outsideVolume: string;
  rootsAssigned: string;
  expiredRoots: string;
  rootsReplaced: string;
  rootsUnresolved: string;
  resumePass: string | null;
  resumeAfterId: string | null;
  completedAt: string | null;
}

const RUN_COLUMNS = `${isoUtc('as_of')} AS "asOf", ${isoUtc('since')} AS since, invocations, supervoxels_looked_up::text AS "supervoxelsLookedUp",
  chunks_read::text AS "chunksRead", outside_volume::text AS "outsideVolume", roots_assigned::text AS "rootsAssigned",
  expired_roots::text AS "expiredRoots", roots_replaced::text AS "rootsReplaced", roots_unresolved::text AS "rootsUnresolved",
  resume_pass AS "resumePass", resume_after_id::text AS "resumeAfterId", ${isoUtc('completed_at')} AS "completedAt"`;

/**
 * Starts a run, or continues it (a later invocation, a retry, a requeue): the first invocation fixes its time
 * `as_of` and, for update-roots, the refresh it continues from (`since`; none with `full`). It takes the root
 * table's lock to do so, so a file loaded concurrently is either seen by this run or recorded after `as_of` (and
 * found by the next run through recorded_at).
 */
/** A run is one kind of refresh by one job (a job of the complete workflow runs both kinds, one after the other). */
interface RunKey {
  readonly jobId: string;
  readonly kind: RunKind;
}

async function beginRun(key: RunKey, source: SegmentationSource, full = false): Promise<RunRow> {
  return transaction(async (client) => {
    await lockRootTable(client, source.datastack);
    const out = await client.query<RunRow>(
      `INSERT INTO public.segmentation_run AS run (job_id, datastack, kind, as_of, since, invocations)
       SELECT $1, datastack, $3, clock_timestamp(), CASE WHEN $4 THEN roots_refreshed_at END, 1 FROM public.segmentation_source WHERE datastack = $2
       ON CONFLICT (job_id, kind) DO UPDATE SET invocations = run.invocations + 1
       RETURNING ${RUN_COLUMNS}`,
      [key.jobId, source.datastack, key.kind, key.kind === 'update-roots' && !full],
    );
    if (!out.rows[0]) throw new TaskError('NoSegmentationSource', `datastack ${source.datastack} has no segmentation source`);
    return out.rows[0];
  });
}

type Counter = 'supervoxels_looked_up' | 'chunks_read' | 'roots_assigned' | 'roots_replaced';

/** Adds to a run's counters, in the caller's transaction (the one doing the counted work). */
async function addToRun(client: pg.ClientBase, key: RunKey, counts: Partial<Record<Counter, number>>): Promise<void> {
  const entries = Object.entries(counts).filter(([, n]) => n !== 0);
  if (entries.length === 0) return;
  await client.query(`UPDATE public.segmentation_run SET ${entries.map(([c], i) => `${c} = ${c} + $${i + 3}`).join(', ')} WHERE job_id = $1 AND kind = $2`, [
    key.jobId,
    key.kind,
    ...entries.map(([, n]) => n),
  ]);
}

async function completeRun(
  client: pg.ClientBase,
  key: RunKey,
  fields: { outside_volume?: number; expired_roots?: number; roots_unresolved: number },
): Promise<RunRow> {
  const entries = Object.entries(fields);
  const { rows } = await client.query<RunRow>(
    `UPDATE public.segmentation_run SET ${entries.map(([c], i) => `${c} = $${i + 3}`).join(', ')}, completed_at = coalesce(completed_at, clock_timestamp())
     WHERE job_id = $1 AND kind = $2 RETURNING ${RUN_COLUMNS}`,
    [key.jobId, key.kind, ...entries.map(([, n]) => n)],
  );
  return rows[0]!;
}

/** The source's refresh time moves forward to a completed update-roots run's time (never back: runs may overlap). */
const recordRefresh = (client: pg.ClientBase, datastack: string, asOf: string) =>
  client.query(
    'UPDATE public.segmentation_source SET roots_refreshed_at = $2 WHERE datastack = $1 AND (roots_refreshed_at IS NULL OR roots_refreshed_at < $2)',
    [datastack, asOf],
  );

async function readRun(key: RunKey): Promise<RunRow> {
  const rows = await query<RunRow>(`SELECT ${RUN_COLUMNS} FROM public.segmentation_run WHERE job_id = $1 AND kind = $2`, [key.jobId, key.kind]);
  return rows[0]!;
}

/** The live tables of a datastack (sql.ts liveSegmentedTables). */
async function segmentedTables(datastack: string): Promise<SegmentedTable[]> {
  const rows = await query<{ table: string; columns: string[] }>(
    `SELECT table_name::text AS "table", array_agg(column_name::text || ' ' || data_type::text ORDER BY ordinal_position) AS columns
     FROM information_schema.columns WHERE table_schema = $1 GROUP BY table_name`,
    [datastackSchema(datastack)],
  );
  return liveSegmentedTables(rows);
}

export interface RunOptions {
  jobId: string;
  datastack: string;
  /** Epoch ms after which the invocation stops at the next safe point (it always does some work first). */
  deadline: number;
  /** Rows fetched from the lookup cursor at a time. */
  pageRows?: number;
  /** Rows per root update batch (one short transaction each); also how many looked-up points are written at once. */
  batchRows?: number;
}

/** What both tasks of the refresh take (the state machines add `continuing` for the invocations after the first). */
export const SegmentationTaskInput = z.object({
  jobId: z.string().min(1),
  datastack: z.string().regex(DATASTACK),
  /** A later invocation of the same run: its step has started already. */
  continuing: z.boolean().default(false),
  /** In the complete workflow: a datastack without a segmentation source has nothing to refresh, and the step passes. */
  ifSourceRegistered: z.boolean().default(false),
  pageRows: z.number().int().min(1).max(100_000).optional(),
  batchRows: z.number().int().min(1).max(1_000_000).optional(),
});

export const DEFAULT_PAGE_ROWS = 2_000;
export const DEFAULT_BATCH_ROWS = 10_000;
/**
 * Time an invocation keeps in hand after its deadline: the chunk read or batch in progress, the last write and the
 * summary must fit in it.
 */
export const DEADLINE_RESERVE_MS = 120_000;

/** The deadline of an invocation that has `remainingMs` left (now, when that is less than the reserve). */
export const invocationDeadline = (remainingMs: number, now = Date.now()): number => now + Math.max(0, remainingMs - DEADLINE_RESERVE_MS);

async function readChunk(source: SegmentationSource, scale: VolumeScale, box: ChunkBox): Promise<RawChunk> {
  const key = chunkObjectKey(source.volumePrefix, scale, box);
  const bytes = await getObjectBytes(source.bucket, key);
  if (!bytes) {
    if (source.fillMissing) return emptyChunk(box);
    throw new TaskError('MissingChunk', `chunk s3://${source.bucket}/${key} does not exist (register the source with fillMissing to read missing chunks as background)`);
  }
  try {
    return decodeRawChunk(bytes, box);
  } catch (err) {
    if (err instanceof ChunkDecodeError) throw new TaskError('BadChunk', `s3://${source.bucket}/${key}: ${err.message}`);
    throw err;
  }
}

interface LookupPass {
  complete: boolean;
  outside: number;
}

/**
 * Looks up the supervoxel id of every point without one: the points stream from a cursor in chunk order (one
 * GET per chunk, one chunk in memory), the ids go back in batches. Stops at the first chunk boundary after the
 * deadline.
 */
async function lookUpSupervoxels(opts: RunOptions, key: RunKey, source: SegmentationSource, scale: VolumeScale, tables: SegmentedTable[]): Promise<LookupPass> {
  const sql = missingSupervoxelsSql(tables, { positionUnitNm: source.positionUnitNm, scale });
  const pageRows = opts.pageRows ?? DEFAULT_PAGE_ROWS;
  const flushPoints = opts.batchRows ?? DEFAULT_BATCH_ROWS;
  const voxelOf = voxelLocator(source.positionUnitNm, scale.resolution);
  let pending = new Map<string, { ids: string[]; supervoxels: string[] }>();
  let pendingPoints = 0;
  let chunksRead = 0;

  const flush = async () => {
    if (pendingPoints === 0 && chunksRead === 0) return;
    const batch = pending;
    const chunks = chunksRead;
    await inDatastack(opts.datastack, async (client) => {
      let written = 0;
      for (const [tp, { ids, supervoxels }] of batch) {
        const [t, p] = tp.split(':').map(Number) as [number, number];
        const table = tables[t]!;
        written += (await client.query(setSupervoxelsSql(table, table.points[p]!), [ids, supervoxels])).rowCount ?? 0;
      }
      await addToRun(client, key, { supervoxels_looked_up: written, chunks_read: chunks });
    });
    pending = new Map();
    pendingPoints = 0;
    chunksRead = 0;
  };

  let outside = 0;
  let current: { key: string; chunk: RawChunk } | undefined;
  return transaction(
    async (reader): Promise<LookupPass> => {
      await reader.query(`SET LOCAL search_path TO ${schemaOf(opts.datastack)}`);
      await reader.query(`DECLARE missing_supervoxels NO SCROLL CURSOR FOR ${sql}`);
      for (;;) {
        const page = await reader.query<{ t: number; p: number; id: string; x: number; y: number; z: number }>(`FETCH ${pageRows} FROM missing_supervoxels`);
        if (page.rows.length === 0) break;
        for (const row of page.rows) {
          const voxel = voxelOf([row.x, row.y, row.z]);
          const index = chunkIndexOf(scale, voxel);
          if (!index) {
            outside++;
            continue;
          }
          const key = index.join(',');
          if (current?.key !== key) {
            if (current && (pendingPoints >= flushPoints || Date.now() >= opts.deadline)) {
              await flush();
              if (Date.now() >= opts.deadline) return { complete: false, outside };
            }
            current = { key, chunk: await readChunk(source, scale, chunkBox(scale, index)) };
            chunksRead++;
          }
          const tp = `${row.t}:${row.p}`;
          let group = pending.get(tp);
          if (!group) pending.set(tp, (group = { ids: [], supervoxels: [] }));
          group.ids.push(row.id);
          group.supervoxels.push(uint64ToPg(current.chunk.supervoxelAt(voxel)).toString());
          // A chunk holding very many points is written in parts, so memory stays bounded.
          if (++pendingPoints >= 5 * flushPoints) await flush();
        }
      }
      await flush();
      return { complete: true, outside };
    },
    { readOnly: true },
  );
}

interface BatchResult {
  last: string | null;
  seen: number;
  changed: number;
}

/** One keyset-batched UPDATE (sql.ts) over one point of one table. */
interface BatchPass {
  /** `<table>.<point>`: where a later invocation resumes. */
  name: string;
  sql: string;
}

const ALL_PASSES_DONE = '$done';

export const passesOf = (tables: readonly SegmentedTable[], sqlOf: (t: SegmentedTable, p: SegmentedTable['points'][number]) => string): BatchPass[] =>
  tables.flatMap((t) => t.points.map((p) => ({ name: `${t.table}.${p.point}`, sql: sqlOf(t, p) })));

/**
 * Runs the passes in order, each batch by batch until no rows are left, and stops when the deadline has passed.
 * Each batch is one transaction that also adds to the run's counter and records where the next invocation
 * resumes (the pass and the batch's last id), so rows a batch cannot change are not read again and again.
 * Returns whether every pass got through.
 */
async function runPasses(client: pg.ClientBase, opts: RunOptions, key: RunKey, run: RunRow, passes: readonly BatchPass[], counter: Counter): Promise<boolean> {
  if (run.resumePass === ALL_PASSES_DONE) return true;
  const batchRows = opts.batchRows ?? DEFAULT_BATCH_ROWS;
  const first = Math.max(0, passes.findIndex((p) => p.name === run.resumePass));
  for (let i = first; i < passes.length; i++) {
    const pass = passes[i]!;
    let last: string | null = i === first && pass.name === run.resumePass ? run.resumeAfterId : null;
    for (;;) {
      const passDone = await transaction(
        async () => {
          const batch: BatchResult = (await client.query<BatchResult>(pass.sql, [last, run.asOf, batchRows])).rows[0]!;
          const done = batch.seen < batchRows;
          last = done ? null : batch.last;
          const resumePass = done ? (passes[i + 1]?.name ?? ALL_PASSES_DONE) : pass.name;
          await addToRun(client, key, { [counter]: batch.changed });
          await client.query('UPDATE public.segmentation_run SET resume_pass = $3, resume_after_id = $4 WHERE job_id = $1 AND kind = $2', [key.jobId, key.kind, resumePass, last]);
          return done;
        },
        { client },
      );
      if (Date.now() >= opts.deadline && !(passDone && i === passes.length - 1)) return false;
      if (passDone) break;
    }
  }
  return true;
}

/** A connection of its own for a run's batches, with the datastack's schema on its search path until released. */
async function withDatastackSession<T>(datastack: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await (await db()).connect();
  try {
    await client.query(`SET search_path TO ${schemaOf(datastack)}`);
    return await work(client);
  } finally {
    // The connection goes back to a shared pool: leave no session state behind.
    await client.query('DISCARD ALL').catch(() => undefined);
    client.release();
  }
}

export interface IngestSummary {
  datastack: string;
  complete: boolean;
  asOf: string;
  tables: string[];
  supervoxelsLookedUp: number;
  chunksRead: number;
  outsideVolume: number;
  rootsAssigned: number;
  rootsUnresolved: number;
  invocations: number;
}

const ingestSummary = (datastack: string, tables: SegmentedTable[], run: RunRow, complete: boolean): IngestSummary => ({
  datastack,
  complete,
  asOf: run.asOf,
  tables: tables.map((t) => t.table),
  supervoxelsLookedUp: Number(run.supervoxelsLookedUp),
  chunksRead: Number(run.chunksRead),
  outsideVolume: Number(run.outsideVolume),
  rootsAssigned: Number(run.rootsAssigned),
  rootsUnresolved: Number(run.rootsUnresolved),
  invocations: run.invocations,
});

/**
 * ingest-annotations: fills every missing supervoxel id of the datastack's live tables from the volume, then
 * assigns the roots valid at the run's time to every point with a supervoxel id and no root.
 */
export async function ingestAnnotations(opts: RunOptions): Promise<IngestSummary> {
  const source = await requireSource(opts.datastack);
  const key: RunKey = { jobId: opts.jobId, kind: 'ingest-annotations' };
  const run = await beginRun(key, source);
  if (run.completedAt) return ingestSummary(opts.datastack, await segmentedTables(opts.datastack), run, true);
  const resolved = await readVolumeScale(source.bucket, source.volumePrefix, source.scaleKey);
  if (!resolved.ok) throw new TaskError('UnsupportedVolume', resolved.problems.map((p) => p.message).join('; '));
  const tables = await segmentedTables(opts.datastack);
  if (tables.length === 0) return ingestSummary(opts.datastack, tables, await transaction((c) => completeRun(c, key, { roots_unresolved: 0 })), true);

  const lookup = await lookUpSupervoxels(opts, key, source, resolved.scale, tables);
  if (!lookup.complete) return ingestSummary(opts.datastack, tables, await readRun(key), false);

  const assigned = await withDatastackSession(opts.datastack, (client) => runPasses(client, opts, key, run, passesOf(tables, assignRootsBatchSql), 'roots_assigned'));
  if (!assigned) return ingestSummary(opts.datastack, tables, await readRun(key), false);

  const done = await inDatastack(opts.datastack, async (client) => {
    let unresolved = 0;
    for (const t of tables) for (const p of t.points) unresolved += (await client.query<{ n: number }>(rootlessPointsSql(t, p))).rows[0]!.n;
    return completeRun(client, key, { outside_volume: lookup.outside, roots_unresolved: unresolved });
  });
  return ingestSummary(opts.datastack, tables, done, true);
}

export interface UpdateRootsSummary {
  datastack: string;
  complete: boolean;
  asOf: string;
  /** Roots that expired after this time were replaced (null: every expired root, the first or a full run). */
  since: string | null;
  tables: string[];
  expiredRoots: number;
  rootsReplaced: number;
  rootsUnresolved: number;
  invocations: number;
}

const updateSummary = (datastack: string, tables: SegmentedTable[], run: RunRow, complete: boolean): UpdateRootsSummary => ({
  datastack,
  complete,
  asOf: run.asOf,
  since: run.since,
  tables: tables.map((t) => t.table),
  expiredRoots: Number(run.expiredRoots),
  rootsReplaced: Number(run.rootsReplaced),
  rootsUnresolved: Number(run.rootsUnresolved),
  invocations: run.invocations,
});

/**
 * update-roots: finds the roots that expired in (since, asOf] and replaces them, in every point of every live
 * table, by the root valid at asOf for the point's supervoxel. When done, asOf becomes the source's refresh time.
 */
export async function updateRoots(opts: RunOptions & { full: boolean }): Promise<UpdateRootsSummary> {
  const source = await requireSource(opts.datastack);
  const key: RunKey = { jobId: opts.jobId, kind: 'update-roots' };
  const run = await beginRun(key, source, opts.full);
  const tables = await segmentedTables(opts.datastack);
  if (run.completedAt) {
    await transaction((client) => recordRefresh(client, opts.datastack, run.asOf));
    return updateSummary(opts.datastack, tables, run, true);
  }

  return withDatastackSession(opts.datastack, async (client) => {
    const [create, truncate, fill, analyze] = expiredRootsSql() as [string, string, string, string];
    await client.query(create);
    await client.query(truncate);
    const expired = (await client.query(fill, [run.asOf, run.since])).rowCount ?? 0;
    await client.query(analyze);
    await client.query('UPDATE public.segmentation_run SET expired_roots = $3 WHERE job_id = $1 AND kind = $2', [key.jobId, key.kind, expired]);

    if (!(await runPasses(client, opts, key, run, passesOf(tables, replaceExpiredRootsBatchSql), 'roots_replaced'))) {
      return updateSummary(opts.datastack, tables, await readRun(key), false);
    }
    let unresolved = 0;
    for (const t of tables) for (const p of t.points) unresolved += (await client.query<{ n: number }>(stillExpiredPointsSql(t, p), [run.asOf])).rows[0]!.n;
    const done = await transaction(
      async () => {
        const completed = await completeRun(client, key, { expired_roots: expired, roots_unresolved: unresolved });
        await recordRefresh(client, opts.datastack, run.asOf);
        return completed;
      },
      { client },
    );
    return updateSummary(opts.datastack, tables, done, true);
  });
}
