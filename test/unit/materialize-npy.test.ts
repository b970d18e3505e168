// The .npy header reader: golden files written by numpy 2.4, and files written per the format spec for every
// version, byte order, memory order, dtype and rank; each error code.
import { describe, expect, it } from 'vitest';
import { encodeNpy, npyHeaderText } from '../../functions/materialize/npy-write.ts';
import { checkObjectSize, headerBytesNeeded, NpyError, parseNpyHeader, readNpyHeader, type NpyDtypeName } from '../../functions/materialize/npy.ts';

/** Bytes numpy.lib.format.write_array produced (numpy 2.4.6), base64. */
const NUMPY_GOLDEN = {
  // np.array([[1,-2,3],[2**63-1,-2**63,0]], dtype='<i8'), version 1.0
  c_i8_v1: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPGk4JywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAAAAAAAAP7/////////AwAAAAAAAAD/////////fwAAAAAAAACAAAAAAAAAAAA=',
  // np.asfortranarray(np.array([[1,2**63],[2**64-1,4],[5,0]], dtype='>u8')), version 1.0
  f_u8_be_v1: 'k05VTVBZAQB2AHsnZGVzY3InOiAnPnU4JywgJ2ZvcnRyYW5fb3JkZXInOiBUcnVlLCAnc2hhcGUnOiAoMywgMiksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAAAAAAAAAf//////////AAAAAAAAAAWAAAAAAAAAAAAAAAAAAAAEAAAAAAAAAAA=',
  // np.array([1.5, -0.0, nan], dtype='<f4'), version 2.0
  f4_v2: 'k05VTVBZAgB0AAAAeydkZXNjcic6ICc8ZjQnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMywpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoAAMA/AAAAgAAAwH8=',
  // np.array([True, False, True]), version 3.0
  bool_v3: 'k05VTVBZAwB0AAAAeydkZXNjcic6ICd8YjEnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMywpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAoBAAE=',
};
const golden = (name: keyof typeof NUMPY_GOLDEN) => Buffer.from(NUMPY_GOLDEN[name], 'base64');

const codeOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof NpyError) return e.code;
    throw e;
  }
  return 'no error';
};

/** A file with a hand-written header text (padding and preamble per the spec). */
function withHeader(text: string, version: 1 | 2 | 3 = 1, data = Buffer.alloc(0)): Buffer {
  return Buffer.concat([encodeNpy({ dtype: 'int32', shape: [0], values: [], version, headerOverride: text }), data]);
}

describe('numpy golden files', () => {
  it('reads a C-order little-endian int64 (N, 3) in version 1.0', () => {
    const b = golden('c_i8_v1');
    const h = parseNpyHeader(b, b.length);
    expect(h).toMatchObject({ major: 1, minor: 0, fortranOrder: false, shape: [2, 3], rows: 2, columns: 3, dataOffset: 128, dataBytes: 48 });
    expect(h.dtype).toEqual({ name: 'int64', itemSize: 8, littleEndian: true, descr: '<i8' });
  });
  it('reads a Fortran-order big-endian uint64 in version 1.0', () => {
    const b = golden('f_u8_be_v1');
    const h = parseNpyHeader(b, b.length);
    expect(h).toMatchObject({ fortranOrder: true, rows: 3, columns: 2, dataOffset: 128, dataBytes: 48 });
    expect(h.dtype).toMatchObject({ name: 'uint64', littleEndian: false });
  });
  it('reads version 2.0 and 3.0 headers', () => {
    const f4 = golden('f4_v2');
    expect(parseNpyHeader(f4, f4.length)).toMatchObject({ major: 2, shape: [3], columns: 1, dataOffset: 128, dataBytes: 12 });
    const b = golden('bool_v3');
    expect(parseNpyHeader(b, b.length)).toMatchObject({ major: 3, dtype: { name: 'bool', itemSize: 1 }, rows: 3, dataOffset: 128 });
  });
  it('headerBytesNeeded gives the data offset from 10 (or 12) bytes', () => {
    for (const name of Object.keys(NUMPY_GOLDEN) as (keyof typeof NUMPY_GOLDEN)[]) {
      const b = golden(name);
      expect(headerBytesNeeded(b.subarray(0, 3))).toBe(10);
      const first = headerBytesNeeded(b.subarray(0, 10));
      const need = headerBytesNeeded(b.subarray(0, first));
      expect(need).toBe(128);
      expect(headerBytesNeeded(b)).toBe(128);
      expect(readNpyHeader(b.subarray(0, need)).dataOffset).toBe(128);
    }
    expect(headerBytesNeeded(golden('f4_v2').subarray(0, 10))).toBe(12);
    expect(headerBytesNeeded(golden('c_i8_v1').subarray(0, 10))).toBe(128);
  });
});

const DTYPES: NpyDtypeName[] = ['int32', 'int64', 'uint32', 'uint64', 'float32', 'float64', 'bool'];
const SIZE: Record<NpyDtypeName, number> = { int32: 4, int64: 8, uint32: 4, uint64: 8, float32: 4, float64: 8, bool: 1 };
const sample = (dtype: NpyDtypeName, n: number) =>
  Array.from({ length: n }, (_, i) => (dtype === 'bool' ? i % 2 === 0 : dtype.endsWith('64') && dtype.includes('int') ? BigInt(i) : i));

describe('every version × byte order × memory order × dtype × rank', () => {
  for (const version of [1, 2, 3] as const)
    for (const order of ['<', '>', '=', '|'] as const)
      for (const fortranOrder of [false, true])
        for (const dtype of DTYPES)
          for (const shape of [[5], [5, 3]] as const) {
            it(`v${version}.0 ${order} ${fortranOrder ? 'F' : 'C'} ${dtype} (${shape.join(',')})`, () => {
              const b = encodeNpy({ dtype, order, fortranOrder, version, shape, values: sample(dtype, shape[0] * (shape[1] ?? 1)) });
              const h = parseNpyHeader(b, b.length);
              expect(h.major).toBe(version);
              expect(h.dtype.name).toBe(dtype);
              expect(h.dtype.itemSize).toBe(SIZE[dtype]);
              expect(h.dtype.littleEndian).toBe(order !== '>');
              expect(h.fortranOrder).toBe(fortranOrder);
              expect(h.shape).toEqual(shape);
              expect(h.columns).toBe(shape[1] ?? 1);
              expect(h.dataOffset % 64).toBe(0);
              expect(h.dataOffset + h.dataBytes).toBe(b.length);
            });
          }
});

describe('header text', () => {
  it('accepts numpy variations: no trailing comma, double quotes, key order, Python 2 longs, a 1-tuple, empty arrays', () => {
    const cases: [string, number[]][] = [
      [`{'descr': '<i4', 'fortran_order': False, 'shape': (7,)}`, [7]],
      [`{"shape": (7, 2), "fortran_order": True, "descr": "<i4"}`, [7, 2]],
      [`{'descr': '<i4', 'fortran_order': False, 'shape': (3L, 4L), }`, [3, 4]],
      [`{'descr': '<i4', 'fortran_order': False, 'shape': (0,), }`, [0]],
      [`{'descr': '<i4', 'fortran_order': False, 'shape': [2, 2], }`, [2, 2]],
    ];
    for (const [text, shape] of cases) expect(readNpyHeader(withHeader(text)).shape).toEqual(shape);
  });
  it('reads a UTF-8 3.0 header and a latin-1 1.0 header', () => {
    const text = `{'descr': '<i4', 'fortran_order': False, 'shape': (0,), }`;
    expect(readNpyHeader(withHeader(text, 3)).major).toBe(3);
    expect(readNpyHeader(withHeader(npyHeaderText('<i4', false, [0]), 1)).major).toBe(1);
  });
  it('rejects a 3.0 header that is not UTF-8', () => {
    const b = withHeader(`{'descr': '<i4', 'fortran_order': False, 'shape': (0,), }`, 3);
    b[b.indexOf('}') + 1] = 0xff;
    expect(codeOf(() => readNpyHeader(b))).toBe('MALFORMED_HEADER');
  });
  it.each([
    ['not a dict', `('<i4', False, (3,))`],
    ['missing key', `{'descr': '<i4', 'shape': (3,)}`],
    ['extra key', `{'descr': '<i4', 'fortran_order': False, 'shape': (3,), 'x': 1}`],
    ['duplicate key', `{'descr': '<i4', 'descr': '<i4', 'fortran_order': False, 'shape': (3,)}`],
    ['fortran_order not a bool', `{'descr': '<i4', 'fortran_order': 0, 'shape': (3,)}`],
    ['shape not a tuple', `{'descr': '<i4', 'fortran_order': False, 'shape': 3}`],
    ['shape with a string', `{'descr': '<i4', 'fortran_order': False, 'shape': ('3',)}`],
    ['negative dim', `{'descr': '<i4', 'fortran_order': False, 'shape': (-3,)}`],
    ['float dim', `{'descr': '<i4', 'fortran_order': False, 'shape': (3.0,)}`],
    ['unterminated string', `{'descr': '<i4`],
    ['unclosed dict', `{'descr': '<i4', 'fortran_order': False, 'shape': (3,)`],
    ['text after the dict', `{'descr': '<i4', 'fortran_order': False, 'shape': (3,)} x`],
    ['a call (no eval)', `{'descr': __import__('os'), 'fortran_order': False, 'shape': (3,)}`],
    ['non-string key', `{1: '<i4'}`],
    ['missing colon', `{'descr' '<i4'}`],
    ['bad escape', `{'descr': '<i\\x34', 'fortran_order': False, 'shape': (3,)}`],
    ['huge dim', `{'descr': '<i4', 'fortran_order': False, 'shape': (99999999999999999999,)}`],
    ['overflowing size', `{'descr': '<i8', 'fortran_order': False, 'shape': (9007199254740991, 2)}`],
    ['empty', ``],
  ])('MALFORMED_HEADER: %s', (_name, text) => {
    expect(codeOf(() => readNpyHeader(withHeader(text)))).toBe('MALFORMED_HEADER');
  });
  it.each([
    ['scalar', '()'],
    ['3-D', '(2, 3, 4)'],
  ])('UNSUPPORTED_SHAPE: %s', (_name, shape) => {
    expect(codeOf(() => readNpyHeader(withHeader(`{'descr': '<i4', 'fortran_order': False, 'shape': ${shape}, }`)))).toBe('UNSUPPORTED_SHAPE');
  });
  it.each(['<i2', '<u1', '<f2', '<c16', '|O', '|S10', '<U5', '<M8[ns]', 'i8', '!i8', '<i16'])('UNSUPPORTED_DTYPE: %s', (descr) => {
    expect(codeOf(() => readNpyHeader(withHeader(`{'descr': '${descr}', 'fortran_order': False, 'shape': (3,), }`)))).toBe('UNSUPPORTED_DTYPE');
  });
  it('UNSUPPORTED_DTYPE: a structured dtype', () => {
    expect(codeOf(() => readNpyHeader(withHeader(`{'descr': [('x', '<i4'), ('y', '<f8')], 'fortran_order': False, 'shape': (3,), }`)))).toBe(
      'UNSUPPORTED_DTYPE',
    );
  });
  it('reads an escaped quote inside a string token', () => {
    expect(codeOf(() => readNpyHeader(withHeader(`{'descr': '<i\\'4', 'fortran_order': False, 'shape': (3,), }`)))).toBe('UNSUPPORTED_DTYPE');
  });
});

describe('preamble and sizes', () => {
  const good = golden('c_i8_v1');
  it('BAD_MAGIC', () => {
    const b = Buffer.from(good);
    b[1] = 0x6e; // 'n'
    expect(codeOf(() => readNpyHeader(b))).toBe('BAD_MAGIC');
    expect(codeOf(() => headerBytesNeeded(b.subarray(0, 10)))).toBe('BAD_MAGIC');
    expect(codeOf(() => readNpyHeader(Buffer.from('PK\x03\x04 not numpy at all')))).toBe('BAD_MAGIC');
  });
  it('UNSUPPORTED_VERSION for 0.x, 4.0 and x.1', () => {
    for (const [major, minor] of [[0, 0], [4, 0], [1, 1], [2, 5]]) {
      const b = Buffer.from(good);
      b[6] = major!;
      b[7] = minor!;
      expect(codeOf(() => readNpyHeader(b))).toBe('UNSUPPORTED_VERSION');
      expect(codeOf(() => headerBytesNeeded(b.subarray(0, 8)))).toBe('UNSUPPORTED_VERSION');
    }
  });
  it('INCOMPLETE_HEADER when fewer bytes than the header are given', () => {
    expect(codeOf(() => readNpyHeader(good.subarray(0, 5)))).toBe('INCOMPLETE_HEADER');
    expect(codeOf(() => readNpyHeader(good.subarray(0, 100)))).toBe('INCOMPLETE_HEADER');
  });
  it('TRUNCATED when the object is shorter than the declared data, SIZE_MISMATCH when longer', () => {
    expect(codeOf(() => parseNpyHeader(good, good.length - 1))).toBe('TRUNCATED');
    expect(codeOf(() => parseNpyHeader(good, 100))).toBe('TRUNCATED');
    expect(codeOf(() => parseNpyHeader(good, good.length + 8))).toBe('SIZE_MISMATCH');
    const h = readNpyHeader(good);
    expect(() => checkObjectSize(h, good.length)).not.toThrow();
    const err = (() => {
      try {
        checkObjectSize(h, 130);
      } catch (e) {
        return e as NpyError;
      }
    })();
    expect(err?.message).toMatch(/truncated .*176 bytes.*130/);
  });
});
