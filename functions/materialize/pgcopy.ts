// An encoder for PostgreSQL's binary COPY format (COPY … FROM STDIN (FORMAT binary)), for the fixed-width types
// the materialization tables use: int4, int8, float4, float8, bool. Pure.
//
// Format (PostgreSQL docs, "COPY — Binary Format"): an 11-byte signature `PGCOPY\n\377\r\n\0`, an int32 flags
// field (0: no OIDs), an int32 header-extension length (0); then per tuple an int16 field count and per field an
// int32 byte length (−1 for NULL) followed by the value in the type's binary send format (network byte order);
// then an int16 −1 trailer. All integers big-endian.
//
// Written here because the npm encoders (pg-copy-streams-binary and the like) take one JS object per row,
// i.e. a bigint or number allocation per value; this writes typed arrays column-wise into one preallocated Buffer.
import { LITTLE_ENDIAN, type PgValues } from './decode.ts';

export const COPY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** Signature, flags (0) and header extension length (0): 19 bytes. */
export function copyHeader(): Buffer {
  const b = Buffer.alloc(COPY_SIGNATURE.length + 8);
  COPY_SIGNATURE.copy(b, 0);
  return b;
}

/** The file trailer: an int16 −1. */
export function copyTrailer(): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(-1, 0);
  return b;
}

const WIDTH: Record<PgValues['type'], number> = { int4: 4, int8: 8, float4: 4, float8: 8, bool: 1 };

/** Bytes of one tuple of these columns: field count, then a length word and the value per field. */
export function tupleBytes(columns: readonly Pick<PgValues, 'type'>[]): number {
  return 2 + columns.reduce((sum, c) => sum + 4 + WIDTH[c.type], 0);
}

/**
 * The tuples for rows [from, to) of these columns (no header or trailer), in one Buffer. Columns are in the
 * order of the COPY column list; every column must have at least `to` values. No NULLs: an absent optional
 * column is left out of the COPY column list instead (it takes its default).
 */
export function encodeTuples(columns: readonly PgValues[], from: number, to: number): Buffer {
  if (columns.length === 0 || columns.length > 1600) throw new RangeError(`a tuple has 1 to 1600 fields, got ${columns.length}`);
  for (const c of columns) {
    if (c.values.length < to) throw new RangeError(`a ${c.type} column has ${c.values.length} values, rows up to ${to} were asked for`);
  }
  const rows = Math.max(0, to - from);
  const tuple = tupleBytes(columns);
  const buf = Buffer.allocUnsafe(rows * tuple);
  // DataView's big-endian setters: V8 compiles them to a store, where Buffer's write*BE check and shift per byte.
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.length);
  const fieldCount = columns.length;
  // Field count of every tuple first, then column by column (type dispatch once per column, not per value).
  for (let r = 0; r < rows; r++) dv.setInt16(r * tuple, fieldCount);
  let fieldOffset = 2;
  for (const c of columns) {
    const width = WIDTH[c.type];
    let o = fieldOffset;
    switch (c.type) {
      case 'int4':
        for (let r = from; r < to; r++, o += tuple) {
          dv.setInt32(o, 4);
          dv.setInt32(o + 4, c.values[r]!);
        }
        break;
      case 'int8':
        if (LITTLE_ENDIAN) {
          // High word, then low word: no BigInt per value (a bigint read and writeBigInt64BE were half the encoding time).
          const words = new Int32Array(c.values.buffer, c.values.byteOffset, 2 * c.values.length);
          for (let r = from; r < to; r++, o += tuple) {
            dv.setInt32(o, 8);
            dv.setInt32(o + 4, words[2 * r + 1]!);
            dv.setInt32(o + 8, words[2 * r]!);
          }
          break;
        }
        for (let r = from; r < to; r++, o += tuple) {
          dv.setInt32(o, 8);
          dv.setBigInt64(o + 4, c.values[r]!);
        }
        break;
      case 'float4':
        for (let r = from; r < to; r++, o += tuple) {
          dv.setInt32(o, 4);
          dv.setFloat32(o + 4, c.values[r]!);
        }
        break;
      case 'float8':
        for (let r = from; r < to; r++, o += tuple) {
          dv.setInt32(o, 8);
          dv.setFloat64(o + 4, c.values[r]!);
        }
        break;
      case 'bool':
        for (let r = from; r < to; r++, o += tuple) {
          dv.setInt32(o, 1);
          buf[o + 4] = c.values[r]! === 0 ? 0 : 1;
        }
        break;
    }
    fieldOffset += 4 + width;
  }
  return buf;
}

export const DEFAULT_ROWS_PER_BUFFER = 16_384;

/**
 * A whole COPY stream for `rows` rows of these columns: the header, the tuples in Buffers of at most
 * rowsPerBuffer rows (so a chunk streams without one giant allocation), and the trailer. Feed it to
 * `pg-copy-streams`' from(…) with stream.Readable.from(encodeCopy(…)).
 */
export function* encodeCopy(columns: readonly PgValues[], rows: number, { rowsPerBuffer = DEFAULT_ROWS_PER_BUFFER } = {}): Generator<Buffer> {
  if (rowsPerBuffer < 1) throw new RangeError('rowsPerBuffer must be positive');
  yield copyHeader();
  for (let from = 0; from < rows; from += rowsPerBuffer) yield encodeTuples(columns, from, Math.min(rows, from + rowsPerBuffer));
  yield copyTrailer();
}
