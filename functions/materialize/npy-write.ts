// Writes `.npy` bytes per the format spec (numpy.lib.format), for tests, the bench and sample data. Pure.
// The inverse of npy.ts: every version, byte order, memory order and dtype that npy.ts reads.
import type { NpyDtypeName } from './npy.ts';

export type NpyScalar = number | bigint | boolean;

export interface NpyWriteInput {
  dtype: NpyDtypeName;
  /** Byte order character; default `<`. `|` is what numpy writes for bool. */
  order?: '<' | '>' | '|' | '=';
  shape: readonly [number] | readonly [number, number];
  fortranOrder?: boolean;
  version?: 1 | 2 | 3;
  /** Values in logical row-major order: element (i, j) at i × columns + j. int64/uint64 take bigints. */
  values: readonly NpyScalar[];
  /** Extra text placed in the header before the padding, e.g. to make a 3.0 header non-latin-1 (tests only). */
  headerOverride?: string;
}

const CODES: Record<NpyDtypeName, string> = {
  int32: 'i4',
  int64: 'i8',
  uint32: 'u4',
  uint64: 'u8',
  float32: 'f4',
  float64: 'f8',
  bool: 'b1',
};
const SIZES: Record<NpyDtypeName, number> = { int32: 4, int64: 8, uint32: 4, uint64: 8, float32: 4, float64: 8, bool: 1 };

/** The header dict exactly as numpy writes it. */
export function npyHeaderText(descr: string, fortranOrder: boolean, shape: readonly number[]): string {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  return `{'descr': '${descr}', 'fortran_order': ${fortranOrder ? 'True' : 'False'}, 'shape': ${dims}, }`;
}

export function encodeNpy(input: NpyWriteInput): Buffer {
  const { dtype, shape, values } = input;
  const version = input.version ?? 1;
  const fortran = input.fortranOrder ?? false;
  const order = input.order ?? (dtype === 'bool' ? '|' : '<');
  const rows = shape[0];
  const columns = shape[1] ?? 1;
  if (values.length !== rows * columns) throw new Error(`encodeNpy: ${values.length} values for shape (${shape.join(', ')})`);
  const descr = `${order}${CODES[dtype]}`;
  const text = input.headerOverride ?? npyHeaderText(descr, fortran, shape);
  const encoded = version === 3 ? Buffer.from(text, 'utf8') : Buffer.from(text, 'latin1');
  const preamble = version === 1 ? 10 : 12;
  // Pad with spaces so that preamble + header + '\n' is a multiple of 64.
  const total = Math.ceil((preamble + encoded.length + 1) / 64) * 64;
  const header = Buffer.concat([encoded, Buffer.alloc(total - preamble - encoded.length - 1, 0x20), Buffer.from('\n')]);
  const head = Buffer.alloc(preamble);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]).copy(head);
  if (version === 1) head.writeUInt16LE(header.length, 8);
  else head.writeUInt32LE(header.length, 8);

  const size = SIZES[dtype];
  const data = Buffer.alloc(rows * columns * size);
  const little = order !== '>';
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < columns; j++) {
      const v = values[i * columns + j]!;
      const offset = (fortran ? j * rows + i : i * columns + j) * size;
      writeScalar(data, offset, dtype, v, little);
    }
  }
  return Buffer.concat([head, header, data]);
}

function writeScalar(buf: Buffer, offset: number, dtype: NpyDtypeName, v: NpyScalar, little: boolean): void {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  switch (dtype) {
    case 'int32':
      return view.setInt32(offset, Number(v), little);
    case 'uint32':
      return view.setUint32(offset, Number(v), little);
    case 'int64':
      return view.setBigInt64(offset, BigInt(v), little);
    case 'uint64':
      return view.setBigUint64(offset, BigInt(v), little);
    case 'float32':
      return view.setFloat32(offset, Number(v), little);
    case 'float64':
      return view.setFloat64(offset, Number(v), little);
    case 'bool':
      return view.setUint8(offset, v ? 1 : 0);
  }
}
