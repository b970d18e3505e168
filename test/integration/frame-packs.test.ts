// A failed ingest run's frames go with it: the video-ingest workflow's failure path (here a closing run, which goes
// straight to it) deletes the frame packs of that run, with ingest-failed's own grants, and none of another run's.
import { randomUUID } from 'node:crypto';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { describe, expect, inject, it } from 'vitest';
import { localStateMachineArn } from '../../infra/local/names.ts';
import { framePackKey, framePacksPrefix } from '../../functions/lib/frame-images.ts';
import { packBytes } from '../../functions/lib/frame-pack.ts';
import { eventually } from '../support/api.ts';

const endpoints = inject('endpoints');
const BUCKET = 'framewise-media';
const credentials = { accessKeyId: 't', secretAccessKey: 't' };
const s3 = new S3Client({ endpoint: endpoints.s3, region: 'us-east-1', forcePathStyle: true, credentials });
const sfn = new SFNClient({ endpoint: endpoints.stepfunctions, region: 'us-east-1', credentials });

const keysUnder = async (prefix: string) =>
  ((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!).sort();

describe('frame packs of an ingest run', () => {
  it("are deleted when the run fails, and another run's stay", async () => {
    const videoId = randomUUID();
    const failedRun = `ingest-${videoId.slice(0, 8)}-failed`;
    const keptRun = `ingest-${videoId.slice(0, 8)}-kept`;
    const put = (run: string, first: number) =>
      s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: framePackKey(videoId, run, first), Body: packBytes([{ frame: first, jpeg: Buffer.from('jpeg') }]) }));
    // more packs than a LIST page holds, so the deletion pages through them
    await Promise.all(Array.from({ length: 1005 }, (_, i) => put(failedRun, i * 10)));
    await Promise.all([0, 1500].map((first) => put(keptRun, first)));
    expect((await keysUnder(framePacksPrefix(videoId, failedRun))).length).toBe(1000);

    const { executionArn } = await sfn.send(new StartExecutionCommand({
      stateMachineArn: localStateMachineArn('video-ingest'),
      name: `frames-${videoId}`,
      input: JSON.stringify({
        jobId: failedRun, videoId, bucket: BUCKET, key: `videos/${videoId}/source`, abandoned: true,
        error: { Error: 'ExecutionEnded', Cause: 'the run ended without an outcome' },
      }),
    }));
    await eventually(async () => {
      const { status } = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      return status === 'RUNNING' ? undefined : status;
    }, 'the failure path', 60_000);

    expect(await keysUnder(framePacksPrefix(videoId, failedRun))).toEqual([]);
    expect(await keysUnder(`frames/${videoId}/`)).toEqual([framePackKey(videoId, keptRun, 0), framePackKey(videoId, keptRun, 1500)]);
  }, 90_000);
});
