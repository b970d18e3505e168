// A chunk's COPY written straight from its .npy bytes is byte for byte the COPY of the decoded, converted columns
// (decodeChunk + convertColumn + encodeTuples), for every dtype × byte order × memory order × rank × target type,
// edge values included; a value that does not fit fails with the same file, column, row and value.
import { describe, expect, it } from 'vitest';
import { chunkCopyBytes, chunkFiles, encodeChunkCopy, type ChunkFileBytes } from '../../functions/materialize/bulk/chunk-copy.ts';
import { byteRanges, planChunks } from '../../functions/materialize/bulk/chunks.ts';
import { conversionFor, ConversionError, convertColumn, decodeChunk, type TargetType } from '../../functions/materialize/decode.ts';
import { encodeNpy, type NpyScalar } from '../../functions/materialize/npy-write.ts';
import { NpyError, readNpyHeader, type NpyDtypeName } from '../../functions/materialize/npy.ts';
import { copyHeader, copyTrailer, encodeTuples } from '../../functions/materialize/pgcopy.ts';
import type { CopyColumn } from '../../functions/materialize/schemas.ts';

const I31 = 2 ** 31 - 1;
const I63 = (1n << 63n) - 1n;
/** Edge values first; the rest fit every target their dtype may go into (so most chunks encode, some fail). */
const VALUES: Record<NpyDtypeName, NpyScalar[]> = {
  int32: [0, -1, I31, -(2 ** 31), 1, 123456789, 7, 8, 9],
  uint32: [0, 1, I31, 2 ** 31, 2 ** 32 - 1, 42, 7, 8, 9],
  int64: [0n, -1n, BigInt(I31), I63, -(1n << 63n), 9007199254740993n, -(1n << 53n), 1n << 53n, 1n << 62n, -(2n ** 31n), 7n, 8n],
  uint64: [0n, 1n, I63, 1n << 63n, (1n << 64n) - 1n, 9007199254740993n, (1n << 64n) - 2048n, 1n << 53n, BigInt(I31), 7n, 8n],
  float32: [0, -0, Number.NaN, Infinity, -Infinity, 1.5, 3.4028234663852886e38, 1.401298464324817e-45, -2.5],
  float64: [0, -0, Number.NaN, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, 0.1, 2 ** 53 + 2],
  bool: [true, false, false, true, true, false, true],
};
const TARGETS: TargetType[] = ['int4', 'int8', 'uint64', 'float8', 'bool'];

type Outcome = { bytes: string } | { column: string; row: number; value: string };

function outcome(encode: () => Buffer): Outcome {
  try {
    return { bytes: encode().toString('hex') };
  } catch (e) {
    if (e instanceof ConversionError) return { column: e.column, row: e.row, value: e.value };
    throw e;
  }
}

describe('encodeChunkCopy: the same bytes as decoding, converting and encoding the columns', () => {
  for (const dtype of Object.keys(VALUES) as NpyDtypeName[])
    for (const order of dtype === 'bool' ? (['|'] as const) : (['<', '>'] as const))
      for (const fortranOrder of [false, true])
        for (const columns of [1, 3])
          for (const target of TARGETS.filter((t) => conversionFor(dtype, t) !== undefined)) {
            it(`${order}${dtype} ${fortranOrder ? 'F' : 'C'} k=${columns} → ${target}`, () => {
              const edges = VALUES[dtype];
              const rows = edges.length * 2;
              // Column j is the values rotated by j; the second half of the rows repeats the values that fit everywhere.
              const cell = (i: number, j: number) => (i < edges.length ? edges[(i + j) % edges.length]! : edges[edges.length - 1 - ((i + j) % 3)]!);
              const values = Array.from({ length: rows * columns }, (_, n) => cell(Math.floor(n / columns), n % columns));
              const file = encodeNpy({ dtype, order, shape: columns === 1 ? [rows] : [rows, columns], fortranOrder, values: fortranOrder ? fortran(values, rows, columns) : values });
              const h = readNpyHeader(file);
              const copyColumns: CopyColumn[] = Array.from({ length: columns }, (_, j) => ({ name: `c${j}`, target, file: 'f', arrayColumn: j, conversion: conversionFor(dtype, target)! }));
              const table = { name: 't', copyColumns };
              for (const chunk of planChunks({ rows, chunkRows: 5 })) {
                const buffers = () => byteRanges(h, h.dataOffset, chunk).map((r) => Buffer.from(file.subarray(r.offset, r.offset + r.length)));
                const reference = outcome(() => {
                  const decoded = decodeChunk(h, buffers(), chunk.rows);
                  const pg = copyColumns.map((c) => convertColumn(decoded[c.arrayColumn]!, target, { column: `f.npy → t.${c.name}`, firstRow: chunk.firstRow }));
                  return Buffer.concat([copyHeader(), encodeTuples(pg, 0, chunk.rows), copyTrailer()]);
                });
                const files = new Map<string, ChunkFileBytes>([['f', { header: h, buffers: buffers() }]]);
                const direct = outcome(() => encodeChunkCopy(table, chunkFiles(files, chunk.rows), chunk));
                expect(direct, `rows ${chunk.firstRow}…`).toEqual(reference);
                if ('bytes' in direct) expect(direct.bytes.length / 2).toBe(chunkCopyBytes(table, chunk.rows));
              }
            });
          }
});

/** Row-major values laid out column after column. */
function fortran(values: NpyScalar[], rows: number, columns: number): NpyScalar[] {
  return Array.from({ length: rows * columns }, (_, n) => values[(n % rows) * columns + Math.floor(n / rows)]!);
}

describe('encodeChunkCopy: buffers', () => {
  const h = readNpyHeader(encodeNpy({ dtype: 'int64', order: '>', shape: [2, 2], values: [1n, -2n, 3n, -4n] }));
  const table = { name: 't', copyColumns: [0, 1].map((j): CopyColumn => ({ name: `c${j}`, target: 'int8', file: 'f', arrayColumn: j, conversion: 'exact' })) };
  const data = Buffer.from('0000000000000001fffffffffffffffe0000000000000003fffffffffffffffc', 'hex');
  const tuples = '0002' + '000000080000000000000001' + '00000008fffffffffffffffe' + '0002' + '000000080000000000000003' + '00000008fffffffffffffffc';

  it('reads unaligned bytes through a copy, and writes into a larger buffer given to it', () => {
    const unaligned = Buffer.alloc(data.length + 1);
    data.copy(unaligned, 1);
    const out = Buffer.alloc(200, 0xee);
    const copy = encodeChunkCopy(table, chunkFiles(new Map([['f', { header: h, buffers: [unaligned.subarray(1)] }]]), 2), { firstRow: 0, rows: 2 }, out);
    expect(copy.buffer).toBe(out.buffer);
    expect(copy.toString('hex')).toBe(copyHeader().toString('hex') + tuples + 'ffff');
    expect(out[copy.length]).toBe(0xee);
  });
  it('refuses buffers of the wrong length (TRUNCATED) and a buffer too small for the COPY', () => {
    expect(() => chunkFiles(new Map([['f', { header: h, buffers: [data.subarray(1)] }]]), 2)).toThrow(NpyError);
    const files = chunkFiles(new Map([['f', { header: h, buffers: [Buffer.from(data)] }]]), 2);
    expect(() => encodeChunkCopy(table, files, { firstRow: 0, rows: 2 }, Buffer.alloc(10))).toThrow(RangeError);
    expect(encodeChunkCopy(table, files, { firstRow: 0, rows: 0 }).toString('hex')).toBe(copyHeader().toString('hex') + 'ffff');
  });
});
