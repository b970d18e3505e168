// A task video: a task's frames, in order, as an H.264 MP4 that a browser plays and seeks frame-exactly.
//
// What the file is, and why:
// - H.264 8-bit yuv420p from libx264: what every browser decodes.
// - no B-frames (-bf 0): decode order is presentation order, so there is no composition offset and no
//   reason for an edit list; `-use_editlist 0` leaves it out: frame i is presented at i / frameRate from
//   the file's start, with nothing a player could apply differently.
// - constant frame rate: the JPEGs are read by the image2 demuxer at `-framerate R` (pts of frame i = i in
//   1/R), written with `-r R -vsync cfr`: nothing is dropped or repeated.
// - a keyframe at the first frame (x264 always starts with one); `moov` before `mdat` (+faststart), so a
//   player can seek after the first request; no audio, subtitle or data stream, no copied metadata.
// - even dimensions (4:2:0 needs them): a frame of odd size is padded by one black row or column at the
//   bottom or right, never scaled, so pixel (x, y) of the frame is pixel (x, y) of the video.
// - letterboxing: frames of another size than the video's (`size`, or the first frame's) are scaled to fit
//   it, keeping their aspect ratio, and centred on black.
import { createHash } from 'node:crypto';
import { mkdtemp, open, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runFfmpeg } from '../ingest/extract.ts';

export interface TaskVideoFrame {
  /** A JPEG on disk. */
  path: string;
  sampledFrame: number;
  sourceFrame: number;
  /** Source seconds. */
  time: number;
}

export interface TaskVideo {
  /** The video's (even) dimensions. */
  width: number;
  height: number;
  frameCount: number;
  frameRate: number;
  /** At least one frame was scaled and centred onto the video's size. */
  letterboxed: boolean;
}

export interface TaskManifest {
  taskId: string;
  frameRate: number;
  width: number;
  height: number;
  letterboxed: boolean;
  frames: { index: number; sampledFrame: number; sourceFrame: number; time: number; md5: string }[];
}

/** The frames cannot make a task video (none, not a JPEG, a bad rate or size). */
export class TaskVideoError extends Error {
  override readonly name = 'TaskVideoError';
}

/** x264's settings: a fast preset (tasks are encoded on every upload) at a quality that keeps edges crisp. */
export const TASK_VIDEO_PRESET = 'veryfast';
export const TASK_VIDEO_CRF = 18;
const DEFAULT_TIMEOUT_MS = 10 * 60_000;

export interface Size {
  width: number;
  height: number;
}

/** Reads a JPEG's dimensions from its frame header (SOFn); throws TaskVideoError if it is not a JPEG. */
export function jpegSize(bytes: Uint8Array, name = 'frame'): Size {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) throw new TaskVideoError(`${name} is not a JPEG`);
  let o = 2;
  while (o + 4 <= b.length) {
    if (b[o] !== 0xff) throw new TaskVideoError(`${name} is not a well-formed JPEG (no marker at byte ${o})`);
    const marker = b[o + 1]!;
    if (marker === 0xff) {
      o += 1; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      o += 2;
      continue;
    }
    const length = b.readUInt16BE(o + 2);
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC)
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      if (o + 9 > b.length) break;
      const height = b.readUInt16BE(o + 5);
      const width = b.readUInt16BE(o + 7);
      if (!width || !height) throw new TaskVideoError(`${name} has no size in its frame header`);
      return { width, height };
    }
    if (marker === 0xda || marker === 0xd9) break;
    o += 2 + length;
  }
  throw new TaskVideoError(`${name} is not a well-formed JPEG (no frame header)`);
}

/** A JPEG's header: its first 64 KiB hold the frame header in practice; the whole file when they do not. */
async function sizeOfFile(path: string): Promise<Size> {
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(64 * 1024);
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    try {
      return jpegSize(head.subarray(0, bytesRead), path);
    } catch (err) {
      if (bytesRead < head.length) throw err;
    }
  } finally {
    await file.close();
  }
  return jpegSize(await readFile(path), path);
}

const even = (n: number) => n + (n % 2);

function checkSize(size: Size, what: string): void {
  for (const [k, v] of Object.entries(size)) {
    if (!Number.isInteger(v) || v < 1 || v > 16384) throw new TaskVideoError(`${what}.${k} must be an integer from 1 to 16384, got ${v}`);
  }
}

/**
 * The video filter: `size` is what the frames are fitted onto, the output its even cover. Frames all of that
 * size are only padded (right and bottom) to even; otherwise each is scaled to fit and centred.
 */
export function taskVideoFilter(size: Size, letterbox: boolean): string {
  const [w, h] = [even(size.width), even(size.height)];
  const fit = letterbox
    ? [`scale=${size.width}:${size.height}:force_original_aspect_ratio=decrease`, `pad=${w}:${h}:(${size.width}-iw)/2:(${size.height}-ih)/2:black`]
    : w !== size.width || h !== size.height
      ? [`pad=${w}:${h}:0:0:black`]
      : [];
  return [...fit, 'format=yuv420p'].join(',');
}

/** ffmpeg's arguments: the numbered JPEGs `pattern` (from `startNumber`, default 0) into an MP4 at outPath. */
export function taskVideoArgs(o: { pattern: string; startNumber?: number; frameRate: number; size: Size; letterbox: boolean; outPath: string }): string[] {
  const rate = String(o.frameRate);
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'error', '-y',
    '-f', 'image2', '-pattern_type', 'sequence', '-framerate', rate, '-start_number', String(o.startNumber ?? 0), '-i', o.pattern,
    '-map', '0:v:0', '-an', '-sn', '-dn', '-map_metadata', '-1',
    '-vf', taskVideoFilter(o.size, o.letterbox),
    '-r', rate, '-vsync', 'cfr',
    '-c:v', 'libx264', '-preset', TASK_VIDEO_PRESET, '-crf', String(TASK_VIDEO_CRF), '-bf', '0', '-pix_fmt', 'yuv420p',
    '-movflags', '+faststart', '-use_editlist', '0', '-f', 'mp4', o.outPath,
  ];
}

/** Encodes the frames, in order, into an H.264 MP4 at outPath with the properties the top of this file lists. */
export async function encodeTaskVideo(o: {
  ffmpegPath: string;
  frames: readonly TaskVideoFrame[];
  frameRate: number;
  outPath: string;
  /** Letterbox onto this size (default: the first frame's). */
  size?: Size;
  timeoutMs?: number;
}): Promise<TaskVideo> {
  if (!Number.isInteger(o.frameRate) || o.frameRate < 1) throw new TaskVideoError(`frameRate must be an integer >= 1, got ${o.frameRate}`);
  if (o.frames.length === 0) throw new TaskVideoError('a task video needs at least one frame');
  if (o.size) checkSize(o.size, 'size');
  const sizes = await Promise.all(o.frames.map((f) => sizeOfFile(f.path)));
  const size = o.size ?? sizes[0]!;
  const letterboxed = sizes.some((s) => s.width !== size.width || s.height !== size.height);
  // The image2 demuxer reads numbered files: link the frames, in task order, into a private directory.
  const dir = await mkdtemp(join(tmpdir(), 'framewise-task-video-'));
  try {
    await Promise.all(o.frames.map((f, i) => symlink(resolve(f.path), join(dir, `${String(i).padStart(6, '0')}.jpg`))));
    const args = taskVideoArgs({ pattern: join(dir, '%06d.jpg'), frameRate: o.frameRate, size, letterbox: letterboxed, outPath: o.outPath });
    await runFfmpeg(o.ffmpegPath, args, { timeoutMs: o.timeoutMs ?? DEFAULT_TIMEOUT_MS });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { width: even(size.width), height: even(size.height), frameCount: o.frames.length, frameRate: o.frameRate, letterboxed };
}

/** The md5 of a frame's JPEG bytes, as the manifest records it. */
export async function frameMd5(path: string): Promise<string> {
  return createHash('md5').update(await readFile(path)).digest('hex');
}

/** The task's manifest: task frame index → sampled frame, source frame and time, and the JPEG's md5. */
export function taskManifest(taskId: string, video: TaskVideo, frames: readonly (TaskVideoFrame & { md5: string })[]): TaskManifest {
  if (frames.length !== video.frameCount) throw new TaskVideoError(`the manifest lists ${frames.length} frames but the video has ${video.frameCount}`);
  return {
    taskId,
    frameRate: video.frameRate,
    width: video.width,
    height: video.height,
    letterboxed: video.letterboxed,
    frames: frames.map((f, index) => ({ index, sampledFrame: f.sampledFrame, sourceFrame: f.sourceFrame, time: f.time, md5: f.md5 })),
  };
}
