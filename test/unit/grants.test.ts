// A function's environment and grants follow from its topology entry alone: nothing it does not declare.
import { describe, expect, it } from 'vitest';
import { functionEnvironment } from '../../infra/environment.ts';
import { allows, grantsOf, type ResourceArns } from '../../infra/grants.ts';
import { bucketEnv, cdnEnv, findFunction, folderEnv, queueEnv, secretEnv, stateMachineEnv, tableEnv, topology } from '../../infra/topology.ts';

const arns: ResourceArns = {
  bucketArn: (b) => `arn:aws:s3:::${b}`,
  tableArn: (t) => `arn:aws:dynamodb:r:a:table/${t}`,
  queueArn: (q) => `arn:aws:sqs:r:a:${q}`,
  stateMachineArn: (s) => `arn:aws:states:r:a:stateMachine:${s}`,
  executionsArn: (s) => `arn:aws:states:r:a:execution:${s}:*`,
  secretArn: (s) => `arn:aws:secretsmanager:r:a:secret:${s}`,
};
const grantsFor = (fn: string) => grantsOf(findFunction(fn), arns);
const object = (key: string) => `arn:aws:s3:::media/${key}`;

describe('grants', () => {
  it('allow objects only under the declared prefixes, for the declared access', () => {
    const frames = grantsFor('ingest-frames'); // videos/ read, frames/ write
    expect(allows(frames, { action: 's3:GetObject', resource: object('videos/v1.mp4') })).toBe(true);
    expect(allows(frames, { action: 's3:PutObject', resource: object('videos/v1.mp4') })).toBe(false);
    expect(allows(frames, { action: 's3:PutObject', resource: object('frames/v1/1.jpg') })).toBe(true);
    expect(allows(frames, { action: 's3:GetObject', resource: object('frames/v1/1.jpg') })).toBe(false);
    expect(allows(frames, { action: 's3:GetObject', resource: object('videosx/v1.mp4') })).toBe(false);
    expect(allows(frames, { action: 's3:GetObject', resource: 'arn:aws:s3:::other/videos/v1.mp4' })).toBe(false);
  });

  it('allow listing a bucket only with a prefix inside a read prefix', () => {
    const api = grantsFor('materialize-api'); // materialize/ read
    const list = (prefix?: string) => allows(api, { action: 's3:ListBucket', resource: 'arn:aws:s3:::media', context: prefix === undefined ? {} : { 's3:prefix': prefix } });
    expect(list('materialize/ds/upload-1/')).toBe(true);
    expect(list('materialize/')).toBe(true);
    expect(list('materialize')).toBe(false);
    expect(list('videos/')).toBe(false);
    expect(list('')).toBe(false);
    expect(list()).toBe(false);
  });

  it("grant DeleteObject only to ingest-failed, only under frames/ (a failed run's frame packs), with listing and no reading", () => {
    for (const def of topology.functions) {
      const statements = grantsOf(def, arns);
      expect(allows(statements, { action: 's3:DeleteObject', resource: object('videos/v.mp4') }), def.name).toBe(false);
      const deletes = statements.flatMap((s) => s.actions).filter((a) => a.includes('Delete') && a.startsWith('s3:'));
      expect(deletes, def.name).toEqual(def.name === 'ingest-failed' ? ['s3:DeleteObject'] : []);
    }
    const failed = grantsFor('ingest-failed');
    expect(allows(failed, { action: 's3:DeleteObject', resource: object('frames/v1/ingest-v1-1/000000.zip') })).toBe(true);
    expect(allows(failed, { action: 's3:ListBucket', resource: 'arn:aws:s3:::media', context: { 's3:prefix': 'frames/v1/ingest-v1-1/' } })).toBe(true);
    expect(allows(failed, { action: 's3:ListBucket', resource: 'arn:aws:s3:::media', context: { 's3:prefix': 'videos/' } })).toBe(false);
    expect(allows(failed, { action: 's3:GetObject', resource: object('frames/v1/ingest-v1-1/000000.zip') })).toBe(false);
    expect(allows(failed, { action: 's3:PutObject', resource: object('frames/v1/ingest-v1-1/000000.zip') })).toBe(false);
  });

  it('allow tables, their indexes, queues and state machines only when declared', () => {
    const outcome = grantsFor('jobs-outcome');
    expect(allows(outcome, { action: 'dynamodb:UpdateItem', resource: arns.tableArn('jobs') })).toBe(true);
    expect(allows(outcome, { action: 'dynamodb:Query', resource: `${arns.tableArn('jobs')}/index/byState` })).toBe(true);
    expect(allows(outcome, { action: 'dynamodb:GetItem', resource: arns.tableArn('cache') })).toBe(false);
    expect(allows(outcome, { action: 'sqs:SendMessage', resource: arns.queueArn('det-group') })).toBe(false);
    expect(allows(grantsFor('detgroups-api'), { action: 'sqs:SendMessage', resource: arns.queueArn('det-group') })).toBe(true);
    expect(allows(grantsFor('detgroups-api'), { action: 'sqs:SendMessage', resource: arns.queueArn('video-ingest') })).toBe(false);
    const upload = grantsFor('ingest-upload');
    expect(allows(upload, { action: 'states:StartExecution', resource: arns.stateMachineArn('video-ingest') })).toBe(true);
    expect(allows(upload, { action: 'states:DescribeExecution', resource: 'arn:aws:states:r:a:execution:video-ingest:job-1' })).toBe(true);
    expect(allows(upload, { action: 'states:StartExecution', resource: arns.stateMachineArn('det-group') })).toBe(false);
    expect(allows(upload, { action: 'states:DescribeExecution', resource: 'arn:aws:states:r:a:execution:det-group:job-1' })).toBe(false);
  });
});

describe('function environment', () => {
  const resources = { bucketName: (b: string) => `b-${b}`, tableName: (t: string) => `t-${t}`, queueUrl: (q: string) => `q-${q}`, stateMachineArn: (s: string) => `s-${s}`, secretId: (s: string) => `x-${s}` };
  const platform = { all: { ALL: '1' }, bundleRoot: '/code', postgres: { DATABASE_URL: 'pg' }, mongodb: { MONGODB_URI: 'mongo' }, layers: { ffmpeg: { FFMPEG_PATH: 'ffmpeg' } } };

  it('holds exactly the variables of what the function declares', () => {
    for (const def of topology.functions) {
      const env = functionEnvironment(def, topology, resources, platform);
      const expected = new Set(['ALL', 'POWERTOOLS_SERVICE_NAME']);
      for (const b of def.uses.buckets ?? []) expected.add(bucketEnv(b.name));
      if ((def.uses.buckets ?? []).length > 0) for (const k of ['PRESIGNED_URL_SECONDS', 'MULTIPART_THRESHOLD_BYTES', 'MULTIPART_PART_BYTES', 'MAX_UPLOAD_BYTES', 'CHECK_IN_API_MAX_BYTES']) expected.add(k);
      for (const t of def.uses.tables ?? []) expected.add(tableEnv(t.name));
      for (const q of def.uses.queues ?? []) expected.add(queueEnv(q));
      for (const s of def.uses.stateMachines ?? []) expected.add(stateMachineEnv(s));
      if (def.uses.postgres) expected.add('DATABASE_URL');
      if (def.uses.mongodb) for (const k of ['MONGODB_URI', 'MONGODB_DATABASE']) expected.add(k);
      if (def.layers.includes('ffmpeg')) expected.add('FFMPEG_PATH');
      for (const x of def.uses.secrets ?? []) expected.add(secretEnv(x));
      for (const f of def.bundledFolders ?? []) expected.add(folderEnv(f));
      expect(new Set(Object.keys(env)), def.name).toEqual(expected);
    }
  });

  it("holds a CDN's location only for the functions that sign its URLs, and only where there is a CDN", () => {
    const cdn = (c: string) => ({ domainName: `d-${c}.cloudfront.net`, keyPairId: `K-${c}`, keySecretId: `key-${c}` });
    const slides = topology.cdns.find((c) => c.name === 'slides')!;
    for (const def of topology.functions) {
      const env = functionEnvironment(def, topology, { ...resources, cdn }, platform);
      const names = cdnEnv('slides');
      if (def.uses.cdns?.includes('slides')) {
        expect(env, def.name).toMatchObject({
          [names.domain]: 'd-slides.cloudfront.net', [names.keyPairId]: 'K-slides', [names.keySecretId]: 'key-slides', [names.signedUrlSeconds]: String(slides.signedUrlSeconds),
        });
      } else expect(Object.keys(env).filter((k) => k.startsWith('CDN_')), def.name).toEqual([]);
    }
    const api = findFunction('slides-api');
    expect(Object.keys(functionEnvironment(api, topology, resources, platform)).filter((k) => k.startsWith('CDN_')), 'no CDN, no variables').toEqual([]);
    expect(() => functionEnvironment({ ...api, uses: { cdns: ['videos'] } }, topology, { ...resources, cdn }, platform)).toThrow(/unknown CDN videos/);
  });
});
