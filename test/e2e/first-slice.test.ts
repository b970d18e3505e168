// The first slice through every layer: catalog → presigned upload → S3 event → queue → job → workflow → ffprobe
// → video metadata, and the failure path of an upload that is not a video.
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { uploadFile, type UploadPlan } from '../../cli/upload.ts';
import { apiClient, eventually } from '../support/api.ts';
import { makeTestVideo } from '../../cli/sample-video.ts';

const admin = apiClient();
const work = mkdtempSync(join(tmpdir(), 'framewise-e2e-'));
let analyst: ReturnType<typeof apiClient>;
let gameId: string;

async function createVideo(title: string): Promise<string> {
  const res = await analyst('POST', '/v1/videos', { gameId, title });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

async function upload(videoId: string, file: string, contentType: string): Promise<void> {
  // A detector that saw nothing: the ingest needs localizations, even empty ones.
  const none = Buffer.from(JSON.stringify({ video: { width: 320, height: 240 }, frames: [] }));
  const loc = await analyst<UploadPlan>('POST', `/v1/videos/${videoId}/localizations/upload`, { sizeBytes: none.length });
  expect(loc.status).toBe(200);
  const locFile = join(work, `${videoId}.json`);
  writeFileSync(locFile, none);
  await uploadFile(loc.body, locFile);
  const sizeBytes = statSync(file).size;
  const planned = await analyst<UploadPlan>('POST', `/v1/videos/${videoId}/upload`, { filename: 'game.mp4', contentType, sizeBytes });
  expect(planned.status).toBe(200);
  const parts = await uploadFile(planned.body, file);
  if (planned.body.method === 'multipart') {
    const done = await analyst('POST', `/v1/videos/${videoId}/upload/complete`, { uploadId: planned.body.uploadId, parts });
    expect(done.status).toBe(200);
  }
}

/** Follows the video's job, recording each state seen, until it ends. */
async function followJob(videoId: string): Promise<{ job: any; seen: string[] }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const seen: string[] = [];
  const job = await eventually(async () => {
    const res = await analyst('GET', '/v1/jobs?limit=100');
    const job = res.body.jobs.find((j: { videoId: string }) => j.videoId === videoId);
    if (job && seen.at(-1) !== job.state) seen.push(job.state);
    return job && (job.state === 'succeeded' || job.state === 'failed') ? job : undefined;
  }, `the job of video ${videoId}`);
  return { job, seen };
}

beforeAll(async () => {
  const key = await admin('POST', '/v1/api-keys', { name: 'e2e analyst', role: 'analyst' });
  expect(key.status).toBe(201);
  analyst = apiClient(key.body.key);
  const sport = await admin('POST', '/v1/sports', { name: `Football ${Date.now()}` });
  const league = await admin('POST', '/v1/leagues', { sportId: sport.body.id, name: 'Premier' });
  const season = await admin('POST', '/v1/seasons', { leagueId: league.body.id, name: '2026/27' });
  expect(season.status).toBe(201);
  const game = await analyst('POST', '/v1/games', { seasonId: season.body.id, title: 'Home v Away', startsAt: '2026-11-21T15:00:00Z' });
  expect(game.status).toBe(201);
  gameId = game.body.id;
});

describe('first slice', () => {
  it('probes an uploaded video and shows its job going queued → working → succeeded', async () => {
    const file = join(work, 'game.mp4');
    await makeTestVideo(file, { seconds: 2, width: 320, height: 240, fps: 25 });
    const videoId = await createVideo('small game');
    await upload(videoId, file, 'video/mp4');

    const { job, seen } = await followJob(videoId);
    expect(job.state).toBe('succeeded');
    expect(job.attempts).toBe(1);
    expect(job.error).toBeUndefined();
    for (const step of ['probe', 'localizations', 'plan', 'frames', 'metrics']) expect(job.steps[step].state, step).toBe('succeeded');
    const order = ['queued', 'working', 'succeeded'];
    expect(seen.map((s) => order.indexOf(s))).toEqual([...seen.map((s) => order.indexOf(s))].sort());
    expect(seen.at(-1)).toBe('succeeded');

    const video = await analyst('GET', `/v1/videos/${videoId}`);
    expect(video.body).toMatchObject({ status: 'ingested', width: 320, height: 240, codec: 'h264', frameRate: 25, frameCount: 10 });
    expect(video.body.durationSeconds).toBeCloseTo(2, 1);
    const one = await admin('GET', `/v1/jobs/${job.jobId}`);
    expect(one.body.executionArn).toMatch(/^arn:aws:states:.*:execution:framewise-video-ingest:/);
  });

  it('takes a large video through a multipart upload', async () => {
    const file = join(work, 'large.mp4');
    await makeTestVideo(file, { seconds: 1, width: 640, height: 360, fps: 30, noisy: true });
    expect(statSync(file).size).toBeGreaterThan(6 * 1024 * 1024);
    const videoId = await createVideo('large game');
    await upload(videoId, file, 'video/mp4');
    const { job } = await followJob(videoId);
    expect(job.state).toBe('succeeded');
    const video = await analyst('GET', `/v1/videos/${videoId}`);
    expect(video.body).toMatchObject({ status: 'ingested', width: 640, height: 360, frameRate: 30, sizeBytes: statSync(file).size });
  });

  it('fails an upload that is not a video after 3 attempts, with a clear error in the failed list', async () => {
    const file = join(work, 'notes.mp4');
    writeFileSync(file, 'these are meeting notes, not a video\n'.repeat(100));
    const videoId = await createVideo('not a video');
    await upload(videoId, file, 'video/mp4');

    const { job } = await followJob(videoId);
    expect(job.state).toBe('failed');
    expect(job.attempts).toBe(3);
    expect(job.steps.probe).toMatchObject({ state: 'failed', attempts: 3 });
    expect(job.error.code).toBe('NotAVideo');
    expect(job.error.message).toMatch(/not a video/);
    const failed = await admin('GET', '/v1/jobs?state=failed');
    expect(failed.body.jobs.map((j: { jobId: string }) => j.jobId)).toContain(job.jobId);
    const video = await analyst('GET', `/v1/videos/${videoId}`);
    expect(video.body.durationSeconds ?? null).toBeNull();
  });

  it('refuses the jobs list without a key, with a bad key, and requeue to an analyst', async () => {
    expect((await apiClient('')('GET', '/v1/jobs')).status).toBe(401);
    expect((await apiClient('fw_not_a_key')('GET', '/v1/jobs')).status).toBe(401);
    const failed = await admin('GET', '/v1/jobs?state=failed');
    const jobId = failed.body.jobs[0].jobId;
    const res = await analyst('POST', `/v1/jobs/${jobId}/requeue`);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('Forbidden');
  });

  it('requeues a failed job as a new run that an admin can follow', async () => {
    const failed = await admin('GET', '/v1/jobs?state=failed');
    const job = failed.body.jobs[0];
    const res = await admin('POST', `/v1/jobs/${job.jobId}/requeue`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ state: 'queued', requeues: job.requeues + 1, attempts: 0 });
    const again = await eventually(async () => {
      const r = await admin('GET', `/v1/jobs/${job.jobId}`);
      return r.body.state === 'failed' && r.body.requeues === job.requeues + 1 ? r.body : undefined;
    }, 'the requeued run to end');
    expect(again.attempts).toBe(3);
    expect(again.executionArn).toMatch(new RegExp(`${job.jobId}-r${job.requeues + 1}$`));
    const succeeded = await admin('GET', '/v1/jobs?state=succeeded');
    const refused = await admin('POST', `/v1/jobs/${succeeded.body.jobs[0].jobId}/requeue`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('Conflict');
  });
});
