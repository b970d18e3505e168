// Which source frame a sampled frame shows, against real ffmpeg (the layer's binary from npm): for generated
// videos and rates, every frame video ingest's extraction outputs (whole run, and task segments with their
// seeks) decodes to the same picture as the source frame sourceFrameOf names, decoded from every frame of
// the source. Pictures are compared as raw RGB, each source frame distinct.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourceFrameOf, sourceFrameTime, taskFrameRange, taskSegment } from '../../functions/annotation/frames.ts';
import { extractSegment, extractWhole } from '../../functions/ingest/extract.ts';
import { frameCountAt, planSegments } from '../../functions/ingest/segments.ts';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const ffmpegPath = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
const SIZE = { width: 160, height: 120 };
const FRAMES_PER_TASK = 20;

let dir: string;

async function ffmpeg(...args: string[]): Promise<void> {
  await run(ffmpegPath, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...args], { maxBuffer: 1 << 20 });
}

/** The md5 of each picture of `input` (a video, or a %06d.jpg pattern), decoded to raw RGB in order. */
async function pictureMd5s(input: string, inputArgs: string[] = []): Promise<string[]> {
  const { stdout } = await run(
    ffmpegPath,
    ['-hide_banner', '-loglevel', 'error', '-nostdin', ...inputArgs, '-i', input, '-map', '0:V:0', '-vsync', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { encoding: 'buffer', maxBuffer: 1 << 30 },
  );
  const bytes = SIZE.width * SIZE.height * 3;
  expect(stdout.length % bytes).toBe(0);
  return Array.from({ length: stdout.length / bytes }, (_, i) => createHash('md5').update(stdout.subarray(i * bytes, (i + 1) * bytes)).digest('hex'));
}

interface Source {
  readonly name: string;
  readonly file: string;
  readonly rate: string;
  readonly duration: number;
  /** The video stream's start after the file's start. */
  readonly start: number;
  /** md5 of each source frame's picture, through the same JPEG encode as the sampled frames. */
  pictures: string[];
}

const testsrc = (rate: string, seconds: number) => ['-f', 'lavfi', '-i', `testsrc2=size=${SIZE.width}x${SIZE.height}:rate=${rate}`, '-t', String(seconds)];
const h264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '25'];

const SOURCES: Omit<Source, 'file' | 'pictures'>[] = [
  { name: '25 fps', rate: '25', duration: 6, start: 0 },
  { name: '30000/1001 fps', rate: '30000/1001', duration: 6, start: 0 },
  { name: '30 fps (ties at 5 fps)', rate: '30', duration: 4, start: 0 },
  { name: '25 fps, video 0.53 s after the audio', rate: '25', duration: 3, start: 0.53 },
];
const RATES = [5, 7, 12];
const sources: Source[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'framewise-annotation-frames-'));
  await Promise.all(
    SOURCES.map(async (s, i) => {
      const file = join(dir, `source-${i}.mp4`);
      if (s.start === 0) await ffmpeg(...testsrc(s.rate, s.duration), ...h264, file);
      else {
        await ffmpeg(...testsrc(s.rate, s.duration), ...h264, `${file}.video.mp4`);
        await ffmpeg('-itsoffset', String(s.start), '-i', `${file}.video.mp4`, '-f', 'lavfi', '-i', `sine=duration=${s.duration + 1}`, '-map', '0', '-map', '1', '-c:v', 'copy', '-c:a', 'aac', file);
      }
      // Every decoded source frame, as a JPEG from the same encoder and quality as ingest's frames.
      const every = join(dir, `source-${i}-every`);
      mkdirSync(every);
      await ffmpeg('-i', file, '-map', '0:V:0', '-vsync', 'passthrough', '-q:v', '3', '-start_number', '0', join(every, '%06d.jpg'));
      sources.push({ ...s, file, pictures: await pictureMd5s(join(every, '%06d.jpg'), ['-start_number', '0']) });
    }),
  );
  sources.sort((a, b) => SOURCES.findIndex((s) => s.name === a.name) - SOURCES.findIndex((s) => s.name === b.name));
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('sourceFrameOf', () => {
  it('source pictures are all distinct, so a picture names its frame', () => {
    for (const s of sources) {
      expect(s.pictures.length).toBeGreaterThan(70);
      expect(new Set(s.pictures).size).toBe(s.pictures.length);
    }
  });

  for (const source of SOURCES) {
    it(`names the source frame of every sampled frame, ${source.name}, at ${RATES.join(', ')} fps`, async () => {
      const s = sources.find((x) => x.name === source.name)!;
      for (const rate of RATES) {
        const outDir = join(dir, `${s.name.replace(/\W+/g, '-')}-${rate}`);
        const frames = await extractWhole({ ffmpegPath, input: s.file, fps: rate, outDir, quality: 3 });
        expect(frames.length).toBe(frameCountAt(s.start + s.duration, rate));
        const sampled = await pictureMd5s(join(outDir, '%06d.jpg'), ['-start_number', '0']);
        const shown = sampled.map((md5) => s.pictures.indexOf(md5));
        const predicted = sampled.map((_, n) => sourceFrameOf(n, rate, s.rate, s.start));
        expect(shown, `${s.name} at ${rate} fps`).toEqual(predicted);
      }
    });
  }

  it('is the same for a task extracted alone, seeking as ingest segments do', async () => {
    const s = sources.find((x) => x.name === '30000/1001 fps')!;
    const frameRate = 7;
    const frameCount = frameCountAt(s.duration, frameRate);
    const tasks = Math.ceil(frameCount / FRAMES_PER_TASK);
    expect(tasks).toBeGreaterThanOrEqual(3);
    let seeks = 0;
    for (let task = 0; task < tasks; task++) {
      const segment = taskSegment({ task, framesPerTask: FRAMES_PER_TASK, frameCount, frameRate });
      if (segment.seekSeconds > 0) seeks++;
      const outDir = join(dir, `task-${task}`);
      const frames = await extractSegment({ ffmpegPath, input: s.file, fps: frameRate, segment, outDir, quality: 3 });
      const { first, count } = taskFrameRange(task, FRAMES_PER_TASK, frameCount);
      expect(frames.map((f) => f.frame)).toEqual(Array.from({ length: count }, (_, i) => first + i));
      const pictures = await pictureMd5s(join(outDir, '%06d.jpg'), ['-start_number', String(first)]);
      expect(pictures.map((md5) => s.pictures.indexOf(md5))).toEqual(frames.map((f) => sourceFrameOf(f.frame, frameRate, s.rate)));
    }
    expect(seeks).toBeGreaterThan(0);
  });
});

describe('task segments', () => {
  it('are the segments ingest would plan for the same frames', () => {
    const plan = planSegments({ durationSeconds: 60, fps: 5, segments: 6 });
    for (const segment of plan.segments) {
      expect(taskSegment({ task: segment.index, framesPerTask: 50, frameCount: plan.frameCount, frameRate: 5 })).toEqual(segment);
    }
    const late = planSegments({ durationSeconds: 20.7, startTime: 3.3, fileStartTime: 0, fps: 5, segments: 4 });
    for (const segment of late.segments) {
      expect(taskSegment({ task: segment.index, framesPerTask: 30, frameCount: late.frameCount, frameRate: 5, videoStart: 3.3 })).toEqual(segment);
    }
  });

  it('cover the sampled frames, the last one short, and nothing beyond', () => {
    expect(taskFrameRange(0, 50, 120)).toEqual({ first: 0, count: 50 });
    expect(taskFrameRange(2, 50, 120)).toEqual({ first: 100, count: 20 });
    expect(taskSegment({ task: 2, framesPerTask: 50, frameCount: 120, frameRate: 5 }).last).toBe(true);
    expect(taskSegment({ task: 1, framesPerTask: 50, frameCount: 120, frameRate: 5 }).last).toBe(false);
    expect(() => taskFrameRange(3, 50, 120)).toThrow(RangeError);
    expect(() => taskFrameRange(0, 0, 120)).toThrow(RangeError);
  });

  it('source times follow the source rate and start', () => {
    expect(sourceFrameTime(30, '30000/1001')).toBeCloseTo(1.001, 12);
    expect(sourceFrameTime(0, 25, 0.53)).toBe(0.53);
    expect(() => sourceFrameOf(-1, 5, 25)).toThrow(RangeError);
    expect(() => sourceFrameOf(0, 0, 25)).toThrow(RangeError);
  });
});
