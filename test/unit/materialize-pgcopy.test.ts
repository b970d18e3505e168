// The binary COPY encoder, byte for byte against the format in the PostgreSQL docs.
import { describe, expect, it } from 'vitest';
import { copyHeader, copyTrailer, COPY_SIGNATURE, encodeCopy, encodeTuples, tupleBytes } from '../../functions/materialize/pgcopy.ts';
import type { PgValues } from '../../functions/materialize/decode.ts';
import { uint64ToPg } from '../../functions/materialize/decode.ts';

const hex = (b: Buffer) => b.toString('hex');

describe('pgcopy', () => {
  it('header: signature, flags 0, extension length 0; trailer -1', () => {
    expect(hex(COPY_SIGNATURE)).toBe('5047434f50590aff0d0a00');
    expect(hex(copyHeader())).toBe('5047434f50590aff0d0a00' + '00000000' + '00000000');
    expect(hex(copyTrailer())).toBe('ffff');
  });
  it('encodes every type in network byte order with length words', () => {
    const cols: PgValues[] = [
      { type: 'int4', values: Int32Array.from([-1, 2 ** 31 - 1]) },
      { type: 'int8', values: BigInt64Array.from([uint64ToPg(1n << 63n), uint64ToPg((1n << 64n) - 1n)]) },
      { type: 'float4', values: Float32Array.from([1.5, -0]) },
      { type: 'float8', values: Float64Array.from([Number.NaN, -0]) },
      { type: 'bool', values: Uint8Array.from([1, 0]) },
    ];
    expect(tupleBytes(cols)).toBe(2 + 8 + 12 + 8 + 12 + 5);
    const b = encodeTuples(cols, 0, 2);
    expect(hex(b)).toBe(
      '0005' + '00000004ffffffff' + '000000088000000000000000' + '000000043fc00000' + '000000087ff8000000000000' + '0000000101' +
        '0005' + '000000047fffffff' + '00000008ffffffffffffffff' + '0000000480000000' + '000000088000000000000000' + '0000000100',
    );
  });
  it('encodes a row window', () => {
    const cols: PgValues[] = [{ type: 'int4', values: Int32Array.from([1, 2, 3, 4]) }];
    expect(hex(encodeTuples(cols, 1, 3))).toBe('0001' + '0000000400000002' + '0001' + '0000000400000003');
    expect(encodeTuples(cols, 2, 2).length).toBe(0);
    const ids: PgValues[] = [{ type: 'int8', values: BigInt64Array.from([1n, -2n, 0x0123456789abcdefn]) }];
    expect(hex(encodeTuples(ids, 1, 3))).toBe('0001' + '00000008fffffffffffffffe' + '0001' + '000000080123456789abcdef');
  });
  it('refuses short columns and bad field counts', () => {
    expect(() => encodeTuples([{ type: 'int4', values: Int32Array.from([1]) }], 0, 2)).toThrow(RangeError);
    expect(() => encodeTuples([], 0, 0)).toThrow(RangeError);
  });
  it('encodeCopy streams header, tuples in bounded buffers, trailer; the concatenation is the whole COPY', () => {
    const n = 10;
    const cols: PgValues[] = [
      { type: 'int8', values: BigInt64Array.from({ length: n }, (_, i) => BigInt(i)) },
      { type: 'float8', values: Float64Array.from({ length: n }, (_, i) => i / 2) },
    ];
    const parts = [...encodeCopy(cols, n, { rowsPerBuffer: 4 })];
    expect(parts.map((p) => p.length)).toEqual([19, 4 * tupleBytes(cols), 4 * tupleBytes(cols), 2 * tupleBytes(cols), 2]);
    expect(Buffer.concat(parts).equals(Buffer.concat([copyHeader(), encodeTuples(cols, 0, n), copyTrailer()]))).toBe(true);
    expect([...encodeCopy(cols, 0)].map((p) => p.length)).toEqual([19, 2]);
    expect(() => [...encodeCopy(cols, 1, { rowsPerBuffer: 0 })]).toThrow(RangeError);
  });
});
