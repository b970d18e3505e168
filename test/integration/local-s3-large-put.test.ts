// The local S3 takes one PUT as large as S3 does (up to 5 GiB), not only bodies the size of a multipart part: a
// segment's frame pack is one streamed PUT of tens of MB. A plain PUT's body goes to disk as it arrives
// (s3-put-object.ts): the object as S3 keeps it (bytes, ETag, metadata, storage class, across a restart), one
// notification, no file written in one blocking call, and nothing left or changed by a PUT refused or cut off.
import { createHash, randomBytes } from 'node:crypto';
import fs, { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalS3Sqs, S3ObjectEvent } from '../../infra/local/s3sqs.ts';
import { startLocalS3 } from '../support/local-s3.ts';
import { LOCAL_ACCESS_KEY } from '../../infra/local/s3-presign-check.ts';

const MiB = 1024 * 1024;
const Bucket = 'large-puts';
const md5Etag = (b: Buffer) => `"${createHash('md5').update(b).digest('hex')}"`;

let dir: string;
let s3local: LocalS3Sqs;
let s3: S3Client;
const events: S3ObjectEvent[] = [];

async function start() {
  ({ s3local, s3 } = await startLocalS3(dir, Bucket, events));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'framewise-large-put-'));
  await start();
});

afterAll(async () => {
  s3?.destroy();
  await s3local?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const getBody = async (Key: string) => Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToByteArray());
const received = () => readdirSync(join(dir, 's3', '_received'));

describe('single PUTs to the local S3', () => {
  it('stores a 40 MiB object sent in one streamed PUT, byte for byte, with its MD5 as ETag, its metadata and class, across a restart', async () => {
    const Key = 'frames/v/run/000000.zip';
    const body = randomBytes(40 * MiB);
    const chunks = function* () {
      for (let at = 0; at < body.length; at += MiB) yield body.subarray(at, at + MiB);
    };
    const before = events.length;
    const put = await s3.send(
      new PutObjectCommand({
        Bucket, Key, Body: Readable.from(chunks()), ContentLength: body.length, StorageClass: 'GLACIER_IR',
        ContentType: 'application/zip', CacheControl: 'max-age=60', Metadata: { run: 'r1' },
      }),
    );
    expect(put.ETag).toBe(md5Etag(body));
    expect(events.slice(before)).toEqual([{ bucket: Bucket, key: Key, kind: 'created', size: body.length, etag: md5Etag(body).replaceAll('"', ''), multipart: false }]);
    for (const when of ['written', 'after a restart']) {
      if (when !== 'written') {
        s3.destroy();
        await s3local.stop();
        await start();
      }
      const head = await s3.send(new HeadObjectCommand({ Bucket, Key }));
      expect([head.ETag, head.ContentLength, head.ContentType, head.CacheControl, head.Metadata, head.StorageClass], when).toEqual([
        md5Etag(body), body.length, 'application/zip', 'max-age=60', { run: 'r1' }, 'GLACIER_IR',
      ]);
      expect((await getBody(Key)).equals(body), when).toBe(true);
    }
  });

  it('writes the body as it arrives, never the whole of it in one blocking write, and replaces an object read before', async () => {
    const Key = 'frames/v/run/000300.zip';
    await s3.send(new PutObjectCommand({ Bucket, Key, Body: Buffer.from('the first pack') }));
    expect((await getBody(Key)).toString()).toBe('the first pack'); // now in the body cache
    const body = randomBytes(24 * MiB);
    const writes: string[] = [];
    const writeFileSync = fs.writeFileSync;
    fs.writeFileSync = (...args: Parameters<typeof fs.writeFileSync>) => (writes.push(String(args[0])), writeFileSync(...args));
    syncBuiltinESMExports(); // fauxqs's own import of it too
    try {
      const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket, Key }), { expiresIn: 60 });
      const res = await fetch(url, { method: 'PUT', body });
      expect([res.status, res.headers.get('etag')]).toEqual([200, md5Etag(body)]);
    } finally {
      fs.writeFileSync = writeFileSync;
      syncBuiltinESMExports();
    }
    expect(writes.filter((path) => path.endsWith('.data'))).toEqual([]);
    expect((await getBody(Key)).equals(body)).toBe(true);
    expect(received()).toEqual([]);
  });

  it('changes nothing and leaves no file for a PUT refused by its signature or cut off halfway', async () => {
    const Key = 'frames/v/run/000600.zip';
    const kept = randomBytes(MiB);
    await s3.send(new PutObjectCommand({ Bucket, Key, Body: kept }));
    const before = events.length;
    // Signed for another content type than sent: refused after the body arrived.
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket, Key, ContentType: 'application/zip' }), { expiresIn: 60, signableHeaders: new Set(['content-type']) });
    expect((await fetch(url, { method: 'PUT', body: randomBytes(MiB), headers: { 'content-type': 'text/plain' } })).status).toBe(403);
    // A body that stops short of its length, then the connection closes.
    const open = await getSignedUrl(s3, new PutObjectCommand({ Bucket, Key }), { expiresIn: 60 });
    await new Promise<void>((resolve) => {
      const req = request(open, { method: 'PUT', headers: { 'content-length': String(8 * MiB) } });
      req.on('error', () => resolve());
      req.write(randomBytes(2 * MiB), () => setTimeout(() => (req.destroy(), resolve()), 200));
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await getBody(Key)).equals(kept)).toBe(true);
    expect(events.length).toBe(before);
    expect(received()).toEqual([]);
  });

  it('leaves PUTs with checksums, copies and missing buckets to S3’s own rules', async () => {
    const withChecksums = new S3Client({ endpoint: s3local.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: LOCAL_ACCESS_KEY });
    const body = randomBytes(3 * MiB);
    const put = await withChecksums.send(new PutObjectCommand({ Bucket, Key: 'datasets/d.zip', Body: body, ChecksumAlgorithm: 'CRC32' }));
    withChecksums.destroy();
    expect([put.ETag, put.ChecksumCRC32 !== undefined]).toEqual([md5Etag(body), true]);
    expect((await getBody('datasets/d.zip')).equals(body)).toBe(true);
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'no-such-bucket', Key: 'k' }), { expiresIn: 60 });
    const res = await fetch(url, { method: 'PUT', body: Buffer.from('x') });
    expect([res.status, /<Code>NoSuchBucket<\/Code>/.test(await res.text())]).toEqual([404, true]);
    expect(received()).toEqual([]);
  });
});
