// One encoded chunk streamed into the local cloud's PostgreSQL with COPY … FROM STDIN (FORMAT binary) via
// pg-copy-streams, read back and compared value by value: uint64 ids above 2^63, positions from Fortran- and
// C-ordered files of several dtypes, sizes with -0 and NaN.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { byteRanges, planChunks } from '../../functions/materialize/bulk/chunks.ts';
import { decodeChunk, uint64FromPg, type DecodedColumn } from '../../functions/materialize/decode.ts';
import { copyFromSql, tableChunkValues } from '../../functions/materialize/bulk/load.ts';
import { encodeNpy } from '../../functions/materialize/npy-write.ts';
import { parseNpyHeader } from '../../functions/materialize/npy.ts';
import { encodeCopy } from '../../functions/materialize/pgcopy.ts';
import { createTableSql, quoteIdent, validateMapping } from '../../functions/materialize/schemas.ts';

const pool = new pg.Pool({ connectionString: inject('endpoints').postgres, max: 1 });
const table = `mat_copy_${Date.now()}_${process.pid}`;
afterAll(async () => {
  await pool.query(`DROP TABLE IF EXISTS ${quoteIdent(table)}, ${quoteIdent(`${table}__seg`)}`);
  await pool.end();
});

const N = 7;
const ids = [0n, 1n, 2n ** 63n - 1n, -(2n ** 63n), -1n, 42n, 1234567890123n];
const pos = (i: number, k: number) => [i * 3 + k, -(2 ** 31) + i, 2 ** 31 - 1 - i][k]!;
const svs = [0n, 1n, 2n ** 63n - 1n, 2n ** 63n, 2n ** 63n + 1n, 2n ** 64n - 1n, 864691135000000000n];
const sizes = [0, -0, Number.NaN, 1.5, -2.25e300, Number.MAX_VALUE, 5e-324];

describe('materialize: binary COPY into PostgreSQL', () => {
  it('loads one chunk of the synapse schema exactly', async () => {
    const files = {
      id: encodeNpy({ dtype: 'int64', order: '>', shape: [N], values: ids, version: 2 }),
      pre: encodeNpy({ dtype: 'int32', shape: [N, 3], fortranOrder: true, values: Array.from({ length: N * 3 }, (_, n) => pos(Math.floor(n / 3), n % 3)) }),
      post: encodeNpy({ dtype: 'int64', order: '>', shape: [N, 3], values: Array.from({ length: N * 3 }, (_, n) => BigInt(pos(Math.floor(n / 3), 2 - (n % 3)))), version: 3 }),
      sizes: encodeNpy({ dtype: 'float64', shape: [N], values: sizes }),
      sv: encodeNpy({ dtype: 'uint64', shape: [N, 2], fortranOrder: true, order: '>', values: svs.flatMap((v, i) => [v, svs[N - 1 - i]!]) }),
    };
    const headers = Object.fromEntries(Object.entries(files).map(([name, b]) => [name, parseNpyHeader(b, b.length)]));
    const result = validateMapping({
      schema: 'synapse',
      table,
      columnMapping: { id: 'id', pre: 'pre_pt_position', post: 'post_pt_position', sizes: 'size', sv: ['pre_pt_supervoxel_id', 'post_pt_root_id'] },
      files: Object.entries(files).map(([name, b]) => ({ name, objectSize: b.length, header: headers[name]! })),
    });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const { plan } = result;
    const [chunk] = planChunks({ rows: plan.rows });
    const decoded = new Map<string, DecodedColumn[]>();
    for (const [name, b] of Object.entries(files)) {
      const h = headers[name]!;
      decoded.set(name, decodeChunk(h, byteRanges(h, h.dataOffset, chunk!).map((r) => b.subarray(r.offset, r.offset + r.length)), chunk!.rows));
    }

    const client = await pool.connect();
    try {
      for (const t of plan.tables) {
        await client.query(createTableSql(t));
        const values = tableChunkValues(t, decoded, chunk!.firstRow);
        await pipeline(Readable.from(encodeCopy(values, chunk!.rows, { rowsPerBuffer: 3 })), client.query(copyFrom(copyFromSql(t))));
      }
    } finally {
      client.release();
    }

    const ann = await pool.query(`SELECT id::text, pre_pt_position_x, pre_pt_position_y, pre_pt_position_z, post_pt_position_x, post_pt_position_y, post_pt_position_z,
      ctr_pt_position_x, size, size::text AS size_text FROM ${quoteIdent(table)} ORDER BY ctid`);
    expect(ann.rows).toHaveLength(N);
    ann.rows.forEach((r, i) => {
      expect(BigInt(r.id)).toBe(ids[i]);
      expect([r.pre_pt_position_x, r.pre_pt_position_y, r.pre_pt_position_z]).toEqual([pos(i, 0), pos(i, 1), pos(i, 2)]);
      expect([r.post_pt_position_x, r.post_pt_position_y, r.post_pt_position_z]).toEqual([pos(i, 2), pos(i, 1), pos(i, 0)]);
      expect(r.ctr_pt_position_x).toBeNull();
      expect(Object.is(r.size, sizes[i]), `size row ${i}: ${r.size_text}`).toBe(true);
    });

    const seg = await pool.query(`SELECT id::text, pre_pt_supervoxel_id::text AS sv, post_pt_root_id::text AS root, pre_pt_root_id, post_pt_supervoxel_id
      FROM ${quoteIdent(`${table}__seg`)} ORDER BY ctid`);
    seg.rows.forEach((r, i) => {
      expect(BigInt(r.id)).toBe(ids[i]);
      expect(uint64FromPg(r.sv)).toBe(svs[i]);
      expect(uint64FromPg(r.root)).toBe(svs[N - 1 - i]);
      expect(r.pre_pt_root_id).toBeNull();
      expect(r.post_pt_supervoxel_id).toBeNull();
    });
    // Equality on ids ≥ 2^63 works in SQL through the same mapping.
    const hit = await pool.query(`SELECT count(*)::int AS n FROM ${quoteIdent(`${table}__seg`)} WHERE pre_pt_supervoxel_id = $1`, [String(BigInt.asIntN(64, 2n ** 64n - 1n))]);
    expect(hit.rows[0].n).toBe(1);
  });
});
