// `npm run bench:tasks`: the task videos of a 2-minute 1280×720 25 fps video at 5 fps (600 frames, 12 tasks of
// 50), made the project's way against the same ffmpeg binary run directly, in one run:
//   (a) project: per task, extractSegment of the task's segment (taskSegment) then encodeTaskVideo and the
//       manifest (md5 of every JPEG), the tasks through a pool of 1 and of 2 workers, as the Map runs them
//   (b) reference: per task, the same two ffmpeg command lines run directly (extract, then encode the same
//       JPEGs into the same H.264 file), one task at a time and 2 at a time
// ROUNDS rounds (default 1), in rotating order; medians of wall time and of CPU time (ffmpeg's, and this
// process's: the project's own work around ffmpeg) are reported, and every task video of every run is checked byte for byte against the reference's.
// BENCH_VIDEO=path reuses a video. No S3: this measures the task work, not the transfers around it.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeTestVideo } from '../cli/sample-video.ts';
import { sourceFrameOf, sourceFrameTime, taskSegment } from '../functions/annotation/frames.ts';
import { encodeTaskVideo, frameMd5, taskManifest, taskVideoArgs } from '../functions/annotation/task-video.ts';
import { extractSegment, runFfmpeg, segmentArgs } from '../functions/ingest/extract.ts';
import { frameCountAt } from '../functions/ingest/segments.ts';
import { median, childCpuSeconds } from './measure.ts';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const ffmpegPath = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
const ffprobePath = (require('@ffprobe-installer/ffprobe') as { path: string }).path;
const ROUNDS = Number(process.env.ROUNDS ?? 1);
const FRAME_RATE = 5;
const FRAMES_PER_TASK = 50;
const SIZE = { width: 1280, height: 720 };

const dir = mkdtempSync(join(tmpdir(), 'framewise-bench-tasks-'));
const md5 = (file: string) => createHash('md5').update(readFileSync(file)).digest('hex');

/** Runs `work` on every item, `limit` at a time, as a Map with that MaxConcurrency does. */
async function pool<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

try {
  let video = process.env.BENCH_VIDEO ?? '';
  if (!video || !existsSync(video)) {
    video = join(dir, 'game.mp4');
    const started = Date.now();
    await makeTestVideo(video, { seconds: 120, ...SIZE, fps: 25 });
    console.log(`made a 2-minute 1280×720 25 fps test video in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  const { stdout } = await run(ffprobePath, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', '-select_streams', 'v:0', video]);
  const probed = JSON.parse(stdout) as { format: { start_time: string }; streams: [{ duration: string; start_time: string; r_frame_rate: string }] };
  const stream = probed.streams[0];
  const videoStart = Number(stream.start_time) - Number(probed.format.start_time);
  const frameCount = frameCountAt(videoStart + Number(stream.duration), FRAME_RATE);
  const tasks = Array.from({ length: Math.ceil(frameCount / FRAMES_PER_TASK) }, (_, task) => taskSegment({ task, framesPerTask: FRAMES_PER_TASK, frameCount, frameRate: FRAME_RATE, videoStart }));
  console.log(`${stream.duration} s at ${FRAME_RATE} fps: ${frameCount} frames in ${tasks.length} tasks of ${FRAMES_PER_TASK}; ${cpus().length} cores; ffmpeg ${ffmpegPath}`);

  type Task = (typeof tasks)[number];
  /** One task the project's way: its frames, its video, its manifest. Returns the video's path. */
  const projectTask = async (segment: Task, root: string, phases: { extract: number; encode: number }) => {
    const taskDir = join(root, `task-${segment.index}`);
    let t = process.hrtime.bigint();
    const extracted = await extractSegment({ ffmpegPath, input: video, fps: FRAME_RATE, segment, outDir: join(taskDir, 'frames') });
    phases.extract += Number(process.hrtime.bigint() - t) / 1e6;
    t = process.hrtime.bigint();
    const frames = extracted.map((f) => {
      const sourceFrame = sourceFrameOf(f.frame, FRAME_RATE, stream.r_frame_rate, videoStart);
      return { path: f.file, sampledFrame: f.frame, sourceFrame, time: sourceFrameTime(sourceFrame, stream.r_frame_rate, videoStart) };
    });
    const outPath = join(taskDir, 'video.mp4');
    const encoded = await encodeTaskVideo({ ffmpegPath, frames, frameRate: FRAME_RATE, outPath });
    const withMd5 = await Promise.all(frames.map(async (f) => ({ ...f, md5: await frameMd5(f.path) })));
    writeFileSync(join(taskDir, 'manifest.json'), JSON.stringify(taskManifest(`bench-${segment.index}`, encoded, withMd5)));
    phases.encode += Number(process.hrtime.bigint() - t) / 1e6;
    return outPath;
  };
  /** The same task as two ffmpeg command lines run directly: the same JPEGs, the same H.264 file. */
  const directTask = async (segment: Task, root: string) => {
    const frames = join(root, `task-${segment.index}`);
    mkdirSync(frames, { recursive: true });
    await runFfmpeg(ffmpegPath, segmentArgs({ input: video, fps: FRAME_RATE, segment }, join(frames, '%06d.jpg')));
    const outPath = join(root, `task-${segment.index}.mp4`);
    // the frames keep their sampled numbers here
    await runFfmpeg(ffmpegPath, taskVideoArgs({ pattern: join(frames, '%06d.jpg'), startNumber: segment.firstFrame, frameRate: FRAME_RATE, size: SIZE, letterbox: false, outPath }));
    return outPath;
  };

  const phases = { extract: 0, encode: 0 };
  const cases: Record<string, (root: string) => Promise<string[]>> = {
    'reference: ffmpeg directly, one task at a time': (root) => pool(tasks, 1, (s) => directTask(s, root)),
    'reference: ffmpeg directly, 2 tasks at a time': (root) => pool(tasks, 2, (s) => directTask(s, root)),
    'project: 1 worker': (root) => pool(tasks, 1, (s) => projectTask(s, root, { extract: 0, encode: 0 })),
    'project: 2 workers': (root) => pool(tasks, 2, (s) => projectTask(s, root, phases)),
  };
  const names = Object.keys(cases);
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const cpu: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const own: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const prints: Record<string, string> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length]!;
      const root = join(dir, `out-${round}-${i}`);
      mkdirSync(root);
      const [started, cpuBefore, ownBefore] = [process.hrtime.bigint(), childCpuSeconds(), process.cpuUsage()];
      const videos = await cases[name]!(root);
      times[name]!.push(Number(process.hrtime.bigint() - started) / 1e6);
      cpu[name]!.push(childCpuSeconds() - cpuBefore);
      const ownUsed = process.cpuUsage(ownBefore);
      own[name]!.push((ownUsed.user + ownUsed.system) / 1e6);
      const print = videos.map(md5).join(',');
      prints[name] ??= print;
      if (prints[name] !== print) prints[name] = 'differs between rounds';
      rmSync(root, { recursive: true, force: true });
    }
    console.log(`round ${round + 1}: ${names.map((n) => `${(times[n]!.at(-1)! / 1000).toFixed(1)} s`).join(', ')}`);
  }

  const m = Object.fromEntries(names.map((n) => [n, median(times[n]!)]));
  console.log(`\nmedians of ${ROUNDS} round(s):`);
  for (const n of names) console.log(`  ${n.padEnd(50)} ${(m[n]! / 1000).toFixed(2)} s wall, ${median(cpu[n]!).toFixed(2)} s ffmpeg CPU + ${median(own[n]!).toFixed(2)} s node CPU`);
  const [ref1, ref2, proj1, proj2] = names.map((n) => m[n]!) as [number, number, number, number];
  const cpuOf = (n: string) => median(cpu[n]!) + median(own[n]!);
  const identical = names.every((n) => prints[n] === prints[names[0]!]);
  console.log(`task videos identical to the reference's (bytes of all ${tasks.length}): ${identical ? 'yes' : 'NO'}`);
  console.log(`project, 2 workers, summed over tasks and rounds: extraction ${(phases.extract / 1000).toFixed(1)} s, encoding + manifest ${(phases.encode / 1000).toFixed(1)} s`);
  console.log(`ratio reference / project, 2 at a time: ${(ref2 / proj2).toFixed(2)}; one at a time: ${(ref1 / proj1).toFixed(2)}  (target >= 0.9)`);
  console.log(`CPU ratio reference / project (ffmpeg + node), 2 at a time: ${(cpuOf(names[1]!) / cpuOf(names[3]!)).toFixed(2)}: what a loaded machine does not move`);
  console.log(`speed-up of 2 workers over 1: project ${(proj1 / proj2).toFixed(2)}x, reference ${(ref1 / ref2).toFixed(2)}x`);
  if (!identical) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
