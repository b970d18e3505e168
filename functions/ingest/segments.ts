// Plans frame extraction in parallel segments so that the union of the segments' frames is exactly what one
// `ffmpeg -i video -vf fps=R %06d.jpg` run gives (frame n = output time n/R from the file's start). Pure.
//
// What the fps filter of the ffmpeg in the layer (N-47683, late 2018) does, verified on that binary:
// - timestamps are relative to the file's start (ffmpeg subtracts the container start time);
// - an input frame at time t lands on output slot round(t·R), rounding to nearest, ties away from zero;
//   slot n shows the last input frame whose slot is <= n (duplicating or dropping frames as needed);
// - end of file: the stream's end (last frame's time + its duration) is rounded the same way, and the slots
//   before it are output: frameCount = round(R · end). A short last frame therefore counts (7.30 s at 5 fps
//   gives 37 frames: 36.5 rounds up), and a video shorter than half an output interval gives none;
// - a video stream starting after the file's start (audio first): the fps filter starts at the slot of its first
//   frame, m = round(R · start), and ffmpeg's default cfr output repeats that slot's picture into slots 0..m-1.
// The count needs the video stream's own end. ffprobe gives it for mp4/mov; Matroska streams have no duration
// (the format's may include a longer audio track): a last segment that ends elsewhere than planned is caught by
// extractSegment (exactEnd).
import { formatFrameRate, parseFrameRate, type FrameRate } from '../lib/frame-rate.ts';

export interface PlanInput {
  /** Duration of the video stream in seconds (ffprobe stream `duration`; the format's when the stream has none). */
  readonly durationSeconds: number;
  /** Start time of the video stream in seconds (ffprobe stream `start_time`). Default 0. */
  readonly startTime?: number;
  /** Start time of the file (ffprobe format `start_time`): what ffmpeg subtracts. Default: `startTime`. */
  readonly fileStartTime?: number;
  /** Output frame rate: a number (5, 0.5) or a rational string ("30000/1001"). */
  readonly fps: number | string;
  /** Number of segments wanted (capped at one frame per segment). */
  readonly segments?: number;
  /** Upper bound on frames per segment; with `segments` the larger resulting count wins. Default 1500. */
  readonly maxFramesPerSegment?: number;
  /** How far before a segment's first output time its run starts decoding. Default 1 s. */
  readonly seekMarginSeconds?: number;
}

export interface Segment {
  readonly index: number;
  /** First output frame index of the segment. */
  readonly firstFrame: number;
  /** Number of output frames: [firstFrame, firstFrame + frameCount). */
  readonly frameCount: number;
  /** The last segment runs to the end of the video (its frame count is the one planned from the duration). */
  readonly last: boolean;
  /**
   * Where the segment's ffmpeg run seeks (seconds from the file's start); 0: it reads from the start, like the
   * whole-video run (segments starting within the first `seekMarginSeconds` after the video stream's start).
   */
  readonly seekSeconds: number;
  /** Output time of the first frame, firstFrame / R, in seconds from the file's start. */
  readonly startSeconds: number;
}

export interface SegmentPlan {
  /** The output rate as ffmpeg is given it, "num/den". */
  readonly fps: string;
  readonly frameCount: number;
  readonly segments: Segment[];
}

/**
 * The default plan, chosen by the model of a 3-hour game on AWS (`npm run bench:cost`): as many segments as the Map
 * runs at once (one wave: every segment starts on its own instance), none shorter than SECONDS_PER_SEGMENT, and no
 * segment over DEFAULT_MAX_FRAMES_PER_SEGMENT (a segment's frames fit the function's /tmp; a game up to 6.7 hours at
 * 5 fps still runs in one wave). SEGMENTS_AT_ONCE is the Map's MaxConcurrency and ingest-frames' reserved concurrency.
 */
export const DEFAULT_MAX_FRAMES_PER_SEGMENT = 3000;
export const SEGMENTS_AT_ONCE = 40;
/**
 * A segment's own cost (a cold start, ffmpeg's start, the decode from the keyframe before its seek, a transition) is
 * about as much as 30 s of video's frames at 5 fps: at a minute each it is a third of the whole, not a half. Only
 * videos under 40 minutes have segments this short; a 3-hour game's are 4.5 minutes.
 */
export const SECONDS_PER_SEGMENT = 60;
export const DEFAULT_SEEK_MARGIN_SECONDS = 1;

/** Segments wanted for a video of `durationSeconds`: about SECONDS_PER_SEGMENT of video each, at most `atOnce`. */
export const wantedSegments = (durationSeconds: number, atOnce = SEGMENTS_AT_ONCE, secondsPerSegment = SECONDS_PER_SEGMENT): number =>
  Math.min(atOnce, Math.max(1, Math.ceil(durationSeconds / secondsPerSegment)));
/** Seconds as integer microseconds: ffprobe prints times with 6 decimals, from the container's integer timestamps. */
function micros(seconds: number, what: string): bigint {
  if (!Number.isFinite(seconds)) throw new RangeError(`${what} must be a finite number of seconds, got ${seconds}`);
  return BigInt(Math.round(seconds * 1e6));
}

/** round(n / d) to nearest, ties away from zero (AV_ROUND_NEAR_INF), for d > 0. */
function roundDiv(n: bigint, d: bigint): bigint {
  const q = (2n * (n < 0n ? -n : n) + d) / (2n * d);
  return n < 0n ? -q : q;
}

function countFrames(endMicros: bigint, rate: FrameRate): number {
  const n = roundDiv(endMicros * BigInt(rate.num), 1_000_000n * BigInt(rate.den));
  return n > 0n ? Number(n) : 0;
}

/** How many frames `-vf fps=R` gives for a video stream ending `endSeconds` after the file's start. */
export function frameCountAt(endSeconds: number, fps: number | string): number {
  return countFrames(micros(endSeconds, 'end'), parseFrameRate(fps));
}

export function planSegments(input: PlanInput): SegmentPlan {
  const rate = parseFrameRate(input.fps);
  if (!(input.durationSeconds >= 0)) throw new RangeError(`durationSeconds must be >= 0, got ${input.durationSeconds}`);
  const startTime = input.startTime ?? 0;
  const fileStartTime = input.fileStartTime ?? startTime;
  const offset = micros(startTime, 'startTime') - micros(fileStartTime, 'fileStartTime');
  if (offset < 0n) throw new RangeError(`startTime (${startTime}) is before fileStartTime (${fileStartTime})`);
  const videoStart = Number(offset) / 1e6;
  const end = offset + micros(input.durationSeconds, 'durationSeconds');
  const frameCount = countFrames(end, rate);

  const maxPer = input.maxFramesPerSegment ?? DEFAULT_MAX_FRAMES_PER_SEGMENT;
  if (!Number.isInteger(maxPer) || maxPer < 1) throw new RangeError(`maxFramesPerSegment must be a positive integer, got ${maxPer}`);
  if (input.segments !== undefined && (!Number.isInteger(input.segments) || input.segments < 1)) {
    throw new RangeError(`segments must be a positive integer, got ${input.segments}`);
  }
  const margin = input.seekMarginSeconds ?? DEFAULT_SEEK_MARGIN_SECONDS;
  if (!(margin >= 0)) throw new RangeError(`seekMarginSeconds must be >= 0, got ${margin}`);

  const wanted = Math.max(input.segments ?? 1, Math.ceil(frameCount / maxPer));
  const count = Math.min(wanted, frameCount);
  const segments: Segment[] = [];
  let next = 0;
  for (let index = 0; index < count; index++) {
    const size = Math.floor(frameCount / count) + (index < frameCount % count ? 1 : 0);
    segments.push(segmentAt({ index, firstFrame: next, frameCount: size, last: index === count - 1, fps: rate, videoStart, seekMarginSeconds: margin }));
    next += size;
  }
  return { fps: formatFrameRate(rate), frameCount, segments };
}

/**
 * The segment of output frames [firstFrame, firstFrame + frameCount) and where its run seeks: the one rule for
 * every extraction of part of a video (planSegments' segments, an annotation task's frames).
 */
export function segmentAt(o: {
  index: number;
  firstFrame: number;
  frameCount: number;
  /** The segment runs to the end of the video. */
  last: boolean;
  fps: FrameRate | number | string;
  /** Start of the video stream after the file's start, seconds (startTime - fileStartTime). Default 0. */
  videoStart?: number;
  seekMarginSeconds?: number;
}): Segment {
  const rate = typeof o.fps === 'object' ? o.fps : parseFrameRate(o.fps);
  const margin = o.seekMarginSeconds ?? DEFAULT_SEEK_MARGIN_SECONDS;
  const startSeconds = (o.firstFrame * rate.den) / rate.num;
  // Decode from a little before the first output time, so that the input frame shown at it is decoded
  // (it is at most one input frame interval before (firstFrame + 0.5) / R); whole milliseconds for a clean -ss.
  // A seek that would land before the video stream's first frame is no seek: such a segment runs from the start.
  const seek = Math.floor((startSeconds - margin) * 1000) / 1000;
  const seekSeconds = seek > (o.videoStart ?? 0) ? seek : 0;
  return { index: o.index, firstFrame: o.firstFrame, frameCount: o.frameCount, last: o.last, seekSeconds, startSeconds };
}
