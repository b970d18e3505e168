// The local cloud speaks the AWS protocols and delivers events as AWS would.
import { readFileSync } from 'node:fs';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand, SQSClient, ListQueuesCommand } from '@aws-sdk/client-sqs';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListStateMachinesCommand, SFNClient } from '@aws-sdk/client-sfn';
import { describe, expect, inject, it } from 'vitest';
import { topology } from '../../infra/topology.ts';
import { eventually } from '../support/api.ts';

const endpoints = inject('endpoints');
const aws = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
const s3 = new S3Client({ ...aws, endpoint: endpoints.s3, forcePathStyle: true });
const sqs = new SQSClient({ ...aws, endpoint: endpoints.sqs });
const ddb = new DynamoDBClient({ ...aws, endpoint: endpoints.dynamodb });
const sfn = new SFNClient({ ...aws, endpoint: endpoints.stepfunctions });
const queueUrl = (name: string) => `${endpoints.sqs}/000000000000/framewise-${name}`;

describe('local cloud resources', () => {
  it('creates every bucket, queue with its DLQ, table and state machine of the topology', async () => {
    const buckets = (await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name);
    for (const b of topology.buckets) expect(buckets).toContain(`framewise-${b.name}`);
    const queues = (await sqs.send(new ListQueuesCommand({}))).QueueUrls ?? [];
    for (const q of topology.queues) {
      expect(queues.some((u) => u.endsWith(`/framewise-${q.name}`))).toBe(true);
      const attrs = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl(q.name), AttributeNames: ['RedrivePolicy'] }))).Attributes;
      expect(JSON.parse(attrs!.RedrivePolicy!)).toMatchObject({ maxReceiveCount: 3, deadLetterTargetArn: expect.stringContaining(`framewise-${q.name}-dlq`) });
    }
    for (const t of topology.tables) {
      const d = await ddb.send(new DescribeTableCommand({ TableName: `framewise-${t.name}` }));
      expect(d.Table?.KeySchema?.[0]?.AttributeName).toBe(t.partitionKey);
      expect((d.Table?.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName).sort()).toEqual(t.indexes.map((i) => i.name).sort());
    }
    const machines = (await sfn.send(new ListStateMachinesCommand({}))).stateMachines?.map((m) => m.name);
    for (const s of topology.stateMachines) expect(machines).toContain(`framewise-${s.name}`);
  });
});

describe('S3 objects', () => {
  const Bucket = 'framewise-media';
  const read = async (Key: string, Range?: string) => Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket, Key, Range }))).Body!.transformToByteArray());

  it('serves the bytes written last, whole and by range, after a PUT, an overwrite, a multipart completion and a delete', async () => {
    const Key = `cache/local-cloud-test/${Date.now()}`;
    await s3.send(new PutObjectCommand({ Bucket, Key, Body: Buffer.from('first version') }));
    expect((await read(Key, 'bytes=0-4')).toString()).toBe('first');
    expect((await read(Key)).toString()).toBe('first version');

    await s3.send(new PutObjectCommand({ Bucket, Key, Body: Buffer.from('second, longer version') }));
    expect((await read(Key, 'bytes=0-5')).toString()).toBe('second');
    expect((await read(Key, 'bytes=8-13')).toString()).toBe('longer');

    const parts = [Buffer.alloc(5 * 1024 * 1024, 'a'), Buffer.from('tail')];
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const etags = [];
    for (const [i, Body] of parts.entries()) etags.push((await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body }))).ETag!);
    await s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
    const size = parts[0]!.length + 4;
    expect((await read(Key, `bytes=${size - 6}-${size - 1}`)).toString()).toBe('aatail');
    expect((await read(Key)).length).toBe(size);

    await s3.send(new DeleteObjectCommand({ Bucket, Key }));
    await expect(read(Key, 'bytes=0-3')).rejects.toMatchObject({ name: 'NoSuchKey' });
    await s3.send(new PutObjectCommand({ Bucket, Key, Body: Buffer.from('third') }));
    expect((await read(Key)).toString()).toBe('third');
  });
});

describe('SQS delivery', () => {
  it('deletes the records a batch handled, and moves a record that fails 3 times to the DLQ', async () => {
    const sample = JSON.parse(readFileSync('events/s3-video-uploaded.json', 'utf8'));
    // A notification for a video the catalog does not know fails; S3's test event succeeds.
    const unknownVideo = JSON.stringify(sample);
    const testEvent = JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'framewise-media' });
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl('video-ingest'),
        Entries: [
          { Id: 'bad', MessageBody: unknownVideo },
          { Id: 'good', MessageBody: testEvent },
        ],
      }),
    );
    const dead = await eventually(async () => {
      const out = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl('video-ingest-dlq'), MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['All'], WaitTimeSeconds: 1 }),
      );
      return out.Messages?.length ? out.Messages : undefined;
    }, 'the failing record in the DLQ', 30_000);
    expect(dead).toHaveLength(1);
    expect(dead[0]!.Body).toBe(unknownVideo);
    // 3 deliveries to the function, the receive that found it over the limit and moved it, and ours.
    expect(dead[0]!.Attributes?.ApproximateReceiveCount).toBe('5');
    const left = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl('video-ingest'), AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    expect(left.Attributes).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
  });
});
