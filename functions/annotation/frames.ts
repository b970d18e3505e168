// Sampled frames and the source frames they show. The sampled frames of a video at rate R are video ingest's
// (functions/ingest/extract.ts: ffmpeg's fps filter, sampled frame n at output time n / R); a task's frames
// are one extraction segment, planned by the same seek rule as ingest's segments.
//
// Which source frame sampled frame n shows (the fps filter's rule, see functions/ingest/segments.ts): source
// frame j, presented at t = start + j / F from the file's start, lands on slot round(t · R) (ties away from
// zero), and slot n shows the last source frame whose slot is <= n. Slots before the first frame's slot m (a
// video stream that starts after the file) repeat what slot m shows. So sourceFrameOf(n) is the largest j
// with t · R < max(n, m) + 1/2. Exact for a constant-rate source (integer timestamps make t exact).
import { parseFrameRate, segmentAt, type FrameRate, type Segment } from '../ingest/segments.ts';

const MICROS = 1_000_000n;

function rateOf(fps: number | string, what: string): FrameRate {
  try {
    return parseFrameRate(fps);
  } catch {
    throw new RangeError(`${what} must be a positive frame rate, got ${JSON.stringify(fps)}`);
  }
}

/** Seconds as integer microseconds, as ffprobe prints them. */
function micros(seconds: number, what: string): bigint {
  if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError(`${what} must be a number of seconds >= 0, got ${seconds}`);
  return BigInt(Math.round(seconds * 1e6));
}

/**
 * The index, in the source video's decoded frame sequence, of the frame that ingest's extraction at
 * `frameRate` outputs as sampled frame `sampled`. `sourceFrameRate` is the source's constant rate (ffprobe's
 * r_frame_rate, e.g. "30000/1001"); `startTime` how long after the file's start its video stream starts
 * (stream start_time - format start_time; default 0).
 */
export function sourceFrameOf(sampled: number, frameRate: number | string, sourceFrameRate: number | string, startTime = 0): number {
  if (!Number.isSafeInteger(sampled) || sampled < 0) throw new RangeError(`sampled must be an integer >= 0, got ${sampled}`);
  const r = rateOf(frameRate, 'frameRate');
  const f = rateOf(sourceFrameRate, 'sourceFrameRate');
  const s = micros(startTime, 'startTime');
  // the first source frame's slot, round(s·R) (ties away from zero): slots before it show what it shows
  const firstSlot = (2n * s * BigInt(r.num) + MICROS * BigInt(r.den)) / (2n * MICROS * BigInt(r.den));
  const n = BigInt(sampled) > firstSlot ? BigInt(sampled) : firstSlot;
  // j/F·R < n + 1/2 - s·R  ⇔  j < X = ((2n + 1)·10⁶·Rd - 2·s·Rn)·Fn / (2·10⁶·Fd·Rn); the largest such j is ceil(X) - 1
  const num = ((2n * n + 1n) * MICROS * BigInt(r.den) - 2n * s * BigInt(r.num)) * BigInt(f.num);
  const den = 2n * MICROS * BigInt(f.den) * BigInt(r.num);
  return Number((num - 1n) / den);
}

/** When source frame j is presented, in seconds from the file's start. */
export function sourceFrameTime(sourceFrame: number, sourceFrameRate: number | string, startTime = 0): number {
  const f = rateOf(sourceFrameRate, 'sourceFrameRate');
  return startTime + (sourceFrame * f.den) / f.num;
}

/** Task k holds sampled frames [k · framesPerTask, min((k + 1) · framesPerTask, frameCount)). */
export function taskFrameRange(task: number, framesPerTask: number, frameCount: number): { first: number; count: number } {
  if (!Number.isInteger(framesPerTask) || framesPerTask < 1) throw new RangeError(`framesPerTask must be an integer >= 1, got ${framesPerTask}`);
  const first = task * framesPerTask;
  if (!Number.isInteger(task) || task < 0 || first >= frameCount) throw new RangeError(`task ${task} is outside the ${frameCount} sampled frames`);
  return { first, count: Math.min(framesPerTask, frameCount - first) };
}

/**
 * The extraction segment (functions/ingest/extract.ts extractSegment) of task k's frames, seeking as video
 * ingest's segments do. The task holding the last sampled frame runs to the end of the video.
 */
export function taskSegment(o: {
  task: number;
  framesPerTask: number;
  /** Sampled frames of the whole video (ingest's plan: frameCountAt / planSegments). */
  frameCount: number;
  frameRate: number | string;
  /** Start of the video stream after the file's start, seconds. Default 0. */
  videoStart?: number;
}): Segment {
  const { first, count } = taskFrameRange(o.task, o.framesPerTask, o.frameCount);
  return segmentAt({ index: o.task, firstFrame: first, frameCount: count, last: first + count === o.frameCount, fps: o.frameRate, videoStart: o.videoStart });
}
