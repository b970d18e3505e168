// Decodes a chunk's bytes (as read by chunks.byteRanges) into exact column values, and converts them to the
// PostgreSQL type of their target column, exactly or not at all. Pure. The conversion rules live here
// (CONVERSIONS); the bulk load writes its COPY straight from the bytes (chunk-copy.ts), and its tests hold it to
// decodeChunk + convertColumn byte for byte: these are the readable statement of what it must write.
//
// Exactness: int64/uint64 become BigInt64Array/BigUint64Array (bigints, never through Number); uint32 and
// float32 widen exactly; a conversion that could lose information for some values ('checked') tests every value
// and throws ConversionError naming the row, rather than writing a wrong one.
//
// ## uint64 ids in PostgreSQL: `bigint` holding the same 64 bits (two's complement reinterpretation)
//
// Supervoxel and root ids are uint64. PostgreSQL has no unsigned 64-bit type, so an id u is stored in a `bigint`
// column as the signed integer with the same bits: BigInt.asIntN(64, u), read back with BigInt.asUintN(64, s).
// Chosen over numeric(20,0) because:
// - it is a bijection, so everything ids are used for is exact: equality, IN lists, joins, unique indexes,
//   GROUP BY — only order and ranges across 2^63 differ, and nothing orders ids by magnitude;
// - storage and index entries stay 8 bytes with fast integer comparisons (numeric is variable-length, ~2×
//   wider, with slower comparisons), on the columns the root-id refresh and version reads filter and join on;
// - it is the type CAVE uses for these columns, and ChunkedGraph ids keep the layer in the top 8 bits with
//   layer < 128 in practice, so for real ids the stored value equals the id: SQL reads naturally;
// - binary COPY writes the uint64's 8 big-endian bytes unchanged (no conversion on the hot path).
// The price: an id ≥ 2^63 reads as a negative number in raw SQL. Code reads ids through uint64FromPg, binds
// them through uint64ToPg, and SQL that must show them (CSV export) uses uint64Sql(column).
import { NpyError, type NpyDtypeName, type NpyHeader } from './npy.ts';

export const TWO_64 = 1n << 64n;

/** The signed bigint PostgreSQL stores for uint64 id u (0 ≤ u < 2^64). */
export function uint64ToPg(u: bigint): bigint {
  if (u < 0n || u >= TWO_64) throw new RangeError(`${u} is not a uint64`);
  return BigInt.asIntN(64, u);
}

/** The uint64 id stored as PostgreSQL bigint s (a bigint, or node-postgres's text form of an int8). */
export function uint64FromPg(s: bigint | string): bigint {
  return BigInt.asUintN(64, typeof s === 'string' ? BigInt(s) : s);
}

/** A SQL expression giving the uint64 id (as numeric) of a bigint column; `column` must already be quoted. */
export function uint64Sql(column: string): string {
  return `(CASE WHEN ${column} < 0 THEN ${column}::numeric + ${TWO_64} ELSE ${column}::numeric END)`;
}

export type DecodedColumn =
  | { dtype: 'int32'; values: Int32Array }
  | { dtype: 'uint32'; values: Uint32Array }
  | { dtype: 'int64'; values: BigInt64Array }
  | { dtype: 'uint64'; values: BigUint64Array }
  | { dtype: 'float32'; values: Float32Array }
  | { dtype: 'float64'; values: Float64Array }
  /** 0 or 1 (numpy writes 0/1; any non-zero byte reads as 1). */
  | { dtype: 'bool'; values: Uint8Array };

function allocate(dtype: NpyDtypeName, n: number): DecodedColumn {
  switch (dtype) {
    case 'int32':
      return { dtype, values: new Int32Array(n) };
    case 'uint32':
      return { dtype, values: new Uint32Array(n) };
    case 'int64':
      return { dtype, values: new BigInt64Array(n) };
    case 'uint64':
      return { dtype, values: new BigUint64Array(n) };
    case 'float32':
      return { dtype, values: new Float32Array(n) };
    case 'float64':
      return { dtype, values: new Float64Array(n) };
    case 'bool':
      return { dtype, values: new Uint8Array(n) };
  }
}

/** A typed array over n elements of `buffer` at byteOffset (aligned), of a non-bool dtype. */
function viewOf(dtype: Exclude<NpyDtypeName, 'bool'>, buffer: ArrayBufferLike, byteOffset: number, n: number): DecodedColumn {
  switch (dtype) {
    case 'int32':
      return { dtype, values: new Int32Array(buffer, byteOffset, n) };
    case 'uint32':
      return { dtype, values: new Uint32Array(buffer, byteOffset, n) };
    case 'int64':
      return { dtype, values: new BigInt64Array(buffer, byteOffset, n) };
    case 'uint64':
      return { dtype, values: new BigUint64Array(buffer, byteOffset, n) };
    case 'float32':
      return { dtype, values: new Float32Array(buffer, byteOffset, n) };
    case 'float64':
      return { dtype, values: new Float64Array(buffer, byteOffset, n) };
  }
}

/** Reads n elements from view at offset, offset + stride, … into out. */
function fill(out: DecodedColumn, view: DataView, offset: number, stride: number, n: number, little: boolean): void {
  const size = out.values.BYTES_PER_ELEMENT;
  if (out.dtype !== 'bool' && little === LITTLE_ENDIAN && stride === size) {
    // Already in the platform's layout: one copy of the bytes (a bool byte still becomes 0 or 1 below).
    new Uint8Array(out.values.buffer, out.values.byteOffset, n * size).set(new Uint8Array(view.buffer, view.byteOffset + offset, n * size));
    return;
  }
  if ((out.dtype === 'int64' || out.dtype === 'uint64') && LITTLE_ENDIAN) {
    // Each value as its two 32-bit words, with no BigInt per value (those were most of the decoding time).
    const words = new Int32Array(out.values.buffer, out.values.byteOffset, 2 * n);
    const [low, high] = little ? [0, 4] : [4, 0];
    for (let i = 0, o = offset; i < n; i++, o += stride) {
      words[2 * i] = view.getInt32(o + low, little);
      words[2 * i + 1] = view.getInt32(o + high, little);
    }
    return;
  }
  switch (out.dtype) {
    case 'int32':
      for (let i = 0, o = offset; i < n; i++, o += stride) out.values[i] = view.getInt32(o, little);
      return;
    case 'uint32':
      for (let i = 0, o = offset; i < n; i++, o += stride) out.values[i] = view.getUint32(o, little);
      return;
    case 'int64':
      for (let i = 0, o = offset; i < n; i++, o += stride) out.values[i] = view.getBigInt64(o, little);
      return;
    case 'uint64':
      for (let i = 0, o = offset; i < n; i++, o += stride) out.values[i] = view.getBigUint64(o, little);
      return;
    case 'float32':
      for (let i = 0, o = offset; i < n; i++, o += stride) out.values[i] = view.getFloat32(o, little);
      return;
    case 'float64':
      for (let i = 0, o = offset; i < n; i++, o += stride) out.values[i] = view.getFloat64(o, little);
      return;
    case 'bool':
      for (let i = 0, o = offset; i < n; i++, o += stride) out.values[i] = view.getUint8(o) === 0 ? 0 : 1;
      return;
  }
}

/**
 * Decodes one chunk of `rows` rows of a file into its array columns (one for a 1-D array, k for (N, k)).
 * `buffers` are the bytes of byteRanges(header, …, chunk) in the same order: one buffer in C order (or 1-D),
 * k buffers (one per column) in Fortran order. A buffer of the wrong length throws TRUNCATED.
 */
export function decodeChunk(header: Pick<NpyHeader, 'dtype' | 'fortranOrder' | 'columns'>, buffers: readonly Uint8Array[], rows: number): DecodedColumn[] {
  const { dtype, columns } = header;
  const size = dtype.itemSize;
  const perColumn = !(header.fortranOrder && columns > 1);
  const expected = perColumn ? [rows * columns * size] : Array.from({ length: columns }, () => rows * size);
  if (buffers.length !== expected.length || buffers.some((b, i) => b.byteLength !== expected[i])) {
    throw new NpyError(
      'TRUNCATED',
      `chunk of ${rows} rows needs ${expected.length} buffer(s) of ${expected[0]} bytes, got [${buffers.map((b) => b.byteLength).join(', ')}]`,
    );
  }
  const out: DecodedColumn[] = [];
  for (let j = 0; j < columns; j++) {
    const buf = perColumn ? buffers[0]! : buffers[j]!;
    const contiguous = columns === 1 || !perColumn;
    if (contiguous && dtype.name !== 'bool' && dtype.littleEndian === LITTLE_ENDIAN && buf.byteOffset % size === 0) {
      // The bytes are the column already: a view of them, no copy.
      out.push(viewOf(dtype.name, buf.buffer, buf.byteOffset, rows));
      continue;
    }
    const column = allocate(dtype.name, rows);
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    if (perColumn) fill(column, view, j * size, columns * size, rows, dtype.littleEndian);
    else fill(column, view, 0, size, rows, dtype.littleEndian);
    out.push(column);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Conversion to the target column's type.

/** The value type of a target column: int4, int8 (signed), uint64 (an id, stored as int8 bits), float8, bool. */
export type TargetType = 'int4' | 'int8' | 'uint64' | 'float8' | 'bool';
/** exact: every value of the dtype fits. checked: only some do; each value is tested while converting. */
export type Conversion = 'exact' | 'checked';

/**
 * Which dtypes can go into which target type (undefined: rejected before anything is written).
 * - int4 (position coordinates): int32 exact; uint32, int64, uint64 checked (numpy's default int64 is common
 *   for coordinates, so it is accepted when every value fits in int32). Floats and bool rejected.
 * - int8 (annotation id): int32, uint32, int64 exact; uint64 checked (≤ 2^63 − 1). Floats and bool rejected.
 * - uint64 (supervoxel / root id): uint32, uint64 exact; int32 and int64 checked: accepted only when every
 *   value is ≥ 0 — a negative id is an error, never silently wrapped to 2^64 − n. Floats and bool rejected.
 * - float8 (size): float32, float64, int32, uint32 exact; int64, uint64 checked (the value must survive the
 *   round trip through a double). bool rejected.
 * - bool: bool only.
 */
const CONVERSIONS: Record<TargetType, Partial<Record<NpyDtypeName, Conversion>>> = {
  int4: { int32: 'exact', uint32: 'checked', int64: 'checked', uint64: 'checked' },
  int8: { int32: 'exact', uint32: 'exact', int64: 'exact', uint64: 'checked' },
  uint64: { uint32: 'exact', uint64: 'exact', int32: 'checked', int64: 'checked' },
  float8: { float32: 'exact', float64: 'exact', int32: 'exact', uint32: 'exact', int64: 'checked', uint64: 'checked' },
  bool: { bool: 'exact' },
};

export function conversionFor(dtype: NpyDtypeName, target: TargetType): Conversion | undefined {
  return CONVERSIONS[target][dtype];
}

/** Column values in the representation the COPY encoder writes. */
export type PgValues =
  | { type: 'int4'; values: Int32Array }
  | { type: 'int8'; values: BigInt64Array }
  | { type: 'float4'; values: Float32Array }
  | { type: 'float8'; values: Float64Array }
  | { type: 'bool'; values: Uint8Array };

/** A value that its column cannot hold; no part of the chunk may be written. */
export class ConversionError extends Error {
  readonly code = 'VALUE_OUT_OF_RANGE';
  constructor(
    readonly column: string,
    /** Absolute row in the file. */
    readonly row: number,
    readonly value: string,
    readonly target: TargetType,
  ) {
    super(`${column}: row ${row} has ${value}, which does not fit in ${target === 'uint64' ? 'a uint64 id' : target}`);
    this.name = 'ConversionError';
  }
}

/** Typed arrays use the platform's byte order; fast paths read 64-bit values as their 32-bit halves. */
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const INT4_MIN = -(2 ** 31);
const INT4_MAX = 2 ** 31 - 1;
const INT8_MAX = (1n << 63n) - 1n;

export interface ConvertContext {
  /** Named in errors, e.g. `sizes.npy → size`. */
  column: string;
  /** The chunk's first row, so errors name the row in the file. */
  firstRow: number;
}

/** Converts a decoded column to its target type, exactly; throws ConversionError or, for a rejected pair, TypeError. */
export function convertColumn(col: DecodedColumn, target: TargetType, ctx: ConvertContext): PgValues {
  if (conversionFor(col.dtype, target) === undefined) throw new TypeError(`${ctx.column}: ${col.dtype} cannot go into ${target}`);
  const n = col.values.length;
  const fail = (i: number, v: number | bigint): never => {
    throw new ConversionError(ctx.column, ctx.firstRow + i, String(v), target);
  };
  switch (target) {
    case 'int4': {
      if (col.dtype === 'int32') return { type: 'int4', values: col.values };
      if ((col.dtype === 'int64' || col.dtype === 'uint64') && LITTLE_ENDIAN) {
        // Each value's low and high 32-bit words, with no BigInt per value (a tenth of the time): an int64 fits
        // when its high word is the sign of its low word, a uint64 when its high word is 0 and its low one < 2^31.
        const words = new Int32Array(col.values.buffer, col.values.byteOffset, 2 * n);
        const signed = col.dtype === 'int64';
        const out = new Int32Array(n);
        for (let i = 0; i < n; i++) {
          const lo = words[2 * i]!;
          const hi = words[2 * i + 1]!;
          if (signed ? hi !== lo >> 31 : hi !== 0 || lo < 0) fail(i, col.values[i]!);
          out[i] = lo;
        }
        return { type: 'int4', values: out };
      }
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = col.values[i]!;
        const x = Number(v);
        // For bigints, Number() of an out-of-range value is still out of range (no rounding into it).
        if (x < INT4_MIN || x > INT4_MAX) fail(i, v);
        out[i] = x;
      }
      return { type: 'int4', values: out };
    }
    case 'int8': {
      if (col.dtype === 'int64') return { type: 'int8', values: col.values };
      const out = new BigInt64Array(n);
      if (col.dtype === 'uint64') {
        for (let i = 0; i < n; i++) {
          const v = col.values[i]!;
          if (v > INT8_MAX) fail(i, v);
          out[i] = v;
        }
      } else {
        for (let i = 0; i < n; i++) out[i] = BigInt(col.values[i]!);
      }
      return { type: 'int8', values: out };
    }
    case 'uint64': {
      // Same bits: the BigUint64Array's buffer seen as BigInt64Array is exactly uint64ToPg of every value.
      if (col.dtype === 'uint64') return { type: 'int8', values: new BigInt64Array(col.values.buffer, col.values.byteOffset, n) };
      if (col.dtype === 'int64') {
        for (let i = 0; i < n; i++) if (col.values[i]! < 0n) fail(i, col.values[i]!);
        return { type: 'int8', values: col.values };
      }
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) {
        const v = col.values[i]!;
        if (typeof v === 'number' && v < 0) fail(i, v);
        out[i] = BigInt(v);
      }
      return { type: 'int8', values: out };
    }
    case 'float8': {
      if (col.dtype === 'float64') return { type: 'float8', values: col.values };
      const out = new Float64Array(n);
      if (col.dtype === 'int64' || col.dtype === 'uint64') {
        for (let i = 0; i < n; i++) {
          const v = col.values[i]!;
          const x = Number(v);
          if (BigInt(x) !== v) fail(i, v);
          out[i] = x;
        }
      } else {
        for (let i = 0; i < n; i++) out[i] = Number(col.values[i]!);
      }
      return { type: 'float8', values: out };
    }
    case 'bool':
      return { type: 'bool', values: col.values as Uint8Array };
  }
}
