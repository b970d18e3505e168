// The CLI's uploader against the local S3: a part refused for a while (5xx) is sent again with backoff, URLs that
// expired are presigned again through the API, a refusal another try cannot change ends the upload.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LOCAL_ACCESS_KEY } from '../../infra/local/s3-presign-check.ts';
import { uploadFile, type UploadPlan } from '../../cli/upload.ts';
import { apiClient } from '../support/api.ts';

const MiB = 1024 * 1024;
const SIZE = 11 * MiB; // 3 parts of the test cloud's 5 MiB
const endpoints = inject('endpoints');
const s3 = new S3Client({ endpoint: endpoints.s3, region: 'us-east-1', forcePathStyle: true, credentials: LOCAL_ACCESS_KEY, requestChecksumCalculation: 'WHEN_REQUIRED' });
const work = mkdtempSync(join(tmpdir(), 'framewise-cli-upload-'));
const file = join(work, 'video.bin');
const admin = apiClient();
let analyst: ReturnType<typeof apiClient>;
let gameId: string;

beforeAll(async () => {
  writeFileSync(file, Buffer.alloc(SIZE, 4));
  analyst = apiClient((await admin('POST', '/v1/api-keys', { name: 'cli upload', role: 'analyst' })).body.key);
  const sport = await admin('POST', '/v1/sports', { name: `CLI upload ${Date.now()}` });
  const league = await admin('POST', '/v1/leagues', { sportId: sport.body.id, name: 'L' });
  const season = await admin('POST', '/v1/seasons', { leagueId: league.body.id, name: 'S' });
  gameId = (await analyst('POST', '/v1/games', { seasonId: season.body.id, title: 'G', startsAt: '2026-11-21T15:00:00Z' })).body.id;
});
afterAll(() => {
  s3.destroy();
  rmSync(work, { recursive: true, force: true });
});

async function openUpload(): Promise<{ videoId: string; plan: Extract<UploadPlan, { method: 'multipart' }> }> {
  const videoId = (await analyst('POST', '/v1/videos', { gameId, title: 'cli upload' })).body.id as string;
  const res = await analyst('POST', `/v1/videos/${videoId}/upload`, { filename: 'v.mp4', contentType: 'video/mp4', sizeBytes: SIZE });
  expect(res.body.method).toBe('multipart');
  return { videoId, plan: res.body };
}

async function complete(videoId: string, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<number | undefined> {
  const res = await analyst('POST', `/v1/videos/${videoId}/upload/complete`, { uploadId, parts });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return (await s3.send(new HeadObjectCommand({ Bucket: 'framewise-media', Key: `videos/${videoId}/source` }))).ContentLength;
}

/**
 * A server in front of S3 that answers 503 to the first `failures` requests of each part (or drops their connection),
 * then passes them on.
 */
async function flakyProxy(failures: number, how: '503' | 'drop' = '503'): Promise<{ server: Server; url: (target: string) => string; seen: Map<string, number> }> {
  const seen = new Map<string, number>();
  const server = createServer((req, res) => {
    const target = new URL(req.url!, 'http://proxy').searchParams.get('to')!;
    const n = (seen.get(target) ?? 0) + 1;
    seen.set(target, n);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (n <= failures && how === 'drop') return void req.socket.destroy();
      if (n <= failures) return void res.writeHead(503).end('<Error><Code>SlowDown</Code></Error>');
      void fetch(target, { method: 'PUT', body: Buffer.concat(chunks) }).then(async (up) => {
        res.writeHead(up.status, { etag: up.headers.get('etag') ?? '' }).end(await up.text());
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { server, seen, url: (target) => `http://127.0.0.1:${port}/?to=${encodeURIComponent(target)}` };
}

describe('the CLI uploader', () => {
  it('sends a part again, with backoff, while storage answers 503', async () => {
    const { videoId, plan } = await openUpload();
    const proxy = await flakyProxy(2);
    try {
      const viaProxy = { ...plan, parts: plan.parts.map((p) => ({ ...p, url: proxy.url(p.url) })) };
      const parts = await uploadFile(viaProxy, file, () => undefined, { backoffMs: 10 });
      expect([...proxy.seen.values()]).toEqual([3, 3, 3]);
      expect(await complete(videoId, plan.uploadId, parts)).toBe(SIZE);
    } finally {
      proxy.server.close();
    }
  });

  it('sends a part again when its connection drops', async () => {
    const { videoId, plan } = await openUpload();
    const proxy = await flakyProxy(1, 'drop');
    try {
      const viaProxy = { ...plan, parts: plan.parts.map((p) => ({ ...p, url: proxy.url(p.url) })) };
      const parts = await uploadFile(viaProxy, file, () => undefined, { backoffMs: 10 });
      expect([...proxy.seen.values()]).toEqual([2, 2, 2]);
      expect(await complete(videoId, plan.uploadId, parts)).toBe(SIZE);
    } finally {
      proxy.server.close();
    }
  });

  it('gives up after its attempts and reports the refusal', async () => {
    const { plan } = await openUpload();
    const proxy = await flakyProxy(100);
    try {
      const viaProxy = { ...plan, parts: plan.parts.map((p) => ({ ...p, url: proxy.url(p.url) })) };
      await expect(uploadFile(viaProxy, file, () => undefined, { backoffMs: 1, attempts: 3, concurrency: 1 })).rejects.toThrow(/503/);
      expect(proxy.seen.get(plan.parts[0]!.url)).toBe(3);
    } finally {
      proxy.server.close();
    }
  });

  it('presigns again through the API when the part URLs have expired', async () => {
    const { videoId, plan } = await openUpload();
    // the same upload's parts, presigned for one second
    const shortLived = {
      ...plan,
      expiresIn: 1,
      parts: await Promise.all(
        plan.parts.map(async (p) => ({
          partNumber: p.partNumber,
          url: await getSignedUrl(
            s3,
            new UploadPartCommand({ Bucket: 'framewise-media', Key: plan.key, UploadId: plan.uploadId, PartNumber: p.partNumber, ContentLength: Math.min(5 * MiB, SIZE - (p.partNumber - 1) * 5 * MiB) }),
            { expiresIn: 1, signableHeaders: new Set(['content-length']) },
          ),
        })),
      ),
    };
    await new Promise((r) => setTimeout(r, 2100));
    expect((await fetch(shortLived.parts[0]!.url, { method: 'PUT', body: Buffer.alloc(5 * MiB, 4) })).status).toBe(403);
    let renewals = 0;
    const renew = async () => {
      renewals++;
      return (await analyst('POST', `/v1/videos/${videoId}/upload/resume`, { uploadId: plan.uploadId })).body as UploadPlan;
    };
    // the plan is taken as just issued, so only the refusal can tell that its URLs expired
    const parts = await uploadFile({ ...shortLived, expiresIn: 3600 }, file, () => undefined, { renew, backoffMs: 10 });
    expect(renewals).toBe(1);
    expect(await complete(videoId, plan.uploadId, parts)).toBe(SIZE);
  });
});
