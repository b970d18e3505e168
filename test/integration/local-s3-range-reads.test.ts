// The local S3 answers a ranged GET of an object too large for its body cache from the object's file: the same bytes
// and headers as S3, without reading (and holding) the whole object per request.
import { randomBytes } from 'node:crypto';
import fs, { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3Sqs, type LocalS3Sqs } from '../../infra/local/s3sqs.ts';
import { byteRange } from '../../infra/local/s3-range-reads.ts';
import { LOCAL_ACCESS_KEY } from '../../infra/local/s3-presign-check.ts';

/** Objects above a quarter of this are never cached, so read by range from their file. */
const CACHE_BYTES = 16 * 1024 * 1024;
const MiB = 1024 * 1024;
const Bucket = 'range-reads';
const Key = 'videos/game/source';

let dir: string;
let s3local: LocalS3Sqs;
let s3: S3Client;
const large = randomBytes(48 * MiB);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'framewise-range-reads-'));
  s3local = await startS3Sqs({ dataDir: dir, port: 0, region: 'us-east-1', notificationsFor: () => [], bodyCacheBytes: CACHE_BYTES });
  s3local.createBucket(Bucket);
  s3 = new S3Client({ endpoint: s3local.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: LOCAL_ACCESS_KEY });
  // A video arrives by multipart upload.
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ContentType: 'video/mp4', Metadata: { origin: 'test' } }));
  const Parts = [];
  for (let n = 1; n <= 6; n++) {
    const { ETag } = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: n, Body: large.subarray((n - 1) * 8 * MiB, n * 8 * MiB) }));
    Parts.push({ PartNumber: n, ETag });
  }
  await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts } }));
});

afterAll(async () => {
  s3?.destroy();
  await s3local?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const get = async (Key: string, Range?: string) => {
  const out = await s3.send(new GetObjectCommand({ Bucket, Key, Range }));
  return { out, body: Buffer.from(await out.Body!.transformToByteArray()) };
};

describe('ranged reads of large objects in the local S3', () => {
  it('gives the bytes, length, range and headers S3 gives, for every form of range', async () => {
    {
      const whole = await get(Key);
      expect(whole.body.equals(large)).toBe(true);
      for (const [range, start, end] of [
        ['bytes=0-', 0, large.length - 1],
        ['bytes=1000-2999', 1000, 2999],
        [`bytes=${20 * MiB}-`, 20 * MiB, large.length - 1],
        ['bytes=-4096', large.length - 4096, large.length - 1],
        [`bytes=${large.length - 10}-${large.length + 100}`, large.length - 10, large.length - 1],
      ] as const) {
        const { out, body } = await get(Key, range);
        expect(body.equals(large.subarray(start, end + 1)), range).toBe(true);
        expect(out.ContentRange).toBe(`bytes ${start}-${end}/${large.length}`);
        expect(out.ContentLength).toBe(end - start + 1);
        expect(out.ETag).toBe(whole.out.ETag);
        expect(out.ContentType).toBe('video/mp4');
        expect(out.LastModified?.getTime()).toBe(whole.out.LastModified?.getTime());
        expect(out.Metadata).toEqual({ origin: 'test' });
      }
    }
  });

  it('leaves an unsatisfiable range and a matching condition to S3 semantics (416, 304)', async () => {
    const err = await s3.send(new GetObjectCommand({ Bucket, Key, Range: `bytes=${large.length}-` })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(S3ServiceException);
    expect((err as S3ServiceException).$metadata.httpStatusCode).toBe(416);
    const etag = (await get(Key, 'bytes=0-0')).out.ETag!;
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket, Key }), { expiresIn: 60 });
    const res = await fetch(url, { headers: { range: 'bytes=0-99', 'if-none-match': etag } });
    expect(res.status).toBe(304);
  });

  it('reads a range from the file, never the whole file, for presigned GETs (as ffmpeg makes them) and the SDK alike', async () => {
    // fauxqs alone reads the whole file (here 48 MiB, in a real game a few GB) for every GET and holds it while it answers.
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket, Key }), { expiresIn: 60 });
    const file = join(dir, 's3', 'buckets', Bucket, 'objects', 'videos', 'game', 'source.data');
    const reads: string[] = [];
    const readFileSync = fs.readFileSync;
    fs.readFileSync = ((path: fs.PathOrFileDescriptor, ...rest: never[]) => (reads.push(String(path)), readFileSync(path, ...rest))) as typeof fs.readFileSync;
    syncBuiltinESMExports(); // fauxqs's own import of it too
    try {
      for (const [range, start] of [['bytes=0-', 0], [`bytes=${large.length - 4096}-`, large.length - 4096], [`bytes=${30 * MiB}-`, 30 * MiB]] as const) {
        const res = await fetch(url, { headers: { range } });
        expect(res.status).toBe(206);
        expect(Buffer.from(await res.arrayBuffer()).equals(large.subarray(start))).toBe(true);
      }
      expect((await get(Key, 'bytes=100-199')).body.equals(large.subarray(100, 200))).toBe(true);
      // ffmpeg closes an answer when it seeks elsewhere: the rest of it is not read either.
      await new Promise<void>((resolve, reject) => {
        const req = request(url, { headers: { range: 'bytes=0-' } }, (res) => {
          res.once('data', () => {
            res.destroy();
            setTimeout(resolve, 300);
          });
        });
        req.on('error', reject).end();
      });
    } finally {
      fs.readFileSync = readFileSync;
      syncBuiltinESMExports();
    }
    expect(reads.filter((path) => path === file)).toEqual([]);
  });
});

describe('the buffers ranged answers are read into', () => {
  it('are reused from one answer to the next, not allocated per chunk', async () => {
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket, Key }), { expiresIn: 60 });
    const allocUnsafeSlow = Buffer.allocUnsafeSlow;
    let chunksAllocated = 0;
    Buffer.allocUnsafeSlow = (size: number) => (size >= MiB && chunksAllocated++, allocUnsafeSlow(size));
    try {
      for (let i = 0; i < 4; i++) {
        const res = await fetch(url, { headers: { range: `bytes=${i * MiB}-` } });
        expect(Buffer.from(await res.arrayBuffer()).equals(large.subarray(i * MiB))).toBe(true);
      }
    } finally {
      Buffer.allocUnsafeSlow = allocUnsafeSlow;
    }
    // 4 answers of 45 to 48 MiB, read 1 MiB at a time: a chunk per read would be 186
    expect(chunksAllocated).toBeLessThanOrEqual(16);
  });

  it('never hand one answer the bytes of another: concurrent answers, read slowly or given up halfway', async () => {
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket, Key }), { expiresIn: 60 });
    const readSlowly = (start: number, end: number, giveUpAfter?: number) =>
      new Promise<Buffer>((resolve, reject) => {
        request(url, { headers: { range: `bytes=${start}-${end}` } }, (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            chunks.push(Buffer.from(chunk));
            size += chunk.length;
            if (giveUpAfter !== undefined && size >= giveUpAfter) return (res.destroy(), resolve(Buffer.concat(chunks)));
            res.pause();
            setTimeout(() => res.resume(), 2);
          });
          res.on('end', () => resolve(Buffer.concat(chunks)));
          res.on('error', reject);
        })
          .on('error', reject)
          .end();
      });
    const ranges = Array.from({ length: 12 }, (_, i) => ({ start: i * 3 * MiB + i, end: i * 3 * MiB + i + 6 * MiB, giveUpAfter: i % 3 === 0 ? 2 * MiB : undefined }));
    const bodies = await Promise.all(ranges.map((r) => readSlowly(r.start, r.end, r.giveUpAfter)));
    for (const [i, r] of ranges.entries()) {
      const want = large.subarray(r.start, r.end + 1);
      if (r.giveUpAfter === undefined) expect(bodies[i]!.equals(want), `range ${i}`).toBe(true);
      else expect(bodies[i]!.equals(want.subarray(0, bodies[i]!.length)), `range ${i}, given up`).toBe(true);
    }
  });
});

describe('byteRange', () => {
  it('reads the forms of a single range S3 accepts and refuses the rest', () => {
    expect(byteRange('bytes=0-', 10)).toEqual({ start: 0, end: 9 });
    expect(byteRange('bytes=2-4', 10)).toEqual({ start: 2, end: 4 });
    expect(byteRange('bytes=5-100', 10)).toEqual({ start: 5, end: 9 });
    expect(byteRange('bytes=-3', 10)).toEqual({ start: 7, end: 9 });
    for (const bad of ['bytes=10-', 'bytes=4-2', 'bytes=-0', 'bytes=-11', 'bytes=-', 'bytes=0-1,4-5', 'items=0-1']) expect(byteRange(bad, 10), bad).toBeUndefined();
  });
});
