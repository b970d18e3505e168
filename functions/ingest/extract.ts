// Frame extraction with ffmpeg: one planned segment (a Map iteration of video-ingest), or the whole video
// in one run (the reference the segments must reproduce exactly).
//
// A segment run, for output frames [a, a + k) at rate R, seeking to S > 0 (see segments.ts):
//   ffmpeg -copyts -start_at_zero -ss S -i INPUT -map 0:V:0 -vf fps=R,trim=start_pts=a[:end_pts=a+k]
//          -vsync passthrough [-frames:v k] -q:v Q -frame_pts 1 DIR/%06d.jpg
// and a segment planned without a seek (it starts within a second or so of the video) runs the whole-video
// command stopped at a + k, keeping frames >= a. Why this is exact (each point checked on the layer's ffmpeg):
// - `-copyts -start_at_zero` makes ffmpeg subtract the file's start time from every timestamp, as a plain run
//   does, and leaves the seek out of it: the fps filter sees the same timestamps as in the whole-video run, so
//   it puts every input frame on the same output slot and (last segment) ends at the same slot.
// - `-ss S` before `-i` seeks to the keyframe at or before S and decodes from there (the same pictures); the
//   accurate seek drops frames before S. S is early enough that the input frame shown at slot a is decoded.
// - after fps, pts are slot numbers in 1/R: `trim` keeps slots [a, a + k) by integer comparison.
// - `-vsync passthrough` writes each kept frame once; the default (cfr for image2) would pad from slot 0.
//   The whole-video run relies on that padding when the video stream starts after the file (audio first):
//   slots before the first one repeat its picture. Segments without a seek keep the default and so match.
// - `-frame_pts 1` names each file by its pts, i.e. its slot: the extractor checks the names, not a count.
// - the same encoder and `-q:v` give byte-identical JPEGs for the same picture.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { frameFileName } from '../lib/frame-images.ts';
import { formatFrameRate, parseFrameRate } from '../lib/frame-rate.ts';
import type { Segment } from './segments.ts';

export interface ExtractedFrame {
  readonly frame: number;
  readonly file: string;
}

interface CommonOptions {
  /** Path of the ffmpeg binary (config.ffmpegPath()). */
  readonly ffmpegPath: string;
  /** A file path or an http(s) URL, e.g. a presigned S3 GET. */
  readonly input: string;
  /** Output frame rate: a number or "num/den" (the plan's `fps`). */
  readonly fps: number | string;
  /** Where `{frame:06d}.jpg` files are written (created if missing). */
  readonly outDir: string;
  /** JPEG quality as ffmpeg's -q:v, 2 (best) to 31. Default 3. */
  readonly quality?: number;
  /** Kill ffmpeg after this long. Default 10 minutes. */
  readonly timeoutMs?: number;
  /** Threads for ffmpeg's decoder and encoder; default: ffmpeg's choice (from the cores it sees). */
  readonly threads?: number;
  readonly signal?: AbortSignal;
}

export interface ExtractSegmentOptions extends CommonOptions {
  readonly segment: Pick<Segment, 'firstFrame' | 'frameCount' | 'last' | 'seekSeconds'> & Partial<Segment>;
  /**
   * The last segment runs to the end of the video, so its frames are the whole-video run's whatever the
   * probed duration said. By default a last segment that ends elsewhere than planned is an error
   * (FrameCountMismatchError); false accepts what the video gives.
   */
  readonly exactEnd?: boolean;
  /** Told when a seek landed late and the segment is decoded from the start instead. */
  readonly onFallback?: (message: string) => void;
}

export const DEFAULT_QUALITY = 3;
export const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const STDERR_TAIL_BYTES = 4096;
const FRAME_FILE = /^(\d{6,})\.jpg$/;

export class FfmpegError extends Error {
  override readonly name = 'FfmpegError';
  constructor(
    message: string,
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderrTail: string,
  ) {
    super(message);
  }
}

/** ffmpeg ran, but the segment's frames are not the ones planned (`frames`: the indices it gave). */
export class FrameCountMismatchError extends Error {
  override readonly name = 'FrameCountMismatch';
  constructor(
    message: string,
    readonly frames: number[],
  ) {
    super(message);
  }
}

function inputArgs(input: string): string[] {
  // Presigned URLs: reconnect on a dropped connection, and give up on a stalled one instead of hanging.
  return /^https?:\/\//i.test(input) ? ['-reconnect', '1', '-reconnect_delay_max', '10', '-rw_timeout', '60000000'] : [];
}

/** Lambda gives a function one vCPU per this much memory, and at most six. */
const MB_PER_VCPU = 1769;
const MAX_VCPUS = 6;

/**
 * ffmpeg's threads for a run in a function of `memoryMb`: its share of vCPUs, at least one. ffmpeg's default counts
 * the cores it sees, which are more than a function's share (on Lambda, and in the local cloud, whose concurrent
 * segments share the machine): threads beyond the share only add switching (eight segments at once on two cores
 * took 14 % more CPU). The frames are byte-identical whatever the count.
 */
export function threadsForMemory(memoryMb: number): number {
  return Math.max(1, Math.min(MAX_VCPUS, Math.floor(memoryMb / MB_PER_VCPU)));
}

/** -threads before -i sets the decoder's threads, after it the encoder's: both. */
function threadArgs(threads: number | undefined): string[] {
  if (threads === undefined) return [];
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`);
  return ['-threads', String(threads)];
}

function qualityOf(quality: number | undefined): string {
  const q = quality ?? DEFAULT_QUALITY;
  if (!Number.isInteger(q) || q < 2 || q > 31) throw new RangeError(`quality must be an integer from 2 to 31, got ${q}`);
  return String(q);
}

/** The arguments of the whole-video reference run: the plain `ffmpeg -i video -vf fps=R %06d.jpg`. */
export function wholeArgs(o: { input: string; fps: number | string; quality?: number; threads?: number }, pattern: string): string[] {
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-y',
    ...threadArgs(o.threads), ...inputArgs(o.input), '-i', o.input,
    '-map', '0:V:0',
    '-vf', `fps=${formatFrameRate(parseFrameRate(o.fps))}`,
    ...threadArgs(o.threads),
    '-q:v', qualityOf(o.quality), '-start_number', '0', pattern,
  ];
}

/**
 * How a segment run reaches its first frame: `start` reads from the start like the whole-video run (segments
 * planned without a seek); `seek` seeks to segment.seekSeconds; `scan` is `seek` without the seek (decodes from
 * the start, encodes only the segment): the fallback when the container's seek lands late (MPEG-TS here).
 */
export type SegmentMode = 'start' | 'seek' | 'scan';

/** The arguments of one segment's run (see the top of this file). */
export function segmentArgs(
  o: Omit<ExtractSegmentOptions, 'ffmpegPath' | 'outDir'>,
  pattern: string,
  mode: SegmentMode = o.segment.seekSeconds > 0 ? 'seek' : 'start',
): string[] {
  const { firstFrame, frameCount, last, seekSeconds } = o.segment;
  if (!Number.isInteger(firstFrame) || firstFrame < 0) throw new RangeError(`segment.firstFrame must be an integer >= 0, got ${firstFrame}`);
  if (!Number.isInteger(frameCount) || frameCount < 0) throw new RangeError(`segment.frameCount must be an integer >= 0, got ${frameCount}`);
  if (!(seekSeconds >= 0)) throw new RangeError(`segment.seekSeconds must be >= 0, got ${seekSeconds}`);
  const fps = formatFrameRate(parseFrameRate(o.fps));
  const end = firstFrame + frameCount;
  const head = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'];
  const threads = threadArgs(o.threads);
  const tail = [...threads, '-q:v', qualityOf(o.quality), '-frame_pts', '1', pattern];
  if (mode === 'start') {
    // The whole-video run, stopped after the segment's last frame (counted after the cfr padding, so no trim:
    // slots before the video stream's first frame exist only there); the caller drops the frames before a.
    return [
      ...head, ...threads, ...inputArgs(o.input), '-i', o.input, '-map', '0:V:0',
      '-vf', `fps=${fps}`,
      ...(last ? [] : ['-frames:v', String(end)]),
      ...tail,
    ];
  }
  return [
    ...head, '-copyts', '-start_at_zero', ...(mode === 'seek' ? ['-ss', seekSeconds.toFixed(6)] : []),
    ...threads, ...inputArgs(o.input), '-i', o.input, '-map', '0:V:0',
    '-vf', `fps=${fps},trim=start_pts=${firstFrame}${last ? '' : `:end_pts=${end}`}`,
    '-vsync', 'passthrough',
    ...(last ? [] : ['-frames:v', String(frameCount)]),
    ...tail,
  ];
}

/** Presigned URLs are credentials while they last: errors name the object, not the signature. */
const redact = (text: string) => text.replace(/(https?:\/\/[^\s?'"]+)\?[^\s'":]*/gi, '$1?…');

/** Runs ffmpeg; rejects with the tail of its stderr when it fails, times out or is aborted. */
export function runFfmpeg(ffmpegPath: string, args: string[], o: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    let tail = '';
    let why: string | undefined;
    const child = spawn(ffmpegPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      tail = (tail + chunk).slice(-STDERR_TAIL_BYTES);
    });
    const stop = (reason: string) => {
      why ??= reason;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => stop(`ffmpeg did not finish within ${timeoutMs} ms`), timeoutMs);
    const onAbort = () => stop('ffmpeg was aborted');
    o.signal?.addEventListener('abort', onAbort, { once: true });
    if (o.signal?.aborted) onAbort();
    const done = (err?: Error) => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    child.on('error', (err) => done(new FfmpegError(`ffmpeg could not be started (${ffmpegPath}): ${err.message}`, args.map(redact), null, '')));
    child.on('close', (code, signal) => {
      const stderrTail = redact(tail.trim());
      if (why) return done(new FfmpegError(`${why}${stderrTail ? `: ${stderrTail}` : ''}`, args.map(redact), code, stderrTail));
      if (code !== 0) {
        const how = code === null ? `was killed by ${signal}` : `exited with code ${code}`;
        return done(new FfmpegError(`ffmpeg ${how}: ${stderrTail || '(no output)'}`, args.map(redact), code, stderrTail));
      }
      done();
    });
  });
}

const byFrame = (x: ExtractedFrame, y: ExtractedFrame) => x.frame - y.frame;

/** Runs ffmpeg into a fresh directory inside `work`; returns the frames it wrote there (not yet in outDir). */
async function runInto(o: CommonOptions, work: string, args: (pattern: string) => string[]): Promise<ExtractedFrame[]> {
  const into = await mkdtemp(join(work, 'run-'));
  await runFfmpeg(o.ffmpegPath, args(join(into, '%06d.jpg')), o);
  return (await readdir(into))
    .flatMap((name) => {
      const m = FRAME_FILE.exec(name);
      return m ? [{ frame: Number(m[1]), file: join(into, name) }] : [];
    })
    .sort(byFrame);
}

/** Moves frames into outDir: a failed, killed or rejected run leaves no partial frames there. */
async function publish(frames: ExtractedFrame[], outDir: string): Promise<ExtractedFrame[]> {
  const out: ExtractedFrame[] = [];
  for (const f of frames) {
    const file = join(outDir, frameFileName(f.frame));
    await rename(f.file, file);
    out.push({ frame: f.frame, file });
  }
  return out;
}

async function withWorkDir<T>(outDir: string, body: (work: string) => Promise<T>): Promise<T> {
  await mkdir(outDir, { recursive: true });
  const work = await mkdtemp(join(outDir, '.ffmpeg-'));
  try {
    return await body(work);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The reference: one ffmpeg run over the whole video with the fps filter; frames numbered from 0. */
export async function extractWhole(o: CommonOptions): Promise<ExtractedFrame[]> {
  return withWorkDir(o.outDir, async (work) => publish(await runInto(o, work, (pattern) => wholeArgs(o, pattern)), o.outDir));
}

/** Extracts exactly one planned segment's frames as outDir/{frame:06d}.jpg. */
export async function extractSegment(o: ExtractSegmentOptions): Promise<ExtractedFrame[]> {
  const { firstFrame, frameCount, last, seekSeconds } = o.segment;
  if (!last && frameCount === 0) return [];
  const expectedEnd = firstFrame + frameCount;
  return withWorkDir(o.outDir, async (work) => {
    const run = async (mode: SegmentMode) => (await runInto(o, work, (pattern) => segmentArgs(o, pattern, mode))).filter((f) => f.frame >= firstFrame);
    let mode: SegmentMode = seekSeconds > 0 ? 'seek' : 'start';
    let frames = await run(mode);
    // A seek that lands after the frame shown at the segment's first slot shows as a missing first slot (fps
    // starts at the slot of the first frame it sees). Decode from the start instead: slower, but exact.
    if (mode === 'seek' && frames[0]?.frame !== firstFrame) {
      o.onFallback?.(`the seek to ${seekSeconds} s landed late (first frame ${frames[0]?.frame ?? 'none'}, wanted ${firstFrame}); decoding from the start`);
      mode = 'scan';
      frames = await run(mode);
    }
    const first = frames[0]?.frame ?? firstFrame;
    const actualEnd = first + frames.length;
    const what = frames.length ? `frames ${first}..${actualEnd - 1}` : 'no frame';
    if (!frames.every((f, i) => f.frame === first + i)) {
      throw new FrameCountMismatchError(`segment from frame ${firstFrame}: ffmpeg gave non-contiguous ${what}`, frames.map((f) => f.frame));
    }
    if (first !== firstFrame || (actualEnd !== expectedEnd && (!last || o.exactEnd !== false))) {
      const hint = last && first === firstFrame ? ' (the video ends elsewhere than its probed duration says)' : '';
      throw new FrameCountMismatchError(`segment planned frames ${firstFrame}..${expectedEnd - 1} but ffmpeg gave ${what}${hint}`, frames.map((f) => f.frame));
    }
    return publish(frames, o.outDir);
  });
}
