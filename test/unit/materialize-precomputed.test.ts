// The precomputed volume as the supervoxel lookup reads it: info validation, positions to voxels, the chunk grid
// (voxel_offset, clipped edge chunks, file names), and raw chunk decoding checked against bytes laid out by hand.
import { describe, expect, it } from 'vitest';
import {
  chunkBox,
  chunkFileName,
  chunkIndexOf,
  chunkObjectKey,
  ChunkDecodeError,
  decimalRatio,
  decodeRawChunk,
  doubleRatio,
  emptyChunk,
  encodeRawChunk,
  infoObjectKey,
  isInsideVolume,
  resolveScale,
  resolveScaleFromText,
  voxelLocator,
  voxelOfPosition,
  voxelsPerUnit,
  type Vec3,
  type VolumeScale,
} from '../../functions/materialize/segmentation/precomputed.ts';

const scaleJson = (over: Record<string, unknown> = {}) => ({
  key: '8_8_40',
  size: [10, 9, 5],
  resolution: [8, 8, 40],
  voxel_offset: [100, 200, 10],
  chunk_sizes: [[4, 4, 4]],
  encoding: 'raw',
  ...over,
});
const info = (over: Record<string, unknown> = {}, scales: unknown[] = [scaleJson()]) => ({
  '@type': 'neuroglancer_multiscale_volume',
  type: 'segmentation',
  data_type: 'uint64',
  num_channels: 1,
  scales,
  ...over,
});
const codes = (r: ReturnType<typeof resolveScale>) => (r.ok ? [] : r.problems.map((p) => p.code).sort());

describe('resolveScale', () => {
  it('takes the first scale by default, with its geometry', () => {
    const r = resolveScale(info({}, [scaleJson(), scaleJson({ key: '16_16_40', encoding: 'compressed_segmentation' })]));
    expect(r).toEqual({
      ok: true,
      scales: ['8_8_40', '16_16_40'],
      scale: { key: '8_8_40', size: [10, 9, 5], resolution: [8, 8, 40], voxelOffset: [100, 200, 10], chunkSize: [4, 4, 4] },
    });
  });

  it('takes a named scale, a missing voxel_offset as the origin, the first of several chunk sizes', () => {
    const r = resolveScale(info({}, [scaleJson({ encoding: 'jpeg' }), scaleJson({ key: 'low/', voxel_offset: undefined, chunk_sizes: [[2, 2, 1], [8, 8, 8]] })]), 'low/');
    expect(r.ok && r.scale).toEqual({ key: 'low', size: [10, 9, 5], resolution: [8, 8, 40], voxelOffset: [0, 0, 0], chunkSize: [2, 2, 1] });
  });

  it('reports every unsupported property at once', () => {
    const r = resolveScale(info({ type: 'image', data_type: 'uint32', num_channels: 3 }, [scaleJson({ encoding: 'compressed_segmentation', sharding: { '@type': 'neuroglancer_uint64_sharded_v1' } })]));
    expect(codes(r)).toEqual(['NOT_SEGMENTATION', 'UNSUPPORTED_CHANNELS', 'UNSUPPORTED_DATA_TYPE', 'UNSUPPORTED_ENCODING', 'UNSUPPORTED_SHARDING']);
    if (!r.ok) for (const p of r.problems) expect(p.message.length).toBeGreaterThan(10);
  });

  it('ignores what other scales use, but not an unknown scale', () => {
    expect(resolveScale(info({}, [scaleJson(), scaleJson({ key: 'b', encoding: 'jpeg' })])).ok).toBe(true);
    expect(codes(resolveScale(info(), 'nope'))).toEqual(['UNKNOWN_SCALE']);
  });

  it('rejects malformed documents with the path of each problem', () => {
    const r = resolveScale(info({}, [scaleJson({ size: [10, 0, 5], chunk_sizes: [] })]));
    expect(codes(r)).toEqual(['INFO_MALFORMED', 'INFO_MALFORMED']);
    expect(!r.ok && r.problems.map((p) => p.message).join('\n')).toMatch(/info\.scales\[0\]\.size\[1\]/);
    expect(codes(resolveScale({ scales: [] }))).toContain('INFO_MALFORMED');
    expect(codes(resolveScale([1, 2]))).toEqual(['INFO_MALFORMED']);
    expect(codes(resolveScale(info({}, [scaleJson({ key: '../other' })])))).toEqual(['INFO_MALFORMED']);
    expect(codes(resolveScale(info({}, [scaleJson({ voxel_offset: [0.5, 0, 0] })])))).toEqual(['INFO_MALFORMED']);
  });

  it('parses the text of the object, and says when it is not JSON', () => {
    expect(resolveScaleFromText(JSON.stringify(info())).ok).toBe(true);
    expect(codes(resolveScaleFromText('{"type": "segmentation",'))).toEqual(['INFO_NOT_JSON']);
  });
});

const scale: VolumeScale = { key: '8_8_40', size: [10, 9, 5], resolution: [8, 8, 40], voxelOffset: [100, 200, 10], chunkSize: [4, 4, 4] };

describe('positions to voxels', () => {
  it('uses the voxel itself when positions are in voxels of the scale', () => {
    expect(voxelOfPosition([103, 204, 12], [8, 8, 40], [8, 8, 40])).toEqual([103, 204, 12]);
  });
  it('scales positions in other units and rounds down, also below zero', () => {
    // 4 nm units into 8 nm voxels: position 2v and 2v + 1 are both in voxel v.
    expect(voxelOfPosition([206, 207, 12], [4, 4, 40], [8, 8, 40])).toEqual([103, 103, 12]);
    expect(voxelOfPosition([-1, -2, -3], [4, 4, 40], [8, 8, 40])).toEqual([-1, -1, -3]);
    // nm positions into 8 × 8 × 40 nm voxels
    expect(voxelOfPosition([823, 1600, 439], [1, 1, 1], [8, 8, 40])).toEqual([102, 200, 10]);
  });

  it('puts a point on a voxel face in the voxel above it at resolutions that are not binary fractions', () => {
    // In doubles 66 · 1 / 4.4 is 14.999999999999998 and 30 · 4.4 / 8.8 is 14.999999999999998.
    expect(Math.floor((66 * 1) / 4.4)).toBe(14);
    expect(voxelOfPosition([66, 30, 7], [1, 4.4, 40], [4.4, 8.8, 40])).toEqual([15, 15, 7]);
    expect(voxelOfPosition([65, 29, 7], [1, 4.4, 40], [4.4, 8.8, 40])).toEqual([14, 14, 7]);
    expect(voxelOfPosition([-66, -30, -1], [1, 4.4, 40], [4.4, 8.8, 40])).toEqual([-15, -15, -1]);
    expect(voxelOfPosition([-67, -31, -1], [1, 4.4, 40], [4.4, 8.8, 40])).toEqual([-16, -16, -1]);
    // 0.1, 0.3, 0.7 nm units into 0.1 nm voxels: every integer position is a face.
    expect(voxelOfPosition([3, 7, 10], [0.3, 0.7, 0.1], [0.1, 0.1, 0.1])).toEqual([9, 49, 10]);
  });

  it('finds every face of a grid exactly, against a count of faces in integers', () => {
    // Units and resolutions in tenths of a nm: the face of voxel v is at position v · res / unit, an integer
    // whenever v · res is a multiple of unit.
    for (const [unit, res] of [[1, 4.4], [4.4, 8.8], [0.3, 0.7], [1.1, 3.3], [2.5, 0.1], [0.7, 1.05]] as const) {
      const u = Math.round(unit * 100);
      const r = Math.round(res * 100);
      const locate = voxelLocator([unit, unit, unit], [res, res, res]);
      for (let p = -500; p <= 500; p++) {
        const expected = Math.floor((p * u) / r); // exact: small integers
        const rest = p * u - expected * r;
        expect(rest >= 0 && rest < r, `${p} · ${unit} / ${res}`).toBe(true);
        expect(locate([p, p, p])[0], `${p} · ${unit} / ${res}`).toBe(expected);
      }
    }
  });

  it('reads a resolution as the decimal it is written as, and a position as the exact value of its double', () => {
    expect(decimalRatio(4.4)).toEqual({ n: 22n, d: 5n });
    expect(decimalRatio(40)).toEqual({ n: 40n, d: 1n });
    expect(decimalRatio(1e-7)).toEqual({ n: 1n, d: 10_000_000n });
    expect(decimalRatio(1.5e21)).toEqual({ n: 1_500_000_000_000_000_000_000n, d: 1n });
    expect(decimalRatio(0.1 + 0.2)).toEqual({ n: 7_500_000_000_000_001n, d: 25_000_000_000_000_000n }); // 0.30000000000000004
    expect(() => decimalRatio(Number.NaN)).toThrow(RangeError);
    expect(doubleRatio(12)).toEqual({ n: 12n, d: 1n });
    expect(doubleRatio(0.5)).toEqual({ n: 1n, d: 2n });
    // The double nearest 0.1 is a little more than 0.1, the one nearest 0.3 a little less than 0.3.
    expect(doubleRatio(0.1)).toEqual({ n: 3602879701896397n, d: 2n ** 55n });
    expect(doubleRatio(-2.75)).toEqual({ n: -11n, d: 4n });
    expect(doubleRatio(2 ** 60)).toEqual({ n: 2n ** 60n, d: 1n });
    expect(doubleRatio(Number.MIN_VALUE)).toEqual({ n: 1n, d: 2n ** 1074n });
    expect(voxelsPerUnit([1, 4.4, 40], [4.4, 8.8, 40])).toEqual([{ n: 5n, d: 22n }, { n: 1n, d: 2n }, { n: 1n, d: 1n }]);
  });

  it('takes a fractional position at the exact value of its double', () => {
    // 0.3 (the double) is below 0.3 and 0.1 above 0.1: in 0.1 nm voxels of 1 nm units they fall below and on a face.
    expect(voxelOfPosition([0.3, 0.1, 0.5], [1, 1, 1], [0.1, 0.1, 0.1])).toEqual([2, 1, 5]);
    expect(voxelOfPosition([14.5, -0.25, 2 ** 60], [4.4, 1, 1], [8.8, 1, 1])).toEqual([7, -1, 2 ** 60]);
  });

  it('stays exact for positions and ratios beyond 2^52', () => {
    expect(voxelOfPosition([2 ** 53 + 4, 3, 2 ** 60], [3, 1, 0.3], [1, 1e-7, 0.1])).toEqual([3 * 2 ** 53 + 12, 30_000_000, 3 * 2 ** 60]);
  });
});

describe('the chunk grid', () => {
  it('counts chunks from voxel_offset, not from 0', () => {
    expect(chunkIndexOf(scale, [100, 200, 10])).toEqual([0, 0, 0]);
    expect(chunkIndexOf(scale, [99, 200, 10])).toBeUndefined();
    expect(chunkIndexOf(scale, [100, 199, 10])).toBeUndefined();
    expect(chunkIndexOf(scale, [100, 200, 9])).toBeUndefined();
  });
  it('puts the voxels on either side of a chunk boundary in neighbouring chunks', () => {
    expect(chunkIndexOf(scale, [103, 203, 13])).toEqual([0, 0, 0]);
    expect(chunkIndexOf(scale, [104, 203, 13])).toEqual([1, 0, 0]);
    expect(chunkIndexOf(scale, [103, 204, 13])).toEqual([0, 1, 0]);
    expect(chunkIndexOf(scale, [103, 203, 14])).toEqual([0, 0, 1]);
  });
  it('clips the chunks on the upper edges to the volume', () => {
    expect(chunkIndexOf(scale, [109, 208, 14])).toEqual([2, 2, 1]);
    expect(chunkIndexOf(scale, [110, 208, 14])).toBeUndefined();
    expect(isInsideVolume(scale, [109, 208, 14])).toBe(true);
    expect(chunkBox(scale, [2, 2, 1])).toEqual({ origin: [108, 208, 14], shape: [2, 1, 1] });
    expect(chunkBox(scale, [0, 0, 0])).toEqual({ origin: [100, 200, 10], shape: [4, 4, 4] });
    expect(() => chunkBox(scale, [3, 0, 0])).toThrow(RangeError);
    expect(() => chunkBox(scale, [-1, 0, 0])).toThrow(RangeError);
  });
  it('names chunk files by their voxel bounds, under the scale key', () => {
    expect(chunkFileName(chunkBox(scale, [2, 2, 1]))).toBe('108-110_208-209_14-15');
    expect(chunkFileName(chunkBox(scale, [1, 0, 0]))).toBe('104-108_200-204_10-14');
    expect(chunkObjectKey('seg/v1/', scale, chunkBox(scale, [0, 1, 0]))).toBe('seg/v1/8_8_40/100-104_204-208_10-14');
    expect(chunkObjectKey('', scale, chunkBox(scale, [0, 0, 0]))).toBe('8_8_40/100-104_200-204_10-14');
    expect(infoObjectKey('seg/v1//')).toBe('seg/v1/info');
    expect(infoObjectKey('')).toBe('info');
  });
});

describe('raw chunks', () => {
  const box = chunkBox(scale, [2, 2, 1]); // 2 × 1 × 1 at (108, 208, 14)
  const TOP = 2n ** 64n - 1n;

  it('reads little-endian uint64, x fastest, then y, then z (bytes laid out by hand)', () => {
    const b = { origin: [0, 0, 0] as Vec3, shape: [2, 3, 2] as Vec3 };
    const bytes = new Uint8Array(2 * 3 * 2 * 8);
    const view = new DataView(bytes.buffer);
    // voxel (x, y, z) holds 100·z + 10·y + x, except (1, 2, 1), which holds an id ≥ 2^63
    for (let z = 0; z < 2; z++) for (let y = 0; y < 3; y++) for (let x = 0; x < 2; x++) {
      const i = x + 2 * (y + 3 * z);
      view.setUint32(i * 8, 100 * z + 10 * y + x, true);
    }
    const last = (1 + 2 * (2 + 3 * 1)) * 8;
    view.setBigUint64(last, 2n ** 63n + 5n, true);
    const chunk = decodeRawChunk(bytes, b);
    expect(chunk.supervoxelAt([1, 0, 0])).toBe(1n);
    expect(chunk.supervoxelAt([0, 1, 0])).toBe(10n);
    expect(chunk.supervoxelAt([0, 0, 1])).toBe(100n);
    expect(chunk.supervoxelAt([1, 2, 0])).toBe(21n);
    expect(chunk.supervoxelAt([1, 2, 1])).toBe(2n ** 63n + 5n);
  });

  it('reads an edge chunk in global voxel coordinates, and round-trips ids ≥ 2^63', () => {
    const ids = (v: Vec3) => (v[0] === 109 ? TOP : 2n ** 63n + BigInt(v[0]));
    const bytes = encodeRawChunk(box, ids);
    expect(bytes.byteLength).toBe(2 * 8);
    const chunk = decodeRawChunk(bytes, box);
    expect(chunk.supervoxelAt([108, 208, 14])).toBe(2n ** 63n + 108n);
    expect(chunk.supervoxelAt([109, 208, 14])).toBe(TOP);
    expect(() => chunk.supervoxelAt([110, 208, 14])).toThrow(RangeError);
    expect(() => chunk.supervoxelAt([107, 208, 14])).toThrow(RangeError);
  });

  it('reads bytes at an offset inside a larger buffer', () => {
    const inner = encodeRawChunk(box, () => 7n);
    const outer = new Uint8Array(inner.length + 3);
    outer.set(inner, 3);
    expect(decodeRawChunk(outer.subarray(3), box).supervoxelAt([109, 208, 14])).toBe(7n);
  });

  it('refuses a chunk of the wrong size (a full-size chunk where an edge chunk belongs, a compressed file)', () => {
    const full = encodeRawChunk(chunkBox(scale, [0, 0, 0]), () => 1n);
    expect(() => decodeRawChunk(full, box)).toThrow(ChunkDecodeError);
    expect(() => decodeRawChunk(new Uint8Array(15), box)).toThrow(/108-110_208-209_14-15 has 15 bytes; 2×1×1 uint64 voxels need 16/);
  });

  it('reads a missing chunk as background', () => {
    expect(emptyChunk(box).supervoxelAt([109, 208, 14])).toBe(0n);
  });
});
