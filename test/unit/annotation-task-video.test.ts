// Task videos against real ffmpeg and ffprobe (the layer's binaries from npm): the file has every property a
// browser needs to play and seek it frame-exactly, and frame i of the video is JPEG i.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTaskVideo, frameMd5, jpegSize, taskManifest, TaskVideoError, type TaskVideoFrame } from '../../functions/annotation/task-video.ts';
import {
  colorDistance, decodeRgb, ffmpegPath, ffprobeIn, makeFrame, meanAbsDiff, meanColor, mp4Boxes, nearestPaletteIndex, PALETTE, psnr,
} from '../support/task-video.ts';

const run = promisify(execFile);
const ODD = { width: 641, height: 359 };
const COUNT = 12;
const RATE = 5;

let dir: string;
let ffprobePath: string;
let frames: TaskVideoFrame[];

interface Probe {
  streams: { codec_type: string; codec_name: string; profile: string; pix_fmt: string; width: number; height: number; has_b_frames: number; nb_frames: string; r_frame_rate: string; avg_frame_rate: string; time_base: string; bits_per_raw_sample?: string }[];
  frames: { pts: number; pts_time: string; key_frame: number; pict_type: string }[];
}

async function probe(file: string): Promise<Probe> {
  const { stdout } = await run(ffprobePath, ['-v', 'error', '-print_format', 'json', '-show_streams', '-show_frames', file], { maxBuffer: 1 << 26 });
  return JSON.parse(stdout) as Probe;
}

const frameAt = (path: string, i: number): TaskVideoFrame => ({ path, sampledFrame: 100 + i, sourceFrame: 500 + 5 * i, time: (500 + 5 * i) / 25 });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'framewise-task-video-'));
  ffprobePath = ffprobeIn(dir);
  frames = await Promise.all(Array.from({ length: COUNT }, async (_, i) => {
    const path = join(dir, `frame-${i}.jpg`);
    await makeFrame(path, i, ODD);
    return frameAt(path, i);
  }));
}, 30_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a task video', () => {
  let video: Awaited<ReturnType<typeof encodeTaskVideo>>;
  let out: string;

  beforeAll(async () => {
    out = join(dir, 'task.mp4');
    video = await encodeTaskVideo({ ffmpegPath, frames, frameRate: RATE, outPath: out });
  }, 30_000);

  it('is H.264 8-bit yuv420p, padded to even dimensions, with no other stream', async () => {
    expect(jpegSize(readFileSync(frames[0]!.path))).toEqual(ODD);
    expect(video).toEqual({ width: 642, height: 360, frameCount: COUNT, frameRate: RATE, letterboxed: false });
    const { streams } = await probe(out);
    expect(streams.map((s) => s.codec_type)).toEqual(['video']);
    const [s] = streams;
    expect(s).toMatchObject({ codec_name: 'h264', pix_fmt: 'yuv420p', width: 642, height: 360, has_b_frames: 0, nb_frames: String(COUNT), r_frame_rate: '5/1', avg_frame_rate: '5/1' });
    expect(s!.bits_per_raw_sample).toBe('8');
    expect(['High', 'Main', 'Constrained Baseline', 'Baseline']).toContain(s!.profile);
  });

  it('presents frame i at exactly i / frameRate, from a keyframe at the first frame, with no B-frame', async () => {
    const { streams, frames: decoded } = await probe(out);
    const [num, den] = streams[0]!.time_base.split('/').map(Number) as [number, number];
    expect(decoded).toHaveLength(COUNT);
    decoded.forEach((f, i) => {
      expect(f.pts * num * RATE, `pts of frame ${i}`).toBe(i * den); // pts · time base = i / R, in integers
      expect(Number(f.pts_time)).toBeCloseTo(i / RATE, 6);
      expect(f.pict_type).not.toBe('B');
    });
    expect(decoded[0]!.key_frame).toBe(1);
  });

  it('has moov before mdat and no edit list or composition offsets', () => {
    const { top, all } = mp4Boxes(out);
    expect(top).toContain('moov');
    expect(top.indexOf('moov')).toBeLessThan(top.indexOf('mdat'));
    expect(all).toContain('stts');
    expect(all).not.toContain('edts');
    expect(all).not.toContain('elst');
    expect(all).not.toContain('ctts');
  });

  it('shows JPEG i as frame i, closely, with the padding black at the right and bottom', async () => {
    const jpegs = await Promise.all(frames.map(async (f) => (await decodeRgb(f.path, ODD.width, ODD.height))[0]!));
    const decoded = await decodeRgb(out, ODD.width, ODD.height, { filter: `format=rgb24,crop=${ODD.width}:${ODD.height}:0:0` });
    expect(decoded).toHaveLength(COUNT);
    decoded.forEach((picture, i) => {
      const diffs = jpegs.map((jpeg) => meanAbsDiff(picture, jpeg));
      expect(psnr(picture, jpegs[i]!), `PSNR of frame ${i}`).toBeGreaterThan(30);
      expect(diffs[i]!).toBeLessThan(3);
      expect(diffs.indexOf(Math.min(...diffs)), `nearest JPEG to frame ${i}`).toBe(i);
      expect(nearestPaletteIndex(meanColor(picture, ODD.width, { x: 40, y: 40, w: 200, h: 280 }))).toBe(i);
    });
    const [whole] = await decodeRgb(out, 642, 360);
    const right = meanColor(whole!, 642, { x: 641, y: 8, w: 1, h: 344 });
    const bottom = meanColor(whole!, 642, { x: 8, y: 359, w: 300, h: 1 });
    // the edge is filtered with its neighbours by 4:2:0 and the codec: dark, not the picture's colour
    expect(Math.max(...right, ...bottom)).toBeLessThan(PALETTE_MIN_BRIGHT);
  });
});

/** Every palette colour has a channel at 255: a black edge stays far below. */
const PALETTE_MIN_BRIGHT = 140;

describe('letterboxing', () => {
  it('scales frames of another size to fit, centred on black, and says so', async () => {
    const sizes = [ODD, { width: 320, height: 480 }, { width: 1280, height: 720 }, ODD];
    const mixed = await Promise.all(sizes.map(async (size, i) => {
      const path = join(dir, `mixed-${i}.jpg`);
      await makeFrame(path, i, size, { solid: true });
      return frameAt(path, i);
    }));
    const out = join(dir, 'mixed.mp4');
    const video = await encodeTaskVideo({ ffmpegPath, frames: mixed, frameRate: 7, outPath: out });
    expect(video).toEqual({ width: 642, height: 360, frameCount: 4, frameRate: 7, letterboxed: true });
    const { streams, frames: decoded } = await probe(out);
    expect(streams[0]).toMatchObject({ width: 642, height: 360, nb_frames: '4', has_b_frames: 0, pix_fmt: 'yuv420p' });
    expect(decoded.map((f) => Number(f.pts_time))).toEqual([0, 1, 2, 3].map((i) => Number((i / 7).toFixed(6))));
    const pictures = await decodeRgb(out, 642, 360);
    const at = (i: number, x: number, y: number, w = 8, h = 8) => meanColor(pictures[i]!, 642, { x, y, w, h });
    for (const [i, picture] of pictures.entries()) {
      expect(nearestPaletteIndex(at(i, 317, 176)), `centre of frame ${i}`).toBe(i);
      expect(colorDistance(at(i, 317, 176), PALETTE[i]!)).toBeLessThan(24);
      expect(picture).toBeDefined();
    }
    // 320×480 fitted into 641×359: 239 or 240 wide, centred: black bars of about 200 pixels either side
    for (const x of [10, 180, 460, 620]) expect(Math.max(...at(1, x, 100)), `bar at x=${x}`).toBeLessThan(24);
    for (const x of [220, 410]) expect(nearestPaletteIndex(at(1, x, 100))).toBe(1);
    // 1280×720 (16:9) into 641×359 fills it: no bar
    for (const x of [4, 620]) expect(nearestPaletteIndex(at(2, x, 100))).toBe(2);
  });

  it('fits every frame onto a given size', async () => {
    const out = join(dir, 'sized.mp4');
    const video = await encodeTaskVideo({ ffmpegPath, frames: frames.slice(0, 3), frameRate: RATE, outPath: out, size: { width: 320, height: 240 } });
    expect(video).toEqual({ width: 320, height: 240, frameCount: 3, frameRate: RATE, letterboxed: true });
    const { streams } = await probe(out);
    expect(streams[0]).toMatchObject({ width: 320, height: 240, nb_frames: '3' });
  });
});

describe('bad input', () => {
  it('is a TaskVideoError, and writes nothing', async () => {
    const out = join(dir, 'never.mp4');
    const text = join(dir, 'not-a-jpeg.jpg');
    writeFileSync(text, 'hello');
    const cases = [
      () => encodeTaskVideo({ ffmpegPath, frames: [], frameRate: 5, outPath: out }),
      () => encodeTaskVideo({ ffmpegPath, frames: [frameAt(text, 0)], frameRate: 5, outPath: out }),
      () => encodeTaskVideo({ ffmpegPath, frames, frameRate: 2.5, outPath: out }),
      () => encodeTaskVideo({ ffmpegPath, frames, frameRate: 0, outPath: out }),
      () => encodeTaskVideo({ ffmpegPath, frames, frameRate: 5, outPath: out, size: { width: 0, height: 10 } }),
    ];
    for (const c of cases) await expect(c()).rejects.toBeInstanceOf(TaskVideoError);
    expect(existsSync(out)).toBe(false);
  });
});

describe('the manifest', () => {
  it('maps each task frame to its sampled frame, source frame and time, with the md5 of its JPEG', async () => {
    const withMd5 = await Promise.all(frames.slice(0, 3).map(async (f) => ({ ...f, md5: await frameMd5(f.path) })));
    const video = { width: 642, height: 360, frameCount: 3, frameRate: RATE, letterboxed: false };
    const manifest = taskManifest('u-00002', video, withMd5);
    expect(manifest).toEqual({
      taskId: 'u-00002', frameRate: RATE, width: 642, height: 360, letterboxed: false,
      frames: [0, 1, 2].map((i) => ({ index: i, sampledFrame: 100 + i, sourceFrame: 500 + 5 * i, time: (500 + 5 * i) / 25, md5: withMd5[i]!.md5 })),
    });
    expect(new Set(manifest.frames.map((f) => f.md5)).size).toBe(3);
    expect(withMd5[0]!.md5).toMatch(/^[0-9a-f]{32}$/);
    expect(() => taskManifest('u-00002', { ...video, frameCount: 4 }, withMd5)).toThrow(TaskVideoError);
  });
});
