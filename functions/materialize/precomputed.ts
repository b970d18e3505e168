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

/**
 * The voxel (in the scale's coordinates) holding an annotation position: positions count in units of
 * `positionUnitNm` nm per axis, voxels are `resolution` nm, and a point lies in the voxel whose [v, v + 1) box
 * contains it. Multiply first, then divide, in doubles: the SQL that orders rows by chunk does the same
 * operations, so both agree exactly.
 */
export function voxelOfPosition(position: Vec3, positionUnitNm: Vec3, resolution: Vec3): Vec3 {
  return map3((a) => Math.floor((position[a] * positionUnitNm[a]) / resolution[a]));
}

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
