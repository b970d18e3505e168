// Which columns of a datastack's tables the segmentation refresh reads and writes, and the SQL it runs. Pure: the
// statements are built here and run by refresh.ts.
//
// The work stays in PostgreSQL wherever it can: root ids are assigned and replaced by UPDATE … FROM joins with
// the supervoxel → root table, in batches of rows keyed by id, so no annotation row travels through the function;
// only the supervoxel lookup, which needs the volume, streams positions out (ordered by chunk) and ids back.
import { voxelsPerUnit, type Vec3, type VolumeScale } from './precomputed.ts';
import { quoteIdent, SCHEMAS, SEGMENTATION_SUFFIX, tableColumns, type AnnotationSchema } from '../schemas.ts';
import { SUPERVOXEL_ROOT_TABLE } from '../datastack.ts';

/**
 * One point of an annotation (synapse: pre_pt and post_pt; point: pt): its position in the annotation table, its
 * supervoxel and root ids in the segmentation table.
 */
export interface SegmentationPoint {
  point: string;
  /** Position columns `<point>_position_x|y|z` of the annotation table. */
  position: [string, string, string];
  supervoxel: string;
  root: string;
}

/** The points of a schema: every `<p>_supervoxel_id` with its `<p>_root_id` and `<p>_position`. */
export function segmentationPoints(schema: AnnotationSchema): SegmentationPoint[] {
  const names = new Set(schema.columns.map((c) => c.name));
  return schema.columns
    .filter((c) => c.kind === 'segmentation_id' && c.name.endsWith('_supervoxel_id'))
    .map((c) => c.name.slice(0, -'_supervoxel_id'.length))
    .filter((p) => names.has(`${p}_root_id`) && names.has(`${p}_position`))
    .map((p) => ({
      point: p,
      position: [`${p}_position_x`, `${p}_position_y`, `${p}_position_z`],
      supervoxel: `${p}_supervoxel_id`,
      root: `${p}_root_id`,
    }));
}

/** An annotation table with its segmentation table, as the refresh works on it. */
export interface SegmentedTable {
  table: string;
  segmentationTable: string;
  schema: string;
  points: SegmentationPoint[];
}

/** A table of the datastack's schema with its columns as `name type`, in order (information_schema). */
export interface TableColumns {
  table: string;
  columns: string[];
}

const columnsOf = (schema: AnnotationSchema, role: 'annotation' | 'segmentation'): string =>
  tableColumns(schema, role)
    .map((c) => `${c.name} ${c.sqlType}`)
    .join(', ');

/**
 * The live annotation tables of a datastack: every `T` with a `T__seg`, both with exactly the columns of one
 * schema. Only names without `__` are live tables (bulk uploads refuse `__`): other derived tables, such as
 * frozen versions, are never refreshed.
 */
export function liveSegmentedTables(tables: readonly TableColumns[]): SegmentedTable[] {
  const byName = new Map(tables.map((t) => [t.table, t.columns.join(', ')]));
  const out: SegmentedTable[] = [];
  for (const { table } of tables) {
    if (table.includes('__')) continue;
    const segmentationTable = `${table}${SEGMENTATION_SUFFIX}`;
    const segColumns = byName.get(segmentationTable);
    if (segColumns === undefined) continue;
    const schema = Object.values(SCHEMAS).find((s) => columnsOf(s, 'annotation') === byName.get(table) && columnsOf(s, 'segmentation') === segColumns);
    if (!schema) continue;
    const points = segmentationPoints(schema);
    if (points.length > 0) out.push({ table, segmentationTable, schema: schema.name, points });
  }
  return out.sort((a, b) => a.table.localeCompare(b.table));
}

// ---------------------------------------------------------------------------------------------------------------
// The supervoxel → root table.

/**
 * The table and its indexes, created with the datastack's segmentation source. One row per interval in which a
 * supervoxel belongs to a root; the primary key (supervoxel_id, valid_from) serves the per-supervoxel lookups,
 * valid_until finds the roots that expired since the last refresh, recorded_at the intervals loaded after it
 * (a file may close an interval in the past). Ids are uint64 stored as bigint bits (decode.ts).
 */
export function supervoxelRootDdl(): string[] {
  const t = quoteIdent(SUPERVOXEL_ROOT_TABLE);
  return [
    `CREATE TABLE IF NOT EXISTS ${t} (
      supervoxel_id bigint NOT NULL,
      root_id       bigint NOT NULL,
      valid_from    timestamptz NOT NULL,
      valid_until   timestamptz,
      recorded_at   timestamptz NOT NULL,
      CONSTRAINT supervoxel_root_pkey PRIMARY KEY (supervoxel_id, valid_from),
      CONSTRAINT supervoxel_root_interval_check CHECK (valid_until IS NULL OR valid_until > valid_from)
    )`,
    `CREATE INDEX IF NOT EXISTS supervoxel_root_valid_until_idx ON ${t} (valid_until)`,
    `CREATE INDEX IF NOT EXISTS supervoxel_root_recorded_at_idx ON ${t} (recorded_at)`,
  ];
}

/** `r` is valid at time `$n`: [valid_from, valid_until) holds it. */
const validAt = (alias: string, param: string) => `${alias}.valid_from <= ${param} AND (${alias}.valid_until IS NULL OR ${alias}.valid_until > ${param})`;

// ---------------------------------------------------------------------------------------------------------------
// Supervoxel lookup.

/** What the lookup needs of the source: where positions fall in the volume's chunk grid. */
export interface LookupGrid {
  positionUnitNm: Vec3;
  scale: Pick<VolumeScale, 'resolution' | 'voxelOffset' | 'chunkSize'>;
}

/** An integer as a numeric literal: exact at any size. */
function integerLiteral(n: bigint | number): string {
  if (typeof n === 'number' && !Number.isSafeInteger(n)) throw new RangeError(`not an integer: ${n}`);
  return `(${BigInt(n).toString()})::numeric`;
}

/** ⌊n / d⌋ in numeric for d > 0: exact (numeric division rounds to some digits, div truncates toward zero). */
const floorDivSql = (n: string, d: string) => `(div(${n}, ${d}) - CASE WHEN mod(${n}, ${d}) < 0 THEN 1 ELSE 0 END)`;

/**
 * Every point with no supervoxel id, over all tables and points: `(t, p, id, x, y, z)` where t and p index
 * `tables` and their points. Ordered by the chunk its voxel falls in, computed exactly as voxelLocator and
 * chunkIndexOf do (positions are integer columns, the voxels per unit a ratio of integers, all in numeric), so the
 * rows of one chunk come together and each chunk is read once. The numbers are inlined as literals because the
 * statement runs as a cursor, which takes no parameters.
 */
export function missingSupervoxelsSql(tables: readonly SegmentedTable[], grid: LookupGrid): string {
  const parts = tables.flatMap((t, ti) =>
    t.points.map((p, pi) => {
      const [x, y, z] = p.position.map((c) => `a.${quoteIdent(c)}`);
      return `SELECT ${ti} AS t, ${pi} AS p, s."id", ${x} AS x, ${y} AS y, ${z} AS z FROM ${quoteIdent(t.segmentationTable)} s ` +
        `JOIN ${quoteIdent(t.table)} a ON a."id" = s."id" WHERE s.${quoteIdent(p.supervoxel)} IS NULL`;
    }),
  );
  if (parts.length === 0) throw new Error('no segmentation points to look up');
  const ratios = voxelsPerUnit(grid.positionUnitNm, grid.scale.resolution);
  const axis = (a: 0 | 1 | 2, c: string) => {
    const voxel = floorDivSql(`q.${c}::numeric * ${integerLiteral(ratios[a].n)}`, integerLiteral(ratios[a].d));
    return floorDivSql(`${voxel} - ${integerLiteral(grid.scale.voxelOffset[a])}`, integerLiteral(grid.scale.chunkSize[a]));
  };
  return `SELECT q.t, q.p, q."id"::text AS id, q.x, q.y, q.z FROM (${parts.join(' UNION ALL ')}) q ORDER BY ${axis(0, 'x')}, ${axis(1, 'y')}, ${axis(2, 'z')}, q.t, q.p, q."id"`;
}

/** Sets looked-up supervoxel ids ($1 ids, $2 supervoxel ids, both bigint[]), only where still missing. */
export const setSupervoxelsSql = (t: SegmentedTable, p: SegmentationPoint): string =>
  `UPDATE ${quoteIdent(t.segmentationTable)} s SET ${quoteIdent(p.supervoxel)} = v.sv FROM unnest($1::bigint[], $2::bigint[]) AS v(id, sv) ` +
  `WHERE s."id" = v.id AND s.${quoteIdent(p.supervoxel)} IS NULL`;

// ---------------------------------------------------------------------------------------------------------------
// Root ids. Each batch statement takes $1 (the last id of the previous batch, or NULL), $2 (the run's time),
// $3 (rows per batch) and answers one row: `last` (the batch's last id, NULL when there were no rows), `seen`
// (rows in the batch) and `changed` (rows it updated).

/**
 * Assigns the root valid at $2 to points that have a supervoxel id but no root; supervoxel 0 (background) gets
 * root 0. A supervoxel without a valid root leaves its point without one.
 */
export function assignRootsBatchSql(t: SegmentedTable, p: SegmentationPoint): string {
  const seg = quoteIdent(t.segmentationTable);
  const sv = quoteIdent(p.supervoxel);
  const root = quoteIdent(p.root);
  return `WITH batch AS (
      SELECT s."id", CASE WHEN s.${sv} = 0 THEN 0::bigint ELSE r.root_id END AS root_id
      FROM ${seg} s LEFT JOIN ${quoteIdent(SUPERVOXEL_ROOT_TABLE)} r ON r.supervoxel_id = s.${sv} AND ${validAt('r', '$2')}
      WHERE s.${sv} IS NOT NULL AND s.${root} IS NULL AND ($1::bigint IS NULL OR s."id" > $1::bigint)
      ORDER BY s."id" LIMIT $3
    ), changed AS (
      UPDATE ${seg} s SET ${root} = b.root_id FROM batch b WHERE s."id" = b."id" AND b.root_id IS NOT NULL RETURNING 1
    )
    SELECT (SELECT max("id") FROM batch)::text AS last, (SELECT count(*) FROM batch)::int AS seen, (SELECT count(*) FROM changed)::int AS changed`;
}

/** Points that have a supervoxel id but still no root (their supervoxel has no root valid at the run's time). */
export const rootlessPointsSql = (t: SegmentedTable, p: SegmentationPoint): string =>
  `SELECT count(*)::int AS n FROM ${quoteIdent(t.segmentationTable)} WHERE ${quoteIdent(p.supervoxel)} IS NOT NULL AND ${quoteIdent(p.root)} IS NULL`;

/** The session table of root ids that expired in the run's window, filled once per invocation. */
export const EXPIRED_ROOTS_TABLE = 'expired_root';

/**
 * Fills pg_temp.expired_root with the roots that expired in (since, asOf]: ($1 asOf, $2 since or NULL for every
 * root ever expired). An interval closed after the last refresh but back-dated before it is found by recorded_at.
 */
export function expiredRootsSql(): string[] {
  const r = quoteIdent(SUPERVOXEL_ROOT_TABLE);
  return [
    `CREATE TEMP TABLE IF NOT EXISTS ${EXPIRED_ROOTS_TABLE} (root_id bigint PRIMARY KEY)`,
    `TRUNCATE pg_temp.${EXPIRED_ROOTS_TABLE}`,
    `INSERT INTO pg_temp.${EXPIRED_ROOTS_TABLE} (root_id)
      SELECT root_id FROM ${r} WHERE valid_until <= $1 AND ($2::timestamptz IS NULL OR valid_until > $2)
      UNION
      SELECT root_id FROM ${r} WHERE valid_until <= $1 AND $2::timestamptz IS NOT NULL AND recorded_at > $2`,
    `ANALYZE pg_temp.${EXPIRED_ROOTS_TABLE}`,
  ];
}

/**
 * Replaces expired roots by the root valid at $2 for the point's supervoxel (a split gives the two halves'
 * points different new roots). Points whose supervoxel has no valid root keep the expired one.
 */
export function replaceExpiredRootsBatchSql(t: SegmentedTable, p: SegmentationPoint): string {
  const seg = quoteIdent(t.segmentationTable);
  const sv = quoteIdent(p.supervoxel);
  const root = quoteIdent(p.root);
  return `WITH batch AS (
      SELECT s."id", r.root_id
      FROM ${seg} s
      JOIN pg_temp.${EXPIRED_ROOTS_TABLE} e ON e.root_id = s.${root}
      JOIN ${quoteIdent(SUPERVOXEL_ROOT_TABLE)} r ON r.supervoxel_id = s.${sv} AND ${validAt('r', '$2')}
      WHERE s.${root} <> r.root_id AND ($1::bigint IS NULL OR s."id" > $1::bigint)
      ORDER BY s."id" LIMIT $3
    ), changed AS (
      UPDATE ${seg} s SET ${root} = b.root_id FROM batch b WHERE s."id" = b."id" RETURNING 1
    )
    SELECT (SELECT max("id") FROM batch)::text AS last, (SELECT count(*) FROM batch)::int AS seen, (SELECT count(*) FROM changed)::int AS changed`;
}

/** Points that still carry an expired root after the replacement ($1 the run's time). */
export const stillExpiredPointsSql = (t: SegmentedTable, p: SegmentationPoint): string =>
  `SELECT count(*)::int AS n FROM ${quoteIdent(t.segmentationTable)} s JOIN pg_temp.${EXPIRED_ROOTS_TABLE} e ON e.root_id = s.${quoteIdent(p.root)} ` +
  `WHERE NOT EXISTS (SELECT 1 FROM ${quoteIdent(SUPERVOXEL_ROOT_TABLE)} r WHERE r.supervoxel_id = s.${quoteIdent(p.supervoxel)} AND ${validAt('r', '$1')})`;
