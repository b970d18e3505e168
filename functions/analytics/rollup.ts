// Rollups of a frame series over time (issue 3, "Rollup at resolution r"). Pure.
//
// Bucket k at resolution r holds the frames with floor(t/r) = k and starts at k·r; `video` is one bucket at 0.
// Only buckets that hold at least one frame are listed (sorted by start): an empty bucket has no mean, and the
// series covers every extracted frame, so gaps only appear where the video itself has none. No frames, no buckets.
import type { FrameMetric } from './metrics.ts';

export const RESOLUTIONS = [1, 10, 60, 'video'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

/**
 * Slack (seconds) when placing a frame in a bucket: a time within this much below a border (9.999999999 for 10)
 * is read as the border itself, so floating-point noise in frame times cannot move a frame to the previous bucket.
 */
export const BUCKET_EPSILON = 1e-6;

export interface Bucket {
  readonly start: number;
  readonly frames: number;
  /** Frames with count > 0. */
  readonly visibleFrames: number;
  /** visibleFrames / frame rate. */
  readonly exposureSeconds: number;
  /** Sum of count. */
  readonly detections: number;
  readonly meanArea: number;
  readonly maxArea: number;
  readonly meanEffectiveness: number;
  readonly sumEffectiveness: number;
}

/** The whole-video total of a video without frames (its rollups list no bucket). */
export const NO_FRAMES: Bucket = { start: 0, frames: 0, visibleFrames: 0, exposureSeconds: 0, detections: 0, meanArea: 0, maxArea: 0, meanEffectiveness: 0, sumEffectiveness: 0 };

export type RollupFrame = Pick<FrameMetric, 'time' | 'count' | 'area' | 'effectiveness'>;

/** The bucket index of time t at resolution r (seconds). */
export function bucketIndex(t: number, r: number): number {
  return Math.floor((t + BUCKET_EPSILON) / r);
}

interface Acc {
  frames: number;
  visibleFrames: number;
  detections: number;
  sumArea: number;
  maxArea: number;
  sumEffectiveness: number;
}

/** Rolls a frame series (any order) up at a resolution; `frameRate` is the extraction rate (frames per second). */
export function rollup(frames: readonly RollupFrame[], frameRate: number, resolution: Resolution): Bucket[] {
  if (!(Number.isFinite(frameRate) && frameRate > 0)) throw new RangeError(`frameRate must be a positive number, got ${frameRate}`);
  if (!RESOLUTIONS.includes(resolution)) throw new RangeError(`resolution must be one of ${RESOLUTIONS.join(', ')}, got ${String(resolution)}`);
  const accs = new Map<number, Acc>();
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i]!;
    if (!Number.isFinite(f.time)) throw new RangeError(`frames[${i}].time is not a finite number`);
    const k = resolution === 'video' ? 0 : bucketIndex(f.time, resolution);
    let acc = accs.get(k);
    if (!acc) accs.set(k, (acc = { frames: 0, visibleFrames: 0, detections: 0, sumArea: 0, maxArea: 0, sumEffectiveness: 0 }));
    acc.frames++;
    if (f.count > 0) acc.visibleFrames++;
    acc.detections += f.count;
    acc.sumArea += f.area;
    if (f.area > acc.maxArea) acc.maxArea = f.area;
    acc.sumEffectiveness += f.effectiveness;
  }
  const r = resolution === 'video' ? 0 : resolution;
  return [...accs.entries()]
    .sort(([a], [b]) => a - b)
    .map(([k, a]) => ({
      start: k * r,
      frames: a.frames,
      visibleFrames: a.visibleFrames,
      exposureSeconds: a.visibleFrames / frameRate,
      detections: a.detections,
      meanArea: a.sumArea / a.frames,
      maxArea: a.maxArea,
      meanEffectiveness: a.sumEffectiveness / a.frames,
      sumEffectiveness: a.sumEffectiveness,
    }));
}
