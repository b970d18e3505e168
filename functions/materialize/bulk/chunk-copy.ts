// A chunk's binary COPY for one table, written straight from the chunk's `.npy` bytes: each value is read once
// from the bytes S3 returned (either byte order, C or Fortran order), checked against its column's type, and
// written in network byte order into one Buffer, with no typed array, bigint or object per value in between (the
// bulk load's hot path: most of its time went to those copies and to collecting their garbage). Pure.
//
// The conversions are decode.ts's (CONVERSIONS: which dtype may go into which type; a value that does not fit is a
// ConversionError naming its file, column and row); the unit tests hold this encoder to decodeChunk + convertColumn
// + encodeTuples byte for byte, for every dtype, byte order, memory order and target type.
import { conversionFor, ConversionError, type TargetType } from '../decode.ts';
import { NpyError, type NpyDtypeName, type NpyHeader } from '../npy.ts';
import { copyHeader, copyTrailer } from '../pgcopy.ts';
import type { TablePlan } from '../schemas.ts';

/** A file's bytes for one chunk, as chunks.byteRanges lays them out: one buffer in C order (or 1-D), one per column in Fortran order. */
export interface ChunkFileBytes {
  header: Pick<NpyHeader, 'dtype' | 'fortranOrder' | 'columns'>;
  buffers: readonly Uint8Array[];
}

/** A chunk's file, ready to encode: its buffers little-endian and aligned to the item size. */
export interface ChunkFile {
  dtype: NpyDtypeName;
  itemSize: number;
  columns: number;
  /** One buffer per array column (Fortran order), or one for all of them. */
  perColumn: boolean;
  buffers: readonly Uint8Array[];
}

/**
 * The chunk's files ready for encodeChunkCopy (once per chunk, for all its tables): buffer lengths checked as
 * decodeChunk does (NpyError TRUNCATED), big-endian bytes turned little-endian IN PLACE (Buffer's native swap: the
 * buffers are the load's own), unaligned ones copied, so that every read is a typed array's.
 */
export function chunkFiles(files: ReadonlyMap<string, ChunkFileBytes>, rows: number): Map<string, ChunkFile> {
  const out = new Map<string, ChunkFile>();
  for (const [name, { header, buffers }] of files) {
    const { dtype, columns } = header;
    const size = dtype.itemSize;
    const perColumn = header.fortranOrder && columns > 1;
    const expected = perColumn ? Array.from({ length: columns }, () => rows * size) : [rows * columns * size];
    if (buffers.length !== expected.length || buffers.some((b, i) => b.byteLength !== expected[i])) {
      throw new NpyError('TRUNCATED', `${name}: chunk of ${rows} rows needs ${expected.length} buffer(s) of ${expected[0]} bytes, got [${buffers.map((b) => b.byteLength).join(', ')}]`);
    }
    const ready = buffers.map((b) => {
      const aligned = b.byteOffset % size === 0 ? Buffer.from(b.buffer, b.byteOffset, b.byteLength) : Buffer.from(b);
      if (!dtype.littleEndian && size === 8) aligned.swap64();
      if (!dtype.littleEndian && size === 4) aligned.swap32();
      return aligned;
    });
    out.set(name, { dtype: dtype.name, itemSize: size, columns, perColumn, buffers: ready });
  }
  return out;
}

/** Bytes of the value of each target type in the COPY (bool 1, int4 4, the others 8). */
const WIDTH: Record<TargetType, number> = { int4: 4, int8: 8, uint64: 8, float8: 8, bool: 1 };

const HEADER_BYTES = 19;
const TRAILER_BYTES = 2;

const tupleBytes = (table: Pick<TablePlan, 'copyColumns'>): number => 2 + table.copyColumns.reduce((sum, c) => sum + 4 + WIDTH[c.target], 0);

/** Bytes of the whole COPY (header, tuples, trailer) of `rows` rows of the table. */
export function chunkCopyBytes(table: Pick<TablePlan, 'copyColumns'>, rows: number): number {
  return HEADER_BYTES + rows * tupleBytes(table) + TRAILER_BYTES;
}

/** |v| < 2^53 for the int64 whose high word is `hi`: then hi · 2^32 + lo is exact in a double. */
const SAFE_HIGH = 0x200000;
const TWO_32 = 2 ** 32;

/**
 * The COPY stream (header, the chunk's tuples, trailer) of `table` for rows [firstRow, firstRow + rows) of the files
 * (chunkFiles), written into `out` (at least chunkCopyBytes long; a new Buffer if absent). Returns the bytes written.
 * Throws ConversionError for a value its column cannot hold, TypeError for a dtype its column never takes.
 */
export function encodeChunkCopy(
  table: Pick<TablePlan, 'name' | 'copyColumns'>,
  files: ReadonlyMap<string, ChunkFile>,
  chunk: { firstRow: number; rows: number },
  out: Buffer = Buffer.allocUnsafe(chunkCopyBytes(table, chunk.rows)),
): Buffer {
  const { rows } = chunk;
  const size = chunkCopyBytes(table, rows);
  if (out.length < size) throw new RangeError(`the COPY of ${rows} rows of ${table.name} needs ${size} bytes, the buffer has ${out.length}`);
  const fields = table.copyColumns.length;
  if (fields === 0 || fields > 1600) throw new RangeError(`a tuple has 1 to 1600 fields, got ${fields}`);
  copyHeader().copy(out, 0);
  const tuple = tupleBytes(table);
  const dst = new DataView(out.buffer, out.byteOffset, size);
  // Every tuple starts as the same template (field count, each field's length word), copied in doubling runs at
  // memcpy speed; the loops below write only the values.
  if (rows > 0) {
    dst.setInt16(HEADER_BYTES, fields);
    for (let f = 0, o = HEADER_BYTES + 2; f < fields; o += 4 + WIDTH[table.copyColumns[f]!.target], f++) dst.setInt32(o, WIDTH[table.copyColumns[f]!.target]);
    const end = HEADER_BYTES + rows * tuple;
    for (let have = tuple; HEADER_BYTES + have < end; have *= 2) out.copyWithin(HEADER_BYTES + have, HEADER_BYTES, Math.min(HEADER_BYTES + have, end - have));
  }
  let field = HEADER_BYTES + 2;
  for (const c of table.copyColumns) {
    const label = `${c.file}.npy → ${table.name}.${c.name}`;
    const file = files.get(c.file);
    if (!file) throw new Error(`no bytes of ${c.file}.npy for ${table.name}.${c.name}`);
    if (conversionFor(file.dtype, c.target) === undefined) throw new TypeError(`${label}: ${file.dtype} cannot go into ${c.target}`);
    if (c.arrayColumn < 0 || c.arrayColumn >= file.columns) throw new RangeError(`${label}: the file has ${file.columns} column(s), not ${c.arrayColumn + 1}`);
    const fail = (row: number, value: number | bigint): never => {
      throw new ConversionError(label, chunk.firstRow + row, String(value), c.target);
    };
    const bytes = file.perColumn ? file.buffers[c.arrayColumn]! : file.buffers[0]!;
    const first = file.perColumn ? 0 : c.arrayColumn;
    const step = file.perColumn ? 1 : file.columns;
    writeColumn(dst, field + 4, tuple, bytes, first, step, rows, file.dtype, c.target, fail);
    field += 4 + WIDTH[c.target];
  }
  copyTrailer().copy(out, size - TRAILER_BYTES);
  return out.subarray(0, size);
}

const view32 = (b: Uint8Array) => new Int32Array(b.buffer, b.byteOffset, b.byteLength >> 2);

/**
 * One column's values into every tuple (whose length words the template wrote), from element `first` of `bytes` (little-endian) in
 * steps of `step` elements; one loop per dtype and target, no dispatch per value.
 */
function writeColumn(
  dst: DataView,
  valueAt: number,
  tuple: number,
  bytes: Uint8Array,
  first: number,
  step: number,
  rows: number,
  dtype: NpyDtypeName,
  target: TargetType,
  fail: (row: number, value: number | bigint) => never,
): void {
  let e = first;
  let o = valueAt;
  // A 64-bit value is its two 32-bit words: low at 2e, high at 2e + 1 (no bigint per value).
  const bigint = (signed: boolean, i: number): bigint => {
    const v = new BigUint64Array(bytes.buffer, bytes.byteOffset + i * 8, 1)[0]!;
    return signed ? BigInt.asIntN(64, v) : v;
  };
  switch (target) {
    case 'int4':
      switch (dtype) {
        case 'int32': {
          const s = view32(bytes);
          for (let r = 0; r < rows; r++, e += step, o += tuple) {
            dst.setInt32(o, s[e]!);
          }
          return;
        }
        case 'uint32': {
          const s = view32(bytes);
          for (let r = 0; r < rows; r++, e += step, o += tuple) {
            const v = s[e]!;
            if (v < 0) fail(r, v >>> 0);
            dst.setInt32(o, v);
          }
          return;
        }
        case 'int64':
        case 'uint64': {
          // An int64 fits when its high word is the sign of its low word, a uint64 when its high word is 0 and its low one < 2^31.
          const signed = dtype === 'int64';
          const s = view32(bytes);
          for (let r = 0; r < rows; r++, e += step, o += tuple) {
            const lo = s[2 * e]!;
            const hi = s[2 * e + 1]!;
            if (signed ? hi !== lo >> 31 : hi !== 0 || lo < 0) fail(r, bigint(signed, e));
            dst.setInt32(o, lo);
          }
          return;
        }
      }
      break;
    case 'int8':
    case 'uint64':
      // Both are the 64 bits of a bigint column (a uint64 id as its two's complement bits, see decode.ts).
      switch (dtype) {
        case 'int32': {
          const unsigned = target === 'uint64';
          const s = view32(bytes);
          for (let r = 0; r < rows; r++, e += step, o += tuple) {
            const v = s[e]!;
            if (unsigned && v < 0) fail(r, v);
            dst.setInt32(o, v >> 31);
            dst.setInt32(o + 4, v);
          }
          return;
        }
        case 'uint32': {
          const s = view32(bytes);
          for (let r = 0; r < rows; r++, e += step, o += tuple) {
            dst.setInt32(o, 0);
            dst.setInt32(o + 4, s[e]!);
          }
          return;
        }
        case 'int64':
        case 'uint64': {
          // int64 into a uint64 id must be ≥ 0, uint64 into int8 ≤ 2^63 − 1: either way the top bit must be clear.
          const topBitClear = (target === 'uint64') === (dtype === 'int64');
          const s = view32(bytes);
          for (let r = 0; r < rows; r++, e += step, o += tuple) {
            const hi = s[2 * e + 1]!;
            if (topBitClear && hi < 0) fail(r, bigint(dtype === 'int64', e));
            dst.setInt32(o, hi);
            dst.setInt32(o + 4, s[2 * e]!);
          }
          return;
        }
      }
      break;
    case 'float8':
      switch (dtype) {
        case 'float64': {
          // The 64 bits as they are (NaN payloads included).
          const s = view32(bytes);
          for (let r = 0; r < rows; r++, e += step, o += tuple) {
            dst.setInt32(o, s[2 * e + 1]!);
            dst.setInt32(o + 4, s[2 * e]!);
          }
          return;
        }
        case 'float32': {
          const s = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2);
          for (let r = 0; r < rows; r++, e += step, o += tuple) {
            dst.setFloat64(o, s[e]!);
          }
          return;
        }
        case 'int32': {
          const s = view32(bytes);
          for (let r = 0; r < rows; r++, e += step, o += tuple) {
            dst.setFloat64(o, s[e]!);
          }
          return;
        }
        case 'uint32': {
          const s = view32(bytes);
          for (let r = 0; r < rows; r++, e += step, o += tuple) {
            dst.setFloat64(o, s[e]! >>> 0);
          }
          return;
        }
        case 'int64':
        case 'uint64': {
          // Below 2^53 in magnitude the words give the value exactly; beyond, it must survive the round trip through a double.
          const signed = dtype === 'int64';
          const s = view32(bytes);
          for (let r = 0; r < rows; r++, e += step, o += tuple) {
            const hi = s[2 * e + 1]!;
            let x: number;
            if (signed ? hi >= -SAFE_HIGH && hi < SAFE_HIGH : hi >= 0 && hi < SAFE_HIGH) {
              x = hi * TWO_32 + (s[2 * e]! >>> 0);
            } else {
              const v = bigint(signed, e);
              x = Number(v);
              if (BigInt(x) !== v) fail(r, v);
            }
            dst.setFloat64(o, x);
          }
          return;
        }
      }
      break;
    case 'bool':
      if (dtype === 'bool') {
        for (let r = 0; r < rows; r++, e += step, o += tuple) {
          dst.setUint8(o, bytes[e] === 0 ? 0 : 1);
        }
        return;
      }
      break;
  }
  throw new TypeError(`${dtype} cannot go into ${target}`);
}
