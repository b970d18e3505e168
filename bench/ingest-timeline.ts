// `npm run bench:timeline`: where the wall time of one local ingest goes, from the upload to released metrics. A
// local cloud ingests BENCH_VIDEO (a game drawn by `npm run bench:cost`, which keeps it there) with the cost bench's
// catalog and localizations, and prints the upload's phases, then every invocation from the upload complete on:
// when it was asked for, how long it ran, and the gap before it (Step Functions' transitions, the gates, instance
// starts), with the S3 requests each phase made. Not a test: figures for a person reading them.
import { statSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SampleGame } from '../cli/sample-game.ts';
import { uploadFile, type UploadPlan } from '../cli/upload.ts';
import { usageDiff, type UsageSnapshot } from '../infra/local/usage.ts';
import { apiCaller, prepareGame, startMeteredCloud, type Invocation } from './game-catalog.ts';
import { childCpuSeconds } from './measure.ts';

const video = process.env.BENCH_VIDEO;
if (!video) throw new Error('BENCH_VIDEO names the game to ingest (npm run bench:cost draws and keeps one)');
const MINUTES = Number(process.env.BENCH_MINUTES ?? 10);
const GAME: SampleGame = { seconds: MINUTES * 60, width: 1280, height: 720, fps: 25 };

const dir = mkdtempSync(join(tmpdir(), 'framewise-bench-timeline-'));
const t0 = performance.now();
const at = () => (performance.now() - t0) / 1000;
const { cloud, invocations } = await startMeteredCloud(join(dir, 'cloud'));
/** An invocation's end, in seconds on this bench's clock. */
const endOf = (i: Invocation) => (i.end - t0) / 1000;
const s = (x: number) => `${x.toFixed(2)} s`;
const cpu = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage) => `${s((b.user - a.user) / 1e6)} user + ${s((b.system - a.system) / 1e6)} system`;
const s3Requests = (a: UsageSnapshot, b: UsageSnapshot) =>
  Object.entries(usageDiff(a, b).s3.byAction)
    .filter(([, n]) => n > 0)
    .map(([op, n]) => `${op} ${n}`)
    .join(', ');
try {
  const call = apiCaller(cloud.endpoints.api, cloud.credentials.adminApiKey);
  const { videoId, locFile, labelMapping } = await prepareGame(call, dir, GAME);
  await cloud.waitForIdle();

  const asked: { fn: string; at: number }[] = [];
  let metricsRan = false;
  cloud.functions.intercept((name) => {
    asked.push({ fn: name, at: at() });
    if (name === 'ingest-metrics' || name === 'ingest-failed') metricsRan = true;
  });
  const u0 = await cloud.usage();
  const cpu0 = childCpuSeconds();
  const own0 = process.cpuUsage();
  const started = at();
  const loc = await call<UploadPlan>('POST', `/v1/videos/${videoId}/localizations/upload`, { sizeBytes: statSync(locFile).size, labelMapping });
  await uploadFile(loc, locFile);
  const locDone = at();
  const plan = await call<UploadPlan>('POST', `/v1/videos/${videoId}/upload`, {
    filename: 'game.mp4', contentType: 'video/mp4', sizeBytes: statSync(video).size, frameRate: 5, threshold: 0.5,
  });
  const planned = at();
  const parts = await uploadFile(plan, video);
  const sent = at();
  if (plan.method === 'multipart') await call('POST', `/v1/videos/${videoId}/upload/complete`, { uploadId: plan.uploadId, parts });
  const uploaded = at();
  const u1 = await cloud.usage();
  const own1 = process.cpuUsage();
  console.log(`upload: localizations ${s(locDone - started)}, video plan ${s(planned - locDone)}, ${parts.length} parts ${s(sent - planned)} (${((statSync(video).size / 1e6) / (sent - planned)).toFixed(0)} MB/s), complete ${s(uploaded - sent)}; total ${s(uploaded - started)}`);
  console.log(`  S3: ${s3Requests(u0, u1)}; CPU of this process (client, S3 and all) ${cpu(own0, own1)}`);

  while (!metricsRan || !invocations.some((e) => e.fn === 'ingest-metrics')) await new Promise((r) => setTimeout(r, 100));
  const metricsEnd = endOf(invocations.find((e) => e.fn === 'ingest-metrics')!);
  await cloud.waitForIdle();
  const u2 = await cloud.usage();
  const ffmpegCpu = childCpuSeconds() - cpu0;
  const own2 = process.cpuUsage();

  console.log(`\nfrom the upload complete (t=0), invocations: asked at, ran for (start = end − duration), ended at`);
  const used = new Set<number>();
  let previousEnd = uploaded;
  for (const a of asked.filter((x) => x.at >= uploaded - 0.001 || x.fn.startsWith('ingest-'))) {
    const i = invocations.findIndex((e, k) => !used.has(k) && e.fn === a.fn && endOf(e) >= a.at);
    if (i < 0) continue;
    used.add(i);
    const e = { ...invocations[i]!, end: endOf(invocations[i]!) };
    const start = e.end - e.ms / 1000;
    console.log(
      `  ${a.fn.padEnd(22)} asked ${s(a.at - uploaded).padStart(8)}  waited ${s(start - a.at).padStart(7)}  ran ${s(e.ms / 1000).padStart(8)}  ended ${s(e.end - uploaded).padStart(8)}` +
        (a.fn === 'ingest-frames' ? '' : `  gap after previous end ${s(a.at - previousEnd)}`),
    );
    previousEnd = a.fn === 'ingest-frames' ? Math.max(previousEnd, e.end) : e.end;
  }
  console.log(`\nupload complete to metrics ended: ${s(metricsEnd - uploaded)}; upload to metrics: ${s(metricsEnd - started)}`);
  console.log(`  CPU: ffmpeg and ffprobe ${s(ffmpegCpu)}; this process (S3, Step Functions, the functions' threads) ${cpu(own1, own2)}`);
  console.log(`  S3 during the ingest: ${s3Requests(u1, u2)}`);
} finally {
  await cloud.stop();
  rmSync(dir, { recursive: true, force: true });
}
