// `npm run bench:frames`: the pipeline's frame extraction against the same ffmpeg binary run directly on the
// same video at the same rate, in one run: a 2-minute 1280×720 25 fps video at R = 5 (600 frames).
//   (a) reference: one plain `ffmpeg -i video -vf fps=5 %06d.jpg` run (extractWhole)
//   (b) the pipeline with 1 segment (extractSegment)
//   (c) the pipeline with 2 segments run concurrently, as two Map iterations would (2 cores here)
// ROUNDS rounds (default 3), in rotating order; medians of wall time (and of ffmpeg's CPU time, which other
// load on a shared machine hardly moves) are reported. BENCH_VIDEO=path reuses a video.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeTestVideo } from '../cli/sample-video.ts';
import { extractSegment, extractWhole, type ExtractedFrame } from '../functions/ingest/extract.ts';
import { planSegments, type SegmentPlan } from '../functions/ingest/segments.ts';
import { median, childCpuSeconds } from './measure.ts';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const ffmpegPath = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
const ffprobePath = (require('@ffprobe-installer/ffprobe') as { path: string }).path;
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const FPS = 5;

const dir = mkdtempSync(join(tmpdir(), 'framewise-bench-frames-'));
const fingerprint = (frames: ExtractedFrame[]) =>
  [...frames].sort((a, b) => a.frame - b.frame).map((f) => `${f.frame}:${createHash('md5').update(readFileSync(f.file)).digest('hex')}`).join('\n');

try {
  let video = process.env.BENCH_VIDEO ?? '';
  if (!video || !existsSync(video)) {
    video = join(dir, 'game.mp4');
    const started = Date.now();
    await makeTestVideo(video, { seconds: 120, width: 1280, height: 720, fps: 25 });
    console.log(`made a 2-minute 1280×720 25 fps test video in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  const { stdout } = await run(ffprobePath, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', '-select_streams', 'v:0', video]);
  const probed = JSON.parse(stdout) as { format: { start_time: string }; streams: [{ duration: string; start_time: string }] };
  const timing = { durationSeconds: Number(probed.streams[0].duration), startTime: Number(probed.streams[0].start_time), fileStartTime: Number(probed.format.start_time) };
  const one = planSegments({ ...timing, fps: FPS, segments: 1 });
  const two = planSegments({ ...timing, fps: FPS, segments: 2 });
  console.log(`${timing.durationSeconds} s at ${FPS} fps: ${one.frameCount} frames; ${cpus().length} cores; ffmpeg ${ffmpegPath}`);

  const segments = (plan: SegmentPlan, outDir: string, threads?: number) =>
    Promise.all(plan.segments.map((segment) => extractSegment({ ffmpegPath, input: video, fps: plan.fps, segment, outDir, threads }))).then((r) => r.flat());
  const cases: Record<string, (outDir: string) => Promise<ExtractedFrame[]>> = {
    'reference: ffmpeg -vf fps=5 on the whole video': (outDir) => extractWhole({ ffmpegPath, input: video, fps: FPS, outDir }),
    'pipeline, 1 segment': (outDir) => segments(one, outDir),
    'pipeline, 2 segments concurrently': (outDir) => segments(two, outDir),
    'pipeline, 2 segments concurrently, -threads 1 each': (outDir) => segments(two, outDir, 1),
  };
  const names = Object.keys(cases);
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const cpu: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const prints: Record<string, string> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length]!;
      const outDir = join(dir, `out-${round}-${i}`);
      const [started, cpuBefore] = [process.hrtime.bigint(), childCpuSeconds()];
      const frames = await cases[name]!(outDir);
      times[name]!.push(Number(process.hrtime.bigint() - started) / 1e6);
      cpu[name]!.push(childCpuSeconds() - cpuBefore);
      if (round === 0) prints[name] = fingerprint(frames);
      rmSync(outDir, { recursive: true, force: true });
    }
    console.log(`round ${round + 1}: ${names.map((n) => `${times[n]!.at(-1)!.toFixed(0)} ms`).join(', ')}`);
  }

  const m = Object.fromEntries(names.map((n) => [n, median(times[n]!)]));
  console.log(`\nmedians of ${ROUNDS} rounds:`);
  for (const n of names) console.log(`  ${n.padEnd(52)} ${(m[n]! / 1000).toFixed(2)} s wall, ${median(cpu[n]!).toFixed(2)} s ffmpeg CPU`);
  const [ref, seg1, seg2, seg2t1] = names.map((n) => m[n]!) as [number, number, number, number];
  const identical = names.every((n) => prints[n] === prints[names[0]!]);
  console.log(`frames identical to the reference (indices and JPEG bytes): ${identical ? 'yes' : 'NO'}`);
  console.log(`ratio reference / pipeline (1 segment): ${(ref / seg1).toFixed(2)}  (target >= 0.9)`);
  console.log(`speedup of 2 segments over 1: ${(seg1 / seg2).toFixed(2)}x; with -threads 1 each: ${(seg1 / seg2t1).toFixed(2)}x`);
  if (!identical) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
