// Pure rules of uploads: part lengths, the uploader's backoff, the key of a resumable upload, and the local S3's
// check of presigned requests (what S3 refuses).
import { PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { describe, expect, it } from 'vitest';
import { partLength } from '../../functions/lib/presigned-upload.ts';
import { backoffDelay } from '../../cli/upload.ts';
import { uploadKey } from '../../cli/resume.ts';
import { listPartsHook } from '../../infra/local/s3-list-parts.ts';
import { checkPresigned, LOCAL_ACCESS_KEY, LOCAL_ACCESS_KEYS } from '../../infra/local/s3-presign-check.ts';

const MiB = 1024 * 1024;

describe('upload rules', () => {
  it('every part but the last has the part size; the lengths add up to the size', () => {
    expect([1, 2, 3].map((n) => partLength(11 * MiB, 5 * MiB, n))).toEqual([5 * MiB, 5 * MiB, MiB]);
    expect([1, 2].map((n) => partLength(10 * MiB, 5 * MiB, n))).toEqual([5 * MiB, 5 * MiB]);
    expect(partLength(10 * MiB, 5 * MiB, 3)).toBe(0);
  });

  it('backoff doubles up to its cap, with at most 50 % jitter off', () => {
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, 500, 20_000, () => 1))).toEqual([500, 1000, 2000, 4000]);
    expect(backoffDelay(10, 500, 20_000, () => 1)).toBe(20_000);
    expect(backoffDelay(1, 500, 20_000, () => 0)).toBe(250);
  });

  it('an upload is resumed only for the same API, video and file (path, size, modification time)', () => {
    const f = { apiUrl: 'http://a', videoId: 'v', path: '/x/game.mp4', size: 10, mtimeMs: 1000.4 };
    expect(uploadKey(f)).toBe(uploadKey({ ...f, mtimeMs: 1000.9 }));
    for (const other of [{ apiUrl: 'http://b' }, { videoId: 'w' }, { path: '/x/other.mp4' }, { size: 11 }, { mtimeMs: 2000 }]) {
      expect(uploadKey({ ...f, ...other })).not.toBe(uploadKey(f));
    }
  });
});

describe('presigned requests, as S3 checks them', () => {
  const s3 = new S3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:4566', forcePathStyle: true, credentials: LOCAL_ACCESS_KEY, requestChecksumCalculation: 'WHEN_REQUIRED' });
  const presignPut = (length: number, expiresIn = 60) =>
    getSignedUrl(s3, new PutObjectCommand({ Bucket: 'b', Key: 'videos/v/source', ContentType: 'video/mp4', ContentLength: length }), {
      expiresIn, signableHeaders: new Set(['content-length', 'content-type']),
    });
  const request = (url: string, headers: Record<string, string>) => {
    const u = new URL(url);
    return { method: 'PUT', url: u.pathname + u.search, headers: { host: u.host, ...headers } };
  };

  it('takes a request that matches its presignature', async () => {
    const url = await presignPut(1000);
    expect(await checkPresigned(request(url, { 'content-length': '1000', 'content-type': 'video/mp4' }), LOCAL_ACCESS_KEYS)).toBeUndefined();
    const part = await getSignedUrl(s3, new UploadPartCommand({ Bucket: 'b', Key: 'k', UploadId: 'u', PartNumber: 2, ContentLength: 5 }), {
      expiresIn: 60, signableHeaders: new Set(['content-length']),
    });
    expect(await checkPresigned(request(part, { 'content-length': '5' }), LOCAL_ACCESS_KEYS)).toBeUndefined();
  });

  it('refuses another length, content type, key or part, a missing signed header, an unknown key and an expired URL', async () => {
    const url = await presignPut(1000);
    const ok = { 'content-length': '1000', 'content-type': 'video/mp4' };
    const code = async (u: string, h: Record<string, string>, now?: Date) => (await checkPresigned(request(u, h), LOCAL_ACCESS_KEYS, now))?.code;
    expect(await code(url, { ...ok, 'content-length': '0' })).toBe('SignatureDoesNotMatch');
    expect(await code(url, { ...ok, 'content-type': 'text/html' })).toBe('SignatureDoesNotMatch');
    expect(await code(url.replace('/source?', '/other?'), ok)).toBe('SignatureDoesNotMatch');
    expect(await code(url, { 'content-type': 'video/mp4' })).toBe('SignatureDoesNotMatch');
    expect(await code(url.replace('Credential=local', 'Credential=someone'), ok)).toBe('InvalidAccessKeyId');
    expect(await code(url, ok, new Date(Date.now() + 61_000))).toBe('AccessDenied');
    expect(await code(`${url}&partNumber=2`, ok)).toBe('SignatureDoesNotMatch');
  });

  it('lets requests without a presignature through (SDK clients sign their headers)', async () => {
    expect(await checkPresigned({ method: 'GET', url: '/b/k', headers: { host: 'h' } }, LOCAL_ACCESS_KEYS)).toBeUndefined();
  });
});

describe('the local S3 ListParts', () => {
  const parts = new Map(
    Array.from({ length: 1500 }, (_, i) => [i + 1, { partNumber: i + 1, etag: `"e${i + 1}"`, body: Buffer.alloc(3), lastModified: new Date(0) }]),
  );
  const uploads = new Map([['u1', { bucket: 'b', key: 'videos/v/source', parts }]]);
  const answer = async (url: string) => {
    const reply = { status: 0, body: '', code(s: number) { this.status = s; return this; }, header() { return this; }, send(b: string) { this.body = b; return this; } };
    const handled = await listPartsHook(uploads)({ method: 'GET', url }, reply);
    return handled ? reply : undefined;
  };
  const tag = (xml: string, name: string) => [...xml.matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, 'g'))].map((m) => m[1]);

  it('pages the parts of an open upload 1,000 at a time, from the marker', async () => {
    const first = (await answer('/b/videos/v/source?uploadId=u1'))!;
    expect(first.status).toBe(200);
    expect(tag(first.body, 'PartNumber')).toHaveLength(1000);
    expect(tag(first.body, 'IsTruncated')).toEqual(['true']);
    expect(tag(first.body, 'NextPartNumberMarker')).toEqual(['1000']);
    expect(tag(first.body, 'Size')[0]).toBe('3');
    const second = (await answer('/b/videos/v/source?uploadId=u1&part-number-marker=1000'))!;
    expect(tag(second.body, 'PartNumber')[0]).toBe('1001');
    expect(tag(second.body, 'PartNumber')).toHaveLength(500);
    expect(tag(second.body, 'IsTruncated')).toEqual(['false']);
  });

  it('answers NoSuchUpload for an unknown upload or another key, and leaves other requests to fauxqs', async () => {
    expect((await answer('/b/videos/v/source?uploadId=nope'))!.status).toBe(404);
    expect((await answer('/b/videos/w/source?uploadId=u1'))!.body).toMatch(/NoSuchUpload/);
    expect(await answer('/b/videos/v/source')).toBeUndefined();
  });
});
