// The local S3 keeps storage classes and restores as S3 does: an archived object is not read until a restore made a
// copy of it readable, the restore completes later and raises ObjectRestore:Completed (also across a restart), and the
// lifecycle's transitions apply as of a given time.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  RestoreObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3Sqs, type LocalS3Sqs, type S3NotificationMessage, type S3ObjectEvent } from '../../infra/local/s3sqs.ts';
import { LOCAL_ACCESS_KEY } from '../../infra/local/s3-presign-check.ts';

const Bucket = 'archive-test';
const RESTORE_DELAY_MS = 600;
const DAY = 86_400_000;

let dir: string;
let s3local: LocalS3Sqs;
let s3: S3Client;
/** The restores completed, as notifications sent (the event they were made of is in the body). */
const sent: S3ObjectEvent[] = [];

const start = async (): Promise<void> => {
  s3local = await startS3Sqs({
    dataDir: dir, port: 0, region: 'us-east-1', restoreDelayMs: RESTORE_DELAY_MS,
    archivals: [{ bucket: Bucket, prefix: 'videos/', days: 1, storageClass: 'DEEP_ARCHIVE' }],
    notificationsFor: (e): S3NotificationMessage[] => (e.kind === 'restored' ? [{ queuePath: '/q', body: JSON.stringify(e) }] : []),
  });
  s3local.createBucket(Bucket);
  s3local.startNotifications(async (m) => void sent.push(JSON.parse(m.body) as S3ObjectEvent));
  s3?.destroy();
  s3 = new S3Client({ endpoint: s3local.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: LOCAL_ACCESS_KEY });
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'framewise-s3-archive-'));
  await start();
});

afterAll(async () => {
  s3?.destroy();
  await s3local?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The error an S3 call failed with (its code and HTTP status), or a failure when it succeeded. */
async function failure(p: Promise<unknown>): Promise<{ name: string; status?: number; storageClass?: unknown }> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(S3ServiceException);
    const e = err as S3ServiceException & { StorageClass?: unknown };
    return { name: e.name, status: e.$metadata.httpStatusCode, storageClass: e.StorageClass };
  }
  throw new Error('the call succeeded');
}

const restoreRequest = (Key: string, Days = 2) => new RestoreObjectCommand({ Bucket, Key, RestoreRequest: { Days, GlacierJobParameters: { Tier: 'Standard' } } });
const until = async (done: () => Promise<boolean>, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('storage classes', () => {
  it('a write records its class; HEAD and GET say it (not STANDARD); ListObjectsV2 lists it', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'frames/a.zip', Body: 'frames', StorageClass: 'GLACIER_IR' }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'frames/b.zip', Body: 'plain' }));
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'frames/a.zip' }))).StorageClass).toBe('GLACIER_IR');
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'frames/a.zip', Range: 'bytes=0-2' }));
    expect(got.StorageClass).toBe('GLACIER_IR');
    expect(await got.Body!.transformToString()).toBe('fra'); // Glacier Instant Retrieval is read at once
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'frames/b.zip' }))).StorageClass).toBeUndefined();
    const listed = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'frames/' }));
    expect(listed.Contents?.map((c) => [c.Key, c.StorageClass])).toEqual([['frames/a.zip', 'GLACIER_IR'], ['frames/b.zip', 'STANDARD']]);
    // written again without a class: STANDARD again
    await s3.send(new PutObjectCommand({ Bucket, Key: 'frames/a.zip', Body: 'again' }));
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'frames/a.zip' }))).StorageClass).toBeUndefined();
    expect(await failure(s3.send(new PutObjectCommand({ Bucket, Key: 'frames/c.zip', Body: 'x', StorageClass: 'COLD' as never })))).toMatchObject({ status: 400, name: 'InvalidStorageClass' });
  });

  it('a multipart upload and a copy carry the class they were created with', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'videos/mp.mp4', StorageClass: 'DEEP_ARCHIVE' }));
    const { ETag } = await s3.send(new UploadPartCommand({ Bucket, Key: 'videos/mp.mp4', UploadId, PartNumber: 1, Body: 'multipart video' }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'videos/mp.mp4', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag }] } }));
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'videos/mp.mp4' }))).StorageClass).toBe('DEEP_ARCHIVE');
    // an archived source cannot be copied before its restore
    expect(await failure(s3.send(new CopyObjectCommand({ Bucket, Key: 'videos/copy.mp4', CopySource: `${Bucket}/videos/mp.mp4` })))).toMatchObject({ status: 403, name: 'InvalidObjectState' });
    await s3.send(new PutObjectCommand({ Bucket, Key: 'videos/src.mp4', Body: 'source' }));
    await s3.send(new CopyObjectCommand({ Bucket, Key: 'videos/glacier.mp4', CopySource: `${Bucket}/videos/src.mp4`, StorageClass: 'GLACIER' }));
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'videos/glacier.mp4' }))).StorageClass).toBe('GLACIER');
  });
});

describe('archived objects and their restore', () => {
  it('GET (also ranged) of an archived object is 403 InvalidObjectState; HEAD works and shows no restore yet', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'videos/deep.mp4', Body: 'deep archived video', StorageClass: 'DEEP_ARCHIVE' }));
    expect(await failure(s3.send(new GetObjectCommand({ Bucket, Key: 'videos/deep.mp4' })))).toEqual({ name: 'InvalidObjectState', status: 403, storageClass: 'DEEP_ARCHIVE' });
    expect(await failure(s3.send(new GetObjectCommand({ Bucket, Key: 'videos/deep.mp4', Range: 'bytes=0-3' })))).toMatchObject({ name: 'InvalidObjectState', status: 403 });
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'videos/deep.mp4' }));
    expect(head).toMatchObject({ StorageClass: 'DEEP_ARCHIVE', ContentLength: 19 });
    expect(head.Restore).toBeUndefined();
  });

  it('RestoreObject: 202, then 409 while ongoing, then readable after the delay with its notification; then 200', async () => {
    const before = sent.length;
    const first = await s3.send(restoreRequest('videos/deep.mp4'));
    expect(first.$metadata.httpStatusCode).toBe(202);
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'videos/deep.mp4' }))).Restore).toBe('ongoing-request="true"');
    expect(await failure(s3.send(restoreRequest('videos/deep.mp4')))).toMatchObject({ name: 'RestoreAlreadyInProgress', status: 409 });
    expect(await failure(s3.send(new GetObjectCommand({ Bucket, Key: 'videos/deep.mp4' })))).toMatchObject({ name: 'InvalidObjectState' });

    await until(async () => sent.length > before);
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'videos/deep.mp4' }));
    expect(head.Restore).toMatch(/^ongoing-request="false", expiry-date="\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT"$/);
    const expiry = Date.parse(/expiry-date="([^"]+)"/.exec(head.Restore!)![1]!);
    expect(expiry - Date.now()).toBeGreaterThan(1.9 * DAY);
    expect(head.StorageClass).toBe('DEEP_ARCHIVE'); // a restored copy is beside the archived object
    expect(await (await s3.send(new GetObjectCommand({ Bucket, Key: 'videos/deep.mp4' }))).Body!.transformToString()).toBe('deep archived video');
    expect(sent.slice(before)).toEqual([
      expect.objectContaining({ bucket: Bucket, key: 'videos/deep.mp4', kind: 'restored', size: 19, restore: { expiresAt: expect.any(String), storageClass: 'DEEP_ARCHIVE' } }),
    ]);
    expect((await s3.send(restoreRequest('videos/deep.mp4', 5))).$metadata.httpStatusCode).toBe(200);
    await new Promise((r) => setTimeout(r, RESTORE_DELAY_MS * 2));
    expect(sent.length).toBe(before + 1); // a restore of a readable copy only moves its expiry
  });

  it('RestoreObject of an object not archived is 403 InvalidObjectState, of none 404; a new write ends the restored copy', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'videos/standard.mp4', Body: 'x' }));
    expect(await failure(s3.send(restoreRequest('videos/standard.mp4')))).toMatchObject({ name: 'InvalidObjectState', status: 403 });
    expect(await failure(s3.send(restoreRequest('videos/none.mp4')))).toMatchObject({ name: 'NoSuchKey', status: 404 });
    await s3.send(new PutObjectCommand({ Bucket, Key: 'videos/deep.mp4', Body: 'rewritten' }));
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'videos/deep.mp4' }));
    expect([head.StorageClass, head.Restore]).toEqual([undefined, undefined]);
  });

  it('a restore asked before a restart completes after it, with its notification; classes survive the restart', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'videos/restart.mp4', Body: 'kept', StorageClass: 'GLACIER' }));
    expect((await s3.send(restoreRequest('videos/restart.mp4'))).$metadata.httpStatusCode).toBe(202);
    const before = sent.length;
    await s3local.stop();
    await start();
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'videos/restart.mp4' }));
    expect(head.StorageClass).toBe('GLACIER');
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'videos/mp.mp4' }))).StorageClass).toBe('DEEP_ARCHIVE');
    await until(async () => sent.some((e, i) => i >= before && e.key === 'videos/restart.mp4'));
    expect(await (await s3.send(new GetObjectCommand({ Bucket, Key: 'videos/restart.mp4' }))).Body!.transformToString()).toBe('kept');
  });
});

describe('the lifecycle', () => {
  it("moves the objects under a rule's prefix older than its days, as of the time given, to its class, once", async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'videos/young.mp4', Body: 'young' }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'cache/other', Body: 'not under the rule' }));
    expect(s3local.applyLifecycle(new Date(Date.now() + DAY / 2))).toBe(0);
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'videos/young.mp4' }))).StorageClass).toBeUndefined();
    const moved = s3local.applyLifecycle(new Date(Date.now() + DAY + 1000));
    expect(moved).toBeGreaterThan(0);
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'videos/young.mp4' }))).StorageClass).toBe('DEEP_ARCHIVE');
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'cache/other' }))).StorageClass).toBeUndefined();
    expect(await failure(s3.send(new GetObjectCommand({ Bucket, Key: 'videos/young.mp4' })))).toMatchObject({ name: 'InvalidObjectState' });
    expect(s3local.applyLifecycle(new Date(Date.now() + 2 * DAY))).toBe(0);
  });

  it.skipIf(spawnSync('aws', ['--version']).error !== undefined)('the aws CLI sees the class, the refused GET and the restore', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'videos/cli.mp4', Body: 'cli', StorageClass: 'DEEP_ARCHIVE' }));
    const env = { ...process.env, AWS_ACCESS_KEY_ID: LOCAL_ACCESS_KEY.accessKeyId, AWS_SECRET_ACCESS_KEY: LOCAL_ACCESS_KEY.secretAccessKey, AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '' };
    const aws = (...args: string[]) => promisify(execFile)('aws', ['--endpoint-url', s3local.endpoint, '--output', 'json', 's3api', ...args], { env });
    expect(JSON.parse((await aws('head-object', '--bucket', Bucket, '--key', 'videos/cli.mp4')).stdout)).toMatchObject({ StorageClass: 'DEEP_ARCHIVE' });
    const refused = await aws('get-object', '--bucket', Bucket, '--key', 'videos/cli.mp4', join(dir, 'cli.out')).then(() => '', (err: { stderr: string }) => err.stderr);
    expect(refused).toMatch(/InvalidObjectState/);
    await aws('restore-object', '--bucket', Bucket, '--key', 'videos/cli.mp4', '--restore-request', '{"Days":1,"GlacierJobParameters":{"Tier":"Bulk"}}');
    // the CLI is slow to start: the restore may have completed by its next call
    expect(JSON.parse((await aws('head-object', '--bucket', Bucket, '--key', 'videos/cli.mp4')).stdout).Restore).toMatch(/^ongoing-request="(true|false)"/);
  });
});
