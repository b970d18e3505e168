// The local S3 takes one PUT as large as S3 does (up to 5 GiB), not only bodies the size of a multipart part: a
// segment's frame pack is one streamed PUT of tens of MB.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3Sqs, type LocalS3Sqs } from '../../infra/local/s3sqs.ts';
import { LOCAL_ACCESS_KEY } from '../../infra/local/s3-presign-check.ts';

const MiB = 1024 * 1024;
const Bucket = 'large-puts';

let dir: string;
let s3local: LocalS3Sqs;
let s3: S3Client;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'framewise-large-put-'));
  s3local = await startS3Sqs({ dataDir: dir, port: 0, region: 'us-east-1', notificationsFor: () => [] });
  s3local.createBucket(Bucket);
  s3 = new S3Client({ endpoint: s3local.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: LOCAL_ACCESS_KEY });
});

afterAll(async () => {
  s3?.destroy();
  await s3local?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('single PUTs to the local S3', () => {
  it('stores a 40 MiB object sent in one streamed PUT, byte for byte, with its MD5 as ETag', async () => {
    const body = randomBytes(40 * MiB);
    const chunks = function* () {
      for (let at = 0; at < body.length; at += MiB) yield body.subarray(at, at + MiB);
    };
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'frames/v/run/000000.zip', Body: Readable.from(chunks()), ContentLength: body.length, StorageClass: 'GLACIER_IR' }));
    expect(put.ETag).toBe(`"${createHash('md5').update(body).digest('hex')}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'frames/v/run/000000.zip' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
  });
});
