// `npm run demo`: the local cloud end to end. Starts it, makes a catalog and a sample game video, uploads the
// video as an analyst would, follows its job to the end and prints what the pipeline found.
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalCloud } from '../infra/local/cloud.ts';
import { Api } from './api.ts';
import { makeTestVideo } from './sample-video.ts';
import { uploadFile, type UploadPlan } from './upload.ts';

interface Job {
  jobId: string;
  videoId: string;
  state: string;
  attempts: number;
  error?: { code: string; message: string };
}

// Function logs are for operators; the demo tells its own story (`--verbose` shows them).
if (!process.argv.includes('--verbose')) process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
const step = (text: string) => console.log(`[${elapsed()}] ${text}`);

const cloud = await startLocalCloud();
step(`local cloud up, API at ${cloud.endpoints.api} (data in ${cloud.dir})`);
let failed = false;
try {
  const admin = new Api(cloud.endpoints.api, cloud.credentials.adminApiKey);
  const { key } = await admin.post<{ key: string }>('/v1/api-keys', { name: `demo analyst ${new Date().toISOString()}`, role: 'analyst' });
  const analyst = new Api(cloud.endpoints.api, key);

  const stamp = new Date().toISOString().slice(0, 19);
  const sport = await admin.post<{ id: string }>('/v1/sports', { name: `Football (demo ${stamp})` });
  const league = await admin.post<{ id: string }>('/v1/leagues', { sportId: sport.id, name: 'Demo League' });
  const season = await admin.post<{ id: string }>('/v1/seasons', { leagueId: league.id, name: '2026/27' });
  const game = await analyst.post<{ id: string }>('/v1/games', { seasonId: season.id, title: 'Rovers v United', startsAt: '2026-11-21T15:00:00Z' });
  const video = await analyst.post<{ id: string }>('/v1/videos', { gameId: game.id, title: 'Rovers v United, full match' });
  step(`catalog: sport, league, season ${season.id}, game ${game.id}, video ${video.id}`);

  const file = join(mkdtempSync(join(tmpdir(), 'framewise-demo-')), 'game.mp4');
  await makeTestVideo(file, { seconds: 20, width: 1280, height: 720, fps: 25 });
  const sizeBytes = statSync(file).size;
  step(`drew a 20 s 1280x720 test video with ffmpeg (${(sizeBytes / 1024).toFixed(0)} KiB)`);

  const plan = await analyst.post<UploadPlan>(`/v1/videos/${video.id}/upload`, { filename: 'game.mp4', contentType: 'video/mp4', sizeBytes });
  const parts = await uploadFile(plan, file);
  if (plan.method === 'multipart') await analyst.post(`/v1/videos/${video.id}/upload/complete`, { uploadId: plan.uploadId, parts });
  step(`uploaded straight to S3 (${plan.method}) at ${plan.key}`);

  let last = '';
  let job: Job | undefined;
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
    const { jobs } = await analyst.get<{ jobs: Job[] }>('/v1/jobs?limit=100');
    job = jobs.find((j) => j.videoId === video.id);
    if (job && job.state !== last) step(`job ${job.jobId}: ${(last = job.state)}`);
    if (job?.state === 'succeeded' || job?.state === 'failed') break;
  }
  if (job?.state !== 'succeeded') throw new Error(`the ingest job did not succeed: ${JSON.stringify(job)}`);
  const probed = await analyst.get<Record<string, unknown>>(`/v1/videos/${video.id}`);
  step('video after ingest:');
  for (const k of ['status', 'durationSeconds', 'frameRate', 'width', 'height', 'codec', 'sizeBytes']) console.log(`    ${k.padEnd(16)} ${String(probed[k])}`);
} catch (err) {
  failed = true;
  console.error(`demo failed: ${(err as Error).message}`);
} finally {
  await cloud.stop();
  step(failed ? 'stopped (demo failed)' : 'demo complete; local cloud stopped (data kept in .local/)');
  process.exitCode = failed ? 1 : 0;
}
