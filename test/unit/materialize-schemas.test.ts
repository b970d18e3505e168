// Schemas, identifiers, and validateMapping: the load plan for good uploads, every problem for bad ones.
import { describe, expect, it } from 'vitest';
import { encodeNpy } from '../../functions/materialize/npy-write.ts';
import { NpyError, readNpyHeader, type NpyDtypeName } from '../../functions/materialize/npy.ts';
import {
  createTableSql,
  indexDefinitions,
  indexName,
  quoteIdent,
  SCHEMAS,
  tableColumns,
  validateMapping,
  SYNAPSE_NPY_MAPPING,
  type NpyFileInfo,
} from '../../functions/materialize/schemas.ts';
import { copyFromSql } from '../../functions/materialize/bulk/load.ts';

const file = (name: string, dtype: NpyDtypeName, shape: readonly [number] | readonly [number, number], opts: { fortranOrder?: boolean; cut?: number } = {}): NpyFileInfo => {
  const b = encodeNpy({ dtype, shape, fortranOrder: opts.fortranOrder, values: Array.from({ length: shape[0] * (shape[1] ?? 1) }, () => (dtype.endsWith('64') && !dtype.startsWith('f') ? 0n : 0)) });
  return { name, objectSize: b.length - (opts.cut ?? 0), header: readNpyHeader(b) };
};

const SYNAPSE_MAPPING = SYNAPSE_NPY_MAPPING;
const synapseFiles = (n = 10): NpyFileInfo[] => [
  file('id', 'int64', [n]),
  file('presyn_coords', 'int32', [n, 3]),
  file('center_coords', 'int64', [n, 3], { fortranOrder: true }),
  file('postsyn_coords', 'uint32', [n, 3]),
  file('sizes', 'float32', [n]),
  file('sv_ids_ordered', 'uint64', [n, 2], { fortranOrder: true }),
  file('root_ids_ordered', 'uint64', [n, 2]),
  file('unrelated', 'float64', [3]),
];

const problemsOf = (r: ReturnType<typeof validateMapping>) => (r.ok ? [] : r.problems);
const codes = (r: ReturnType<typeof validateMapping>) => problemsOf(r).map((p) => p.code).sort();

describe('schemas', () => {
  it('synapse: annotation table with 3-integer positions, segmentation table with uint64 ids as bigint', () => {
    expect(tableColumns(SCHEMAS.synapse!, 'annotation').map((c) => `${c.name} ${c.sqlType}${c.notNull ? '!' : ''}`)).toEqual([
      'id bigint!',
      'pre_pt_position_x integer!',
      'pre_pt_position_y integer!',
      'pre_pt_position_z integer!',
      'ctr_pt_position_x integer',
      'ctr_pt_position_y integer',
      'ctr_pt_position_z integer',
      'post_pt_position_x integer!',
      'post_pt_position_y integer!',
      'post_pt_position_z integer!',
      'size double precision',
    ]);
    expect(tableColumns(SCHEMAS.synapse!, 'segmentation').map((c) => `${c.name}:${c.target}`)).toEqual([
      'id:int8',
      'pre_pt_supervoxel_id:uint64',
      'post_pt_supervoxel_id:uint64',
      'pre_pt_root_id:uint64',
      'post_pt_root_id:uint64',
    ]);
  });
  it('point', () => {
    expect(tableColumns(SCHEMAS.point!, 'annotation').map((c) => c.name)).toEqual(['id', 'pt_position_x', 'pt_position_y', 'pt_position_z']);
    expect(tableColumns(SCHEMAS.point!, 'segmentation').map((c) => c.name)).toEqual(['id', 'pt_supervoxel_id', 'pt_root_id']);
  });
  it('quoteIdent quotes plain identifiers and refuses anything else', () => {
    expect(quoteIdent('select')).toBe('"select"');
    for (const bad of ['', 'A', '1a', 'a-b', 'a"b', 'a b', 'x; drop table y', 'é', 'a'.repeat(64)]) expect(() => quoteIdent(bad)).toThrow();
    expect(quoteIdent('a'.repeat(63))).toBe(`"${'a'.repeat(63)}"`);
  });
  it('DDL and index definitions', () => {
    const r = validateMapping({ schema: 'point', table: 'cells', columnMapping: { ids: 'id', pos: 'pt_position' }, files: [file('ids', 'int64', [2]), file('pos', 'int32', [2, 3])] });
    if (!r.ok) throw new Error('expected ok');
    const [ann, seg] = r.plan.tables;
    expect(createTableSql(ann!)).toBe('CREATE TABLE "cells" ("id" bigint NOT NULL, "pt_position_x" integer NOT NULL, "pt_position_y" integer NOT NULL, "pt_position_z" integer NOT NULL)');
    expect(createTableSql(seg!)).toBe('CREATE TABLE "cells__seg" ("id" bigint NOT NULL, "pt_supervoxel_id" bigint, "pt_root_id" bigint)');
    expect(copyFromSql(seg!)).toBe('COPY "cells__seg" ("id") FROM STDIN (FORMAT binary)');
    expect(indexDefinitions(SCHEMAS.point!, ann!).map((d) => d.sql)).toEqual([
      'ALTER TABLE "cells" ADD CONSTRAINT "cells_pkey" PRIMARY KEY ("id")',
      'CREATE INDEX "cells_pt_position_idx" ON "cells" ("pt_position_x", "pt_position_y", "pt_position_z")',
    ]);
    expect(indexDefinitions(SCHEMAS.point!, seg!).map((d) => d.name)).toEqual(['cells__seg_pkey', 'cells__seg_pt_supervoxel_id_idx', 'cells__seg_pt_root_id_idx']);
  });
  it('index names stay within 63 characters and distinct', () => {
    const t = 'a'.repeat(58);
    const a = indexName(`${t}__seg`, 'pre_pt_supervoxel_id_idx');
    const b = indexName(`${t}__seg`, 'post_pt_supervoxel_id_idx');
    expect(a.length).toBeLessThanOrEqual(63);
    expect(a).not.toBe(b);
    expect(quoteIdent(a)).toBeTruthy();
  });
});

describe('validateMapping: good uploads', () => {
  it('plans the issue\'s synapse example: tables, COPY columns and their sources in order', () => {
    const r = validateMapping({ schema: 'synapse', table: 'synapses', columnMapping: SYNAPSE_MAPPING, files: synapseFiles() });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.plan.rows).toBe(10);
    expect(r.plan.files.map((f) => f.name)).toEqual(['id', 'presyn_coords', 'center_coords', 'postsyn_coords', 'sizes', 'sv_ids_ordered', 'root_ids_ordered']);
    const [ann, seg] = r.plan.tables;
    expect(ann!.name).toBe('synapses');
    expect(ann!.copyColumns.map((c) => `${c.name}<-${c.file}[${c.arrayColumn}] ${c.conversion}`)).toEqual([
      'id<-id[0] exact',
      'pre_pt_position_x<-presyn_coords[0] exact',
      'pre_pt_position_y<-presyn_coords[1] exact',
      'pre_pt_position_z<-presyn_coords[2] exact',
      'ctr_pt_position_x<-center_coords[0] checked',
      'ctr_pt_position_y<-center_coords[1] checked',
      'ctr_pt_position_z<-center_coords[2] checked',
      'post_pt_position_x<-postsyn_coords[0] checked',
      'post_pt_position_y<-postsyn_coords[1] checked',
      'post_pt_position_z<-postsyn_coords[2] checked',
      'size<-sizes[0] exact',
    ]);
    expect(seg!.name).toBe('synapses__seg');
    expect(seg!.copyColumns.map((c) => `${c.name}<-${c.file}[${c.arrayColumn}]`)).toEqual([
      'id<-id[0]',
      'pre_pt_supervoxel_id<-sv_ids_ordered[0]',
      'post_pt_supervoxel_id<-sv_ids_ordered[1]',
      'pre_pt_root_id<-root_ids_ordered[0]',
      'post_pt_root_id<-root_ids_ordered[1]',
    ]);
  });
  it('optional columns may be left out; a position may share a file with another', () => {
    const r = validateMapping({
      schema: 'synapse',
      table: 'syn',
      columnMapping: { ids: 'id', both: ['pre_pt_position', 'post_pt_position'] },
      files: [file('ids', 'uint32', [4]), file('both', 'int32', [4, 6], { fortranOrder: true })],
    });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.plan.tables[0]!.copyColumns.map((c) => `${c.name}[${c.arrayColumn}]`)).toEqual([
      'id[0]', 'pre_pt_position_x[0]', 'pre_pt_position_y[1]', 'pre_pt_position_z[2]', 'post_pt_position_x[3]', 'post_pt_position_y[4]', 'post_pt_position_z[5]',
    ]);
    expect(r.plan.tables[1]!.copyColumns.map((c) => c.name)).toEqual(['id']);
  });
  it('a (N, 1) array may fill a scalar column; empty arrays plan zero rows', () => {
    const r = validateMapping({ schema: 'point', table: 'p', columnMapping: { i: 'id', p: 'pt_position' }, files: [file('i', 'int64', [0, 1]), file('p', 'int32', [0, 3])] });
    expect(r.ok && r.plan.rows).toBe(0);
  });
});

describe('validateMapping: every problem at once', () => {
  it('arrays of different lengths', () => {
    const files = synapseFiles();
    files[4] = file('sizes', 'float32', [9]);
    const r = validateMapping({ schema: 'synapse', table: 'synapses', columnMapping: SYNAPSE_MAPPING, files });
    expect(codes(r)).toEqual(['LENGTH_MISMATCH']);
    expect(problemsOf(r)[0]!.message).toContain('sizes.npy 9');
  });
  it('a mapping naming a missing file, an unknown column, a duplicate, a missing required column', () => {
    const r = validateMapping({
      schema: 'synapse',
      table: 'synapses',
      columnMapping: { id: 'id', presyn_coords: 'pre_pt_position', nope: 'size', sizes: 'volume', also: 'pre_pt_position' },
      files: [...synapseFiles(), file('also', 'int32', [10, 3])],
    });
    expect(codes(r)).toEqual(['DUPLICATE_COLUMN', 'MISSING_COLUMN', 'MISSING_FILE', 'UNKNOWN_COLUMN']);
    expect(problemsOf(r).find((p) => p.code === 'MISSING_COLUMN')!.column).toBe('post_pt_position');
    expect(problemsOf(r).find((p) => p.code === 'MISSING_FILE')!.file).toBe('nope');
  });
  it('array widths that do not match the mapping', () => {
    const r = validateMapping({
      schema: 'synapse',
      table: 'synapses',
      columnMapping: { id: 'id', presyn_coords: 'pre_pt_position', postsyn_coords: 'post_pt_position', sv: ['pre_pt_supervoxel_id', 'post_pt_supervoxel_id'] },
      files: [file('id', 'int64', [10, 2]), file('presyn_coords', 'int32', [30]), file('postsyn_coords', 'int32', [10, 2]), file('sv', 'uint64', [10])],
    });
    expect(codes(r)).toEqual(['LENGTH_MISMATCH', 'WIDTH_MISMATCH', 'WIDTH_MISMATCH', 'WIDTH_MISMATCH', 'WIDTH_MISMATCH']);
    expect(problemsOf(r).find((p) => p.file === 'presyn_coords')!.message).toBe('presyn_coords.npy has shape (30,), but [pre_pt_position] needs (N, 3)');
  });
  it('dtypes that cannot go into their columns', () => {
    const r = validateMapping({
      schema: 'synapse',
      table: 'synapses',
      columnMapping: { id: 'id', pre: 'pre_pt_position', post: 'post_pt_position', sizes: 'size', roots: ['pre_pt_root_id', 'post_pt_root_id'], sv: 'pre_pt_supervoxel_id' },
      files: [file('id', 'float64', [5]), file('pre', 'float32', [5, 3]), file('post', 'bool', [5, 3]), file('sizes', 'bool', [5]), file('roots', 'float64', [5, 2]), file('sv', 'int32', [5])],
    });
    expect(problemsOf(r).map((p) => `${p.code} ${p.column}`)).toEqual([
      'INCOMPATIBLE_DTYPE id',
      'INCOMPATIBLE_DTYPE pre_pt_position',
      'INCOMPATIBLE_DTYPE post_pt_position',
      'INCOMPATIBLE_DTYPE size',
      'INCOMPATIBLE_DTYPE pre_pt_root_id',
      'INCOMPATIBLE_DTYPE post_pt_root_id',
    ]);
    expect(problemsOf(r)[0]!.message).toBe("id.npy holds float64, which cannot go into 'id' (bigint)");
    expect(problemsOf(r)[4]!.message).toContain('a uint64 id');
  });
  it.each(['Synapses', 'syn-apses', 'x"; DROP TABLE catalog; --', '1abc', '', 'a__b', 'a'.repeat(59), 'table name'])('table name %j', (table) => {
    const r = validateMapping({ schema: 'synapse', table, columnMapping: SYNAPSE_MAPPING, files: synapseFiles() });
    expect(codes(r)).toEqual(['INVALID_IDENTIFIER']);
  });
  it('a table name of 58 characters is fine (its __seg table has 63)', () => {
    expect(validateMapping({ schema: 'synapse', table: 'a'.repeat(58), columnMapping: SYNAPSE_MAPPING, files: synapseFiles() }).ok).toBe(true);
  });
  it('column names that are not plain identifiers', () => {
    const r = validateMapping({ schema: 'synapse', table: 's', columnMapping: { ...SYNAPSE_MAPPING, sizes: 'size"; drop table s; --' }, files: synapseFiles() });
    expect(codes(r)).toEqual(['INVALID_IDENTIFIER']);
  });
  it('a truncated file, a longer file, an unreadable file', () => {
    const files = synapseFiles();
    files[0] = file('id', 'int64', [10], { cut: 1 });
    files[1] = file('presyn_coords', 'int32', [10, 3], { cut: -4 });
    files[2] = { name: 'center_coords', error: new NpyError('BAD_MAGIC', 'not an .npy file') };
    const r = validateMapping({ schema: 'synapse', table: 'synapses', columnMapping: SYNAPSE_MAPPING, files });
    expect(codes(r)).toEqual(['BAD_MAGIC', 'SIZE_MISMATCH', 'TRUNCATED']);
    expect(problemsOf(r).find((p) => p.code === 'TRUNCATED')!.file).toBe('id');
  });
  it('an unknown schema, an empty mapping', () => {
    expect(codes(validateMapping({ schema: 'toString', table: 't', columnMapping: { id: 'id' }, files: [file('id', 'int64', [1])] }))).toEqual(['UNKNOWN_SCHEMA']);
    expect(codes(validateMapping({ schema: 'point', table: 't', columnMapping: {}, files: [] }))).toEqual(['EMPTY_MAPPING', 'MISSING_COLUMN', 'MISSING_COLUMN']);
  });
});
