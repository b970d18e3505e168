// Locally as in AWS, a function may use only what its topology entry declares: requests signed with its own
// credentials are refused, in each service's own error shape, as soon as they leave its grants; and a local cloud
// whose topology lacks one `uses` entry fails the call that needs it.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, RestoreObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { functionCredentials } from '../../infra/local/access.ts';
import { localName, localStateMachineArn, startLocalCloud, ACCOUNT, REGION } from '../../infra/local/cloud.ts';
import { topology, type Topology } from '../../infra/topology.ts';
import { uploadFile, type UploadPlan } from '../../cli/upload.ts';
import { makeTestVideo } from '../../cli/sample-video.ts';
import { eventually, strictApiClient } from '../support/api.ts';
import { TEST_CLOUD_OPTIONS } from '../support/cloud-options.ts';

const endpoints = inject('endpoints');
const as = (fn: string) => ({ region: REGION, credentials: functionCredentials(fn) });
const s3As = (fn: string) => new S3Client({ ...as(fn), endpoint: endpoints.s3, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
const media = localName('media');

/** The error a call ends with, or 'allowed' when the service let it through (whatever it answered then). */
async function outcome(call: Promise<unknown>, allowedErrors: readonly string[] = []): Promise<string> {
  try {
    await call;
    return 'allowed';
  } catch (err) {
    const name = (err as Error).name;
    return allowedErrors.includes(name) ? 'allowed' : name;
  }
}

describe('the access gate, with the real SDK', () => {
  it('S3: objects only under the declared prefixes, for the declared access, and no delete', async () => {
    const probe = s3As('ingest-probe'); // media videos/ read
    const absent = ['NoSuchKey', 'NotFound'];
    expect(await outcome(probe.send(new GetObjectCommand({ Bucket: media, Key: 'videos/none.mp4' })), absent)).toBe('allowed');
    expect(await outcome(probe.send(new HeadObjectCommand({ Bucket: media, Key: 'videos/none.mp4' })), absent)).toBe('allowed');
    expect(await outcome(probe.send(new GetObjectCommand({ Bucket: media, Key: 'frames/none.jpg' })), absent)).toBe('AccessDenied');
    // HEAD has no body: as with S3, the SDK knows the refusal by its status only
    const head = await probe.send(new HeadObjectCommand({ Bucket: media, Key: 'localizations/none.json' })).catch((e: { $metadata: { httpStatusCode: number } }) => e);
    expect(head.$metadata.httpStatusCode).toBe(403);
    expect(await outcome(probe.send(new PutObjectCommand({ Bucket: media, Key: 'videos/new.mp4', Body: 'x' })))).toBe('AccessDenied');
    expect(await outcome(probe.send(new ListObjectsV2Command({ Bucket: media, Prefix: 'videos/' })))).toBe('allowed');
    expect(await outcome(probe.send(new ListObjectsV2Command({ Bucket: media, Prefix: 'frames/' })))).toBe('AccessDenied');
    expect(await outcome(probe.send(new ListObjectsV2Command({ Bucket: media })))).toBe('AccessDenied');

    const frames = s3As('ingest-frames'); // videos/ read, frames/ write
    expect(await outcome(frames.send(new PutObjectCommand({ Bucket: media, Key: 'frames/access-test/1.jpg', Body: 'x' })))).toBe('allowed');
    expect(await outcome(frames.send(new GetObjectCommand({ Bucket: media, Key: 'frames/access-test/1.jpg' })))).toBe('AccessDenied');
    expect(await outcome(frames.send(new DeleteObjectCommand({ Bucket: media, Key: 'frames/access-test/1.jpg' })))).toBe('AccessDenied');
  });

  it('S3: RestoreObject only where declared (ingest-api on videos/), not with read access alone', async () => {
    const restore = (Key: string) => new RestoreObjectCommand({ Bucket: media, Key, RestoreRequest: { Days: 1, GlacierJobParameters: { Tier: 'Bulk' } } });
    const api = s3As('ingest-api'); // videos/ read and restore
    expect(await outcome(api.send(restore('videos/none.mp4')), ['NoSuchKey'])).toBe('allowed');
    expect(await outcome(api.send(restore('frames/none.zip')))).toBe('AccessDenied');
    expect(await outcome(s3As('ingest-probe').send(restore('videos/none.mp4')))).toBe('AccessDenied');
  });

  it("S3: a presigned URL carries its signer's rights", async () => {
    const catalog = s3As('catalog-api'); // videos/ and localizations/ read and write
    const put = async (key: string) => {
      const url = await getSignedUrl(catalog, new PutObjectCommand({ Bucket: media, Key: key }), { expiresIn: 60 });
      const res = await fetch(url, { method: 'PUT', body: 'bytes' });
      return { status: res.status, body: await res.text() };
    };
    expect((await put('localizations/access-test.json')).status).toBe(200);
    const refused = await put('frames/access-test.jpg');
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('<Code>AccessDenied</Code>');
    expect(refused.body).toContain('catalog-api is not authorized to perform: s3:PutObject');
  });

  it('DynamoDB: only the declared tables', async () => {
    const outcomeOf = new DynamoDBClient({ ...as('jobs-outcome'), endpoint: endpoints.dynamodb });
    expect(await outcome(outcomeOf.send(new GetItemCommand({ TableName: localName('jobs'), Key: { jobId: { S: 'none' } } })))).toBe('allowed');
    expect(await outcome(outcomeOf.send(new GetItemCommand({ TableName: localName('cache'), Key: { key: { S: 'none' } } })))).toBe('AccessDeniedException');
  });

  it('SQS: sends only to the declared queues', async () => {
    const detgroups = new SQSClient({ ...as('detgroups-api'), endpoint: endpoints.sqs });
    const url = (q: string) => `${endpoints.sqs}/${ACCOUNT}/${localName(q)}`;
    const refused = await detgroups.send(new SendMessageCommand({ QueueUrl: url('video-ingest'), MessageBody: '{}' })).catch((e: Error) => e);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).name).toMatch(/AccessDenied/);
    expect((refused as Error).message).toContain('detgroups-api is not authorized to perform: sqs:SendMessage');
  });

  it('Step Functions: only the declared state machines and their executions', async () => {
    const upload = new SFNClient({ ...as('ingest-upload'), endpoint: endpoints.stepfunctions }); // video-ingest only
    const execution = (sm: string) => `arn:aws:states:${REGION}:${ACCOUNT}:execution:${localName(sm)}:none`;
    expect(await outcome(upload.send(new DescribeExecutionCommand({ executionArn: execution('video-ingest') })), ['ExecutionDoesNotExist'])).toBe('allowed');
    expect(await outcome(upload.send(new DescribeExecutionCommand({ executionArn: execution('det-group') })), ['ExecutionDoesNotExist'])).toBe('AccessDeniedException');
    expect(await outcome(upload.send(new ListExecutionsCommand({ stateMachineArn: localStateMachineArn('det-group') })))).toBe('AccessDeniedException');
    expect(await outcome(upload.send(new StartExecutionCommand({ stateMachineArn: localStateMachineArn('det-group'), input: '{}' })))).toBe('AccessDeniedException');
  });
});

describe('a use taken away from the topology', () => {
  const dir = mkdtempSync(join(tmpdir(), 'framewise-access-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fails the ingest of a video when ingest-probe may not read it', async () => {
    const withoutProbeBucket: Topology = {
      ...topology,
      functions: topology.functions.map((f) => (f.name === 'ingest-probe' ? { ...f, uses: { ...f.uses, buckets: [] } } : f)),
    };
    const logged: Record<string, unknown>[] = [];
    const cloud = await startLocalCloud({ dir, ...TEST_CLOUD_OPTIONS, topology: withoutProbeBucket, log: (line) => logged.push(line as Record<string, unknown>) });
    try {
      const api = strictApiClient(cloud.endpoints.api, cloud.credentials.adminApiKey);
      const sport = await api('POST', '/v1/sports', { name: 'Access sport' });
      const league = await api('POST', '/v1/leagues', { sportId: sport.id, name: 'Access league' });
      const season = await api('POST', '/v1/seasons', { leagueId: league.id, name: 'Access season' });
      const game = await api('POST', '/v1/games', { seasonId: season.id, title: 'Access game', startsAt: '2026-11-21T15:00:00Z' });
      const video = await api('POST', '/v1/videos', { gameId: game.id, title: 'unreadable' });
      const file = join(dir, 'game.mp4');
      await makeTestVideo(file, { seconds: 1, width: 160, height: 120, fps: 10 });
      const none = join(dir, 'loc.json');
      writeFileSync(none, JSON.stringify({ video: { width: 160, height: 120 }, frames: [] }));
      await uploadFile(await api<UploadPlan>('POST', `/v1/videos/${video.id}/localizations/upload`, { sizeBytes: statSync(none).size }), none);
      const plan = await api<UploadPlan>('POST', `/v1/videos/${video.id}/upload`, { filename: 'game.mp4', contentType: 'video/mp4', sizeBytes: statSync(file).size });
      await uploadFile(plan, file);

      const job = await eventually(async () => {
        const { jobs } = await api('GET', `/v1/jobs?limit=10`);
        const j = jobs.find((x: { videoId: string }) => x.videoId === video.id);
        return j?.state === 'failed' || j?.state === 'succeeded' ? j : undefined;
      }, 'the ingest job to end');
      expect(job.state).toBe('failed');
      expect(job.steps.probe.state).toBe('failed');
      const refused = logged.filter((l) => String(l.message).startsWith('access denied'));
      expect(refused.length).toBeGreaterThan(0);
      for (const r of refused) expect(r).toMatchObject({ fn: 'ingest-probe', resource: expect.stringMatching(new RegExp(`^arn:aws:s3:::${media}/videos/`)) });
      expect(logged.filter((l) => l.kind === 'invocation' && l.fn === 'ingest-probe').every((l) => l.error !== undefined)).toBe(true);
    } finally {
      await cloud.stop();
    }
  });
});
