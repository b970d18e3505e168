// Frame extraction against real ffmpeg (the layer's binary from npm), no cloud: for generated videos, rates and
// segment counts, the frames of all segments together are exactly the frames of one whole-video fps run:
// same indices, same JPEG bytes.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, copyFileSync, chmodSync, createReadStream, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planSegments, type PlanInput, type SegmentPlan } from '../../functions/ingest/segments.ts';
import { extractSegment, extractWhole, FfmpegError, FrameCountMismatchError, threadsForMemory, type ExtractedFrame } from '../../functions/ingest/extract.ts';
import { topology } from '../../infra/topology.ts';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const ffmpegPath = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
const RATES = [5, 2, 1, 0.5, 10] as const;
const SEGMENT_COUNTS = [1, 2, 3, 7] as const;
/** Segments run with the threads ingest-frames gives them; the whole-video reference with ffmpeg's default. */
const SEGMENT_THREADS = threadsForMemory(topology.functions.find((f) => f.name === 'ingest-frames')!.memoryMb);

let dir: string;
let ffprobePath: string;

async function ffmpeg(...args: string[]): Promise<void> {
  await run(ffmpegPath, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...args]);
}

/** What the ingest probe passes to the planner: the video stream's duration and start, and the file's start. */
async function probe(file: string): Promise<Pick<PlanInput, 'durationSeconds' | 'startTime' | 'fileStartTime'>> {
  const { stdout } = await run(ffprobePath, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file]);
  const out = JSON.parse(stdout) as { format: { start_time: string }; streams: { codec_type: string; duration: string; start_time: string }[] };
  const video = out.streams.find((s) => s.codec_type === 'video')!;
  return { durationSeconds: Number(video.duration), startTime: Number(video.start_time), fileStartTime: Number(out.format.start_time) };
}

const testsrc = (rate: string, seconds: number) => ['-f', 'lavfi', '-i', `testsrc2=size=320x240:rate=${rate}`, '-t', String(seconds)];
const h264 = (preset = 'ultrafast') => ['-c:v', 'libx264', '-preset', preset, '-pix_fmt', 'yuv420p'];

/**
 * Rewrites an mp4 written by ffmpeg (moov after mdat, one constant-rate video track) so that its last frame
 * lasts `lastTicks` of the track's timescale instead of a whole frame: stts gets a second entry, and the
 * durations in mvhd, tkhd, mdhd and elst shrink by the difference. ffmpeg cannot write such a file itself.
 */
function shortenLastFrame(file: string, lastTicks: number): void {
  const containers = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'edts']);
  type Box = { type: string; body: Buffer };
  const parse = (b: Buffer): Box[] => {
    const boxes: Box[] = [];
    for (let o = 0; o < b.length; o += b.readUInt32BE(o)) boxes.push({ type: b.toString('latin1', o + 4, o + 8), body: b.subarray(o + 8, o + b.readUInt32BE(o)) });
    return boxes;
  };
  const build = (boxes: Box[]): Buffer =>
    Buffer.concat(boxes.flatMap((x) => {
      const head = Buffer.alloc(8);
      head.writeUInt32BE(8 + x.body.length);
      head.write(x.type, 4, 'latin1');
      return [head, x.body];
    }));
  const find = (boxes: Box[], type: string): Box | undefined => {
    for (const x of boxes) {
      if (x.type === type) return x;
      const inner = containers.has(x.type) ? find(parse(x.body), type) : undefined;
      if (inner) return inner;
    }
    return undefined;
  };
  const top = parse(readFileSync(file));
  const types = top.map((x) => x.type);
  if (types.indexOf('moov') < types.indexOf('mdat')) throw new Error('moov before mdat: chunk offsets would move');
  const movieScale = find(top, 'mvhd')!.body.readUInt32BE(12);
  const mediaScale = find(top, 'mdhd')!.body.readUInt32BE(12);
  const stts = find(top, 'stts')!.body;
  if (stts.readUInt32BE(4) !== 1) throw new Error('expected a constant frame rate');
  const [count, delta] = [stts.readUInt32BE(8), stts.readUInt32BE(12)];
  const cut = delta - lastTicks;
  const movieCut = Math.round((cut * movieScale) / mediaScale);
  const shrink = (b: Buffer, at: number, by: number) => b.writeUInt32BE(b.readUInt32BE(at) - by, at);
  const rewrite = (boxes: Box[]): Box[] =>
    boxes.map((x) => {
      if (containers.has(x.type)) return { type: x.type, body: build(rewrite(parse(x.body))) };
      const b = Buffer.from(x.body);
      if (x.type === 'stts') {
        const s = Buffer.alloc(24);
        [0, 2, count - 1, delta, 1, lastTicks].forEach((v, i) => s.writeUInt32BE(v, i * 4));
        return { type: x.type, body: s };
      }
      if (x.type === 'mvhd') shrink(b, 16, movieCut);
      if (x.type === 'tkhd') shrink(b, 20, movieCut);
      if (x.type === 'mdhd') shrink(b, 16, cut);
      if (x.type === 'elst') shrink(b, 8 + 12 * (b.readUInt32BE(4) - 1), movieCut);
      return { type: x.type, body: b };
    });
  writeFileSync(file, build(rewrite(top)));
}

interface Video {
  readonly name: string;
  readonly file: string;
  readonly probe: Pick<PlanInput, 'durationSeconds' | 'startTime' | 'fileStartTime'>;
}

const VIDEOS: Record<string, { make: (file: string) => Promise<void>; ext?: string; probe?: Video['probe'] }> = {
  '12 s at 25 fps': { make: (f) => ffmpeg(...testsrc('25', 12), ...h264(), f) },
  '10 s at 30000/1001 fps': { make: (f) => ffmpeg(...testsrc('30000/1001', 10), ...h264(), f) },
  'starting at 3.3 s (-output_ts_offset)': { make: (f) => ffmpeg(...testsrc('25', 8), ...h264(), '-output_ts_offset', '3.3', f) },
  '7.3 s (odd length: 183 frames, 7.32 s)': { make: (f) => ffmpeg(...testsrc('25', 7.3), ...h264(), f) },
  '7.30 s, last frame half as long': {
    make: async (f) => {
      await ffmpeg(...testsrc('25', 7.3), ...h264(), f);
      shortenLastFrame(f, 256); // 512 ticks of 1/12800 s is a frame; at R = 5 the end, 36.5 slots, rounds up
    },
  },
  'video starting 0.53 s after the audio': {
    make: async (f) => {
      await ffmpeg(...testsrc('25', 3), ...h264(), `${f}.src.mp4`);
      await ffmpeg('-itsoffset', '0.53', '-i', `${f}.src.mp4`, '-f', 'lavfi', '-i', 'sine=duration=4', '-map', '0', '-map', '1', '-c:v', 'copy', '-c:a', 'aac', f);
    },
  },
  'B-frames, open GOP, 30000/1001': {
    make: (f) => ffmpeg(...testsrc('30000/1001', 9.5), ...h264('fast'), '-x264opts', 'open-gop=1:keyint=48:min-keyint=48', f),
  },
};

const videos: Video[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'framewise-frames-'));
  // The npm package ships ffprobe as mode 0744: usable by its owner only.
  ffprobePath = (require('@ffprobe-installer/ffprobe') as { path: string }).path;
  try {
    accessSync(ffprobePath, constants.X_OK);
  } catch {
    copyFileSync(ffprobePath, join(dir, 'ffprobe'));
    chmodSync(join(dir, 'ffprobe'), 0o755);
    ffprobePath = join(dir, 'ffprobe');
  }
  await Promise.all(
    Object.entries(VIDEOS).map(async ([name, v], i) => {
      const file = join(dir, `video-${i}.${v.ext ?? 'mp4'}`);
      await v.make(file);
      videos.push({ name, file, probe: v.probe ?? (await probe(file)) });
    }),
  );
  videos.sort((a, b) => Object.keys(VIDEOS).indexOf(a.name) - Object.keys(VIDEOS).indexOf(b.name));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const md5 = (file: string) => createHash('md5').update(readFileSync(file)).digest('hex');
/** Frames as `index:md5` lines: equal lists mean the same frames with the same bytes. */
const fingerprint = (frames: ExtractedFrame[]) => [...frames].sort((a, b) => a.frame - b.frame).map((f) => `${f.frame}:${md5(f.file)}`);

/** Runs `limit` segments at a time, as the Map state runs them in parallel. */
async function extractAll(input: string, plan: SegmentPlan, outDir: string, limit = 2, extra: { exactEnd?: boolean; onFallback?: (m: string) => void } = {}) {
  const frames: ExtractedFrame[] = [];
  let next = 0;
  const worker = async () => {
    while (next < plan.segments.length) {
      const segment = plan.segments[next++]!;
      const got = await extractSegment({ ffmpegPath, input, fps: plan.fps, segment, outDir, quality: 3, threads: SEGMENT_THREADS, ...extra });
      expect(got.map((f) => f.frame)).toEqual(Array.from({ length: got.length }, (_, i) => segment.firstFrame + i));
      frames.push(...got);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return frames;
}

describe('segmented frame extraction equals one whole-video fps run', () => {
  for (const name of Object.keys(VIDEOS)) {
    it(name, async () => {
      const video = videos.find((v) => v.name === name)!;
      for (const fps of RATES) {
        const ref = await extractWhole({ ffmpegPath, input: video.file, fps, outDir: join(dir, `${name}-${fps}-ref`), quality: 3 });
        const expected = fingerprint(ref);
        expect(ref.map((f) => f.frame)).toEqual(ref.map((_, i) => i));
        for (const segments of SEGMENT_COUNTS) {
          const plan = planSegments({ ...video.probe, fps, segments });
          expect(plan.frameCount, `frame count at ${fps} fps`).toBe(ref.length);
          const onFallback = (m: string) => expect.fail(`no seek should land late in an mp4: ${m}`);
          const frames = await extractAll(video.file, plan, join(dir, `${name}-${fps}-${segments}`), 2, { onFallback });
          expect(fingerprint(frames), `${fps} fps, ${segments} segments`).toEqual(expected);
        }
      }
    });
  }
});

describe('extraction details', () => {
  it('reads an http URL with range requests (a presigned S3 GET), seeking into the file', async () => {
    const video = videos[0]!;
    const ranges: string[] = [];
    const size = statSync(video.file).size;
    const server: Server = createServer((req, res) => {
      const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? 'bytes=0-')!;
      const start = Number(m[1]);
      const end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
      ranges.push(`${start}-`);
      if (start >= size) return void res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
      res.writeHead(206, { 'Accept-Ranges': 'bytes', 'Content-Length': end - start + 1, 'Content-Range': `bytes ${start}-${end}/${size}` });
      createReadStream(video.file, { start, end }).pipe(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const url = `http://127.0.0.1:${port}/videos/game.mp4?X-Amz-Signature=secret`;
      const plan = planSegments({ ...video.probe, fps: 5, segments: 3 });
      const ref = await extractWhole({ ffmpegPath, input: video.file, fps: 5, outDir: join(dir, 'http-ref') });
      const frames = await extractAll(url, plan, join(dir, 'http'), 3);
      expect(fingerprint(frames)).toEqual(fingerprint(ref));
      expect(ranges.some((r) => r !== '0-'), 'a segment seeks with a range request').toBe(true);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('falls back to decoding from the start where seeking lands late (MPEG-TS), still exactly', async () => {
    const file = join(dir, 'video.ts');
    await ffmpeg('-i', videos[0]!.file, '-c', 'copy', file);
    // The npm ffprobe (a 2023 build) crashes on MPEG-TS; the TS muxer starts the file at 1.4 s.
    const plan = planSegments({ durationSeconds: 12, startTime: 1.4, fps: 2, segments: 3 });
    const ref = await extractWhole({ ffmpegPath, input: file, fps: 2, outDir: join(dir, 'ts-ref') });
    const fallbacks: string[] = [];
    const frames = await extractAll(file, plan, join(dir, 'ts'), 2, { onFallback: (m) => fallbacks.push(m) });
    expect(fingerprint(frames)).toEqual(fingerprint(ref));
    expect(fallbacks.length).toBeGreaterThan(0);
  });

  it('fails the last segment when the video ends elsewhere than probed, unless told to take what it gets', async () => {
    const video = videos.find((v) => v.name.startsWith('7.3 s'))!;
    const wrong = planSegments({ ...video.probe, durationSeconds: 7.0, fps: 5, segments: 2 });
    expect(wrong.frameCount).toBe(35);
    const last = wrong.segments[1]!;
    const error = await extractSegment({ ffmpegPath, input: video.file, fps: wrong.fps, segment: last, outDir: join(dir, 'end-strict') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FrameCountMismatchError);
    expect((error as Error).message).toMatch(/planned frames 18\.\.34 but ffmpeg gave frames 18\.\.36 \(the video ends elsewhere/);
    expect(readdirSync(join(dir, 'end-strict')).filter((n) => n.endsWith('.jpg'))).toEqual([]);
    const frames = await extractAll(video.file, wrong, join(dir, 'end-lenient'), 2, { exactEnd: false });
    const ref = await extractWhole({ ffmpegPath, input: video.file, fps: 5, outDir: join(dir, 'end-ref') });
    expect(fingerprint(frames)).toEqual(fingerprint(ref));
  });

  it('reports what ffmpeg said when it fails, and leaves no frames behind', async () => {
    const bad = join(dir, 'corrupt.mp4');
    writeFileSync(bad, Buffer.alloc(100_000, 7));
    const outDir = join(dir, 'corrupt');
    const segment = planSegments({ durationSeconds: 10, fps: 5, segments: 2 }).segments[1]!;
    const error = await extractSegment({ ffmpegPath, input: bad, fps: 5, segment, outDir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FfmpegError);
    expect((error as FfmpegError).message).toMatch(/^ffmpeg exited with code 1: .*Invalid data found when processing input/s);
    expect(readdirSync(outDir)).toEqual([]);
  });

  it('kills ffmpeg at the timeout', async () => {
    const video = videos[0]!;
    const error = await extractWhole({ ffmpegPath, input: video.file, fps: 10, outDir: join(dir, 'timeout'), timeoutMs: 30 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FfmpegError);
    expect((error as Error).message).toMatch(/did not finish within 30 ms/);
    expect(readdirSync(join(dir, 'timeout'))).toEqual([]);
  });

  it('keeps presigned signatures out of errors', async () => {
    const segment = planSegments({ durationSeconds: 10, fps: 5, segments: 2 }).segments[1]!;
    const url = 'http://127.0.0.1:9/videos/game.mp4?X-Amz-Credential=AKIA%2Fx&X-Amz-Signature=deadbeef';
    const error = await extractSegment({ ffmpegPath, input: url, fps: 5, segment, outDir: join(dir, 'refused') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FfmpegError);
    expect((error as FfmpegError).message).toContain('http://127.0.0.1:9/videos/game.mp4');
    expect(JSON.stringify({ message: (error as Error).message, args: (error as FfmpegError).args })).not.toMatch(/deadbeef|AKIA/);
  });
});
