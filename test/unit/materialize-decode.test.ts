// Decoding chunk bytes into exact values (every dtype, byte order, memory order, edge values) and converting
// them to their PostgreSQL column types exactly or not at all; the uint64 ↔ bigint representation.
import { describe, expect, it } from 'vitest';
import { byteRanges, planChunks } from '../../functions/materialize/bulk/chunks.ts';
import {
  conversionFor,
  ConversionError,
  convertColumn,
  decodeChunk,
  uint64FromPg,
  uint64Sql,
  uint64ToPg,
  type DecodedColumn,
  type PgValues,
  type TargetType,
} from '../../functions/materialize/decode.ts';
import { encodeNpy, type NpyScalar } from '../../functions/materialize/npy-write.ts';
import { NpyError, readNpyHeader, type NpyDtypeName } from '../../functions/materialize/npy.ts';

const I31 = 2 ** 31 - 1;
const I63 = (1n << 63n) - 1n;
const EDGES: Record<NpyDtypeName, NpyScalar[]> = {
  int32: [0, -1, I31, -(2 ** 31), 1, 123456789],
  uint32: [0, 1, I31, 2 ** 31, 2 ** 32 - 1, 42],
  int64: [0n, -1n, BigInt(I31), I63, -(1n << 63n), 9007199254740993n],
  uint64: [0n, 1n, I63, 1n << 63n, (1n << 64n) - 1n, 9007199254740993n],
  float32: [0, -0, Number.NaN, Infinity, -Infinity, 1.5, 3.4028234663852886e38, 1.401298464324817e-45, -2.5],
  float64: [0, -0, Number.NaN, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, 0.1, 2 ** 53 + 2],
  bool: [true, false, false, true, true, false],
};

/** Decodes a whole file chunk by chunk and returns column j's values in row order. */
function decodeAll(file: Buffer, chunkRows: number): unknown[][] {
  const h = readNpyHeader(file);
  const out: unknown[][] = Array.from({ length: h.columns }, () => []);
  for (const chunk of planChunks({ rows: h.rows, chunkRows })) {
    const buffers = byteRanges(h, h.dataOffset, chunk).map((r) => file.subarray(r.offset, r.offset + r.length));
    decodeChunk(h, buffers, chunk.rows).forEach((col, j) => {
      expect(col.dtype).toBe(h.dtype.name);
      expect(col.values.length).toBe(chunk.rows);
      out[j]!.push(...Array.from(col.values as ArrayLike<unknown>));
    });
  }
  return out;
}

const expected = (dtype: NpyDtypeName, v: NpyScalar): unknown =>
  dtype === 'bool' ? (v ? 1 : 0) : dtype === 'float32' ? Math.fround(Number(v)) : v;

describe('decodeChunk: every dtype × byte order × memory order × rank, edge values, exact', () => {
  for (const dtype of Object.keys(EDGES) as NpyDtypeName[])
    for (const order of ['<', '>'] as const)
      for (const fortranOrder of [false, true])
        for (const columns of [1, 2, 3]) {
          it(`${order}${dtype} ${fortranOrder ? 'F' : 'C'} k=${columns}`, () => {
            const edges = EDGES[dtype];
            const rows = edges.length + 1;
            // Column j is the edge values rotated by j, so every column differs.
            const cell = (i: number, j: number) => edges[(i + j) % edges.length]!;
            const values = Array.from({ length: rows * columns }, (_, n) => cell(Math.floor(n / columns), n % columns));
            const shape = columns === 1 ? ([rows] as const) : ([rows, columns] as const);
            const file = encodeNpy({ dtype, order: dtype === 'bool' ? '|' : order, fortranOrder, shape, values, version: 1 });
            const got = decodeAll(file, 2);
            for (let j = 0; j < columns; j++) {
              for (let i = 0; i < rows; i++) expect(Object.is(got[j]![i], expected(dtype, cell(i, j))), `(${i}, ${j})`).toBe(true);
            }
          });
        }
  it('keeps uint64 above 2^63 and int64 extremes as exact bigints', () => {
    const file = encodeNpy({ dtype: 'uint64', order: '>', shape: [3], values: [1n << 63n, (1n << 64n) - 1n, (1n << 63n) + 1n] });
    expect(decodeAll(file, 10)[0]).toEqual([9223372036854775808n, 18446744073709551615n, 9223372036854775809n]);
  });
  it('reads any non-zero bool byte as 1', () => {
    const file = encodeNpy({ dtype: 'bool', shape: [3], values: [true, false, true] });
    const h = readNpyHeader(file);
    const data = Buffer.from([0, 7, 255]);
    expect(Array.from(decodeChunk(h, [data], 3)[0]!.values as Uint8Array)).toEqual([0, 1, 1]);
  });
  it('TRUNCATED for buffers of the wrong number or size', () => {
    const h = { dtype: { name: 'int32' as const, itemSize: 4 as const, littleEndian: true, descr: '<i4' }, fortranOrder: true, columns: 2 };
    const code = (f: () => unknown) => {
      try {
        f();
        return 'none';
      } catch (e) {
        return (e as NpyError).code;
      }
    };
    expect(code(() => decodeChunk(h, [Buffer.alloc(8)], 1))).toBe('TRUNCATED');
    expect(code(() => decodeChunk(h, [Buffer.alloc(4), Buffer.alloc(3)], 1))).toBe('TRUNCATED');
    expect(decodeChunk(h, [Buffer.alloc(4), Buffer.alloc(4)], 1)).toHaveLength(2);
    expect(code(() => decodeChunk({ ...h, fortranOrder: false }, [Buffer.alloc(7)], 1))).toBe('TRUNCATED');
  });
  it('decodes from an unaligned buffer (a slice of a larger read)', () => {
    const big = Buffer.alloc(17);
    big.writeBigUInt64BE((1n << 64n) - 2n, 1);
    big.writeBigUInt64BE(1n << 63n, 9);
    const h = { dtype: { name: 'uint64' as const, itemSize: 8 as const, littleEndian: false, descr: '>u8' }, fortranOrder: false, columns: 1 };
    expect(Array.from(decodeChunk(h, [big.subarray(1)], 2)[0]!.values as BigUint64Array)).toEqual([(1n << 64n) - 2n, 1n << 63n]);
  });
});

describe('uint64 ids as PostgreSQL bigint bits', () => {
  it('round-trips the edges exactly', () => {
    for (const u of [0n, 1n, I63, 1n << 63n, (1n << 63n) + 1n, (1n << 64n) - 1n, 864691135000000000n]) {
      const s = uint64ToPg(u);
      expect(s).toBeGreaterThanOrEqual(-(1n << 63n));
      expect(s).toBeLessThanOrEqual(I63);
      expect(uint64FromPg(s)).toBe(u);
      expect(uint64FromPg(String(s))).toBe(u);
    }
    expect(uint64ToPg(1n << 63n)).toBe(-(1n << 63n));
    expect(uint64ToPg((1n << 64n) - 1n)).toBe(-1n);
    expect(uint64ToPg(I63)).toBe(I63);
  });
  it('rejects values that are not uint64', () => {
    expect(() => uint64ToPg(-1n)).toThrow(RangeError);
    expect(() => uint64ToPg(1n << 64n)).toThrow(RangeError);
  });
  it('uint64Sql maps a column back to numeric', () => {
    expect(uint64Sql('"pt_root_id"')).toBe('(CASE WHEN "pt_root_id" < 0 THEN "pt_root_id"::numeric + 18446744073709551616 ELSE "pt_root_id"::numeric END)');
  });
});

const col = (dtype: NpyDtypeName, values: NpyScalar[]): DecodedColumn => {
  const file = encodeNpy({ dtype, shape: [values.length], values });
  const h = readNpyHeader(file);
  return decodeChunk(h, [file.subarray(h.dataOffset)], values.length)[0]!;
};
const vals = (p: PgValues): unknown[] => Array.from(p.values as ArrayLike<unknown>);
const ctx = { column: 'f.npy → t.c', firstRow: 1000 };
const failure = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof ConversionError) return { code: e.code, row: e.row, value: e.value };
    throw e;
  }
  return undefined;
};

describe('conversion rules', () => {
  it('matches the documented table', () => {
    const table: Record<TargetType, Partial<Record<NpyDtypeName, string>>> = {
      int4: { int32: 'exact', uint32: 'checked', int64: 'checked', uint64: 'checked' },
      int8: { int32: 'exact', uint32: 'exact', int64: 'exact', uint64: 'checked' },
      uint64: { uint32: 'exact', uint64: 'exact', int32: 'checked', int64: 'checked' },
      float8: { float32: 'exact', float64: 'exact', int32: 'exact', uint32: 'exact', int64: 'checked', uint64: 'checked' },
      bool: { bool: 'exact' },
    };
    for (const target of Object.keys(table) as TargetType[])
      for (const dtype of Object.keys(EDGES) as NpyDtypeName[]) expect(conversionFor(dtype, target), `${dtype} → ${target}`).toBe(table[target][dtype]);
  });
  it('rejected pairs throw TypeError', () => {
    expect(() => convertColumn(col('float64', [1]), 'int8', ctx)).toThrow(TypeError);
    expect(() => convertColumn(col('bool', [true]), 'uint64', ctx)).toThrow(TypeError);
  });
});

describe('convertColumn', () => {
  it('int4 (positions): int32 as is; wider types when every value fits, else the failing row', () => {
    expect(vals(convertColumn(col('int32', [0, -1, I31]), 'int4', ctx))).toEqual([0, -1, I31]);
    expect(vals(convertColumn(col('int64', [0n, -(1n << 31n), BigInt(I31)]), 'int4', ctx))).toEqual([0, -(2 ** 31), I31]);
    expect(vals(convertColumn(col('uint64', [5n, BigInt(I31)]), 'int4', ctx))).toEqual([5, I31]);
    expect(failure(() => convertColumn(col('uint32', [1, 2 ** 31]), 'int4', ctx))).toEqual({ code: 'VALUE_OUT_OF_RANGE', row: 1001, value: '2147483648' });
    expect(failure(() => convertColumn(col('int64', [-(1n << 31n) - 1n]), 'int4', ctx))?.row).toBe(1000);
    expect(failure(() => convertColumn(col('uint64', [(1n << 64n) - 1n]), 'int4', ctx))?.value).toBe('18446744073709551615');
    // values whose low 32 bits alone would fit
    for (const v of [1n << 32n, (1n << 32n) + 5n, -(1n << 32n), (1n << 31n), -(1n << 62n) + 7n]) {
      expect(failure(() => convertColumn(col('int64', [1n, v]), 'int4', ctx))?.value, String(v)).toBe(String(v));
    }
    for (const v of [1n << 32n, 1n << 31n, (1n << 63n) + 3n]) expect(failure(() => convertColumn(col('uint64', [v]), 'int4', ctx))?.value).toBe(String(v));
    expect(vals(convertColumn(col('int64', [-1n, -(1n << 31n), 7n, -123456789n]), 'int4', ctx))).toEqual([-1, -(2 ** 31), 7, -123456789]);
  });
  it('int8 (annotation id): exact for int32/uint32/int64, uint64 up to 2^63 - 1', () => {
    expect(convertColumn(col('int64', [I63, -(1n << 63n), -1n]), 'int8', ctx)).toEqual({ type: 'int8', values: BigInt64Array.from([I63, -(1n << 63n), -1n]) });
    expect(vals(convertColumn(col('int32', [-1, I31]), 'int8', ctx))).toEqual([-1n, BigInt(I31)]);
    expect(vals(convertColumn(col('uint32', [2 ** 32 - 1]), 'int8', ctx))).toEqual([4294967295n]);
    expect(vals(convertColumn(col('uint64', [I63]), 'int8', ctx))).toEqual([I63]);
    expect(failure(() => convertColumn(col('uint64', [0n, 0n, 1n << 63n]), 'int8', ctx))).toEqual({ code: 'VALUE_OUT_OF_RANGE', row: 1002, value: '9223372036854775808' });
  });
  it('uint64 (segmentation id): the same bits as signed bigint; negative signed values fail', () => {
    const ids = [0n, I63, 1n << 63n, (1n << 64n) - 1n];
    const out = convertColumn(col('uint64', ids), 'uint64', ctx);
    expect(out.type).toBe('int8');
    expect(Array.from(out.values as BigInt64Array)).toEqual(ids.map(uint64ToPg));
    expect(vals(convertColumn(col('uint32', [2 ** 32 - 1, 0]), 'uint64', ctx))).toEqual([4294967295n, 0n]);
    expect(vals(convertColumn(col('int64', [0n, I63]), 'uint64', ctx))).toEqual([0n, I63]);
    expect(vals(convertColumn(col('int32', [0, I31]), 'uint64', ctx))).toEqual([0n, BigInt(I31)]);
    expect(failure(() => convertColumn(col('int64', [1n, -1n]), 'uint64', ctx))).toEqual({ code: 'VALUE_OUT_OF_RANGE', row: 1001, value: '-1' });
    expect(failure(() => convertColumn(col('int32', [-(2 ** 31)]), 'uint64', ctx))?.value).toBe('-2147483648');
  });
  it('float8 (size): floats and 32-bit ints exactly, 64-bit ints only when the double is exact', () => {
    const f32 = convertColumn(col('float32', [1.1, -0, Number.NaN]), 'float8', ctx).values as Float64Array;
    expect(f32[0]).toBe(Math.fround(1.1));
    expect(Object.is(f32[1], -0)).toBe(true);
    expect(f32[2]).toBeNaN();
    expect(vals(convertColumn(col('uint32', [2 ** 32 - 1]), 'float8', ctx))).toEqual([2 ** 32 - 1]);
    expect(vals(convertColumn(col('int64', [-(1n << 53n), 1n << 53n, 1n << 62n]), 'float8', ctx))).toEqual([-(2 ** 53), 2 ** 53, 2 ** 62]);
    expect(vals(convertColumn(col('uint64', [(1n << 64n) - 2048n]), 'float8', ctx))).toEqual([2 ** 64 - 2048]);
    expect(failure(() => convertColumn(col('int64', [(1n << 53n) + 1n]), 'float8', ctx))?.value).toBe('9007199254740993');
    expect(failure(() => convertColumn(col('uint64', [(1n << 64n) - 1n]), 'float8', ctx))?.row).toBe(1000);
  });
  it('bool', () => {
    expect(convertColumn(col('bool', [true, false]), 'bool', ctx)).toEqual({ type: 'bool', values: Uint8Array.from([1, 0]) });
  });
  it('names the column in the message', () => {
    expect(() => convertColumn(col('int64', [-5n]), 'uint64', ctx)).toThrow(/f\.npy → t\.c: row 1000 has -5, which does not fit in a uint64 id/);
  });
});
