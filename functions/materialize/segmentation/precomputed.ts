// A Neuroglancer precomputed segmentation volume, as far as the supervoxel lookup needs it: the `info` JSON
// (validated: raw encoding, uint64, one channel, unsharded), the chunk grid of one scale, and the decoding of
// one raw chunk. Pure.
//
// Spec: https://github.com/google/neuroglancer/blob/master/src/datasource/precomputed/volume.md
// - A scale covers voxels [voxel_offset, voxel_offset + size) in its own voxel coordinates (`resolution` nm per
//   voxel). Its chunks tile that box from voxel_offset in steps of chunk_size; the chunks on the upper edges are
//   clipped to the box, so they are smaller.
// - Chunk (i, j, k) is the object `<key>/<x0>-<x1>_<y0>-<y1>_<z0>-<z1>` (voxel bounds, upper exclusive).
// - `raw` encoding: the chunk's voxels as little-endian values of data_type, x fastest, then y, then z
//   (then channel, of which a segmentation has one).
import { z } from 'zod';

export type Vec3 = readonly [number, number, number];

export interface VolumeScale {
  /** The scale's folder, relative to the volume. */
  key: string;
  size: Vec3;
  /** nm per voxel. */
  resolution: Vec3;
  voxelOffset: Vec3;
  chunkSize: Vec3;
}

export interface InfoProblem {
  code:
    /** No `info` object under the volume prefix (found by the store, not here). */
    | 'INFO_NOT_FOUND'
    | 'INFO_NOT_JSON'
    | 'INFO_MALFORMED'
    | 'NOT_SEGMENTATION'
    | 'UNSUPPORTED_DATA_TYPE'
    | 'UNSUPPORTED_CHANNELS'
    | 'UNKNOWN_SCALE'
    | 'UNSUPPORTED_ENCODING'
    | 'UNSUPPORTED_SHARDING';
  message: string;
  scale?: string;
}

export type ScaleResult = { ok: true; scale: VolumeScale; scales: string[] } | { ok: false; problems: InfoProblem[] };

const positiveInt = z.number().int().min(1);
const triple = <T extends z.ZodType>(item: T) => z.tuple([item, item, item]);
// Keys are folders under the volume: no absolute paths, no climbing out of it.
const scaleKey = z
  .string()
  .min(1)
  .refine((k) => !k.startsWith('/') && !k.split('/').includes('..') && !k.includes('\\'), 'a scale key is a relative path inside the volume');

const ScaleJson = z.looseObject({
  key: scaleKey,
  size: triple(positiveInt),
  resolution: triple(z.number().positive().finite()),
  voxel_offset: triple(z.number().int()).optional(),
  chunk_sizes: z.array(triple(positiveInt)).min(1),
  encoding: z.string(),
  sharding: z.unknown().optional(),
});
const InfoJson = z.looseObject({
  type: z.string(),
  data_type: z.string(),
  num_channels: z.number().int(),
  scales: z.array(ScaleJson).min(1),
});

/**
 * Validates an `info` document (the parsed JSON) and picks a scale: `scaleKey`, or the first (the finest, by
 * convention). Every problem is reported at once. Only the chosen scale must be readable here (raw, unsharded):
 * the others may use any encoding.
 */
export function resolveScale(info: unknown, scaleKeyWanted?: string): ScaleResult {
  const parsed = InfoJson.safeParse(info);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((i) => ({ code: 'INFO_MALFORMED', message: `info${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${i.message}` })),
    };
  }
  const doc = parsed.data;
  const problems: InfoProblem[] = [];
  if (doc.type !== 'segmentation') problems.push({ code: 'NOT_SEGMENTATION', message: `info.type is '${doc.type}'; a supervoxel lookup needs 'segmentation'` });
  if (doc.data_type !== 'uint64') problems.push({ code: 'UNSUPPORTED_DATA_TYPE', message: `info.data_type is '${doc.data_type}'; only 'uint64' supervoxel ids are supported` });
  if (doc.num_channels !== 1) problems.push({ code: 'UNSUPPORTED_CHANNELS', message: `info.num_channels is ${doc.num_channels}; a segmentation has exactly 1` });

  const keys = doc.scales.map((s) => s.key);
  const chosen = scaleKeyWanted === undefined ? doc.scales[0]! : doc.scales.find((s) => s.key === scaleKeyWanted);
  if (!chosen) {
    problems.push({ code: 'UNKNOWN_SCALE', message: `the volume has no scale '${scaleKeyWanted}' (scales: ${keys.join(', ')})`, scale: scaleKeyWanted });
    return { ok: false, problems };
  }
  if (chosen.encoding !== 'raw') {
    problems.push({ code: 'UNSUPPORTED_ENCODING', message: `scale '${chosen.key}' is encoded as '${chosen.encoding}'; only 'raw' is supported`, scale: chosen.key });
  }
  if (chosen.sharding !== undefined && chosen.sharding !== null) {
    problems.push({ code: 'UNSUPPORTED_SHARDING', message: `scale '${chosen.key}' is sharded; only unsharded chunk files are supported`, scale: chosen.key });
  }
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    scales: keys,
    scale: {
      key: chosen.key.replace(/\/+$/, ''),
      size: chosen.size,
      resolution: chosen.resolution,
      voxelOffset: chosen.voxel_offset ?? [0, 0, 0],
      // Several sizes may be listed; the files are written in the first (as CloudVolume reads them).
      chunkSize: chosen.chunk_sizes[0]!,
    },
  };
}

/** Parses the bytes of an `info` object, then resolveScale. */
export function resolveScaleFromText(text: string, scaleKeyWanted?: string): ScaleResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { ok: false, problems: [{ code: 'INFO_NOT_JSON', message: `info is not JSON: ${(e as Error).message}` }] };
  }
  return resolveScale(json, scaleKeyWanted);
}

// ---------------------------------------------------------------------------------------------------------------
// Positions, voxels, chunks.

const AXES = [0, 1, 2] as const;
const map3 = (f: (axis: 0 | 1 | 2) => number): [number, number, number] => [f(0), f(1), f(2)];

// Exact arithmetic. A resolution or position unit is the decimal it is written as: the shortest decimal that reads
// back as the same double, which is exactly what was written for any decimal of up to 15 significant digits (4.4 is
// 44/10, not the double 4.4000000000000003552713678800500929355621337890625). A position is its exact value: an
// integer, or the exact value of a double. So a point on a voxel face is in the voxel above it, whatever the
// resolution, as ⌊p · unit / resolution⌋ says; doubles would put 66 · 1 / 4.4 = 14.999999999999998 in voxel 14.

/** A rational number n / d, d > 0. */
export interface Ratio {
  readonly n: bigint;
  readonly d: bigint;
}

const gcd = (a: bigint, b: bigint): bigint => {
  a = a < 0n ? -a : a;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
};
const reduced = (n: bigint, d: bigint): Ratio => {
  const g = gcd(n, d) || 1n;
  return { n: n / g, d: d / g };
};

/** The decimal a finite number is written as (see above), as a ratio. */
export function decimalRatio(x: number): Ratio {
  if (!Number.isFinite(x)) throw new RangeError(`not a finite number: ${x}`);
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(x));
  if (!m) throw new RangeError(`cannot read ${x} as a decimal`);
  const [, sign, whole, fraction = '', exponent = '0'] = m;
  const shift = Number(exponent) - fraction.length;
  const digits = BigInt(`${sign}${whole}${fraction}`);
  return shift >= 0 ? reduced(digits * 10n ** BigInt(shift), 1n) : reduced(digits, 10n ** BigInt(-shift));
}

/** The exact value of a finite double (every one is an integer times a power of two). */
export function doubleRatio(x: number): Ratio {
  if (!Number.isFinite(x)) throw new RangeError(`not a finite number: ${x}`);
  if (Number.isSafeInteger(x)) return { n: BigInt(x), d: 1n };
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & 0xfffffffffffffn;
  if (biased !== 0) mantissa |= 1n << 52n;
  const exponent = (biased === 0 ? 1 : biased) - 1075;
  const n = bits >> 63n ? -mantissa : mantissa;
  return exponent >= 0 ? { n: n << BigInt(exponent), d: 1n } : reduced(n, 1n << BigInt(-exponent));
}

/** ⌊n / d⌋ for d > 0. */
export const floorDiv = (n: bigint, d: bigint): bigint => {
  const q = n / d;
  return n % d < 0n ? q - 1n : q;
};

/** Per axis, voxels per position unit as a reduced ratio: unit / resolution. */
export function voxelsPerUnit(positionUnitNm: Vec3, resolution: Vec3): [Ratio, Ratio, Ratio] {
  return [0, 1, 2].map((a) => {
    const unit = decimalRatio(positionUnitNm[a]!);
    const res = decimalRatio(resolution[a]!);
    if (unit.n <= 0n || res.n <= 0n) throw new RangeError(`a position unit and a resolution are positive: ${positionUnitNm[a]}, ${resolution[a]}`);
    return reduced(unit.n * res.d, unit.d * res.n);
  }) as [Ratio, Ratio, Ratio];
}

// Below 2^52 the double path's products and the remainder's q · d are exact integers.
const EXACT = 2 ** 52;

/** ⌊p · r⌋ exactly: in doubles while every product is an exact integer (the usual case), else in bigints. */
function floorTimes(p: number, r: Ratio, safe: boolean): number {
  if (safe && Number.isInteger(p) && Math.abs(p) * Number(r.n) <= EXACT) {
    const n = p * Number(r.n);
    const d = Number(r.d);
    const q = Math.floor(n / d);
    // n and d are exact integers: the remainder corrects a quotient that rounded across an integer.
    const rest = n - q * d;
    return rest < 0 ? q - 1 : rest >= d ? q + 1 : q;
  }
  const x = doubleRatio(p);
  return Number(floorDiv(x.n * r.n, x.d * r.d));
}

/**
 * The voxel (in the scale's coordinates) holding an annotation position: positions count in units of
 * `positionUnitNm` nm per axis, voxels are `resolution` nm, and a point lies in the voxel whose [v, v + 1) box
 * contains it: ⌊p · unit / resolution⌋, exactly. Build it once per source: the ratios are reduced up front.
 */
export function voxelLocator(positionUnitNm: Vec3, resolution: Vec3): (position: Vec3) => Vec3 {
  const ratios = voxelsPerUnit(positionUnitNm, resolution);
  const safe = ratios.map((r) => r.n <= BigInt(EXACT) && r.d <= BigInt(EXACT));
  return (position) => map3((a) => floorTimes(position[a], ratios[a], safe[a]!));
}

export const voxelOfPosition = (position: Vec3, positionUnitNm: Vec3, resolution: Vec3): Vec3 => voxelLocator(positionUnitNm, resolution)(position);

export const isInsideVolume = (scale: Pick<VolumeScale, 'voxelOffset' | 'size'>, voxel: Vec3): boolean =>
  AXES.every((a) => voxel[a] >= scale.voxelOffset[a] && voxel[a] < scale.voxelOffset[a] + scale.size[a]);

/** The grid index of the chunk holding a voxel, or undefined for a voxel outside the volume. */
export function chunkIndexOf(scale: Pick<VolumeScale, 'voxelOffset' | 'size' | 'chunkSize'>, voxel: Vec3): Vec3 | undefined {
  if (!isInsideVolume(scale, voxel)) return undefined;
  return map3((a) => Math.floor((voxel[a] - scale.voxelOffset[a]) / scale.chunkSize[a]));
}

export interface ChunkBox {
  /** First voxel of the chunk. */
  origin: Vec3;
  /** Voxels per axis: chunkSize, or less on the volume's upper edges. */
  shape: Vec3;
}

/** The voxels a chunk covers: from its origin, chunkSize voxels, clipped to the volume. */
export function chunkBox(scale: Pick<VolumeScale, 'voxelOffset' | 'size' | 'chunkSize'>, index: Vec3): ChunkBox {
  const chunks = map3((a) => Math.ceil(scale.size[a] / scale.chunkSize[a]));
  if (AXES.some((a) => !Number.isInteger(index[a]) || index[a] < 0 || index[a] >= chunks[a])) {
    throw new RangeError(`chunk [${index.join(', ')}] is outside the grid of [${chunks.join(', ')}] chunks`);
  }
  const origin = map3((a) => scale.voxelOffset[a] + index[a] * scale.chunkSize[a]);
  const end = map3((a) => Math.min(origin[a] + scale.chunkSize[a], scale.voxelOffset[a] + scale.size[a]));
  return { origin, shape: map3((a) => end[a] - origin[a]) };
}

/** The chunk's file name, `x0-x1_y0-y1_z0-z1`. */
export const chunkFileName = (box: ChunkBox): string => AXES.map((a) => `${box.origin[a]}-${box.origin[a] + box.shape[a]}`).join('_');

/** `a/b` for a volume prefix with or without a trailing slash; '' stays ''. */
export const normalizeVolumePrefix = (prefix: string): string => prefix.replace(/\/+$/, '');

const joinKey = (...parts: string[]): string => parts.filter((p) => p !== '').join('/');

/** The S3 key of the volume's `info`. */
export const infoObjectKey = (volumePrefix: string): string => joinKey(normalizeVolumePrefix(volumePrefix), 'info');

/** The S3 key of one chunk of the scale. */
export const chunkObjectKey = (volumePrefix: string, scale: Pick<VolumeScale, 'key'>, box: ChunkBox): string =>
  joinKey(normalizeVolumePrefix(volumePrefix), scale.key, chunkFileName(box));

// ---------------------------------------------------------------------------------------------------------------
// Raw chunks.

export class ChunkDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChunkDecodeError';
  }
}

/** One decoded raw uint64 chunk: the supervoxel id at any voxel it covers. */
export interface RawChunk {
  readonly box: ChunkBox;
  supervoxelAt(voxel: Vec3): bigint;
}

/**
 * Wraps the bytes of a raw uint64 chunk (nothing is copied). The length must be exactly the box's voxel count
 * times 8: a chunk of another size (a wrong chunk size in `info`, a compressed file) is an error, never a
 * misread.
 */
export function decodeRawChunk(bytes: Uint8Array, box: ChunkBox): RawChunk {
  const [sx, sy, sz] = box.shape;
  const expected = sx * sy * sz * 8;
  if (bytes.byteLength !== expected) {
    throw new ChunkDecodeError(`chunk ${chunkFileName(box)} has ${bytes.byteLength} bytes; ${sx}×${sy}×${sz} uint64 voxels need ${expected}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    box,
    supervoxelAt(voxel) {
      const [x, y, z] = AXES.map((a) => voxel[a] - box.origin[a]) as [number, number, number];
      if (x < 0 || y < 0 || z < 0 || x >= sx || y >= sy || z >= sz) {
        throw new RangeError(`voxel [${voxel.join(', ')}] is not in chunk ${chunkFileName(box)}`);
      }
      return view.getBigUint64(((z * sy + y) * sx + x) * 8, true);
    },
  };
}

/** A chunk that does not exist, read as background (0) everywhere, when the source says missing chunks are empty. */
export function emptyChunk(box: ChunkBox): RawChunk {
  return {
    box,
    supervoxelAt: () => 0n,
  };
}

/** Encodes supervoxel ids as a raw chunk (x fastest): for tests and sample volumes. */
export function encodeRawChunk(box: ChunkBox, supervoxelAt: (voxel: Vec3) => bigint): Uint8Array {
  const [sx, sy, sz] = box.shape;
  const out = new Uint8Array(sx * sy * sz * 8);
  const view = new DataView(out.buffer);
  let o = 0;
  for (let z = 0; z < sz; z++) {
    for (let y = 0; y < sy; y++) {
      for (let x = 0; x < sx; x++, o += 8) view.setBigUint64(o, supervoxelAt([box.origin[0] + x, box.origin[1] + y, box.origin[2] + z]), true);
    }
  }
  return out;
}
