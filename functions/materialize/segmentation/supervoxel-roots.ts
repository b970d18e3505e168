// Loading a supervoxel → root file (CSV, root-table.ts) into a datastack's supervoxel_root table: merged by
// (supervoxel_id, valid_from), in one transaction, after every line and every interval has been checked; any
// problem rolls it all back, so bad input changes nothing.
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, NoSuchKey } from '@aws-sdk/client-s3';
import { from as copyFrom } from 'pg-copy-streams';
import { s3 } from '../../lib/aws.ts';
import { transaction } from '../../lib/pg.ts';
import { uint64FromPg } from '../decode.ts';
import { checkHeader, copyTextLine, isBlankLine, parseRootLine, ProblemList, type RootTableProblem } from './root-table.ts';
import { quoteIdent } from '../schemas.ts';
import { schemaOf, SUPERVOXEL_ROOT_TABLE } from '../datastack.ts';
import { getSource, isoUtc, lockRootTable } from './source.ts';
import { TaskError } from '../../lib/errors.ts';

export interface RootTableLoad {
  bucket: string;
  key: string;
  etag: string;
  /** Mappings in the file. */
  rows: number;
  /** New intervals, intervals whose root or end changed, and intervals already there as they are. */
  inserted: number;
  updated: number;
  unchanged: number;
}

export type RootTableLoadResult = { ok: true; load: RootTableLoad } | { ok: false; problems: RootTableProblem[]; count: number };

/** Thrown inside the load's transaction so that it rolls back; turned into the result outside. */
class RootTableRejected extends Error {
  constructor(readonly problems: ProblemList) {
    super('the root table was rejected');
  }
}

const STAGING = 'supervoxel_root_staging';
const COPY_LINES_PER_BUFFER = 2_000;

/**
 * Streams the file's lines into the staging table (COPY text), checking each; the problems are collected, and
 * once there is one nothing more is sent (the load will roll back anyway).
 */
async function* copyLines(body: Readable, problems: ProblemList, counted: { rows: number }): AsyncGenerator<string> {
  let line = 0;
  let buffer: string[] = [];
  for await (const text of createInterface({ input: body, crlfDelay: Infinity })) {
    line++;
    if (line === 1) {
      const bad = checkHeader(text);
      if (bad) problems.add(bad);
      continue;
    }
    if (isBlankLine(text)) continue;
    const parsed = parseRootLine(text, line);
    if (!parsed.ok) {
      problems.add(parsed.problem);
      continue;
    }
    counted.rows++;
    if (!problems.empty) continue;
    buffer.push(copyTextLine(line, parsed.row));
    if (buffer.length >= COPY_LINES_PER_BUFFER) {
      yield buffer.join('');
      buffer = [];
    }
  }
  if (line === 0) problems.add(checkHeader(undefined)!);
  if (buffer.length > 0 && problems.empty) yield buffer.join('');
}

/**
 * Loads a supervoxel → root CSV into the datastack's table, all or nothing: every line is checked, then no two
 * lines may give the same supervoxel and valid_from, then (merged with what the table holds) no supervoxel's
 * intervals may overlap. Rows are merged by (supervoxel_id, valid_from): loading the same file again changes
 * nothing; a later export that closes an interval updates its valid_until.
 */
export async function loadRootTable(datastack: string, bucket: string, key: string): Promise<RootTableLoadResult> {
  const source = await getSource(datastack);
  if (!source) throw new TaskError('NoSegmentationSource', `datastack ${datastack} has no segmentation source`);
  let object;
  try {
    object = await s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  } catch (err) {
    if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') {
      return { ok: false, problems: [{ code: 'FILE_NOT_FOUND', message: `there is no s3://${bucket}/${key}` }], count: 1 };
    }
    throw err;
  }
  const problems = new ProblemList();
  const counted = { rows: 0 };
  try {
    const load = await transaction(async (client) => {
      await client.query(`SET LOCAL search_path TO ${schemaOf(datastack)}`);
      await lockRootTable(client, datastack);
      await client.query(
        `CREATE TEMP TABLE ${STAGING} (line integer NOT NULL, supervoxel_id bigint NOT NULL, root_id bigint NOT NULL,
          valid_from timestamptz NOT NULL, valid_until timestamptz) ON COMMIT DROP`,
      );
      const copy = client.query(copyFrom(`COPY pg_temp.${STAGING} (line, supervoxel_id, root_id, valid_from, valid_until) FROM STDIN`));
      await pipeline(Readable.from(copyLines(object.Body as Readable, problems, counted)), copy);
      if (!problems.empty) throw new RootTableRejected(problems);

      const duplicates = await client.query<{ supervoxel: string; from: string; lines: number[] }>(
        `SELECT supervoxel_id::text AS supervoxel, ${isoUtc('valid_from')} AS "from", array_agg(line ORDER BY line) AS lines
         FROM pg_temp.${STAGING} GROUP BY supervoxel_id, valid_from HAVING count(*) > 1 ORDER BY min(line) LIMIT 100`,
      );
      for (const d of duplicates.rows) {
        problems.add({
          line: d.lines[1],
          code: 'DUPLICATE_INTERVAL',
          message: `lines ${d.lines.join(', ')}: supervoxel ${uint64FromPg(d.supervoxel)} has more than one mapping from ${d.from}`,
        });
      }
      if (!problems.empty) throw new RootTableRejected(problems);

      // One time for the whole file, taken under the lock (see beginRun).
      const at = (await client.query<{ at: string }>(`SELECT ${isoUtc('clock_timestamp()')} AS at`)).rows[0]!.at;
      const merged = await client.query<{ inserted: string; updated: string }>(
        `WITH merged AS (
           INSERT INTO ${quoteIdent(SUPERVOXEL_ROOT_TABLE)} (supervoxel_id, root_id, valid_from, valid_until, recorded_at)
           SELECT supervoxel_id, root_id, valid_from, valid_until, $1 FROM pg_temp.${STAGING}
           ON CONFLICT (supervoxel_id, valid_from) DO UPDATE
             SET root_id = EXCLUDED.root_id, valid_until = EXCLUDED.valid_until, recorded_at = EXCLUDED.recorded_at
             WHERE (${SUPERVOXEL_ROOT_TABLE}.root_id, ${SUPERVOXEL_ROOT_TABLE}.valid_until) IS DISTINCT FROM (EXCLUDED.root_id, EXCLUDED.valid_until)
           RETURNING (xmax = 0) AS inserted
         )
         SELECT count(*) FILTER (WHERE inserted)::text AS inserted, count(*) FILTER (WHERE NOT inserted)::text AS updated FROM merged`,
        [at],
      );

      // Sorted by valid_from, a supervoxel's intervals are disjoint exactly when each ends before the next begins.
      const overlaps = await client.query<{
        supervoxel: string; root: string; from: string; prevRoot: string; prevFrom: string; prevUntil: string | null; line: number | null; prevLine: number | null;
      }>(
        `WITH touched AS (SELECT DISTINCT supervoxel_id FROM pg_temp.${STAGING}),
         ordered AS (
           SELECT r.supervoxel_id, r.root_id, r.valid_from,
             lag(r.root_id) OVER w AS prev_root, lag(r.valid_from) OVER w AS prev_from, lag(r.valid_until) OVER w AS prev_until
           FROM ${quoteIdent(SUPERVOXEL_ROOT_TABLE)} r JOIN touched USING (supervoxel_id)
           WINDOW w AS (PARTITION BY r.supervoxel_id ORDER BY r.valid_from)
         )
         SELECT o.supervoxel_id::text AS supervoxel, o.root_id::text AS root, ${isoUtc('o.valid_from')} AS "from", o.prev_root::text AS "prevRoot",
           ${isoUtc('o.prev_from')} AS "prevFrom", ${isoUtc('o.prev_until')} AS "prevUntil", a.line, b.line AS "prevLine"
         FROM ordered o
         LEFT JOIN pg_temp.${STAGING} a ON a.supervoxel_id = o.supervoxel_id AND a.valid_from = o.valid_from
         LEFT JOIN pg_temp.${STAGING} b ON b.supervoxel_id = o.supervoxel_id AND b.valid_from = o.prev_from
         WHERE o.prev_from IS NOT NULL AND (o.prev_until IS NULL OR o.prev_until > o.valid_from)
         ORDER BY coalesce(least(a.line, b.line), a.line, b.line), o.supervoxel_id LIMIT 100`,
      );
      for (const o of overlaps.rows) {
        const where = (line: number | null) => (line === null ? 'loaded earlier' : `line ${line}`);
        problems.add({
          line: o.line ?? o.prevLine ?? undefined,
          code: 'OVERLAPPING_INTERVALS',
          message:
            `supervoxel ${uint64FromPg(o.supervoxel)}: root ${uint64FromPg(o.root)} from ${o.from} (${where(o.line)}) overlaps root ` +
            `${uint64FromPg(o.prevRoot)} [${o.prevFrom}, ${o.prevUntil ?? '∞'}) (${where(o.prevLine)})`,
        });
      }
      if (!problems.empty) throw new RootTableRejected(problems);

      const inserted = Number(merged.rows[0]!.inserted);
      const updated = Number(merged.rows[0]!.updated);
      const etag = object.ETag ?? '';
      await client.query(
        'INSERT INTO public.segmentation_root_load (datastack, bucket, key, etag, rows, inserted, updated) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [datastack, bucket, key, etag, counted.rows, inserted, updated],
      );
      return { bucket, key, etag, rows: counted.rows, inserted, updated, unchanged: counted.rows - inserted - updated };
    });
    return { ok: true, load };
  } catch (err) {
    if (err instanceof RootTableRejected) return { ok: false, problems: err.problems.listed, count: err.problems.count };
    throw err;
  }
}
