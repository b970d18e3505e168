// Uploads are held to their declared size by S3 itself (signed lengths, checked at complete), within a configured
// maximum; an open multipart upload can be continued with fresh URLs and the list of parts S3 holds.
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { apiClient } from '../support/api.ts';

const MiB = 1024 * 1024;
const endpoints = inject('endpoints');
const s3 = new S3Client({ endpoint: endpoints.s3, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 't', secretAccessKey: 't' } });
const admin = apiClient();
let analyst: ReturnType<typeof apiClient>;
let gameId: string;

const objectSize = async (key: string): Promise<number | undefined> =>
  s3.send(new HeadObjectCommand({ Bucket: 'framewise-media', Key: key })).then(
    (h) => h.ContentLength,
    () => undefined,
  );
const newVideo = async () => (await analyst('POST', '/v1/videos', { gameId, title: 'upload' })).body.id as string;
const start = (videoId: string, sizeBytes: number) =>
  analyst('POST', `/v1/videos/${videoId}/upload`, { filename: 'g.mp4', contentType: 'video/mp4', sizeBytes });
const put = (url: string, body: Buffer, headers: Record<string, string> = {}) => fetch(url, { method: 'PUT', body, headers });

beforeAll(async () => {
  analyst = apiClient((await admin('POST', '/v1/api-keys', { name: 'uploads', role: 'analyst' })).body.key);
  const sport = await admin('POST', '/v1/sports', { name: `Uploads ${Date.now()}` });
  const league = await admin('POST', '/v1/leagues', { sportId: sport.body.id, name: 'L' });
  const season = await admin('POST', '/v1/seasons', { leagueId: league.body.id, name: 'S' });
  gameId = (await analyst('POST', '/v1/games', { seasonId: season.body.id, title: 'G', startsAt: '2026-11-21T15:00:00Z' })).body.id;
});
afterAll(() => s3.destroy());

describe('declared upload sizes', () => {
  it('a single PUT of another length than declared is refused by S3 and nothing is stored or started', async () => {
    const videoId = await newVideo();
    const plan = (await start(videoId, 1000)).body;
    expect(plan).toMatchObject({ method: 'PUT', sizeBytes: 1000 });
    for (const body of [Buffer.alloc(0), Buffer.alloc(999, 1), Buffer.alloc(1001, 1)]) {
      const res = await put(plan.url, body, plan.headers);
      expect(res.status, `${body.length} bytes`).toBe(403);
      expect(await res.text()).toMatch(/SignatureDoesNotMatch/);
    }
    expect(await objectSize(`videos/${videoId}/source`)).toBeUndefined();
    const exact = await put(plan.url, Buffer.alloc(1000, 1), plan.headers);
    expect(exact.status).toBe(200);
    expect(await objectSize(`videos/${videoId}/source`)).toBe(1000);
  });

  it('a presigned URL whose signature, content type or expiry does not hold is refused', async () => {
    const videoId = await newVideo();
    const plan = (await start(videoId, 10)).body;
    const body = Buffer.alloc(10, 2);
    const otherKey = plan.url.replace('/source?', '/other?');
    expect((await put(otherKey, body, plan.headers)).status).toBe(403);
    expect((await put(plan.url, body, { 'content-type': 'video/webm' })).status).toBe(403);
    const expired = new URL(plan.url);
    expired.searchParams.set('X-Amz-Date', '20200101T000000Z');
    const res = await put(expired.toString(), body, plan.headers);
    expect(res.status).toBe(403);
    expect(await res.text()).toMatch(/expired/);
    expect(await objectSize(`videos/${videoId}/source`)).toBeUndefined();
  });

  it('refuses a declared size above the configured maximum with a 400, changing nothing', async () => {
    const videoId = await newVideo();
    const res = await start(videoId, 50 * 1024 ** 3 + 1);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'UploadTooLarge', details: { sizeBytes: 50 * 1024 ** 3 + 1, maxBytes: 50 * 1024 ** 3 } });
    expect((await analyst('GET', `/v1/videos/${videoId}`)).body.status).toBe('created');
  });

  it('multipart: a part of another length is refused; completing without every part is a 400 SizeMismatch and no object', async () => {
    const videoId = await newVideo();
    const size = 11 * MiB;
    const plan = (await start(videoId, size)).body;
    expect(plan).toMatchObject({ method: 'multipart', sizeBytes: size, partSize: 5 * MiB, uploaded: [] });
    const data = Buffer.alloc(size, 5);
    expect((await put(plan.parts[0].url, data.subarray(0, 4 * MiB))).status).toBe(403);
    const etags = [];
    for (const part of plan.parts.slice(0, 2)) {
      const from = (part.partNumber - 1) * plan.partSize;
      const res = await put(part.url, data.subarray(from, from + plan.partSize));
      expect(res.status).toBe(200);
      etags.push({ partNumber: part.partNumber, etag: res.headers.get('etag')! });
    }
    const short = await analyst('POST', `/v1/videos/${videoId}/upload/complete`, { uploadId: plan.uploadId, parts: etags });
    expect(short.status).toBe(400);
    expect(short.body.error).toMatchObject({ code: 'SizeMismatch', details: { declaredBytes: size, sentBytes: 10 * MiB, missingParts: [3] } });
    expect(await objectSize(`videos/${videoId}/source`)).toBeUndefined();
    expect((await analyst('GET', `/v1/jobs?videoId=${videoId}`)).body.jobs).toEqual([]);

    // the open upload continues: fresh URLs, and the parts S3 holds
    const resumed = await analyst('POST', `/v1/videos/${videoId}/upload/resume`, { uploadId: plan.uploadId });
    expect(resumed.status, JSON.stringify(resumed.body)).toBe(200);
    expect(resumed.body).toMatchObject({ method: 'multipart', uploadId: plan.uploadId, sizeBytes: size, partSize: 5 * MiB });
    expect(resumed.body.parts.map((p: { partNumber: number }) => p.partNumber)).toEqual([1, 2, 3]);
    expect(resumed.body.uploaded).toEqual(etags.map((e) => ({ ...e, size: 5 * MiB })));
    const last = await put(resumed.body.parts[2].url, data.subarray(10 * MiB));
    expect(last.status).toBe(200);
    const done = await analyst('POST', `/v1/videos/${videoId}/upload/complete`, {
      uploadId: plan.uploadId, parts: [...etags, { partNumber: 3, etag: last.headers.get('etag')! }],
    });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(await objectSize(`videos/${videoId}/source`)).toBe(size);
    const gone = await analyst('POST', `/v1/videos/${videoId}/upload/resume`, { uploadId: plan.uploadId });
    expect([404, 409]).toContain(gone.status); // 409 once the ingest has taken the video
  });
});
