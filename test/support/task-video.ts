// Frames that can be told apart after H.264 compression, and what a test needs to look inside an MP4: the
// layer's ffmpeg and ffprobe from npm, top-level and nested box types, decoded pictures as RGB.
import { execFile } from 'node:child_process';
import { accessSync, chmodSync, constants, copyFileSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
export const ffmpegPath = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;

/** The npm package ships ffprobe as mode 0744: usable by its owner only; a copy in `dir` otherwise. */
export function ffprobeIn(dir: string): string {
  const path = (require('@ffprobe-installer/ffprobe') as { path: string }).path;
  try {
    accessSync(path, constants.X_OK);
    return path;
  } catch {
    copyFileSync(path, join(dir, 'ffprobe'));
    chmodSync(join(dir, 'ffprobe'), 0o755);
    return join(dir, 'ffprobe');
  }
}

export async function ffmpeg(...args: string[]): Promise<void> {
  await run(ffmpegPath, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...args], { maxBuffer: 1 << 20 });
}

export type Rgb = readonly [number, number, number];

/** Twelve colours 30° of hue apart, fully saturated: far apart after compression. */
export const PALETTE: readonly Rgb[] = Array.from({ length: 12 }, (_, i) => hueToRgb(i * 30));

function hueToRgb(h: number): Rgb {
  const f = (n: number) => {
    const k = (n + h / 60) % 6;
    return Math.round(255 * (1 - Math.max(0, Math.min(k, 4 - k, 1))));
  };
  return [f(5), f(3), f(1)];
}

const hex = (c: Rgb) => `0x${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;

/**
 * A JPEG of the given size: the left half solid PALETTE[i % 12], the right half testsrc2's picture at i in grey
 * (detail that moves from frame to frame), or solid everywhere with `solid`. The detail is grey because 4:2:0
 * video cannot keep saturated colour edges: even a lossless encode of testsrc2's colours measures about 26 dB
 * against the JPEG in RGB, which would say nothing about the encode.
 */
export async function makeFrame(file: string, i: number, size: { width: number; height: number }, o: { solid?: boolean } = {}): Promise<void> {
  const color = hex(PALETTE[i % PALETTE.length]!);
  const s = `${size.width}x${size.height}`;
  const source = o.solid ? `color=c=${color}:s=${s},format=rgb24` : `testsrc2=s=${s}:r=5,format=rgb24,trim=start_frame=${i},setpts=PTS-STARTPTS,hue=s=0,drawbox=x=0:y=0:w=iw/2:h=ih:color=${color}@1:t=fill`;
  await ffmpeg('-f', 'lavfi', '-i', source, '-frames:v', '1', '-pix_fmt', 'yuvj444p', '-q:v', '2', file);
}

/** Top-level boxes of an MP4, and every box type found inside the containers among them. */
export function mp4Boxes(file: string): { top: string[]; all: string[] } {
  const containers = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'edts', 'dinf', 'udta', 'mvex']);
  const data = readFileSync(file);
  const all: string[] = [];
  const scan = (from: number, to: number, into?: string[]) => {
    for (let o = from; o + 8 <= to; ) {
      let size = data.readUInt32BE(o);
      const type = data.toString('latin1', o + 4, o + 8);
      let head = 8;
      if (size === 1) {
        size = Number(data.readBigUInt64BE(o + 8));
        head = 16;
      } else if (size === 0) size = to - o;
      if (size < head || o + size > to) throw new Error(`box ${type} at ${o} runs past its parent`);
      into?.push(type);
      all.push(type);
      if (containers.has(type)) scan(o + head, o + size);
      o += size;
    }
  };
  const top: string[] = [];
  scan(0, data.length, top);
  return { top, all };
}

/** Every picture of `input`, decoded to RGB (after `filter`, e.g. a crop), `width` × `height` each. */
export async function decodeRgb(input: string, width: number, height: number, o: { filter?: string; inputArgs?: string[] } = {}): Promise<Buffer[]> {
  const { stdout } = await run(
    ffmpegPath,
    ['-hide_banner', '-loglevel', 'error', '-nostdin', ...(o.inputArgs ?? []), '-i', input, ...(o.filter ? ['-vf', o.filter] : []), '-vsync', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { encoding: 'buffer', maxBuffer: 1 << 30 },
  );
  const bytes = width * height * 3;
  if (stdout.length % bytes !== 0) throw new Error(`${input}: ${stdout.length} bytes of RGB is not a whole number of ${width}x${height} pictures`);
  return Array.from({ length: stdout.length / bytes }, (_, i) => stdout.subarray(i * bytes, (i + 1) * bytes));
}

/** Mean absolute difference per channel of two RGB pictures of the same size. */
export function meanAbsDiff(a: Buffer, b: Buffer): number {
  if (a.length !== b.length) throw new Error(`pictures of ${a.length} and ${b.length} bytes`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

export function psnr(a: Buffer, b: Buffer): number {
  if (a.length !== b.length) throw new Error(`pictures of ${a.length} and ${b.length} bytes`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  const mse = sum / a.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

/** Mean colour of the rectangle [x, x + w) × [y, y + h) of an RGB picture `width` wide. */
export function meanColor(rgb: Buffer, width: number, r: { x: number; y: number; w: number; h: number }): Rgb {
  const sum = [0, 0, 0];
  for (let y = r.y; y < r.y + r.h; y++) {
    for (let x = r.x; x < r.x + r.w; x++) for (let c = 0; c < 3; c++) sum[c]! += rgb[(y * width + x) * 3 + c]!;
  }
  const n = r.w * r.h;
  return [sum[0]! / n, sum[1]! / n, sum[2]! / n];
}

export const colorDistance = (a: Rgb, b: Rgb) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));

/** The index of the PALETTE colour nearest `c`. */
export function nearestPaletteIndex(c: Rgb): number {
  let best = 0;
  PALETTE.forEach((p, i) => {
    if (colorDistance(p, c) < colorDistance(PALETTE[best]!, c)) best = i;
  });
  return best;
}
