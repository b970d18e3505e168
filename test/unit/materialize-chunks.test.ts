// Chunk plans and the byte ranges of a chunk, checked against files written per the spec.
import { describe, expect, it } from 'vitest';
import { byteRanges, DEFAULT_CHUNK_ROWS, planChunks, rangeHeader } from '../../functions/materialize/bulk/chunks.ts';
import { encodeNpy } from '../../functions/materialize/npy-write.ts';
import { readNpyHeader } from '../../functions/materialize/npy.ts';

describe('planChunks', () => {
  it('cuts rows into chunks of 100,000 by default, the last one shorter', () => {
    expect(DEFAULT_CHUNK_ROWS).toBe(100_000);
    expect(planChunks({ rows: 250_001 })).toEqual([
      { index: 0, firstRow: 0, rows: 100_000 },
      { index: 1, firstRow: 100_000, rows: 100_000 },
      { index: 2, firstRow: 200_000, rows: 50_001 },
    ]);
  });
  it('handles exact multiples, one short chunk, and no rows', () => {
    expect(planChunks({ rows: 200_000 }).map((c) => c.rows)).toEqual([100_000, 100_000]);
    expect(planChunks({ rows: 7, chunkRows: 10 })).toEqual([{ index: 0, firstRow: 0, rows: 7 }]);
    expect(planChunks({ rows: 0 })).toEqual([]);
    expect(planChunks({ rows: 3, chunkRows: 1 })).toHaveLength(3);
  });
  it('covers every row exactly once', () => {
    for (const [rows, chunkRows] of [[1, 1], [99, 10], [100, 10], [2_000_000, 100_000], [12_345, 777]] as const) {
      const chunks = planChunks({ rows, chunkRows });
      let next = 0;
      chunks.forEach((c, i) => {
        expect(c.index).toBe(i);
        expect(c.firstRow).toBe(next);
        expect(c.rows).toBeGreaterThan(0);
        expect(c.rows).toBeLessThanOrEqual(chunkRows);
        next += c.rows;
      });
      expect(next).toBe(rows);
    }
  });
  it('rejects bad sizes', () => {
    expect(() => planChunks({ rows: -1 })).toThrow(RangeError);
    expect(() => planChunks({ rows: 1.5 })).toThrow(RangeError);
    expect(() => planChunks({ rows: 10, chunkRows: 0 })).toThrow(RangeError);
    expect(() => planChunks({ rows: 10, chunkRows: Number.NaN })).toThrow(RangeError);
  });
});

describe('byteRanges', () => {
  const header = (fortranOrder: boolean, rows: number, columns: number, itemSize: 1 | 4 | 8 = 8) => ({
    dtype: { name: 'int64' as const, itemSize, littleEndian: true, descr: '<i8' },
    fortranOrder,
    rows,
    columns,
  });
  it('C order: one contiguous range per chunk', () => {
    expect(byteRanges(header(false, 10, 3), 128, { firstRow: 4, rows: 3 })).toEqual([{ offset: 128 + 4 * 24, length: 72 }]);
  });
  it('Fortran order with k columns: k ranges, one per column', () => {
    expect(byteRanges(header(true, 10, 3), 128, { firstRow: 4, rows: 3 })).toEqual([
      { offset: 128 + 4 * 8, length: 24, column: 0 },
      { offset: 128 + (10 + 4) * 8, length: 24, column: 1 },
      { offset: 128 + (20 + 4) * 8, length: 24, column: 2 },
    ]);
  });
  it('a 1-D Fortran array is one range', () => {
    expect(byteRanges(header(true, 10, 1, 4), 64, { firstRow: 9, rows: 1 })).toEqual([{ offset: 64 + 36, length: 4 }]);
  });
  it('rejects a chunk outside the array', () => {
    expect(() => byteRanges(header(false, 10, 3), 128, { firstRow: 8, rows: 3 })).toThrow(RangeError);
    expect(() => byteRanges(header(false, 10, 3), 128, { firstRow: -1, rows: 1 })).toThrow(RangeError);
  });
  it('rangeHeader is inclusive', () => {
    expect(rangeHeader({ offset: 128, length: 72 })).toBe('bytes=128-199');
    expect(() => rangeHeader({ offset: 128, length: 0 })).toThrow(RangeError);
  });
  it('the ranges of all chunks select exactly the elements of those rows, in C and Fortran order', () => {
    const rows = 23;
    const columns = 3;
    const values = Array.from({ length: rows * columns }, (_, i) => i); // element (i, j) = i * 3 + j
    for (const fortranOrder of [false, true]) {
      const file = encodeNpy({ dtype: 'int32', shape: [rows, columns], fortranOrder, values, version: 2 });
      const h = readNpyHeader(file);
      const seen: number[] = [];
      for (const chunk of planChunks({ rows, chunkRows: 5 })) {
        const ranges = byteRanges(h, h.dataOffset, chunk);
        expect(ranges).toHaveLength(fortranOrder ? columns : 1);
        const read = ranges.map((r) => file.subarray(r.offset, r.offset + r.length));
        for (let i = 0; i < chunk.rows; i++) {
          for (let j = 0; j < columns; j++) {
            const v = fortranOrder ? read[j]!.readInt32LE(i * 4) : read[0]!.readInt32LE((i * columns + j) * 4);
            expect(v).toBe((chunk.firstRow + i) * columns + j);
            seen.push(v);
          }
        }
      }
      expect(seen.sort((a, b) => a - b)).toEqual(values);
    }
  });
});
