// The local cloud's usage meter counts what its stand-ins really served, in AWS's billing units: one known
// operation at a time moves exactly the counters it should, once, and no other.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateStateMachineCommand, DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloud, type LocalCloud } from '../../infra/local/cloud.ts';
import { localName, localQueueUrl } from '../../infra/local/names.ts';
import { usageDiff, type UsageSnapshot } from '../../infra/local/usage.ts';
import { dlqName, topology } from '../../infra/topology.ts';
import { TEST_CLOUD_OPTIONS } from '../support/cloud-options.ts';
import { eventually } from '../support/api.ts';

const dir = mkdtempSync(join(tmpdir(), 'framewise-usage-'));
let cloud: LocalCloud;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const region = 'us-east-1';
const bucket = localName('media');

beforeAll(async () => {
  cloud = await startLocalCloud({ dir, ...TEST_CLOUD_OPTIONS, metering: true });
});
afterAll(async () => {
  await cloud?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The usage of `operation`, from snapshots taken just before and after it. */
async function usageOf(operation: () => Promise<unknown>): Promise<UsageSnapshot> {
  const before = await cloud.usage();
  await operation();
  return usageDiff(before, await cloud.usage());
}

/** What an idle cloud does anyway: its queue pollers' ReceiveMessage calls. */
const withoutPolling = (u: UsageSnapshot) => {
  const { ReceiveMessage: _polls, ...actions } = u.sqs.byAction;
  return { ...u, at: 0, sqs: { byAction: Object.fromEntries(Object.entries(actions).filter(([, n]) => n !== 0)) }, functions: invoked(u) };
};
const invoked = (u: UsageSnapshot) => Object.fromEntries(Object.entries(u.functions).filter(([, f]) => f.invocations > 0));
const nothing = { tier1: 0, tier2: 0 };

describe('local cloud usage meter', () => {
  it('counts one presigned PUT as one tier-1 request and one GET as one tier-2 request, and the bytes stored', async () => {
    const s3 = new S3Client({ endpoint: cloud.endpoints.s3, region, forcePathStyle: true, credentials });
    const body = Buffer.alloc(10_000, 7);
    const key = `cache/usage-test/${Date.now()}.bin`;
    const put = await usageOf(async () => {
      const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 60 });
      expect((await fetch(url, { method: 'PUT', body })).status).toBe(200);
    });
    expect(put.s3).toMatchObject({ tier1: 1, tier2: 0, byAction: { PutObject: 1 }, tier1ByPrefix: { 'cache/': 1 } });
    expect(put.s3.storedBytes[bucket]).toBe(body.length);
    const get = await usageOf(async () => expect((await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray()).length).toBe(body.length));
    expect(get.s3).toMatchObject({ tier1: 0, tier2: 1, byAction: { GetObject: 1, PutObject: 0 } });
    for (const u of [put, get]) {
      expect(withoutPolling(u)).toMatchObject({ functions: {}, sqs: { byAction: {} }, stepFunctions: { transitions: 0 }, dynamodb: { readUnits: 0, writeUnits: 0 } });
    }
    s3.destroy();
  });

  it('counts an SQS send as one request per started 64 KB', async () => {
    const sqs = new SQSClient({ endpoint: cloud.endpoints.sqs, region, credentials });
    // A dead-letter queue: nothing consumes it, so nothing else happens to the message.
    const QueueUrl = localQueueUrl(cloud.endpoints.sqs, dlqName(topology.queues[0]!.name));
    const small = await usageOf(() => sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'x' })));
    expect(withoutPolling(small).sqs.byAction).toEqual({ SendMessage: 1 });
    const large = await usageOf(() => sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'y'.repeat(100_000) })));
    expect(withoutPolling(large).sqs.byAction).toEqual({ SendMessage: 2 });
    expect(withoutPolling(large).s3).toMatchObject(nothing);
    sqs.destroy();
  });

  it('counts one API call as one invocation of its function, billed by the millisecond at its memory', async () => {
    const started = performance.now();
    const u = await usageOf(async () => expect((await fetch(`${cloud.endpoints.api}/v1/openapi.json`)).status).toBe(200));
    const elapsed = performance.now() - started;
    const docs = topology.functions.find((f) => f.name === 'docs-api')!;
    expect(invoked(u)).toEqual({ 'docs-api': { invocations: 1, billedMs: expect.any(Number), memoryMb: docs.memoryMb } });
    expect(u.functions['docs-api']!.billedMs).toBeGreaterThanOrEqual(1);
    expect(u.functions['docs-api']!.billedMs).toBeLessThanOrEqual(Math.ceil(elapsed) + 1);
    expect(withoutPolling(u)).toMatchObject({ s3: nothing, sqs: { byAction: {} }, stepFunctions: { transitions: 0 } });
  });

  it('counts the state transitions of a workflow, one per state entered, Map iterations included', async () => {
    const sfn = new SFNClient({ endpoint: cloud.endpoints.stepfunctions, region, credentials });
    const definition = {
      StartAt: 'Start',
      States: {
        Start: { Type: 'Pass', Result: [1, 2, 3], Next: 'Each' },
        Each: { Type: 'Map', ItemProcessor: { StartAt: 'One', States: { One: { Type: 'Pass', End: true } } }, Next: 'Done' },
        Done: { Type: 'Succeed' },
      },
    };
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({ name: `usage-${Date.now()}`, definition: JSON.stringify(definition), roleArn: 'arn:aws:iam::000000000000:role/test' }),
    );
    const u = await usageOf(async () => {
      const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn, input: '{}' }));
      await eventually(async () => ((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status === 'SUCCEEDED' ? true : undefined), 'the execution');
    });
    // Start, Each, three times One, Done.
    expect(u.stepFunctions.transitions).toBe(6);
    expect(Object.values(u.stepFunctions.byStateMachine).filter((n) => n > 0)).toEqual([6]);
    expect(invoked(u)).toEqual({});
    sfn.destroy();
  });

  it('counts DynamoDB request units as AWS does, and answers the caller as if nothing were counted', async () => {
    const db = new DynamoDBClient({ endpoint: cloud.endpoints.dynamodb, region, credentials });
    const TableName = localName('jobs');
    const Key = { jobId: { S: `usage-${Date.now()}` } };
    // About 2.5 KB: three write units, one read unit (half of one when eventually consistent).
    const put = await usageOf(() => db.send(new PutItemCommand({ TableName, Item: { ...Key, blob: { S: 'z'.repeat(2_500) } } })));
    expect(put.dynamodb).toMatchObject({ readUnits: 0, writeUnits: 3, byAction: { PutItem: 1 } });
    let answer: unknown;
    const strong = await usageOf(async () => (answer = await db.send(new GetItemCommand({ TableName, Key, ConsistentRead: true }))));
    expect(strong.dynamodb).toMatchObject({ readUnits: 1, writeUnits: 0 });
    expect(answer).not.toHaveProperty('ConsumedCapacity');
    expect((answer as { Item: { blob: { S: string } } }).Item.blob.S).toHaveLength(2_500);
    const eventual = await usageOf(async () => (answer = await db.send(new GetItemCommand({ TableName, Key, ReturnConsumedCapacity: 'TOTAL' }))));
    expect(eventual.dynamodb).toMatchObject({ readUnits: 0.5, writeUnits: 0 });
    expect(answer).toMatchObject({ ConsumedCapacity: { CapacityUnits: 0.5 } });
    for (const u of [put, strong, eventual]) expect(withoutPolling(u)).toMatchObject({ s3: nothing, functions: {}, sqs: { byAction: {} } });
    db.destroy();
  });

  it('counts MongoDB document writes and PostgreSQL writes', async () => {
    const mongo = new MongoClient(cloud.endpoints.mongodb);
    const docs = mongo.db('framewise').collection('usage_test');
    const m = await usageOf(async () => {
      const { insertedId } = await docs.insertOne({ n: 1 });
      await docs.updateOne({ _id: insertedId }, { $set: { n: 2 } });
      await docs.deleteOne({ _id: insertedId });
      expect(await docs.findOne({ _id: insertedId })).toBeNull();
    });
    expect(m.mongodb).toMatchObject({ documentsInserted: 1, documentsUpdated: 1, documentsDeleted: 1 });
    expect(m.mongodb.bytesWritten).toBeGreaterThan(0);
    await mongo.close();

    const client = new pg.Client({ connectionString: cloud.endpoints.postgres });
    await client.connect();
    await client.query('CREATE TABLE IF NOT EXISTS usage_test (n int)');
    const before = await cloud.usage();
    await client.query('INSERT INTO usage_test SELECT generate_series(1, 100)');
    await client.end(); // a backend that ends reports its row counters
    const p = await eventually(async () => {
      const u = usageDiff(before, await cloud.usage());
      return u.postgres.rowsInserted >= 100 ? u : undefined;
    }, 'PostgreSQL counters');
    // (the counters are the database's: its catalog's rows count too)
    expect(p.postgres.rowsInserted).toBeGreaterThanOrEqual(100);
    expect(p.postgres.walBytes).toBeGreaterThan(100 * 28);
  });

  it('is off in a local cloud started without metering: it counts nothing and says so', async () => {
    const plainDir = mkdtempSync(join(tmpdir(), 'framewise-unmetered-'));
    const plain = await startLocalCloud({ dir: plainDir, ...TEST_CLOUD_OPTIONS });
    try {
      expect((await fetch(`${plain.endpoints.api}/v1/openapi.json`)).status).toBe(200);
      await expect(plain.usage()).rejects.toThrow(/does not meter/);
    } finally {
      await plain.stop();
      rmSync(plainDir, { recursive: true, force: true });
    }
  });
});
