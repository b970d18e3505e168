// A re-run of an ingested video whose source the lifecycle moved to Deep Archive: the request asks for the restore and
// answers 202 with a job that waits (no workflow run); the restore's notification starts it, once; a lost notification
// is made up for by the recovery sweep. This file runs its own local cloud: it applies the lifecycle, sets the restore's
// delay, and finally stops the router so that a notification is lost.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { ListExecutionsCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localStateMachineArn, REGION, startLocalCloud, type LocalCloud } from '../../infra/local/cloud.ts';
import { s3Notification, sqsRecord } from '../../infra/local/events.ts';
import { LOCAL_ACCESS_KEY } from '../../infra/local/s3-presign-check.ts';
import { apiAt, eventually } from '../support/api.ts';
import { TEST_CLOUD_OPTIONS } from '../support/cloud-options.ts';
import { ingestSampleVideo } from '../support/sample-ingest.ts';
import { startWaitingJob } from '../../functions/jobs/workflow.ts';

const dir = mkdtempSync(join(tmpdir(), 'framewise-archived-rerun-'));
const work = mkdtempSync(join(tmpdir(), 'framewise-archived-rerun-work-'));
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
const Bucket = 'framewise-media';
const DAY = 86_400_000;
/** Long enough to see a re-run wait on a loaded machine, short enough for a fast test. */
const RESTORE_DELAY_MS = 4_000;

let cloud: LocalCloud;
let call: ReturnType<typeof apiAt>;
let s3: S3Client;
let sfn: SFNClient;
/** Two videos ingested once, by their first job. */
const videos: { videoId: string; key: string; firstJobId: string; frameCount: number }[] = [];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const jobsOf = async (videoId: string): Promise<Json[]> => (await call('GET', `/v1/jobs?videoId=${videoId}&limit=20`)).body.jobs;
const jobOf = async (jobId: string): Promise<Json> => (await call('GET', `/v1/jobs/${jobId}`)).body;
const head = (Key: string) => s3.send(new HeadObjectCommand({ Bucket, Key }));
/** The workflow runs started for a job (any of its runs). */
async function executionsOf(jobId: string): Promise<string[]> {
  const out = await sfn.send(new ListExecutionsCommand({ stateMachineArn: localStateMachineArn('video-ingest'), maxResults: 1000 }));
  return (out.executions ?? []).map((e) => e.name!).filter((n) => n.startsWith(jobId));
}
/** The frame packs a run stored. */
async function packsOf(videoId: string, jobId: string): Promise<number> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: `frames/${videoId}/${jobId}/` }));
  return out.KeyCount ?? 0;
}
const ended = (jobId: string) =>
  eventually(async () => {
    const job = await jobOf(jobId);
    return job.state === 'succeeded' || job.state === 'failed' ? job : undefined;
  }, `the end of job ${jobId}`, 120_000);
const restoreNotification = (key: string, size: number, etag: string) =>
  sqsRecord(
    {
      MessageId: `restored-${key}`, ReceiptHandle: 'r',
      Body: JSON.stringify(s3Notification({
        region: REGION, bucket: Bucket, key, size, etag, sequencer: '0009', eventName: 'ObjectRestore:Completed',
        restore: { expiryTime: new Date(Date.now() + 3 * DAY), storageClass: 'DEEP_ARCHIVE' },
      })),
    },
    'arn:aws:sqs:us-east-1:000000000000:framewise-video-ingest', REGION,
  );

beforeAll(async () => {
  cloud = await startLocalCloud({ dir, ...TEST_CLOUD_OPTIONS, restoreDelayMs: RESTORE_DELAY_MS });
  call = apiAt(cloud.endpoints.api, cloud.credentials.adminApiKey);
  s3 = new S3Client({ endpoint: cloud.endpoints.s3, region: REGION, forcePathStyle: true, credentials: LOCAL_ACCESS_KEY });
  sfn = new SFNClient({ endpoint: cloud.endpoints.stepfunctions, region: REGION, credentials: LOCAL_ACCESS_KEY });
  const sport = await call('POST', '/v1/sports', { name: 'Archive' });
  const league = await call('POST', '/v1/leagues', { sportId: sport.body.id, name: 'L' });
  const season = await call('POST', '/v1/seasons', { leagueId: league.body.id, name: 'S' });
  const gameId = (await call('POST', '/v1/games', { seasonId: season.body.id, title: 'G', startsAt: '2026-11-21T15:00:00Z' })).body.id;
  for (const title of ['restored by notification', 'restored without one', 'started twice at once']) {
    const videoId = (await call('POST', '/v1/videos', { gameId, title })).body.id as string;
    const job = await ingestSampleVideo(call, videoId, work);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    const video = (await call('GET', `/v1/videos/${videoId}`)).body;
    videos.push({ videoId, key: job.input.key, firstJobId: job.jobId, frameCount: video.frameCount });
  }
  // a day and more later, S3's lifecycle has moved the source videos to Deep Archive
  expect(cloud.applyLifecycle(new Date(Date.now() + 1.5 * DAY))).toBeGreaterThanOrEqual(3);
}, 240_000);

afterAll(async () => {
  await cloud?.waitForIdle();
  s3?.destroy();
  sfn?.destroy();
  await cloud?.stop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe('a re-run of a video whose source is in Deep Archive', () => {
  it('answers 202 with a job waiting for the restore, starts no run, and runs when the restore completes', async () => {
    const { videoId, key, firstJobId, frameCount } = videos[0]!;
    expect((await head(key)).StorageClass).toBe('DEEP_ARCHIVE');
    const res = await call('POST', `/v1/videos/${videoId}/ingest`, { force: true });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toMatchObject({ kind: 'video-ingest', videoId, state: 'queued', waitsFor: 'source-restore', input: { key, restoreTier: 'Standard' } });
    expect(res.body.executionArn).toBeUndefined();
    const jobId = res.body.jobId as string;
    expect((await head(key)).Restore).toBe('ongoing-request="true"');
    expect(await executionsOf(jobId)).toEqual([]);
    // another request meanwhile is refused: one re-run waits already
    const again = await call('POST', `/v1/videos/${videoId}/ingest`, { force: true });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ message: expect.stringMatching(/waiting for its source's restore/), details: { jobId } });

    const job = await ended(jobId);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.waitsFor).toBeUndefined();
    expect(await executionsOf(jobId)).toEqual([jobId]);
    expect((await head(key)).Restore).toMatch(/^ongoing-request="false", expiry-date=/);
    // the same frames as the first run's
    expect(job.steps.frames).toMatchObject({ state: 'succeeded' });
    expect((await call('GET', `/v1/videos/${videoId}`)).body).toMatchObject({ status: 'ingested', frameCount });
    expect(await packsOf(videoId, jobId)).toBeGreaterThan(0);
    expect(await packsOf(videoId, jobId)).toBe(job.steps.frames.total);
    expect(firstJobId).not.toBe(jobId);
  });

  it('a second notification of the restore starts nothing; a restore with no re-run waiting is dropped', async () => {
    const { videoId, key } = videos[0]!;
    const before = await jobsOf(videoId);
    const h = await head(key);
    const result = (await cloud.functions.invoke('ingest-upload', { Records: [restoreNotification(key, h.ContentLength!, h.ETag!.replace(/"/g, ''))] })) as { batchItemFailures: unknown[] };
    expect(result.batchItemFailures).toEqual([]);
    await cloud.waitForIdle();
    const after = await jobsOf(videoId);
    expect(after.map((j) => [j.jobId, j.state, j.executionArn])).toEqual(before.map((j) => [j.jobId, j.state, j.executionArn]));
    for (const j of after) expect((await executionsOf(j.jobId)).length, j.jobId).toBeLessThanOrEqual(1);
  });

  it('with a restored copy readable, a re-run starts at once (201)', async () => {
    const { videoId } = videos[0]!;
    const res = await call('POST', `/v1/videos/${videoId}/ingest`, { force: true });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.waitsFor).toBeUndefined();
    expect(res.body.executionArn).toEqual(expect.any(String));
    expect((await ended(res.body.jobId)).state).toBe('succeeded');
  });

  it('bad input stays a 4xx and changes nothing', async () => {
    const { videoId, key } = videos[1]!;
    const before = await jobsOf(videoId);
    for (const body of [{ force: true, restoreTier: 'Expedited' }, { force: true, restoreTier: 'fast' }, { force: 'yes' }, { force: true, tier: 'Bulk' }]) {
      const res = await call('POST', `/v1/videos/${videoId}/ingest`, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toEqual(expect.any(String));
    }
    expect((await call('POST', `/v1/videos/${videoId}/ingest`, { restoreTier: 'Bulk' })).status).toBe(409); // ingested: force needed
    expect(await jobsOf(videoId)).toEqual(before);
    expect((await head(key)).Restore).toBeUndefined(); // no restore was asked
  });

  it('a lost restore notification: the recovery sweep starts the waiting re-run (Bulk tier), once', async () => {
    const { videoId, key, frameCount } = videos[1]!;
    await cloud.router.stop(); // from here on, notifications reach no function
    const res = await call('POST', `/v1/videos/${videoId}/ingest`, { force: true, restoreTier: 'Bulk' });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toMatchObject({ waitsFor: 'source-restore', input: { restoreTier: 'Bulk' } });
    const jobId = res.body.jobId as string;
    const sweep = () => cloud.functions.invoke('ingest-recover-uploads', { graceSeconds: 0 }) as Promise<{ restores: { waiting: number; started: string[]; restoresAsked: string[] } }>;
    // while the restore is under way the sweep waits too
    expect((await sweep()).restores).toMatchObject({ started: [], restoresAsked: [] });
    await eventually(async () => (/ongoing-request="false"/.test((await head(key)).Restore ?? '') ? true : undefined), 'the restore', 30_000);
    expect(await jobOf(jobId)).toMatchObject({ state: 'queued', waitsFor: 'source-restore' }); // nobody took the notification
    expect((await sweep()).restores.started).toEqual([jobId]);
    expect((await sweep()).restores.started).toEqual([]);
    const job = await ended(jobId);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    expect(await executionsOf(jobId)).toEqual([jobId]);
    expect((await call('GET', `/v1/videos/${videoId}`)).body).toMatchObject({ status: 'ingested', frameCount });
  });

  it('two starts of a waiting re-run at once (a duplicated notification, the sweep) start one run', async () => {
    const { videoId, key } = videos[2]!;
    const res = await call('POST', `/v1/videos/${videoId}/ingest`, { force: true });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const jobId = res.body.jobId as string;
    await eventually(async () => (/ongoing-request="false"/.test((await head(key)).Restore ?? '') ? true : undefined), 'the restore', 30_000);
    const starts = await Promise.all([startWaitingJob(jobId), startWaitingJob(jobId), startWaitingJob(jobId)]);
    expect(starts.filter((j) => j !== undefined).map((j) => j!.jobId)).toEqual([jobId]);
    expect((await ended(jobId)).state).toBe('succeeded');
    expect(await executionsOf(jobId)).toEqual([jobId]);
  });
});
