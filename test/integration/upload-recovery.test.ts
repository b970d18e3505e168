// A video whose object is in storage is recoverable when S3's notification is lost: `POST /v1/videos/{id}/ingest`
// finds the object, and the recovery sweep starts what it finds — each object once, whichever way comes first.
// This file runs its own local cloud with the router stopped, so that no notification is ever taken.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REGION, startLocalCloud, type LocalCloud } from '../../infra/local/cloud.ts';
import { s3Notification, sqsRecord } from '../../infra/local/events.ts';
import { apiAt } from '../support/api.ts';

const dir = mkdtempSync(join(tmpdir(), 'framewise-upload-recovery-'));
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
let cloud: LocalCloud;
let gameId: string;

let call: ReturnType<typeof apiAt>;

/** A video whose bytes are in storage through its presigned PUT, and whose notification nobody takes. */
async function uploadedVideo(): Promise<{ videoId: string; key: string }> {
  const videoId = (await call('POST', '/v1/videos', { gameId, title: 'lost notification' })).body.id as string;
  const plan = (await call('POST', `/v1/videos/${videoId}/upload`, { filename: 'g.mp4', contentType: 'video/mp4', sizeBytes: 2048 })).body;
  const put = await fetch(plan.url, { method: 'PUT', headers: plan.headers, body: Buffer.alloc(2048, 9) });
  expect(put.status).toBe(200);
  return { videoId, key: plan.key };
}

const jobsOf = async (videoId: string) => (await call('GET', `/v1/jobs?videoId=${videoId}`)).body.jobs as { jobId: string; input: { key: string } }[];
const sweep = () => cloud.functions.invoke('ingest-recover-uploads', { graceSeconds: 0 }) as Promise<{ checked: number; started: string[] }>;

beforeAll(async () => {
  cloud = await startLocalCloud({ dir, schedules: false, retryIntervalScale: 0.05 });
  call = apiAt(cloud.endpoints.api, cloud.credentials.adminApiKey);
  await cloud.router.stop(); // notifications are sent to no one: as if each were lost
  const sport = await call('POST', '/v1/sports', { name: 'Recovery' });
  const league = await call('POST', '/v1/leagues', { sportId: sport.body.id, name: 'L' });
  const season = await call('POST', '/v1/seasons', { leagueId: league.body.id, name: 'S' });
  gameId = (await call('POST', '/v1/games', { seasonId: season.body.id, title: 'G', startsAt: '2026-11-21T15:00:00Z' })).body.id;
}, 120_000);

afterAll(async () => {
  await cloud?.waitForIdle();
  await cloud?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('uploads whose notification is lost', () => {
  it('POST /v1/videos/{id}/ingest finds the object of a video still uploading and starts its job', async () => {
    const { videoId, key } = await uploadedVideo();
    await new Promise((r) => setTimeout(r, 300));
    expect((await call('GET', `/v1/videos/${videoId}`)).body.status).toBe('uploading');
    expect(await jobsOf(videoId)).toEqual([]);

    const res = await call('POST', `/v1/videos/${videoId}/ingest`);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ kind: 'video-ingest', videoId, input: { key } });
    expect((await call('GET', `/v1/videos/${videoId}`)).body.status).not.toBe('uploading');
    // the sweep finds the same object's job and starts nothing more
    expect((await sweep()).started).not.toContain(res.body.jobId);
    expect((await jobsOf(videoId)).map((j) => j.jobId)).toEqual([res.body.jobId]);
  });

  it('POST /v1/videos/{id}/ingest of a video uploading without an object is still a 409', async () => {
    const videoId = (await call('POST', '/v1/videos', { gameId, title: 'nothing sent' })).body.id as string;
    await call('POST', `/v1/videos/${videoId}/upload`, { filename: 'g.mp4', contentType: 'video/mp4', sizeBytes: 2048 });
    const res = await call('POST', `/v1/videos/${videoId}/ingest`);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/has not been uploaded/);
    expect(await jobsOf(videoId)).toEqual([]);
  });

  it('the recovery sweep starts one job per object, once; a late notification of it starts no other', async () => {
    const { videoId, key } = await uploadedVideo();
    const first = await sweep();
    const jobs = await jobsOf(videoId);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.input.key).toBe(key);
    expect(first.started).toContain(jobs[0]!.jobId);
    expect((await sweep()).started).not.toContain(jobs[0]!.jobId);

    // the notification, delivered after all (at least once), names the same job
    const head = await fetch(`${cloud.endpoints.s3}/framewise-media/${key}`, { method: 'HEAD' });
    const body = s3Notification({
      region: REGION, bucket: 'framewise-media', key, size: 2048, etag: head.headers.get('etag')!.replace(/"/g, ''),
      sequencer: '0001', eventName: 'ObjectCreated:Put',
    });
    const record = sqsRecord({ MessageId: 'late', ReceiptHandle: 'late', Body: JSON.stringify(body) }, 'arn:aws:sqs:us-east-1:000000000000:framewise-video-ingest', REGION);
    const result = (await cloud.functions.invoke('ingest-upload', { Records: [record] })) as { batchItemFailures: unknown[] };
    expect(result.batchItemFailures).toEqual([]);
    expect((await jobsOf(videoId)).map((j) => j.jobId)).toEqual([jobs[0]!.jobId]);
  });

  it('an object of another size than declared (written around the presigned URLs) is not ingested, by any way', async () => {
    const videoId = (await call('POST', '/v1/videos', { gameId, title: 'wrong size' })).body.id as string;
    const { key } = (await call('POST', `/v1/videos/${videoId}/upload`, { filename: 'g.mp4', contentType: 'video/mp4', sizeBytes: 2048 })).body;
    const s3 = new S3Client({ endpoint: cloud.endpoints.s3, region: REGION, forcePathStyle: true, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    const written = await s3.send(new PutObjectCommand({ Bucket: 'framewise-media', Key: key, Body: Buffer.alloc(100, 1) }));
    s3.destroy();
    const res = await call('POST', `/v1/videos/${videoId}/ingest`);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'SizeMismatch', details: { sizeBytes: 100, declaredBytes: 2048 } });
    await sweep();
    const body = s3Notification({
      region: REGION, bucket: 'framewise-media', key, size: 100, etag: written.ETag!.replace(/"/g, ''), sequencer: '0002', eventName: 'ObjectCreated:Put',
    });
    const record = sqsRecord({ MessageId: 'sized', ReceiptHandle: 'sized', Body: JSON.stringify(body) }, 'arn:aws:sqs:us-east-1:000000000000:framewise-video-ingest', REGION);
    expect(((await cloud.functions.invoke('ingest-upload', { Records: [record] })) as { batchItemFailures: unknown[] }).batchItemFailures).toEqual([]);
    expect(await jobsOf(videoId)).toEqual([]);
    expect((await call('GET', `/v1/videos/${videoId}`)).body.status).toBe('uploading');
  });

  it('the sweep leaves uploads younger than its grace to the notification', async () => {
    const { videoId } = await uploadedVideo();
    const result = (await cloud.functions.invoke('ingest-recover-uploads', { graceSeconds: 3600 })) as { started: string[] };
    expect(result.started).toEqual([]);
    expect(await jobsOf(videoId)).toEqual([]);
    expect((await call('GET', `/v1/videos/${videoId}`)).body.status).toBe('uploading');
  });
});
