// Multipart uploads in the local S3 as S3 answers them, with the parts streamed to disk (s3-multipart.ts): the
// object's bytes and ETag (the MD5 of the parts' MD5s, and their count), ListParts, S3's errors on a bad completion,
// an upload that survives a restart between its parts and its completion, the one notification it raises, and no
// file left by a refused part.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalS3Sqs, S3ObjectEvent } from '../../infra/local/s3sqs.ts';
import { startLocalS3 } from '../support/local-s3.ts';
import { LOCAL_ACCESS_KEY } from '../../infra/local/s3-presign-check.ts';

const MiB = 1024 * 1024;
const Bucket = 'multipart';
const md5 = (b: Buffer) => createHash('md5').update(b).digest();

let dir: string;
let s3local: LocalS3Sqs;
let s3: S3Client;
const events: S3ObjectEvent[] = [];

async function start() {
  ({ s3local, s3 } = await startLocalS3(dir, Bucket, events));
}

async function restart() {
  s3.destroy();
  await s3local.stop();
  await start();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'framewise-multipart-'));
  await start();
});

afterAll(async () => {
  s3?.destroy();
  await s3local?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Sends a part through a presigned URL, as the CLI and the console do; returns its ETag. */
async function putPart(Key: string, UploadId: string, PartNumber: number, body: Buffer): Promise<string> {
  const url = await getSignedUrl(s3, new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, ContentLength: body.length }), { expiresIn: 600 });
  const res = await fetch(url, { method: 'PUT', body });
  expect(res.status).toBe(200);
  return res.headers.get('etag')!;
}

const s3Error = async (p: Promise<unknown>) => (await p.then(() => undefined, (e: { name: string; $metadata?: { httpStatusCode?: number } }) => e)) ?? { name: 'no error' };

describe('multipart uploads in the local S3', () => {
  it('stores the parts as one object with S3’s multipart ETag, across a restart between the parts and the completion', async () => {
    const Key = 'videos/game/source';
    const parts = [randomBytes(5 * MiB), randomBytes(6 * MiB), randomBytes(MiB + 17)];
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ContentType: 'video/mp4' }));
    const etags: string[] = [];
    for (const [i, body] of parts.entries()) etags.push(await putPart(Key, UploadId!, i + 1, body));
    expect(etags).toEqual(parts.map((b) => `"${md5(b).toString('hex')}"`));
    // The same part sent again replaces it.
    expect(await putPart(Key, UploadId!, 2, parts[1]!)).toBe(etags[1]);

    await restart();
    const listed = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }));
    expect(listed.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual(parts.map((b, i) => [i + 1, b.length, etags[i]]));

    events.length = 0;
    const done = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })) } }),
    );
    const expected = `"${createHash('md5').update(Buffer.concat(parts.map(md5))).digest('hex')}-3"`;
    expect(done.ETag).toBe(expected);
    expect(events).toEqual([{ bucket: Bucket, key: Key, kind: 'created', size: 12 * MiB + 17, etag: expected.replaceAll('"', ''), multipart: true }]);

    await restart();
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key }));
    expect([head.ContentLength, head.ETag, head.ContentType]).toEqual([12 * MiB + 17, expected, 'video/mp4']);
    const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat(parts))).toBe(true);
    const second = await s3.send(new GetObjectCommand({ Bucket, Key, PartNumber: 2 }));
    expect(Buffer.from(await second.Body!.transformToByteArray()).equals(parts[1]!)).toBe(true);
    // Completed: the upload is gone.
    expect((await s3Error(s3.send(new ListPartsCommand({ Bucket, Key, UploadId })))).name).toBe('NoSuchUpload');
  });

  it('refuses a completion as S3 does, changing nothing, and completes once it is right', async () => {
    const Key = 'videos/refused/source';
    const parts = [randomBytes(5 * MiB), randomBytes(2 * MiB), randomBytes(MiB)];
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const etags: string[] = [];
    for (const [i, body] of parts.entries()) etags.push(await putPart(Key, UploadId!, i + 1, body));
    const complete = (Parts: { PartNumber: number; ETag: string }[]) =>
      s3Error(s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts } })));

    expect((await complete([{ PartNumber: 1, ETag: etags[0]! }, { PartNumber: 2, ETag: etags[0]! }])).name).toBe('InvalidPart');
    expect((await complete([{ PartNumber: 1, ETag: etags[0]! }, { PartNumber: 4, ETag: etags[0]! }])).name).toBe('InvalidPart');
    expect((await complete([{ PartNumber: 2, ETag: etags[1]! }, { PartNumber: 1, ETag: etags[0]! }])).name).toBe('InvalidPartOrder');
    // Part 2 (2 MiB) is not the last: too small.
    expect((await complete(etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })))).name).toBe('EntityTooSmall');
    // The upload id of another object.
    expect((await s3Error(s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'videos/other/source', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: etags[0]! }] } })))).name).toBe('NoSuchUpload');
    expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket, Key })))).name).toBe('NotFound');

    const done = await complete([{ PartNumber: 1, ETag: etags[0]! }, { PartNumber: 3, ETag: etags[2]! }]);
    expect(done.name).toBe('no error');
    const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat([parts[0]!, parts[2]!]))).toBe(true);
    expect((await complete([{ PartNumber: 1, ETag: etags[0]! }])).name).toBe('NoSuchUpload');
  });

  it('makes the object of parts sent in place by renaming their assembly, without writing it again, whichever part comes first', async () => {
    const Key = 'videos/assembled/source';
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(2 * MiB + 3)];
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    // An uploader sending parts at once has no say in which arrives first: here part 2, then 1, then the last.
    const etags: string[] = [];
    for (const n of [2, 1, 3]) etags[n - 1] = await putPart(Key, UploadId!, n, parts[n - 1]!);
    const assembly = statSync(join(dir, 's3', '_multipart', UploadId!, 'assembly'));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ PartNumber: i + 1, ETag })) } }));
    const object = statSync(join(dir, 's3', 'buckets', Bucket, 'objects', 'videos', 'assembled', 'source.data'));
    expect([object.ino, object.size]).toEqual([assembly.ino, 12 * MiB + 3]);
    const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat(parts))).toBe(true);
  });

  it('keeps a stored part whole while it is sent again or refused, and completes with the part last stored', async () => {
    const Key = 'videos/resent/source';
    const [one, two, again] = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(5 * MiB)];
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const first = await putPart(Key, UploadId!, 1, one!);
    await putPart(Key, UploadId!, 2, two!);
    // Refused by its signature (signed for another length): part 2 stays as it was.
    const signed = await getSignedUrl(s3, new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 2, ContentLength: 5 * MiB - 1 }), { expiresIn: 600 });
    expect((await fetch(signed, { method: 'PUT', body: again! })).status).toBe(403);
    const kept = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }));
    expect(kept.Parts?.map((p) => p.ETag)).toEqual([first, `"${md5(two!).toString('hex')}"`]);
    // Sent again: the new bytes are the part's.
    const second = await putPart(Key, UploadId!, 2, again!);
    await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: first }, { PartNumber: 2, ETag: second }] } }));
    const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat([one!, again!]))).toBe(true);
  });

  it('gives the object the storage class its upload was created with', async () => {
    const Key = 'videos/archived/source';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key, StorageClass: 'DEEP_ARCHIVE' }));
    const ETag = await putPart(Key, UploadId!, 1, randomBytes(MiB));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag }] } }));
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key }))).StorageClass).toBe('DEEP_ARCHIVE');
    expect((await s3Error(s3.send(new GetObjectCommand({ Bucket, Key })))).name).toBe('InvalidObjectState');
  });

  it('takes no part for an aborted upload, and leaves uploads with checksums to S3’s own rules', async () => {
    const Key = 'videos/aborted/source';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    await putPart(Key, UploadId!, 1, randomBytes(MiB));
    await s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }));
    const url = await getSignedUrl(s3, new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 2, ContentLength: 10 }), { expiresIn: 600 });
    expect((await fetch(url, { method: 'PUT', body: Buffer.alloc(10) })).status).toBe(404);
    expect((await s3Error(s3.send(new HeadObjectCommand({ Bucket, Key })))).name).toBe('NotFound');
    // A part refused by its signature (another length than signed) leaves no received file behind.
    const open = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const signed = await getSignedUrl(s3, new UploadPartCommand({ Bucket, Key, UploadId: open.UploadId, PartNumber: 1, ContentLength: 10 }), { expiresIn: 600 });
    expect((await fetch(signed, { method: 'PUT', body: Buffer.alloc(11) })).status).toBe(403);
    expect(readdirSync(join(dir, 's3', '_received'))).toEqual([]);
    expect((await s3.send(new ListPartsCommand({ Bucket, Key, UploadId: open.UploadId }))).Parts ?? []).toEqual([]);

    // The SDK's own multipart upload, with the CRC-32 checksums it sends by default.
    const withChecksums = new S3Client({ endpoint: s3local.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: LOCAL_ACCESS_KEY });
    const body = randomBytes(11 * MiB);
    await new Upload({ client: withChecksums, params: { Bucket, Key: 'datasets/d.zip', Body: body }, partSize: 5 * MiB }).done();
    withChecksums.destroy();
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'datasets/d.zip' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
  });
});
