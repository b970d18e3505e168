// Which tables and columns the segmentation refresh touches, and the shape of the SQL it runs (the SQL itself runs
// against PostgreSQL in test/integration/materialize-segmentation.test.ts).
import { describe, expect, it } from 'vitest';
import { SCHEMAS, tableColumns } from '../../functions/materialize/schemas.ts';
import {
  assignRootsBatchSql,
  liveSegmentedTables,
  missingSupervoxelsSql,
  replaceExpiredRootsBatchSql,
  segmentationPoints,
  setSupervoxelsSql,
  type TableColumns,
} from '../../functions/materialize/segmentation/sql.ts';

const columnsOf = (schema: 'synapse' | 'point', role: 'annotation' | 'segmentation') =>
  tableColumns(SCHEMAS[schema]!, role).map((c) => `${c.name} ${c.sqlType}`);
const tablesFor = (name: string, schema: 'synapse' | 'point'): TableColumns[] => [
  { table: name, columns: columnsOf(schema, 'annotation') },
  { table: `${name}__seg`, columns: columnsOf(schema, 'segmentation') },
];

describe('segmentationPoints', () => {
  it('pairs each supervoxel id with its root id and position', () => {
    expect(segmentationPoints(SCHEMAS.synapse!)).toEqual([
      { point: 'pre_pt', position: ['pre_pt_position_x', 'pre_pt_position_y', 'pre_pt_position_z'], supervoxel: 'pre_pt_supervoxel_id', root: 'pre_pt_root_id' },
      { point: 'post_pt', position: ['post_pt_position_x', 'post_pt_position_y', 'post_pt_position_z'], supervoxel: 'post_pt_supervoxel_id', root: 'post_pt_root_id' },
    ]);
    expect(segmentationPoints(SCHEMAS.point!).map((p) => p.point)).toEqual(['pt']);
  });
});

describe('liveSegmentedTables', () => {
  it('finds every annotation table with its segmentation table, by schema', () => {
    const found = liveSegmentedTables([
      ...tablesFor('synapses', 'synapse'),
      ...tablesFor('cells', 'point'),
      { table: 'bulk_chunk_ledger', columns: ['table_name text', 'upload_id text'] },
      { table: 'supervoxel_root', columns: ['supervoxel_id bigint', 'root_id bigint'] },
    ]);
    expect(found.map((t) => [t.table, t.segmentationTable, t.schema, t.points.length])).toEqual([
      ['cells', 'cells__seg', 'point', 1],
      ['synapses', 'synapses__seg', 'synapse', 2],
    ]);
  });

  it('leaves out derived tables, tables without a segmentation table, and tables of no known schema', () => {
    const odd = tablesFor('odd', 'point');
    odd[1] = { table: 'odd__seg', columns: [...odd[1]!.columns, 'extra integer'] };
    const found = liveSegmentedTables([
      ...tablesFor('synapses__v3', 'synapse'),
      { table: 'lonely', columns: columnsOf('point', 'annotation') },
      ...odd,
    ]);
    expect(found).toEqual([]);
  });
});

describe('the lookup query', () => {
  const tables = liveSegmentedTables([...tablesFor('synapses', 'synapse'), ...tablesFor('cells', 'point')]);
  const grid = { positionUnitNm: [4, 4.4, 40] as const, scale: { resolution: [8, 8.8, 40] as const, voxelOffset: [100, -3, 0] as const, chunkSize: [64, 64, 5] as const } };

  it('takes every point without a supervoxel id, ordered by chunk with exact integer arithmetic', () => {
    const sql = missingSupervoxelsSql(tables, grid);
    expect(sql.match(/UNION ALL/g)).toHaveLength(2);
    expect(sql).toContain('SELECT 0 AS t, 0 AS p, s."id", a."pt_position_x" AS x');
    expect(sql).toContain('WHERE s."pt_supervoxel_id" IS NULL');
    expect(sql).toContain('SELECT 1 AS t, 1 AS p');
    expect(sql).toContain('WHERE s."post_pt_supervoxel_id" IS NULL');
    // x: 4 / 8 voxels per unit is 1/2; y: 4.4 / 8.8 is 1/2 as well, not a ratio of doubles; floor division by div and mod.
    const voxelX = '(div(q.x::numeric * (1)::numeric, (2)::numeric) - CASE WHEN mod(q.x::numeric * (1)::numeric, (2)::numeric) < 0 THEN 1 ELSE 0 END)';
    expect(sql).toContain(`(div(${voxelX} - (100)::numeric, (64)::numeric) - CASE WHEN mod(${voxelX} - (100)::numeric, (64)::numeric) < 0 THEN 1 ELSE 0 END)`);
    expect(sql).toContain('div(q.y::numeric * (1)::numeric, (2)::numeric)');
    expect(sql).toContain('- (-3)::numeric, (64)::numeric)');
    expect(sql).toContain('div(q.z::numeric * (1)::numeric, (1)::numeric)');
    expect(sql).not.toContain('float8');
    expect(sql).toMatch(/ORDER BY .*, q\.t, q\.p, q\."id"$/);
  });

  it('refuses numbers that are not finite, and an empty plan', () => {
    expect(() => missingSupervoxelsSql(tables, { ...grid, positionUnitNm: [Number.NaN, 1, 1] })).toThrow(RangeError);
    expect(() => missingSupervoxelsSql([], grid)).toThrow();
  });
});

describe('the updates', () => {
  const [synapses] = liveSegmentedTables(tablesFor('synapses', 'synapse'));
  const pre = synapses!.points[0]!;

  it('write supervoxel ids only where they are still missing', () => {
    expect(setSupervoxelsSql(synapses!, pre)).toBe(
      'UPDATE "synapses__seg" s SET "pre_pt_supervoxel_id" = v.sv FROM unnest($1::bigint[], $2::bigint[]) AS v(id, sv) WHERE s."id" = v.id AND s."pre_pt_supervoxel_id" IS NULL',
    );
  });

  it('assign and replace roots valid at the run time, in keyset batches by id', () => {
    for (const sql of [assignRootsBatchSql(synapses!, pre), replaceExpiredRootsBatchSql(synapses!, pre)]) {
      expect(sql).toContain('r.valid_from <= $2 AND (r.valid_until IS NULL OR r.valid_until > $2)');
      expect(sql).toContain('($1::bigint IS NULL OR s."id" > $1::bigint)');
      expect(sql).toContain('ORDER BY s."id" LIMIT $3');
      expect(sql).toContain('UPDATE "synapses__seg" s SET "pre_pt_root_id" = b.root_id');
    }
    expect(assignRootsBatchSql(synapses!, pre)).toContain('CASE WHEN s."pre_pt_supervoxel_id" = 0 THEN 0::bigint ELSE r.root_id END');
    expect(replaceExpiredRootsBatchSql(synapses!, pre)).toContain('JOIN pg_temp.expired_root e ON e.root_id = s."pre_pt_root_id"');
  });
});
