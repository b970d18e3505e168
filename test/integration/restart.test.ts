// The local cloud keeps its data across a stop and a start, and a stop leaves nothing listening.
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient, CreateQueueCommand } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ListExecutionsCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { MongoClient, ObjectId } from 'mongodb';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalCloud, type Endpoints } from '../../infra/local/cloud.ts';

const dir = mkdtempSync(join(tmpdir(), 'framewise-restart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const aws = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
const portOf = (url: string) => Number(new URL(url.replace(/^postgres:|^mongodb:/, 'http:')).port);
const isOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

describe('local cloud restart', () => {
  it('keeps objects, messages, items, rows, documents and executions, and closes every port on stop', async () => {
    const first = await startLocalCloud({ dir, schedules: false });
    const e: Endpoints = first.endpoints;
    const s3 = new S3Client({ ...aws, endpoint: e.s3, forcePathStyle: true });
    await s3.send(new PutObjectCommand({ Bucket: 'framewise-media', Key: 'keep/me.txt', Body: 'kept' }));
    const sqs = new SQSClient({ ...aws, endpoint: e.sqs });
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'restart-check' }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'still here' }));
    const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ ...aws, endpoint: e.dynamodb }));
    await ddb.send(new PutCommand({ TableName: 'framewise-jobs', Item: { jobId: 'restart-check', state: 'succeeded', updatedAt: 'x' } }));
    const db = new pg.Client({ connectionString: e.postgres });
    await db.connect();
    await db.query(`INSERT INTO sport (name) VALUES ('Curling')`);
    await db.end();
    const mongo = new MongoClient(e.mongodb);
    const id = new ObjectId('5f1d7a2b3c4d5e6f7a8b9c0d');
    await mongo.db('framewise').collection('restart').replaceOne({ _id: id }, { kept: true }, { upsert: true });
    await mongo.close();
    const sfn = new SFNClient({ ...aws, endpoint: e.stepfunctions });
    const sm = 'arn:aws:states:us-east-1:000000000000:stateMachine:framewise-video-ingest';
    await sfn.send(new StartExecutionCommand({ stateMachineArn: sm, name: 'restart-check', input: '{}' }));
    await first.waitForIdle();
    await first.stop();
    for (const url of Object.values(e)) expect(await isOpen(portOf(url)), url).toBe(false);

    const second = await startLocalCloud({ dir, schedules: false });
    try {
      const f = second.endpoints;
      const s3b = new S3Client({ ...aws, endpoint: f.s3, forcePathStyle: true });
      const obj = await s3b.send(new GetObjectCommand({ Bucket: 'framewise-media', Key: 'keep/me.txt' }));
      expect(await obj.Body!.transformToString()).toBe('kept');
      const sqsb = new SQSClient({ ...aws, endpoint: f.sqs });
      const got = await sqsb.send(new ReceiveMessageCommand({ QueueUrl: `${f.sqs}/000000000000/restart-check`, WaitTimeSeconds: 1 }));
      expect(got.Messages?.[0]?.Body).toBe('still here');
      const ddbb = DynamoDBDocumentClient.from(new DynamoDBClient({ ...aws, endpoint: f.dynamodb }));
      expect((await ddbb.send(new GetCommand({ TableName: 'framewise-jobs', Key: { jobId: 'restart-check' } }))).Item?.state).toBe('succeeded');
      const dbb = new pg.Client({ connectionString: f.postgres });
      await dbb.connect();
      expect((await dbb.query(`SELECT count(*)::int AS n FROM sport WHERE name = 'Curling'`)).rows[0].n).toBe(1);
      await dbb.end();
      const mongob = new MongoClient(f.mongodb);
      expect(await mongob.db('framewise').collection('restart').findOne({ _id: id })).toMatchObject({ kept: true });
      await mongob.close();
      const sfnb = new SFNClient({ ...aws, endpoint: f.stepfunctions });
      const runs = await sfnb.send(new ListExecutionsCommand({ stateMachineArn: sm }));
      expect(runs.executions?.map((x) => x.name)).toContain('restart-check');
    } finally {
      await second.stop();
    }
  });
});
