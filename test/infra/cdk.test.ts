// Synthesizes one stage of Framewise (the foundation stack and a stack per context) once and checks every resource
// the topology declares, by iterating the templates (not one example) and comparing counts with the topology.
// Most checks read the stage as one template: every stack's resources together, with each cross-stack reference
// (Fn::GetStackOutput) replaced by the value the producing stack outputs.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AccountRootPrincipal, PolicyStatement, Role } from 'aws-cdk-lib/aws-iam';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_5XX_ALARM, DATABASE_ALARM } from '../../infra/cdk/alarms.ts';
import { stageSiteFiles } from '../../infra/cdk/console.ts';
import { POSTGRES_CAPACITY } from '../../infra/cdk/database.ts';
import { FramewiseChecks, intendWildcards } from '../../infra/cdk/nag.ts';
import { framewiseStage, type FramewiseStage } from '../../infra/cdk/stack.ts';
import {
  logRetention,
  physicalName,
  PROJECT_ROOT,
  rateSeconds,
  stateMachineName,
  TOPOLOGY_TAG,
  topologyTagValue,
  type Deployment,
  type TopologyKind,
} from '../../infra/cdk/names.ts';
import { inVpc } from '../../infra/cdk/functions.ts';
import { S3_DELETE_OBJECT, S3_READ_OBJECT, S3_RESTORE_OBJECT, S3_WRITE_OBJECT } from '../../infra/grants.ts';
import { aslPlaceholders, checkSubstitutions } from '../../infra/cdk/workflows.ts';
import { SECRET_NOT_SET } from '../../functions/lib/aws.ts';
import {
  BROWSER_BUCKET_CORS,
  bucketEnv,
  cdnEnv,
  CONTEXTS,
  contextOf,
  dlqName,
  folderEnv,
  functionArnPlaceholder,
  httpRoutes,
  queueEnv,
  secretEnv,
  secretName,
  stateMachineEnv,
  tableEnv,
  topology,
  type FunctionDef,
  type Topology,
} from '../../infra/topology.ts';

/* eslint-disable @typescript-eslint/no-explicit-any -- CloudFormation JSON is untyped */
type Resource = { Type: string; Properties?: any; DeletionPolicy?: string; UpdateReplacePolicy?: string };
type Resources = Record<string, Resource>;

/** The context of cdk.json (feature flags), so that the test synthesizes what `cdk synth` does. */
const cdkContext = (): Record<string, unknown> => JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')).context;

type StageTemplate = { Resources: Resources; Outputs: Record<string, any> };

/** Every stack's template by stack name, synthesized once for the whole app. */
function synthesize(app: App, stage: FramewiseStage): Map<string, StageTemplate> {
  const assembly = app.synth();
  return new Map([stage.foundation, ...stage.contexts.values(), stage.console].map((s) => [s.stackName, assembly.getStackByName(s.stackName).template as StageTemplate]));
}

/**
 * The stage as one template: the resources of every stack, each logical id prefixed by its stack's name
 * (`framewise-test-ingest/IngestProbe...`), Refs and GetAtts rewritten to match, and every cross-stack reference
 * (Fn::GetStackOutput) replaced by the value the producing stack outputs.
 */
function asOneTemplate(templates: Map<string, StageTemplate>): StageTemplate {
  const resolve = (value: any, stack: string): any => {
    if (Array.isArray(value)) return value.map((v) => resolve(v, stack));
    if (!value || typeof value !== 'object') return value;
    const own = templates.get(stack)!.Resources;
    if (typeof value.Ref === 'string' && own[value.Ref]) return { Ref: `${stack}/${value.Ref}` };
    const att = value['Fn::GetAtt'];
    if (Array.isArray(att) && own[att[0]]) return { 'Fn::GetAtt': [`${stack}/${att[0]}`, ...att.slice(1)] };
    const output = value['Fn::GetStackOutput'];
    if (output) {
      const produced = templates.get(output.StackName)?.Outputs?.[output.OutputName];
      if (!produced) throw new Error(`no output ${output.OutputName} in stack ${output.StackName}`);
      return resolve(produced.Value, output.StackName);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, stack)]));
  };
  const one: StageTemplate = { Resources: {}, Outputs: {} };
  for (const [name, t] of templates) {
    for (const [id, r] of Object.entries(t.Resources)) one.Resources[`${name}/${id}`] = resolve(r, name);
    for (const [id, o] of Object.entries(t.Outputs ?? {})) if (!id.startsWith('PublishOutput')) one.Outputs[id] = resolve(o, name);
  }
  return one;
}

const deployment: Deployment = { topology, stage: 'test' };
let outdir: string;
let app: App;
let stage: FramewiseStage;
let templates: Map<string, StageTemplate>;
let json: StageTemplate;

/** `npx cdk synth -c stage=ci` into its own folder: the exit code and what it printed. */
function cliSynth(out: string): Promise<{ exitCode: number; output: string }> {
  const cdk = path.join(PROJECT_ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk');
  return new Promise((resolve) => {
    execFile(process.execPath, [cdk, 'synth', '-c', 'stage=ci', '--quiet', '-o', out], { cwd: PROJECT_ROOT, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => resolve({ exitCode: err ? Number((err as { code?: unknown }).code ?? 1) || 1 : 0, output: `${stdout}${stderr}` }));
  });
}
let cliOut: string;
let cliRun: Promise<{ exitCode: number; output: string }>;

beforeAll(() => {
  // The CLI synth bundles every function in a process of its own: started first, it runs while this one synthesizes.
  cliOut = mkdtempSync(path.join(tmpdir(), 'framewise-cdk-cli-'));
  cliRun = cliSynth(cliOut);
  outdir = mkdtempSync(path.join(tmpdir(), 'framewise-cdk-test-'));
  app = new App({
    outdir,
    context: {
      ...cdkContext(),
      // Without esbuild here: bundling runs synchronously and would hold this worker for a minute. The real
      // `npx cdk synth` below bundles every function, in a process of its own.
      'aws:cdk:bundling-stacks': [],
      // reference assets in place instead of copying them (the ffmpeg layer is ~150 MB)
      'aws:cdk:disable-asset-staging': true,
      // each function names its bundle's folder (aws:asset:path), to look inside
      'aws:cdk:enable-asset-metadata': true,
    },
  });
  stage = framewiseStage(app, { stage: deployment.stage });
  templates = synthesize(app, stage);
  json = asOneTemplate(templates);
}, 180_000);

afterAll(async () => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
  await cliRun;
  if (cliOut) rmSync(cliOut, { recursive: true, force: true });
}, 660_000);

// ---- helpers ----

const ofType = (type: string): [string, Resource][] => Object.entries(json.Resources).filter(([, r]) => r.Type === type);
const tagValue = (r: Resource): string | undefined => (r.Properties?.Tags ?? []).find((t: any) => t.Key === TOPOLOGY_TAG)?.Value;
/** Logical id of the one resource of `type` tagged as topology `kind` `name`. */
function logicalId(type: string, kind: TopologyKind, name: string): string {
  const found = ofType(type).filter(([, r]) => tagValue(r) === topologyTagValue(kind, name));
  expect(found, `${type} tagged ${kind}:${name}`).toHaveLength(1);
  return found[0]![0];
}
const tagged = (type: string, kind: TopologyKind): [string, Resource][] =>
  ofType(type).filter(([, r]) => tagValue(r)?.startsWith(`${kind}:`));
const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const getAtt = (id: string, attr: string) => ({ 'Fn::GetAtt': [id, attr] });
const ref = (id: string) => ({ Ref: id });
/** Every logical id a JSON value references through Ref or Fn::GetAtt. */
function references(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => references(v, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'Ref' && typeof v === 'string') out.add(v);
      else if (k === 'Fn::GetAtt' && Array.isArray(v)) out.add(v[0]);
      else references(v, out);
    }
  }
  return out;
}
const fnId = (name: string) => logicalId('AWS::Lambda::Function', 'function', name);
const queueTriggers = (f: FunctionDef) => f.triggers.flatMap((t) => (t.kind === 'queue' ? [t] : []));
const scheduleTriggers = (f: FunctionDef) => f.triggers.flatMap((t) => (t.kind === 'schedule' ? [t] : []));

/** Every IAM policy document in the template: policies, managed policies and inline role policies. */
function policyDocuments(): { where: string; doc: any }[] {
  return [
    ...ofType('AWS::IAM::Policy').map(([id, r]) => ({ where: id, doc: r.Properties.PolicyDocument })),
    ...ofType('AWS::IAM::ManagedPolicy').map(([id, r]) => ({ where: id, doc: r.Properties.PolicyDocument })),
    ...ofType('AWS::IAM::Role').flatMap(([id, r]) =>
      asArray<any>(r.Properties.Policies).map((p) => ({ where: `${id}/${p.PolicyName}`, doc: p.PolicyDocument })),
    ),
  ];
}
const allowStatements = () =>
  policyDocuments().flatMap(({ where, doc }) => asArray<any>(doc.Statement).filter((s) => s.Effect === 'Allow').map((s) => ({ where, s })));

// ---- stacks and stages ----

/** The most resources a stack may hold: half of CloudFormation's 500, so that every stack can still grow. */
const STACK_RESOURCE_BUDGET = 250;

describe('stacks', () => {
  it('a foundation stack and one stack per context, each well under the resource limit', () => {
    const counts = [...templates].map(([name, t]) => ({ name, resources: Object.keys(t.Resources).length }));
    console.log(counts.map((c) => `${c.name}: ${c.resources} resources`).join('\n'));
    const owning = CONTEXTS.filter((c) => topology.functions.some((f) => contextOf(f) === c) || topology.stateMachines.some((m) => m.context === c));
    expect([...templates.keys()]).toEqual([physicalName(deployment, 'foundation'), ...owning.map((c) => physicalName(deployment, c)), physicalName(deployment, 'console')]);
    for (const c of counts) expect(c.resources, c.name).toBeLessThan(STACK_RESOURCE_BUDGET);
  });

  it("each function, route, state machine and schedule is in its context's stack; the foundation holds none", () => {
    const stackOf = (type: string, kind: TopologyKind, name: string) => logicalId(type, kind, name).split('/')[0];
    for (const def of topology.functions) expect(stackOf('AWS::Lambda::Function', 'function', def.name), def.name).toBe(physicalName(deployment, contextOf(def)));
    for (const def of topology.stateMachines) {
      expect(stackOf('AWS::StepFunctions::StateMachine', 'state-machine', def.name), def.name).toBe(physicalName(deployment, def.context));
    }
    const foundation = templates.get(physicalName(deployment, 'foundation'))!.Resources;
    const held = (type: string) => Object.values(foundation).filter((r) => r.Type === type);
    for (const type of ['AWS::ApiGatewayV2::Route', 'AWS::StepFunctions::StateMachine', 'AWS::Events::Rule']) expect(held(type), type).toEqual([]);
    expect(held('AWS::Lambda::Function').filter((f) => tagValue(f)?.startsWith('function:')), 'topology functions').toEqual([]);
  });

  it('a context stack depends on the foundation and on contexts below it only', () => {
    const order = ['foundation', ...CONTEXTS].map((c) => physicalName(deployment, c));
    for (const stack of stage.contexts.values()) {
      for (const dependency of stack.dependencies) {
        expect(order.indexOf(dependency.stackName), `${stack.stackName} -> ${dependency.stackName}`).toBeLessThan(order.indexOf(stack.stackName));
      }
    }
  });

  it('every physical name carries the stage, so that two stages deploy side by side', () => {
    const named = Object.entries(json.Resources).flatMap(([id, r]) =>
      ['QueueName', 'StateMachineName', 'TopicName', 'Name', 'DBClusterIdentifier', 'LogGroupName']
        .map((k) => r.Properties?.[k])
        .filter((v): v is string => typeof v === 'string')
        .map((name) => ({ id, name })));
    expect(named.length).toBeGreaterThan(topology.queues.length * 2 + topology.stateMachines.length);
    for (const { id, name } of named) expect(name, id).toMatch(/framewise[-/]test[-/]/);
    const app = new App({ context: { ...cdkContext(), 'aws:cdk:bundling-stacks': [], 'aws:cdk:disable-asset-staging': true } });
    const prod = framewiseStage(app, { stage: 'prod' });
    expect([prod.foundation, ...prod.contexts.values()].map((s) => s.stackName).every((n) => n.startsWith('framewise-prod-'))).toBe(true);
    expect(() => framewiseStage(new App(), { stage: 'Prod_1' })).toThrow(/stage/);
  });
});

describe('cdk-nag', () => {
  /** Every unacknowledged AwsSolutions finding (errors and warnings) under a construct, one line each. */
  const findings = (scope: App | Stack): string[] =>
    new FramewiseChecks().validateScope(scope).violations.flatMap((v) =>
      v.violatingResources.map((r) => `${v.severity} ${v.ruleName} ${r.constructPath}: ${v.description}`));

  it('AwsSolutions checks find nothing unacknowledged in any stack of the stage', () => {
    expect(findings(app)).toEqual([]);
  });

  it('every acknowledgement gives a written reason', () => {
    const acknowledgements = app.node.findAll().flatMap((c) =>
      c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).flatMap((m) => Object.entries(m.data as Record<string, string>)));
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const [id, reason] of acknowledgements) expect(reason.length, id).toBeGreaterThan(40);
  });

  it('an unacknowledged finding is reported, and a wildcard is acknowledged only where intended', () => {
    const scratch = new Stack(new App(), 'Scratch');
    const bucket = new Bucket(scratch, 'Unlogged', { enforceSSL: true });
    expect(findings(scratch).some((f) => f.startsWith('error AwsSolutions-S1 Scratch/Unlogged/Resource'))).toBe(true);
    Validations.of(bucket).acknowledge({ id: 'AwsSolutions-S1', reason: 'a scratch bucket' });
    expect(findings(scratch).filter((f) => f.includes('AwsSolutions-S1'))).toEqual([]);

    const role = new Role(scratch, 'Reader', { assumedBy: new AccountRootPrincipal() });
    role.addToPolicy(new PolicyStatement({ actions: ['s3:GetObject'], resources: [bucket.arnForObjects('videos/*'), bucket.arnForObjects('frames/*')] }));
    intendWildcards(role, { resource: /\/videos\/\*$/, actions: /^s3:GetObject$/, reason: 'reads videos' });
    const wildcards = findings(scratch).filter((f) => f.includes('AwsSolutions-IAM5'));
    expect(wildcards).toHaveLength(1);
    expect(wildcards[0]).toMatch(/IAM5\[Resource::<Unlogged[0-9A-F]+\.Arn>\/frames\/\*\]/);
  });
});

// ---- the CLI: what a user runs ----

describe('npx cdk synth -c stage=ci (offline, every function bundled, cdk-nag)', () => {
  let run: { exitCode: number; output: string };
  const cliTemplates = () =>
    readdirSync(cliOut).filter((f) => f.endsWith('.template.json')).map((f) => JSON.parse(readFileSync(path.join(cliOut, f), 'utf8')) as StageTemplate);

  beforeAll(async () => {
    run = await cliRun;
  }, 660_000);

  it('exits 0 and writes every stack of the stage', () => {
    expect(run.exitCode, run.output.slice(-2000)).toBe(0);
    const names = readdirSync(cliOut).filter((f) => f.endsWith('.template.json')).map((f) => f.replace('.template.json', ''));
    expect(names.sort()).toEqual([...templates.keys()].map((n) => n.replace('-test-', '-ci-')).sort());
  });

  it('bundles each function with esbuild as an ESM index.mjs with the createRequire banner', () => {
    const functions = cliTemplates().flatMap((t) => Object.values(t.Resources)).filter((r) => r.Type === 'AWS::Lambda::Function' && tagValue(r)?.startsWith('function:'));
    expect(functions).toHaveLength(topology.functions.length);
    for (const fn of functions) {
      expect(fn.Properties.Handler, tagValue(fn)).toBe('index.handler');
      const bundle = path.join(cliOut, `asset.${String(fn.Properties.Code.S3Key).replace(/\.zip$/, '')}`, 'index.mjs');
      expect(existsSync(bundle), tagValue(fn)).toBe(true);
      expect(readFileSync(bundle, 'utf8').startsWith('import { createRequire as __fwCreateRequire }'), tagValue(fn)).toBe(true);
      // each bundled folder is copied whole beside the code
      const def = topology.functions.find((f) => `function:${f.name}` === tagValue(fn))!;
      for (const folder of def.bundledFolders ?? []) {
        const shipped = path.join(path.dirname(bundle), folder);
        expect(readdirSync(shipped).sort(), `${def.name}: ${folder}`).toEqual(readdirSync(path.join(PROJECT_ROOT, folder)).sort());
      }
    }
  });
});

// ---- S3 ----

describe('buckets', () => {
  it('one per topology bucket, every bucket private, encrypted, TLS-only', () => {
    expect(tagged('AWS::S3::Bucket', 'bucket')).toHaveLength(topology.buckets.length);
    const buckets = ofType('AWS::S3::Bucket');
    expect(buckets.length).toBeGreaterThanOrEqual(topology.buckets.length);
    const policies = ofType('AWS::S3::BucketPolicy');
    for (const [id, b] of buckets) {
      expect(b.Properties.PublicAccessBlockConfiguration, id).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      const sse = b.Properties.BucketEncryption?.ServerSideEncryptionConfiguration;
      expect(sse?.length, id).toBeGreaterThan(0);
      expect(['AES256', 'aws:kms']).toContain(sse[0].ServerSideEncryptionByDefault.SSEAlgorithm);
      const policy = policies.find(([, p]) => references(p.Properties.Bucket).has(id));
      expect(policy, `bucket policy of ${id}`).toBeDefined();
      expect(JSON.stringify(policy![1].Properties.PolicyDocument)).toContain('aws:SecureTransport');
      expect(b.Properties.LifecycleConfiguration.Rules).toContainEqual(
        expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 }, Status: 'Enabled' }),
      );
    }
  });

  it("every bucket's archivals and expirations are its lifecycle rules, by prefix", () => {
    for (const def of topology.buckets) {
      const rules = json.Resources[logicalId('AWS::S3::Bucket', 'bucket', def.name)]!.Properties.LifecycleConfiguration.Rules;
      for (const a of def.archivals ?? []) {
        expect(rules, def.name).toContainEqual(
          expect.objectContaining({ Prefix: a.prefix, Status: 'Enabled', Transitions: [{ StorageClass: a.storageClass, TransitionInDays: a.days }] }),
        );
      }
      for (const e of def.expirations ?? []) {
        expect(rules, def.name).toContainEqual(expect.objectContaining({ Prefix: e.prefix, Status: 'Enabled', ExpirationInDays: e.days }));
      }
    }
    // a source video is read again only by a re-run, which restores it first
    expect(topology.buckets.find((b) => b.name === 'media')?.archivals).toContainEqual(expect.objectContaining({ prefix: 'videos/', storageClass: 'DEEP_ARCHIVE' }));
  });

  it('CORS for PUT and GET (presigned uploads, and objects a page follows from a redirect) exactly on buckets with browser uploads', () => {
    for (const def of topology.buckets) {
      const b = json.Resources[logicalId('AWS::S3::Bucket', 'bucket', def.name)]!;
      const rules = b.Properties.CorsConfiguration?.CorsRules ?? [];
      if (def.browserUploads) {
        expect(rules, def.name).toEqual([{
          AllowedMethods: [...BROWSER_BUCKET_CORS.allowedMethods], AllowedOrigins: ['*'], AllowedHeaders: ['*'], ExposedHeaders: ['ETag'],
          MaxAge: BROWSER_BUCKET_CORS.maxAgeSeconds,
        }]);
      } else expect(rules, def.name).toEqual([]);
    }
  });

  it("a notification into its queue per topology notification and event: objects created, restores completed", () => {
    const notifications = ofType('Custom::S3BucketNotifications');
    for (const def of topology.buckets) {
      const bucketId = logicalId('AWS::S3::Bucket', 'bucket', def.name);
      const configs = notifications
        .filter(([, n]) => references(n.Properties.BucketName).has(bucketId))
        .flatMap(([, n]) => asArray<any>(n.Properties.NotificationConfiguration?.QueueConfigurations));
      expect(configs, def.name).toHaveLength(def.notifications.reduce((sum, n) => sum + n.events.length, 0));
      for (const n of def.notifications) {
        for (const e of n.events) {
          expect(configs).toContainEqual({
            Events: [e === 'created' ? 's3:ObjectCreated:*' : 's3:ObjectRestore:Completed'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: n.prefix }] } },
            QueueArn: getAtt(logicalId('AWS::SQS::Queue', 'queue', n.queue), 'Arn'),
          });
        }
      }
    }
    expect(topology.buckets.find((b) => b.name === 'media')?.notifications).toContainEqual({ prefix: 'videos/', queue: 'video-ingest', events: ['created', 'restored'] });
  });
});

// ---- SQS ----

describe('queues', () => {
  it('every topology queue has its DLQ, maxReceiveCount from the topology, encryption, TLS-only', () => {
    expect(tagged('AWS::SQS::Queue', 'queue')).toHaveLength(topology.queues.length);
    expect(tagged('AWS::SQS::Queue', 'dlq')).toHaveLength(topology.queues.length);
    for (const def of topology.queues) {
      expect(def.maxReceiveCount).toBe(3);
      const q = json.Resources[logicalId('AWS::SQS::Queue', 'queue', def.name)]!;
      const dlqId = logicalId('AWS::SQS::Queue', 'dlq', def.name);
      const dlq = json.Resources[dlqId]!;
      expect(q.Properties.RedrivePolicy).toEqual({ deadLetterTargetArn: getAtt(dlqId, 'Arn'), maxReceiveCount: def.maxReceiveCount });
      expect(q.Properties.VisibilityTimeout).toBe(def.visibilityTimeoutSeconds);
      expect(dlq.Properties.QueueName).toMatch(new RegExp(`${dlqName(def.name)}$`));
      expect(dlq.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    }
  });

  it('every queue in the template is encrypted and denies non-TLS access', () => {
    const policies = ofType('AWS::SQS::QueuePolicy');
    for (const [id, q] of ofType('AWS::SQS::Queue')) {
      expect(q.Properties.SqsManagedSseEnabled === true || q.Properties.KmsMasterKeyId !== undefined, id).toBe(true);
      const policy = policies.find(([, p]) => references(p.Properties.Queues).has(id));
      expect(policy, `queue policy of ${id}`).toBeDefined();
      expect(JSON.stringify(policy![1].Properties.PolicyDocument)).toContain('aws:SecureTransport');
    }
  });
});

// ---- DynamoDB ----

describe('tables', () => {
  it('every table is on-demand, encrypted, with point-in-time recovery, retained, with its keys and indexes', () => {
    const tables = ofType('AWS::DynamoDB::Table');
    expect(tables).toHaveLength(topology.tables.length);
    for (const [id, t] of tables) {
      expect(t.Properties.BillingMode, id).toBe('PAY_PER_REQUEST');
      expect(t.Properties.PointInTimeRecoverySpecification, id).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(t.Properties.SSESpecification?.SSEEnabled, id).toBe(true);
      expect(t.DeletionPolicy, id).toBe('Retain');
      for (const a of t.Properties.AttributeDefinitions) expect(a.AttributeType, `${id}.${a.AttributeName}`).toBe('S');
    }
    for (const def of topology.tables) {
      const t = json.Resources[logicalId('AWS::DynamoDB::Table', 'table', def.name)]!;
      expect(t.Properties.KeySchema).toEqual([
        { AttributeName: def.partitionKey, KeyType: 'HASH' },
        ...(def.sortKey ? [{ AttributeName: def.sortKey, KeyType: 'RANGE' }] : []),
      ]);
      if (def.ttlAttribute) expect(t.Properties.TimeToLiveSpecification).toEqual({ AttributeName: def.ttlAttribute, Enabled: true });
      else expect(t.Properties.TimeToLiveSpecification).toBeUndefined();
      const gsis = asArray<any>(t.Properties.GlobalSecondaryIndexes);
      expect(gsis).toHaveLength(def.indexes.length);
      for (const index of def.indexes) {
        expect(gsis).toContainEqual({
          IndexName: index.name,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' },
            ...(index.sortKey ? [{ AttributeName: index.sortKey, KeyType: 'RANGE' }] : []),
          ],
          Projection: { ProjectionType: 'ALL' },
        });
      }
    }
  });
});

// ---- Lambda ----

describe('functions', () => {
  it('one per topology function, nodejs22.x, memory, timeout, tracing, log group with retention', () => {
    expect(tagged('AWS::Lambda::Function', 'function')).toHaveLength(topology.functions.length);
    for (const def of topology.functions) {
      const p = json.Resources[fnId(def.name)]!.Properties;
      expect(p.Runtime, def.name).toBe('nodejs22.x');
      expect(p.Runtime).toBe(topology.settings.lambdaRuntime);
      expect(p.MemorySize, def.name).toBe(def.memoryMb);
      expect(p.Timeout, def.name).toBe(def.timeoutSeconds);
      expect(p.TracingConfig, def.name).toEqual({ Mode: 'Active' });
      const [logGroupId] = [...references(p.LoggingConfig?.LogGroup)];
      expect(json.Resources[logGroupId!]?.Properties.RetentionInDays, def.name).toBe(topology.settings.logRetentionDays);
    }
  });

  it('environment names every resource a function uses, through the topology helpers', () => {
    for (const def of topology.functions) {
      const env = json.Resources[fnId(def.name)]!.Properties.Environment.Variables;
      expect(env.POWERTOOLS_SERVICE_NAME).toBe('framewise');
      expect(env.NODE_OPTIONS).toBe('--enable-source-maps');
      for (const b of def.uses.buckets ?? []) expect(env[bucketEnv(b.name)]).toEqual(ref(logicalId('AWS::S3::Bucket', 'bucket', b.name)));
      for (const t of def.uses.tables ?? []) expect(env[tableEnv(t.name)]).toEqual(ref(logicalId('AWS::DynamoDB::Table', 'table', t.name)));
      for (const q of def.uses.queues ?? []) expect(env[queueEnv(q)]).toEqual(ref(logicalId('AWS::SQS::Queue', 'queue', q)));
      for (const sm of def.uses.stateMachines ?? []) expect(JSON.stringify(env[stateMachineEnv(sm)])).toContain(`:stateMachine:${stateMachineName(deployment, sm)}`);
      expect(env.DATABASE_SECRET_ARN !== undefined, def.name).toBe(!!def.uses.postgres);
      expect(env.DATABASE_HOST !== undefined, def.name).toBe(!!def.uses.postgres);
      expect(env.DATABASE_NAME, def.name).toBe(def.uses.postgres ? topology.settings.postgresDatabase : undefined);
      expect(env.MONGODB_SECRET_ARN !== undefined, def.name).toBe(!!def.uses.mongodb);
      expect(env.MONGODB_DATABASE, def.name).toBe(def.uses.mongodb ? topology.settings.mongoDatabase : undefined);
      if ((def.uses.buckets ?? []).length > 0) {
        expect(env.PRESIGNED_URL_SECONDS, def.name).toBe(String(topology.settings.presignedUrlSeconds));
        expect(env.MULTIPART_THRESHOLD_BYTES, def.name).toBe(String(topology.settings.multipartThresholdBytes));
        expect(env.MULTIPART_PART_BYTES, def.name).toBe(String(topology.settings.multipartPartBytes));
      }
    }
  });

  it('postgres and mongodb users run in the private subnets and may reach the RDS Proxy and DocumentDB; others run outside the VPC', () => {
    const [proxyId] = ofType('AWS::RDS::DBProxy')[0]!;
    const proxySgs = references(json.Resources[proxyId]!.Properties.VpcSecurityGroupIds);
    const [, docdb] = ofType('AWS::DocDB::DBCluster')[0]!;
    const docdbSgs = references(docdb.Properties.VpcSecurityGroupIds);
    const ingress = ofType('AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties);
    const reaches = (fnSgs: Set<string>, targetSgs: Set<string>, port: number) => ingress.some((i) => [...references(i.GroupId)].some((g) => targetSgs.has(g)) &&
      [...references(i.SourceSecurityGroupId)].some((g) => fnSgs.has(g)) && i.FromPort === port && i.ToPort === port);
    const allFnSgs = new Set<string>();
    for (const def of topology.functions) {
      const vpc = json.Resources[fnId(def.name)]!.Properties.VpcConfig;
      if (!inVpc(def)) {
        expect(vpc, def.name).toBeUndefined();
        continue;
      }
      for (const subnet of references(vpc.SubnetIds)) expect(subnet, def.name).toMatch(/private/i);
      const fnSgs = references(vpc.SecurityGroupIds);
      fnSgs.forEach((g) => allFnSgs.add(g));
      // One security group for the functions in the VPC: the network admits them all; each database's
      // credentials (the secret a function may read) decide which function may use it.
      expect(reaches(fnSgs, proxySgs, 5432), `${def.name} -> proxy`).toBe(true);
      expect(reaches(fnSgs, docdbSgs, 27017), `${def.name} -> DocumentDB`).toBe(true);
    }
    // DocumentDB accepts nothing but the functions' security group, on 27017 only
    const intoDocdb = ingress.filter((i) => [...references(i.GroupId)].some((g) => docdbSgs.has(g)));
    expect(intoDocdb.length).toBe(1);
    for (const i of intoDocdb) {
      expect([i.FromPort, i.ToPort]).toEqual([27017, 27017]);
      expect([...references(i.SourceSecurityGroupId)].every((g) => allFnSgs.has(g))).toBe(true);
    }
  });

  it('the ffmpeg layer is attached exactly to the functions declaring it, with its binary paths', () => {
    // (the console's stack has CDK's own AWS CLI layer, for its bucket deployment)
    const layers = ofType('AWS::Lambda::LayerVersion').filter(([id]) => !id.startsWith(`${physicalName(deployment, 'console')}/`));
    const uses = topology.functions.filter((f) => f.layers.includes('ffmpeg'));
    expect(layers).toHaveLength(uses.length > 0 ? 1 : 0);
    for (const def of topology.functions) {
      const p = json.Resources[fnId(def.name)]!.Properties;
      const attached = asArray<any>(p.Layers).some((l) => references(l).has(layers[0]?.[0] ?? '-'));
      expect(attached, def.name).toBe(def.layers.includes('ffmpeg'));
      expect(p.Environment.Variables.FFMPEG_PATH, def.name).toBe(def.layers.includes('ffmpeg') ? '/opt/bin/ffmpeg' : undefined);
      expect(p.Environment.Variables.FFPROBE_PATH, def.name).toBe(def.layers.includes('ffmpeg') ? '/opt/bin/ffprobe' : undefined);
    }
    for (const [, l] of layers) {
      expect(l.Properties.CompatibleRuntimes).toEqual(['nodejs22.x']);
      expect(l.Properties.CompatibleArchitectures).toEqual(['x86_64']);
    }
  });

  it('each SQS trigger reports batch item failures with the topology batch size and max concurrency', () => {
    const mappings = ofType('AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(topology.functions.flatMap(queueTriggers).length);
    for (const def of topology.functions) {
      for (const t of queueTriggers(def)) {
        const queueId = logicalId('AWS::SQS::Queue', 'queue', t.queue);
        const found = mappings.filter(([, m]) =>
          references(m.Properties.FunctionName).has(fnId(def.name)) && references(m.Properties.EventSourceArn).has(queueId));
        expect(found, `${def.name} <- ${t.queue}`).toHaveLength(1);
        const p = found[0]![1].Properties;
        expect(p.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
        expect(p.BatchSize).toBe(t.batchSize);
        expect(p.ScalingConfig).toEqual({ MaximumConcurrency: t.maxConcurrency });
      }
    }
  });

  it('every function sends failed async invocations to a queue', () => {
    const configs = ofType('AWS::Lambda::EventInvokeConfig');
    for (const def of topology.functions) {
      const c = configs.find(([, r]) => references(r.Properties.FunctionName).has(fnId(def.name)));
      expect(c?.[1].Properties.DestinationConfig?.OnFailure?.Destination, def.name).toBeDefined();
    }
  });
});

// ---- Step Functions ----

describe('state machines', () => {
  it('one per topology state machine, named, every placeholder substituted by the ARN of its function', () => {
    expect(tagged('AWS::StepFunctions::StateMachine', 'state-machine')).toHaveLength(topology.stateMachines.length);
    expect(ofType('AWS::StepFunctions::StateMachine')).toHaveLength(topology.stateMachines.length);
    for (const def of topology.stateMachines) {
      const p = json.Resources[logicalId('AWS::StepFunctions::StateMachine', 'state-machine', def.name)]!.Properties;
      expect(p.StateMachineName).toBe(stateMachineName(deployment, def.name));
      expect(typeof p.DefinitionString, 'inline definition').toBe('string');
      expect(p.DefinitionSubstitutions).toEqual(
        Object.fromEntries(def.functions.map((f) => [functionArnPlaceholder(f), getAtt(fnId(f), 'Arn')])),
      );
      // what CloudFormation will run: the definition after substitution
      let definition: string = p.DefinitionString;
      for (const key of Object.keys(p.DefinitionSubstitutions)) definition = definition.split(`\${${key}}`).join('arn:aws:lambda:r:1:function:x');
      expect(definition).not.toContain('${');
      expect(() => JSON.parse(definition)).not.toThrow();
      expect(p.TracingConfiguration).toEqual({ Enabled: true });
      expect(p.LoggingConfiguration.Level).toBe('ERROR');
    }
  });

  it('the state machine role may invoke only its functions', () => {
    for (const def of topology.stateMachines) {
      const p = json.Resources[logicalId('AWS::StepFunctions::StateMachine', 'state-machine', def.name)]!.Properties;
      const roleId = [...references(p.RoleArn)][0]!;
      const statements = ofType('AWS::IAM::Policy')
        .filter(([, r]) => references(r.Properties.Roles).has(roleId))
        .flatMap(([, r]) => asArray<any>(r.Properties.PolicyDocument.Statement));
      const invoke = statements.filter((s) => asArray<string>(s.Action).includes('lambda:InvokeFunction'));
      const invoked = new Set(invoke.flatMap((s) => [...references(s.Resource)]));
      expect(invoked).toEqual(new Set(def.functions.map(fnId)));
    }
  });

  it('functions reach state machines only as declared', () => {
    for (const def of topology.functions) {
      const p = json.Resources[fnId(def.name)]!.Properties;
      const roleId = [...references(p.Role)][0]!;
      const statements = ofType('AWS::IAM::Policy')
        .filter(([, r]) => references(r.Properties.Roles).has(roleId))
        .flatMap(([, r]) => asArray<any>(r.Properties.PolicyDocument.Statement))
        .filter((s) => asArray<string>(s.Action).some((a) => a.startsWith('states:')));
      const resources = JSON.stringify(statements.map((s) => s.Resource));
      const declared = def.uses.stateMachines ?? [];
      if (declared.length === 0) expect(statements, def.name).toEqual([]);
      for (const sm of declared) {
        expect(resources).toContain(`:stateMachine:${stateMachineName(deployment, sm)}`);
        expect(resources).toContain(`:execution:${stateMachineName(deployment, sm)}:*`);
      }
      for (const s of statements) expect(asArray(s.Resource), def.name).not.toContain('*');
    }
  });
});

// ---- API, schedules ----

describe('HTTP API', () => {
  it('a route per topology route, to its function, payload format 2.0', () => {
    const routes = ofType('AWS::ApiGatewayV2::Route');
    expect(routes).toHaveLength(httpRoutes().length);
    const integrations = Object.fromEntries(ofType('AWS::ApiGatewayV2::Integration'));
    for (const r of httpRoutes()) {
      const found = routes.filter(([, x]) => x.Properties.RouteKey === `${r.method} ${r.path}`);
      expect(found, `${r.method} ${r.path}`).toHaveLength(1);
      const integrationId = [...references(found[0]![1].Properties.Target)][0]!;
      const integration = integrations[integrationId]!.Properties;
      expect(integration.IntegrationType).toBe('AWS_PROXY');
      expect(integration.PayloadFormatVersion).toBe('2.0');
      expect(references(integration.IntegrationUri).has(fnId(r.fn)), `${r.method} ${r.path} -> ${r.fn}`).toBe(true);
    }
  });

  it('one stage with access logs, throttling defaults and CORS', () => {
    const stages = ofType('AWS::ApiGatewayV2::Stage');
    expect(stages).toHaveLength(1);
    const s = stages[0]![1].Properties;
    expect(s.AccessLogSettings.DestinationArn).toBeDefined();
    expect(s.AccessLogSettings.Format).toContain('$context.requestId');
    expect(s.DefaultRouteSettings.ThrottlingRateLimit).toBeGreaterThan(0);
    expect(s.DefaultRouteSettings.ThrottlingBurstLimit).toBeGreaterThan(0);
    expect(ofType('AWS::ApiGatewayV2::Api')[0]![1].Properties.CorsConfiguration.AllowOrigins).toBeDefined();
  });
});

describe('schedules', () => {
  it('a rule per schedule trigger, targeting its function with 2 retries and a DLQ', () => {
    const rules = ofType('AWS::Events::Rule');
    expect(rules).toHaveLength(topology.functions.flatMap(scheduleTriggers).length);
    for (const def of topology.functions) {
      for (const t of scheduleTriggers(def)) {
        const found = rules.filter(([, r]) => r.Properties.ScheduleExpression === t.expression &&
          asArray<any>(r.Properties.Targets).some((x) => references(x.Arn).has(fnId(def.name))));
        expect(found, t.name).toHaveLength(1);
        const target = asArray<any>(found[0]![1].Properties.Targets)[0];
        expect(target.RetryPolicy.MaximumRetryAttempts).toBe(2);
        expect(target.DeadLetterConfig.Arn).toBeDefined();
        // A trigger's constant input is what the function gets instead of the scheduled event.
        expect(target.Input === undefined ? undefined : JSON.parse(target.Input), t.name).toEqual(t.input);
      }
    }
  });
});

describe('S3 grants by prefix', () => {
  it('each function may touch only its declared prefixes, with its declared access, and delete only where it declares so', () => {
    const media = logicalId('AWS::S3::Bucket', 'bucket', 'media');
    for (const def of topology.functions) {
      const roleId = [...references(json.Resources[fnId(def.name)]!.Properties.Role)][0]!;
      const s3 = ofType('AWS::IAM::Policy')
        .filter(([, r]) => references(r.Properties.Roles).has(roleId))
        .flatMap(([, r]) => asArray<any>(r.Properties.PolicyDocument.Statement))
        .filter((st) => asArray<string>(st.Action).some((a) => a.startsWith('s3:')));
      const objects = s3.filter((st) => !asArray<string>(st.Action).includes('s3:ListBucket'));
      const granted = objects.flatMap((st) => asArray<any>(st.Resource).map((r) => ({ actions: asArray<string>(st.Action).sort(), prefix: r['Fn::Join'][1][1] })));
      const actionsFor = (access: string) =>
        access === 'delete' ? [...S3_DELETE_OBJECT]
        : access === 'restore' ? [...S3_RESTORE_OBJECT]
        : [...(access !== 'write' ? S3_READ_OBJECT : []), ...(access !== 'read' ? S3_WRITE_OBJECT : [])].sort();
      const declared = (def.uses.buckets ?? []).flatMap((b) => b.prefixes.map((p) => ({ actions: actionsFor(b.access), prefix: `/${p}*` })));
      // IAM statements on the same objects are one statement (reading and restoring videos/, say)
      const byPrefix = (list: { actions: string[]; prefix: string }[]) => {
        const merged = new Map<string, Set<string>>();
        for (const g of list) for (const a of g.actions) merged.set(g.prefix, (merged.get(g.prefix) ?? new Set()).add(a));
        return [...merged].map(([prefix, actions]) => ({ prefix, actions: [...actions].sort() })).sort((a, b) => a.prefix.localeCompare(b.prefix));
      };
      expect(byPrefix(granted), def.name).toEqual(byPrefix(declared));
      for (const st of objects) for (const r of asArray<any>(st.Resource)) expect(references(r), def.name).toEqual(new Set([media]));
      const deletePrefixes = (def.uses.buckets ?? []).filter((b) => b.access === 'delete').flatMap((b) => b.prefixes.map((p) => `/${p}*`));
      const deleting = s3.filter((st) => asArray<string>(st.Action).some((a) => a.startsWith('s3:Delete')));
      expect(deleting.flatMap((st) => asArray<string>(st.Action)), def.name).toEqual(deleting.length ? ['s3:DeleteObject'] : []);
      expect(deleting.flatMap((st) => asArray<any>(st.Resource).map((r) => r['Fn::Join'][1][1])).sort(), def.name).toEqual(deletePrefixes.sort());
      const lists = s3.filter((st) => asArray<string>(st.Action).includes('s3:ListBucket'));
      const readPrefixes = (def.uses.buckets ?? []).filter((b) => b.access !== 'write' && b.access !== 'restore').flatMap((b) => b.prefixes.map((p) => `${p}*`));
      expect(lists.flatMap((st) => asArray<string>(st.Condition.StringLike['s3:prefix'])).sort(), def.name).toEqual(readPrefixes.sort());
    }
  });
});

describe('upload recovery', () => {
  /** Every Allow statement of a function's role. */
  const statementsOf = (name: string): any[] => {
    const roleId = [...references(json.Resources[fnId(name)]!.Properties.Role)][0]!;
    return ofType('AWS::IAM::Policy')
      .filter(([, r]) => references(r.Properties.Roles).has(roleId))
      .flatMap(([, r]) => asArray<any>(r.Properties.PolicyDocument.Statement))
      .filter((s) => s.Effect === 'Allow');
  };
  const actionsOf = (statements: any[]) => statements.flatMap((s) => asArray<string>(s.Action));

  it('s3:RestoreObject only for the functions that restore an archived video for a re-run, on videos/ only', () => {
    const restoring = topology.functions.filter((f) => actionsOf(statementsOf(f.name)).includes('s3:RestoreObject')).map((f) => f.name);
    expect(restoring.sort()).toEqual(['ingest-api', 'ingest-recover-uploads']);
    for (const name of restoring) {
      const statements = statementsOf(name).filter((s) => asArray<string>(s.Action).includes('s3:RestoreObject'));
      expect(statements.flatMap((s) => asArray<any>(s.Resource).map((r) => r['Fn::Join'][1][1])), name).toEqual(['/videos/*']);
    }
  });

  it('a rule every 5 minutes runs ingest-recover-uploads with its grace as constant input', () => {
    const rules = ofType('AWS::Events::Rule').filter(([, r]) =>
      asArray<any>(r.Properties.Targets).some((x) => references(x.Arn).has(fnId('ingest-recover-uploads'))));
    expect(rules).toHaveLength(1);
    expect(rules[0]![1].Properties.ScheduleExpression).toBe('rate(5 minutes)');
    expect(JSON.parse(asArray<any>(rules[0]![1].Properties.Targets)[0].Input)).toEqual({ graceSeconds: 120 });
  });

  it('ingest-recover-uploads may read (not write) the media bucket, write jobs, start only video-ingest, and reach PostgreSQL', () => {
    const statements = statementsOf('ingest-recover-uploads');
    const actions = actionsOf(statements);
    const media = logicalId('AWS::S3::Bucket', 'bucket', 'media');
    const s3 = statements.filter((s) => asArray<string>(s.Action).some((a) => a.startsWith('s3:')));
    expect(s3.length).toBeGreaterThan(0);
    for (const s of s3) expect([...references(s.Resource)]).toEqual([media]);
    expect(actions).toContain('s3:GetObject');
    expect(actions.filter((a) => /^s3:(Put|Delete|Abort)/.test(a))).toEqual([]);
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']));
    const jobs = logicalId('AWS::DynamoDB::Table', 'table', 'jobs');
    for (const s of statements.filter((x) => asArray<string>(x.Action).some((a) => a.startsWith('dynamodb:')))) {
      expect([...references(s.Resource)].every((id) => id === jobs), JSON.stringify(s.Resource)).toBe(true);
    }
    const states = JSON.stringify(statements.filter((s) => asArray<string>(s.Action).some((a) => a.startsWith('states:'))).map((s) => s.Resource));
    expect(states).toContain(`:stateMachine:${stateMachineName(deployment, 'video-ingest')}`);
    for (const other of topology.stateMachines.filter((m) => m.name !== 'video-ingest')) {
      expect(states).not.toContain(`:stateMachine:${stateMachineName(deployment, other.name)}"`);
    }
    expect(actions.filter((a) => a.startsWith('lambda:'))).toEqual([]);
    // SQS only for its own failed async invocations: no topology queue
    const fn = json.Resources[fnId('ingest-recover-uploads')]!.Properties;
    const onFailure = ofType('AWS::Lambda::EventInvokeConfig').find(([, r]) => references(r.Properties.FunctionName).has(fnId('ingest-recover-uploads')))![1];
    const failureQueues = references(onFailure.Properties.DestinationConfig.OnFailure.Destination);
    for (const s of statements.filter((x) => asArray<string>(x.Action).some((a) => a.startsWith('sqs:')))) {
      expect([...references(s.Resource)].every((id) => failureQueues.has(id)), JSON.stringify(s.Resource)).toBe(true);
    }
    expect(Object.keys(fn.Environment.Variables)).toEqual(expect.arrayContaining([bucketEnv('media'), tableEnv('jobs'), stateMachineEnv('video-ingest'), 'MAX_UPLOAD_BYTES']));
    expect(Object.keys(fn.Environment.Variables).filter((k) => k.startsWith('MONGODB_'))).toEqual([]);
    expect(fn.VpcConfig).toBeDefined();
  });

  it('ingest-upload may read the media bucket to name the job by the object', () => {
    const actions = actionsOf(statementsOf('ingest-upload'));
    expect(actions).toContain('s3:GetObject');
    expect(actions.filter((a) => /^s3:(Put|Delete|Abort)/.test(a))).toEqual([]);
  });
});

// ---- data ----

describe('data', () => {
  it('Aurora PostgreSQL Serverless v2, encrypted, backed up, protected, behind a TLS-only RDS Proxy', () => {
    const clusters = ofType('AWS::RDS::DBCluster');
    expect(clusters).toHaveLength(1);
    const [clusterId, c] = clusters[0]!;
    expect(c.Properties.Engine).toBe('aurora-postgresql');
    expect(c.Properties.EngineVersion).toMatch(/^16\./);
    expect(c.Properties.ServerlessV2ScalingConfiguration).toEqual({ MinCapacity: 0.5, MaxCapacity: 4 });
    expect(c.Properties.StorageEncrypted).toBe(true);
    expect(c.Properties.DeletionProtection).toBe(true);
    expect(c.Properties.BackupRetentionPeriod).toBe(7);
    expect(c.Properties.DatabaseName).toBe(topology.settings.postgresDatabase);
    expect(c.Properties.EnableCloudwatchLogsExports).toEqual(['postgresql']);
    expect(c.DeletionPolicy).toBe('Snapshot');
    const instances = ofType('AWS::RDS::DBInstance');
    expect(instances.length).toBeGreaterThanOrEqual(1);
    for (const [, i] of instances) {
      expect(i.Properties.DBInstanceClass).toBe('db.serverless');
      expect(references(i.Properties.DBClusterIdentifier).has(clusterId)).toBe(true);
    }
    const proxies = ofType('AWS::RDS::DBProxy');
    expect(proxies).toHaveLength(1);
    expect(proxies[0]![1].Properties.RequireTLS).toBe(true);
    expect(proxies[0]![1].Properties.EngineFamily).toBe('POSTGRESQL');
  });

  it('the VPC has 2 AZs, one NAT gateway and gateway endpoints for S3 and DynamoDB', () => {
    expect(ofType('AWS::EC2::VPC')).toHaveLength(1);
    expect(ofType('AWS::EC2::NatGateway')).toHaveLength(1);
    const endpoints = JSON.stringify(ofType('AWS::EC2::VPCEndpoint').map(([, e]) => e.Properties.ServiceName));
    expect(endpoints).toContain('.s3');
    expect(endpoints).toContain('.dynamodb');
  });

  it('DocumentDB 5.0: one encrypted, TLS-only, backed up, protected cluster in the isolated subnets, its logs exported with retention', () => {
    const clusters = ofType('AWS::DocDB::DBCluster');
    expect(clusters).toHaveLength(1);
    const [clusterId, c] = clusters[0]!;
    expect(c.Properties.EngineVersion).toBe('5.0.0');
    expect(c.Properties.StorageEncrypted).toBe(true);
    expect(c.Properties.DeletionProtection).toBe(true);
    expect(c.Properties.BackupRetentionPeriod).toBe(7);
    expect(c.DeletionPolicy).toBe('Snapshot');
    expect(c.Properties.Port).toBe(27017);
    const parameters = json.Resources[[...references(c.Properties.DBClusterParameterGroupName)][0]!]!;
    expect(parameters.Type).toBe('AWS::DocDB::DBClusterParameterGroup');
    expect(parameters.Properties.Family).toBe('docdb5.0');
    expect(parameters.Properties.Parameters).toMatchObject({ tls: 'enabled', audit_logs: 'enabled', profiler: 'enabled' });
    const subnets = json.Resources[[...references(c.Properties.DBSubnetGroupName)][0]!]!;
    expect(subnets.Properties.SubnetIds.length).toBeGreaterThanOrEqual(2);
    for (const subnet of references(subnets.Properties.SubnetIds)) expect(subnet).toMatch(/data/);
    expect(c.Properties.EnableCloudwatchLogsExports).toEqual(['audit', 'profiler']);
    const logGroups = ofType('AWS::Logs::LogGroup').map(([, g]) => g.Properties.LogGroupName);
    for (const log of c.Properties.EnableCloudwatchLogsExports) expect(logGroups).toContain(`/aws/docdb/${c.Properties.DBClusterIdentifier}/${log}`);
    const instances = ofType('AWS::DocDB::DBInstance');
    expect(instances).toHaveLength(1);
    expect(references(instances[0]![1].Properties.DBClusterIdentifier).has(clusterId)).toBe(true);
    expect(instances[0]![1].Properties.DBInstanceClass).toBe('db.t3.medium');
    expect(instances[0]![1].Properties.CACertificateIdentifier).toBe('rds-ca-rsa2048-g1');
  });

  it('secrets: generated PostgreSQL and DocumentDB credentials (no placeholder), functions read the DocumentDB one', () => {
    const secrets = ofType('AWS::SecretsManager::Secret');
    // The topology's secrets start as a fixed text their function recognizes; every other secret is generated.
    const topologyNames = topology.secrets.map((d) => secretName(deployment.stage, d.name));
    for (const [, s] of secrets.filter(([, x]) => !topologyNames.includes(x.Properties.Name))) {
      expect(s.Properties.GenerateSecretString, 'no literal secret values').toBeDefined();
    }
    expect(secrets.filter(([, s]) => /mongodb-uri/.test(s.Properties.Name ?? ''))).toEqual([]);
    const [clusterId, cluster] = ofType('AWS::DocDB::DBCluster')[0]!;
    const [mongoSecretId] = [...references(cluster.Properties.MasterUserPassword)];
    expect(json.Resources[mongoSecretId!]!.Type).toBe('AWS::SecretsManager::Secret');
    expect(json.Resources[mongoSecretId!]!.Properties.Name).toBe(secretName(deployment.stage, 'mongodb'));
    // the attachment adds host and port to the secret, from which functions build the URI
    const [attachmentId, attachment] = ofType('AWS::SecretsManager::SecretTargetAttachment').find(([, a]) => references(a.Properties.SecretId).has(mongoSecretId!))!;
    expect(attachment.Properties.TargetType).toBe('AWS::DocDB::DBCluster');
    expect(references(attachment.Properties.TargetId).has(clusterId)).toBe(true);
    expect(json.Outputs.MongoDbSecretArn.Value).toEqual(ref(attachmentId));
    for (const def of topology.functions.filter((f) => f.uses.mongodb)) {
      expect(json.Resources[fnId(def.name)]!.Properties.Environment.Variables.MONGODB_SECRET_ARN, def.name).toEqual(ref(attachmentId));
    }
  });

  it('outputs the API URL, bucket names and state machine ARNs', () => {
    const outputs = JSON.stringify(json.Outputs);
    expect(json.Outputs.ApiUrl).toBeDefined();
    for (const b of topology.buckets) expect(outputs).toContain(logicalId('AWS::S3::Bucket', 'bucket', b.name));
    for (const sm of topology.stateMachines) expect(outputs).toContain(logicalId('AWS::StepFunctions::StateMachine', 'state-machine', sm.name));
  });
});

describe('bootstrap on every deploy', () => {
  const secretId = (name: string) => {
    const found = ofType('AWS::SecretsManager::Secret').filter(([, s]) => s.Properties.Name === secretName(deployment.stage, name));
    expect(found, name).toHaveLength(1);
    return found[0]![0];
  };
  const deployFunctions = topology.functions.filter((f) => f.triggers.some((t) => t.kind === 'deploy'));

  it('each topology secret is named by its stage, holds the placeholder (not a generated value) and is retained', () => {
    expect(topology.secrets.map((s) => s.name)).toContain('admin-api-key');
    for (const def of topology.secrets) {
      const secret = json.Resources[secretId(def.name)]!;
      expect(secret.Properties.SecretString).toBe(SECRET_NOT_SET);
      expect(secret.Properties.GenerateSecretString).toBeUndefined();
      expect(secret.DeletionPolicy).toBe('Retain');
    }
  });

  it('only the functions that use a secret may read and write it, and they find it in their environment', () => {
    for (const def of topology.secrets) {
      const id = secretId(def.name);
      const users = topology.functions.filter((f) => f.uses.secrets?.includes(def.name));
      expect(users.length, def.name).toBeGreaterThan(0);
      const grantedRoles = new Set(
        ofType('AWS::IAM::Policy')
          .filter(([, p]) => asArray<any>(p.Properties.PolicyDocument.Statement).some((st) => references(st.Resource).has(id)))
          .flatMap(([, p]) => [...references(p.Properties.Roles)]),
      );
      expect(grantedRoles).toEqual(new Set(users.map((f) => [...references(json.Resources[fnId(f.name)]!.Properties.Role)][0])));
      for (const f of users) {
        const fn = json.Resources[fnId(f.name)]!.Properties;
        expect(fn.Environment.Variables[secretEnv(def.name)]).toEqual(ref(id));
        const roleId = [...references(fn.Role)][0]!;
        const actions = ofType('AWS::IAM::Policy')
          .filter(([, p]) => references(p.Properties.Roles).has(roleId))
          .flatMap(([, p]) => asArray<any>(p.Properties.PolicyDocument.Statement))
          .filter((st) => references(st.Resource).has(id))
          .flatMap((st) => asArray<string>(st.Action));
        expect(actions).toEqual(expect.arrayContaining(['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue']));
      }
    }
  });

  it('a trigger in the platform stack runs each deploy function when its version changes; every other context deploys after it', () => {
    expect(deployFunctions.map((f) => f.name)).toEqual(['platform-bootstrap']);
    const triggers = ofType('Custom::Trigger');
    expect(triggers).toHaveLength(deployFunctions.length);
    for (const def of deployFunctions) {
      const versions = ofType('AWS::Lambda::Version').filter(([, v]) => references(v.Properties.FunctionName).has(fnId(def.name)));
      expect(versions, def.name).toHaveLength(1);
      const [triggerId, trigger] = triggers.find(([, t]) => references(t.Properties.HandlerArn).has(versions[0]![0]))!;
      expect(triggerId.split('/')[0]).toBe(physicalName(deployment, 'platform'));
      expect(trigger.Properties.ExecuteOnHandlerChange).toBe(true);
      expect(trigger.Properties.InvocationType).toBe('RequestResponse');
      expect(trigger.Properties.Timeout).toBe(String(def.timeoutSeconds * 1000));
    }
    const platform = stage.contexts.get('platform')!;
    expect(platform.dependencies.map((d) => d.stackName)).toContain(stage.foundation.stackName);
    for (const [context, stack] of stage.contexts) {
      if (context !== 'platform') expect(stack.dependencies.map((d) => d.stackName), context).toContain(platform.stackName);
    }
  });

  it('tells the bootstrap where its migrations are (the CLI synth below checks they are in its bundle)', () => {
    const def = deployFunctions[0]!;
    expect(def.bundledFolders).toEqual(['migrations']);
    expect(json.Resources[fnId(def.name)]!.Properties.Environment.Variables[folderEnv('migrations')]).toBe('/var/task/migrations');
  });
});

// ---- operations ----

describe('alarms', () => {
  const alarms = () => ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
  const topicId = () => {
    const topics = ofType('AWS::SNS::Topic').filter(([, t]) => t.Properties.TopicName === physicalName(deployment, 'alarms'));
    expect(topics).toHaveLength(1);
    return topics[0]![0];
  };
  const hasDimension = (dimensions: unknown, dimension: string, id: string) =>
    asArray<any>(dimensions).some((d) => d.Name === dimension && references(d.Value).has(id));
  const alarmOn = (metric: string, dimension: string, id: string) =>
    alarms().filter((a) => a.MetricName === metric && hasDimension(a.Dimensions, dimension, id));
  /** Alarms computed by metric math over the metrics `names` of resource `id`. */
  const mathAlarmOver = (names: string[], dimension: string, id: string) =>
    alarms().filter((a) => {
      const stats = asArray<any>(a.Metrics).filter((m) => m.MetricStat).map((m) => m.MetricStat.Metric);
      return stats.length === names.length && names.every((n) => stats.some((m) => m.MetricName === n && hasDimension(m.Dimensions, dimension, id)));
    });
  const expectAlarm = (found: any[], what: string, threshold = 1, periods = 1) => {
    expect(found, what).toHaveLength(1);
    expect(found[0].Threshold, what).toBe(threshold);
    expect(found[0].EvaluationPeriods, what).toBe(periods);
    expect(found[0].ComparisonOperator, what).toBe('GreaterThanOrEqualToThreshold');
    expect(found[0].AlarmActions, what).toEqual([ref(topicId())]);
    return found[0];
  };

  it('the alarm topic is encrypted; it has an email subscription exactly when -c alarmEmail= is given', () => {
    const topic = json.Resources[topicId()]!.Properties;
    expect(topic.KmsMasterKeyId).toBeDefined();
    expect(ofType('AWS::SNS::Subscription')).toEqual([]);
    const withEmail = new App({ context: { ...cdkContext(), 'aws:cdk:bundling-stacks': [], 'aws:cdk:disable-asset-staging': true } });
    const foundation = framewiseStage(withEmail, { stage: 'mail', alarmEmail: 'ops@example.com' }).foundation;
    const subscriptions = Object.values(Template.fromStack(foundation).findResources('AWS::SNS::Subscription'));
    expect(subscriptions).toHaveLength(1);
    expect(subscriptions[0]!.Properties).toMatchObject({ Protocol: 'email', Endpoint: 'ops@example.com' });
  });

  it('every alarm says what it means, notifies the topic and stays quiet without data', () => {
    expect(alarms().length).toBeGreaterThan(0);
    for (const a of alarms()) {
      expect(a.AlarmDescription.length, JSON.stringify(a.AlarmDescription)).toBeGreaterThan(60);
      expect(a.TreatMissingData, a.AlarmDescription).toBe('notBreaching');
      expect(a.AlarmActions, a.AlarmDescription).toEqual([ref(topicId())]);
    }
  });

  it('every dead-letter queue: the topology DLQs and each context\'s async-failures queue', () => {
    const dlqs = ofType('AWS::SQS::Queue').filter(([id]) =>
      ofType('AWS::SQS::Queue').some(([, q]) => references(q.Properties.RedrivePolicy).has(id)) || tagValue(json.Resources[id]!)?.startsWith('dlq:'));
    expect(dlqs).toHaveLength(topology.queues.length);
    for (const [id] of dlqs) expectAlarm(alarmOn('ApproximateNumberOfMessagesVisible', 'QueueName', id), id);
    const asyncFailures = new Set([
      ...ofType('AWS::Events::Rule').flatMap(([, rule]) => asArray<any>(rule.Properties.Targets).flatMap((t) => [...references(t.DeadLetterConfig?.Arn)])),
      ...ofType('AWS::Lambda::EventInvokeConfig').flatMap(([, c]) => [...references(c.Properties.DestinationConfig?.OnFailure?.Destination)]),
    ]);
    expect(asyncFailures.size).toBe(stage.contexts.size);
    for (const id of asyncFailures) expectAlarm(alarmOn('ApproximateNumberOfMessagesVisible', 'QueueName', id), id);
  });

  it('every topology queue: the age of its oldest message beyond what its retries explain', () => {
    for (const def of topology.queues) {
      const found = alarmOn('ApproximateAgeOfOldestMessage', 'QueueName', logicalId('AWS::SQS::Queue', 'queue', def.name));
      const a = expectAlarm(found, def.name, def.visibilityTimeoutSeconds * def.maxReceiveCount);
      expect(a.Statistic).toBe('Maximum');
      expect(a.Period).toBe(300);
    }
  });

  it('every state machine: executions failed and timed out', () => {
    for (const def of topology.stateMachines) {
      const id = logicalId('AWS::StepFunctions::StateMachine', 'state-machine', def.name);
      expectAlarm(alarmOn('ExecutionsFailed', 'StateMachineArn', id), `${def.name} failed`);
      expectAlarm(alarmOn('ExecutionsTimedOut', 'StateMachineArn', id), `${def.name} timed out`);
    }
  });

  it('throttles of every function without reserved concurrency; no alarm on function errors', () => {
    const reserved = topology.functions.filter((f) => f.reservedConcurrency !== undefined);
    expect(reserved.length).toBeGreaterThan(0);
    for (const def of topology.functions) {
      const found = alarmOn('Throttles', 'FunctionName', fnId(def.name));
      if (def.reservedConcurrency === undefined) expectAlarm(found, def.name);
      else expect(found, `${def.name} throttles by design`).toEqual([]);
    }
    const onErrors = alarms().filter((a) => a.MetricName === 'Errors' || asArray<any>(a.Metrics).some((m) => m.MetricStat?.Metric.MetricName === 'Errors'));
    expect(onErrors).toEqual([]);
  });

  it('the API: the 5xx rate over 5 minutes, by metric math over 5xx and Count, with a minimum request count', () => {
    const apiId = ofType('AWS::ApiGatewayV2::Api')[0]![0];
    expect(alarmOn('5xx', 'ApiId', apiId), 'no alarm on a single 5xx').toEqual([]);
    const a = expectAlarm(mathAlarmOver(['5xx', 'Count'], 'ApiId', apiId), 'api 5xx rate', API_5XX_ALARM.percent);
    const ids = Object.fromEntries(asArray<any>(a.Metrics).filter((m) => m.MetricStat).map((m) => [m.MetricStat.Metric.MetricName, m.Id]));
    const expression = asArray<any>(a.Metrics).find((m) => m.Expression).Expression;
    expect(expression).toBe(`IF(${ids.Count} >= ${API_5XX_ALARM.minRequests}, 100 * ${ids['5xx']} / ${ids.Count}, 0)`);
    for (const m of asArray<any>(a.Metrics).filter((x) => x.MetricStat)) expect(m.MetricStat).toMatchObject({ Period: 300, Stat: 'Sum' });
  });

  it('the database: Aurora capacity near its maximum and CPU, sustained; RDS Proxy connections near what it may open', () => {
    const [clusterId] = ofType('AWS::RDS::DBCluster')[0]!;
    const [proxyId] = ofType('AWS::RDS::DBProxy')[0]!;
    expectAlarm(alarmOn('ServerlessDatabaseCapacity', 'DBClusterIdentifier', clusterId), 'ACU',
      POSTGRES_CAPACITY.max * DATABASE_ALARM.capacityShare, DATABASE_ALARM.periods);
    expect(POSTGRES_CAPACITY.max * DATABASE_ALARM.capacityShare).toBeLessThan(POSTGRES_CAPACITY.max);
    expectAlarm(alarmOn('CPUUtilization', 'DBClusterIdentifier', clusterId), 'CPU', DATABASE_ALARM.cpuPercent, DATABASE_ALARM.periods);
    const proxy = expectAlarm(mathAlarmOver(['DatabaseConnections', 'MaxDatabaseConnectionsAllowed'], 'ProxyName', proxyId), 'proxy',
      DATABASE_ALARM.proxyConnectionsPercent, DATABASE_ALARM.periods);
    expect(asArray<any>(proxy.Metrics).find((m) => m.Expression).Expression).toMatch(/^100 \* \w+ \/ \w+$/);
    const [documentDbId] = ofType('AWS::DocDB::DBCluster')[0]!;
    const documentDb = expectAlarm(alarmOn('CPUUtilization', 'DBClusterIdentifier', documentDbId), 'DocumentDB CPU', DATABASE_ALARM.cpuPercent, DATABASE_ALARM.periods);
    expect(documentDb.Namespace).toBe('AWS/DocDB');
  });
});

describe('web console', () => {
  const consoleStack = () => physicalName(deployment, 'console');
  const inConsole = (type: string) => ofType(type).filter(([id]) => id.startsWith(`${consoleStack()}/`));

  it('a private, encrypted, TLS-only bucket of the files, readable by the distribution only (origin access control)', () => {
    const [[bucketId, bucket]] = inConsole('AWS::S3::Bucket') as [[string, Resource]];
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    const policy = inConsole('AWS::S3::BucketPolicy').find(([, p]) => references(p.Properties.Bucket).has(bucketId))![1];
    const statements = policy.Properties.PolicyDocument.Statement as any[];
    expect(statements.some((st) => st.Effect === 'Deny' && st.Condition?.Bool?.['aws:SecureTransport'] === 'false')).toBe(true);
    const reads = statements.filter((st) => st.Effect === 'Allow');
    expect(reads.map((st) => st.Principal)).toEqual([{ Service: 'cloudfront.amazonaws.com' }]);
    expect(inConsole('AWS::CloudFront::OriginAccessControl')).toHaveLength(1);
  });

  it('one distribution: the files by default (index.html at /), the API under /v1/* uncached with every method', () => {
    const [[, distribution]] = inConsole('AWS::CloudFront::Distribution') as [[string, Resource]];
    const config = distribution.Properties.DistributionConfig;
    expect(config.DefaultRootObject).toBe('index.html');
    expect(config.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    const [api] = config.CacheBehaviors as any[];
    expect(config.CacheBehaviors).toHaveLength(1);
    expect(api.PathPattern).toBe('/v1/*');
    expect(api.AllowedMethods.sort()).toEqual(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT']);
    expect(api.CachePolicyId).toBe('4135ea2d-6df8-44a3-9df3-4b5a84be39ad'); // CachingDisabled
    expect(api.OriginRequestPolicyId).toBe('b689b0a8-53d0-40ab-baf2-68738e2966ac'); // AllViewerExceptHostHeader
    const apiOrigin = (config.Origins as any[]).find((o) => o.Id === api.TargetOriginId);
    // the foundation's HTTP API, on its execute-api domain
    expect(JSON.stringify(apiOrigin.DomainName)).toMatch(/HttpApi.*execute-api/);
  });

  it("every file is served with the topology's Content-Security-Policy, its images from the media bucket only", () => {
    const [[, policy]] = inConsole('AWS::CloudFront::ResponseHeadersPolicy') as [[string, Resource]];
    const csp = policy.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig.ContentSecurityPolicy;
    expect(csp.Override).toBe(true);
    const text = JSON.stringify(csp.ContentSecurityPolicy);
    expect(text).toContain("script-src 'self'");
    expect(text).toContain('RegionalDomainName');
    expect(text).not.toMatch(/img-src[^;]*\bhttps?:[;\s]/);
  });

  it('the files are deployed from the site folder and the vendor files, and the URL is an output', () => {
    expect(inConsole('Custom::CDKBucketDeployment')).toHaveLength(1);
    const outputs = templates.get(consoleStack())!.Outputs ?? {};
    expect(Object.keys(outputs)).toContain('ConsoleUrl');
    const staged = stageSiteFiles({ ...topology.site, vendor: [{ package: 'axe-core', files: ['axe.min.js'] }] });
    try {
      expect(existsSync(path.join(staged, 'index.html'))).toBe(true);
      expect(existsSync(path.join(staged, 'app.js'))).toBe(true);
      expect(existsSync(path.join(staged, 'vendor', 'axe-core', 'axe.min.js'))).toBe(true);
      expect(existsSync(path.join(staged, 'tsconfig.json'))).toBe(false);
    } finally {
      rmSync(staged, { recursive: true, force: true });
    }
  });
});

describe('slides CDN', () => {
  const def = topology.cdns.find((c) => c.name === 'slides')!;
  const one = (type: string): [string, Resource] => {
    const found = ofType(type).filter(([id]) => id.startsWith(`${physicalName(deployment, 'foundation')}/Cdns`));
    expect(found, type).toHaveLength(1);
    return found[0]!;
  };
  const distribution = () => one('AWS::CloudFront::Distribution');
  const behavior = () => distribution()[1].Properties.DistributionConfig.DefaultCacheBehavior;
  const secretId = () => one('AWS::SecretsManager::Secret')[0];
  const rolePolicies = (roleId: string) =>
    ofType('AWS::IAM::Policy').filter(([, p]) => references(p.Properties.Roles).has(roleId)).flatMap(([, p]) => asArray<any>(p.Properties.PolicyDocument.Statement));
  const roleOf = (fnLogicalId: string) => [...references(json.Resources[fnLogicalId]!.Properties.Role)][0]!;

  it('is declared for the media bucket under slides/, and slides-api signs its URLs', () => {
    expect(def).toMatchObject({ bucket: 'media', prefix: 'slides/' });
    expect(topology.functions.filter((f) => f.uses.cdns?.includes('slides')).map((f) => f.name)).toEqual(['slides-api']);
  });

  it('one distribution in the foundation, reading the media bucket through origin access control under slides/ only', () => {
    const [distributionId, d] = distribution();
    const [origin] = d.Properties.DistributionConfig.Origins as any[];
    expect(d.Properties.DistributionConfig.Origins).toHaveLength(1);
    const media = logicalId('AWS::S3::Bucket', 'bucket', def.bucket);
    expect(origin.DomainName).toEqual(getAtt(media, 'RegionalDomainName'));
    const [oacId] = [...references(origin.OriginAccessControlId)];
    expect(json.Resources[oacId!]!.Properties.OriginAccessControlConfig).toMatchObject({ OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' });
    const policy = ofType('AWS::S3::BucketPolicy').find(([, p]) => references(p.Properties.Bucket).has(media))![1];
    const cloudfront = asArray<any>(policy.Properties.PolicyDocument.Statement).filter((st) => JSON.stringify(st.Principal ?? '').includes('cloudfront.amazonaws.com'));
    expect(cloudfront).toHaveLength(1);
    const [st] = cloudfront;
    expect(st.Effect).toBe('Allow');
    expect(asArray(st.Action)).toEqual(['s3:GetObject']);
    expect(st.Resource['Fn::Join'][1]).toEqual([getAtt(media, 'Arn'), `/${def.prefix}*`]);
    expect(references(st.Condition.StringEquals['AWS:SourceArn'])).toContain(distributionId);
  });

  it('serves only URLs signed with the key group of a key pair made at deploy time, over HTTPS, GET and HEAD', () => {
    const b = behavior();
    expect(b.ViewerProtocolPolicy).toBe('https-only');
    expect(b.AllowedMethods.sort()).toEqual(['GET', 'HEAD']);
    const [keyGroupId] = b.TrustedKeyGroups.map((g: unknown) => [...references(g)][0]);
    expect(b.TrustedKeyGroups).toHaveLength(1);
    const keyGroup = json.Resources[keyGroupId]!;
    expect(keyGroup.Type).toBe('AWS::CloudFront::KeyGroup');
    const [publicKeyId] = [...references(keyGroup.Properties.KeyGroupConfig.Items)];
    const publicKey = json.Resources[publicKeyId!]!;
    expect(publicKey.Type).toBe('AWS::CloudFront::PublicKey');
    // the public key is the custom resource's answer; the custom resource is given the secret to put the private key in
    const encoded = publicKey.Properties.PublicKeyConfig.EncodedKey['Fn::GetAtt'];
    expect(encoded[1]).toBe('PublicKey');
    const keyPair = json.Resources[encoded[0]]!;
    expect(keyPair.Type).toBe('Custom::CdnKeyPair');
    expect(keyPair.Properties.SecretId).toEqual(ref(secretId()));
  });

  it('the key pair: a Node 22 function behind the provider framework that may only read and write its secret', () => {
    const keyPair = one('Custom::CdnKeyPair')[1];
    const frameworkId = [...references(keyPair.Properties.ServiceToken)][0]!;
    const framework = json.Resources[frameworkId]!;
    expect(framework.Type).toBe('AWS::Lambda::Function');
    const userFunction = JSON.parse(JSON.stringify(framework.Properties.Environment.Variables.USER_ON_EVENT_FUNCTION_ARN));
    const [handlerId] = [...references(userFunction)];
    const handler = json.Resources[handlerId!]!;
    expect(handler.Properties.Runtime).toBe('nodejs22.x');
    expect(handler.Properties.Code.ZipFile).toContain("generateKeyPairSync('rsa', { modulusLength: 2048");
    const statements = rolePolicies(roleOf(handlerId!)).filter((st) => asArray<string>(st.Action).some((a) => !a.startsWith('xray:')));
    expect(statements).toEqual([expect.objectContaining({ Action: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'], Resource: ref(secretId()) })]);
  });

  it('caches each object by its path alone for the declared time, and answers CORS GETs from any origin without credentials', () => {
    const b = behavior();
    const cache = json.Resources[[...references(b.CachePolicyId)][0]!]!.Properties.CachePolicyConfig;
    expect(cache.DefaultTTL).toBe(def.cacheSeconds);
    expect(cache.MaxTTL).toBe(def.cacheSeconds);
    expect(cache.ParametersInCacheKeyAndForwardedToOrigin).toMatchObject({
      QueryStringsConfig: { QueryStringBehavior: 'none' }, HeadersConfig: { HeaderBehavior: 'none' }, CookiesConfig: { CookieBehavior: 'none' },
    });
    const headers = json.Resources[[...references(b.ResponseHeadersPolicyId)][0]!]!.Properties.ResponseHeadersPolicyConfig;
    expect(headers.CorsConfig).toEqual({
      AccessControlAllowCredentials: false,
      AccessControlAllowHeaders: { Items: ['*'] },
      AccessControlAllowMethods: { Items: ['GET', 'HEAD'] },
      AccessControlAllowOrigins: { Items: ['*'] },
      AccessControlMaxAgeSec: def.cors.maxAgeSeconds,
      OriginOverride: true,
    });
    // content types are the objects' own: nothing overrides them, and browsers may not sniff others
    expect(JSON.stringify(headers)).not.toMatch(/content-type"/i);
    expect(headers.SecurityHeadersConfig.ContentTypeOptions).toEqual({ Override: true });
  });

  it("slides-api finds the domain, key pair and secret in its environment and may read that secret only; no other function may", () => {
    const [distributionId] = distribution();
    const publicKeyId = one('AWS::CloudFront::PublicKey')[0];
    for (const f of topology.functions) {
      const env = json.Resources[fnId(f.name)]!.Properties.Environment.Variables;
      const names = cdnEnv('slides');
      if (f.uses.cdns?.includes('slides')) {
        expect(env[names.domain], f.name).toEqual(getAtt(distributionId, 'DomainName'));
        expect(env[names.keyPairId], f.name).toEqual(ref(publicKeyId));
        expect(env[names.keySecretId], f.name).toEqual(ref(secretId()));
        expect(env[names.signedUrlSeconds], f.name).toBe(String(def.signedUrlSeconds));
      } else {
        expect(Object.keys(env).filter((k) => k.startsWith('CDN_')), f.name).toEqual([]);
      }
      const onSecret = rolePolicies(roleOf(fnId(f.name))).filter((st) => references(st.Resource).has(secretId()));
      if (f.uses.cdns?.includes('slides')) {
        expect(onSecret.flatMap((st) => asArray<string>(st.Action)).sort(), f.name).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
      } else expect(onSecret, f.name).toEqual([]);
    }
  });

  it("the console's Content-Security-Policy admits the CDN's origin beside the media bucket's", () => {
    const consolePolicy = ofType('AWS::CloudFront::ResponseHeadersPolicy').find(([id]) => id.startsWith(`${physicalName(deployment, 'console')}/`))![1];
    const csp = JSON.stringify(consolePolicy.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy);
    expect(csp).toContain(JSON.stringify(getAtt(distribution()[0], 'DomainName')));
  });
});

describe('dashboard', () => {
  type DashboardMetric = { namespace: string; name: string; dimensions: Record<string, string> } | { expression: string };
  /** The dashboard's widgets, each reference in the body written as `<<logicalId>>`. */
  const dashboard = () => {
    const found = ofType('AWS::CloudWatch::Dashboard');
    expect(found).toHaveLength(1);
    const [, d] = found[0]!;
    const body = d.Properties.DashboardBody['Fn::Join'][1]
      .map((part: any) => (typeof part === 'string' ? part : `<<${[...references(part)][0]}>>`)).join('');
    return { name: d.Properties.DashboardName as string, widgets: JSON.parse(body).widgets as any[] };
  };
  const metricsOf = (widget: any): DashboardMetric[] =>
    asArray<any>(widget.properties.metrics).map((m: any[]) => {
      if (typeof m[0] === 'object') return { expression: m[0].expression };
      const plain = m.filter((x) => typeof x === 'string');
      const dimensions: Record<string, string> = {};
      for (let i = 2; i + 1 < plain.length; i += 2) dimensions[plain[i]!] = plain[i + 1]!;
      return { namespace: plain[0]!, name: plain[1]!, dimensions };
    });
  /** The resource type each dimension must name, and the metrics each namespace publishes that the dashboard may show. */
  const DIMENSION_TYPES: Record<string, Record<string, string>> = {
    'AWS/ApiGateway': { ApiId: 'AWS::ApiGatewayV2::Api' },
    'AWS/SQS': { QueueName: 'AWS::SQS::Queue' },
    'AWS/RDS': { DBClusterIdentifier: 'AWS::RDS::DBCluster', ProxyName: 'AWS::RDS::DBProxy' },
    'AWS/DocDB': { DBClusterIdentifier: 'AWS::DocDB::DBCluster' },
  };
  const KNOWN: Record<string, string[]> = {
    'AWS/ApiGateway': ['Count', '4xx', '5xx', 'Latency', 'IntegrationLatency'],
    'AWS/SQS': ['ApproximateNumberOfMessagesVisible', 'ApproximateAgeOfOldestMessage'],
    'AWS/RDS': ['ServerlessDatabaseCapacity', 'CPUUtilization', 'ClientConnections', 'DatabaseConnections', 'MaxDatabaseConnectionsAllowed'],
    'AWS/States': ['ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed', 'ExecutionsTimedOut'],
    'AWS/Lambda': ['Errors', 'Throttles', 'Duration', 'ConcurrentExecutions'],
    'AWS/DocDB': ['CPUUtilization', 'DatabaseConnections'],
  };

  it('one dashboard per stage, named framewise-<stage>, in the foundation stack', () => {
    expect(dashboard().name).toBe(`framewise-${deployment.stage}`);
    expect(ofType('AWS::CloudWatch::Dashboard')[0]![0].startsWith(`${physicalName(deployment, 'foundation')}/`)).toBe(true);
  });

  it('every graphed metric is one its namespace publishes, on a resource of the stage', () => {
    const metrics = dashboard().widgets.filter((w) => w.type === 'metric').flatMap(metricsOf);
    expect(metrics.length).toBeGreaterThan(20);
    for (const m of metrics) {
      if ('expression' in m) {
        const [, namespace, name] = /\{(AWS\/\w+),\w+\} MetricName="(\w+)" framewise-test\b/.exec(m.expression) ?? [];
        expect(KNOWN[namespace!], m.expression).toContain(name);
        continue;
      }
      expect(KNOWN[m.namespace], m.namespace).toContain(m.name);
      expect(Object.keys(m.dimensions), m.name).toHaveLength(1);
      for (const [dimension, value] of Object.entries(m.dimensions)) {
        const id = /^<<(.+)>>$/.exec(value)?.[1];
        expect(json.Resources[id!]?.Type, `${m.namespace} ${m.name} ${dimension}=${value}`).toBe(DIMENSION_TYPES[m.namespace]?.[dimension]);
      }
    }
  });

  it('graphs the API, every queue and DLQ, the state machines, the functions, Aurora and the proxy', () => {
    const metrics = dashboard().widgets.filter((w) => w.type === 'metric').flatMap(metricsOf);
    const on = (name: string, id?: string) => metrics.some((m) => 'name' in m && m.name === name && (id === undefined || Object.values(m.dimensions).includes(`<<${id}>>`)));
    const searched = (namespace: string, name: string) => metrics.some((m) => 'expression' in m && m.expression.includes(`{${namespace},`) && m.expression.includes(`MetricName="${name}"`));
    for (const name of ['Count', '4xx', '5xx', 'Latency']) expect(on(name), name).toBe(true);
    for (const def of topology.queues) {
      const queue = logicalId('AWS::SQS::Queue', 'queue', def.name);
      expect(on('ApproximateNumberOfMessagesVisible', queue), def.name).toBe(true);
      expect(on('ApproximateAgeOfOldestMessage', queue), def.name).toBe(true);
      expect(on('ApproximateNumberOfMessagesVisible', logicalId('AWS::SQS::Queue', 'dlq', def.name)), dlqName(def.name)).toBe(true);
    }
    expect(searched('AWS/SQS', 'ApproximateNumberOfMessagesVisible'), 'async-failures queues').toBe(true);
    for (const name of ['ExecutionsStarted', 'ExecutionsSucceeded', 'ExecutionsFailed']) expect(searched('AWS/States', name), name).toBe(true);
    for (const name of ['Errors', 'Throttles', 'Duration']) expect(searched('AWS/Lambda', name), name).toBe(true);
    for (const name of ['ServerlessDatabaseCapacity', 'CPUUtilization', 'DatabaseConnections']) expect(on(name), name).toBe(true);
    expect(on('CPUUtilization', ofType('AWS::DocDB::DBCluster')[0]![0]), 'DocumentDB CPU').toBe(true);
  });
});

describe('logs', () => {
  it('every log group has the topology retention', () => {
    const groups = ofType('AWS::Logs::LogGroup');
    expect(groups.length).toBeGreaterThanOrEqual(topology.functions.length + topology.stateMachines.length + 1);
    for (const [id, g] of groups) expect(g.Properties.RetentionInDays, id).toBe(topology.settings.logRetentionDays);
  });
});

describe('IAM', () => {
  const wildcardAction = (a: string) => a === '*' || /^[A-Za-z0-9-]+:\*$/.test(a);

  it('no statement allows "*" or "service:*" on Resource "*"', () => {
    const statements = allowStatements();
    expect(statements.length).toBeGreaterThan(0);
    for (const { where, s } of statements) {
      const resources = asArray<unknown>(s.Resource);
      const actions = asArray<string>(s.Action);
      if (resources.includes('*')) expect(actions.filter(wildcardAction), `${where}: ${JSON.stringify(actions)} on *`).toEqual([]);
      expect(actions, where).not.toContain('*');
      expect(s.NotAction, where).toBeUndefined();
    }
  });

  it('no role carries an administrator-style managed policy', () => {
    for (const [id, r] of ofType('AWS::IAM::Role')) {
      expect(JSON.stringify(r.Properties.ManagedPolicyArns ?? []), id).not.toMatch(/AdministratorAccess|PowerUserAccess|FullAccess/);
    }
  });
});

// ---- guards and a second topology: the constructs follow whatever the topology declares ----

describe('synth-time guards', () => {
  it('every ${...} placeholder of an ASL file must be substituted', () => {
    const asl = JSON.stringify({ StartAt: 'A', States: { A: { Type: 'Task', Resource: '${AFunctionArn}', Next: 'B' }, B: { Type: 'Task', Resource: '${BFunctionArn}', End: true } } });
    expect(aslPlaceholders(asl)).toEqual(['AFunctionArn', 'BFunctionArn']);
    expect(() => checkSubstitutions('x', asl, { AFunctionArn: 'arn' })).toThrow(/\$\{BFunctionArn\}/);
    expect(() => checkSubstitutions('x', asl, { AFunctionArn: 'a', BFunctionArn: 'b', CFunctionArn: 'c' })).toThrow(/CFunctionArn/);
    expect(() => checkSubstitutions('x', asl, { AFunctionArn: 'a', BFunctionArn: 'b' })).not.toThrow();
  });

  it('the synthesized definition of each state machine names exactly the placeholders of its file', () => {
    for (const def of topology.stateMachines) {
      const asl = readFileSync(path.join(PROJECT_ROOT, def.definitionFile), 'utf8');
      expect(new Set(aslPlaceholders(asl))).toEqual(new Set(def.functions.map(functionArnPlaceholder)));
    }
  });

  it('schedule rates must agree with everySeconds; retention must be a CloudWatch value', () => {
    expect(rateSeconds('rate(5 minutes)')).toBe(300);
    expect(rateSeconds('rate(1 hour)')).toBe(3600);
    expect(rateSeconds('cron(0 3 * * ? *)')).toBeUndefined();
    expect(() => logRetention({ ...topology, settings: { ...topology.settings, logRetentionDays: 31 } })).toThrow(/31/);
  });
});

describe('another topology', () => {
  const variant: Topology = {
    ...topology,
    buckets: [
      ...topology.buckets,
      { name: 'archive', purpose: 'test', notifications: [], browserUploads: false },
    ],
    tables: [
      ...topology.tables,
      { name: 'sessions', purpose: 'test', partitionKey: 'pk', sortKey: 'sk', ttlAttribute: 'expiresAt', indexes: [] },
    ],
    queues: [...topology.queues, { name: 'thumbnails', purpose: 'test', visibilityTimeoutSeconds: 120, maxReceiveCount: 3 }],
    functions: [
      ...topology.functions,
      {
        name: 'archive-worker',
        purpose: 'test',
        entry: 'functions/jobs/sweeper.ts', // any existing handler: bundling is skipped here
        memoryMb: 128,
        timeoutSeconds: 10,
        layers: [],
        triggers: [{ kind: 'queue', queue: 'thumbnails', batchSize: 5, maxConcurrency: 3 }],
        uses: { buckets: [{ name: 'archive', access: 'write', prefixes: ['archive/'] }], tables: [{ name: 'sessions', access: 'read' }], queues: ['video-ingest'], mongodb: true },
      },
    ],
  };
  let v: { Resources: Resources };
  const vOfType = (type: string) => Object.entries(v.Resources).filter(([, r]) => r.Type === type);

  beforeAll(() => {
    const app = new App({ context: { ...cdkContext(), 'aws:cdk:bundling-stacks': [], 'aws:cdk:disable-asset-staging': true } });
    v = asOneTemplate(synthesize(app, framewiseStage(app, { stage: 'variant', topology: variant })));
  }, 120_000);

  it('materializes the added bucket, table, queue + DLQ, function and trigger', () => {
    expect(vOfType('AWS::S3::Bucket').filter(([, b]) => tagValue(b)?.startsWith('bucket:'))).toHaveLength(variant.buckets.length);
    expect(vOfType('AWS::DynamoDB::Table')).toHaveLength(variant.tables.length);
    expect(vOfType('AWS::SQS::Queue').filter(([, q]) => q.Properties.RedrivePolicy?.maxReceiveCount === 3)).toHaveLength(variant.queues.length);
    expect(vOfType('AWS::Lambda::Function').filter(([, f]) => tagValue(f)?.startsWith('function:'))).toHaveLength(variant.functions.length);
    const sessions = vOfType('AWS::DynamoDB::Table').find(([, t]) => t.Properties.TimeToLiveSpecification)?.[1];
    expect(sessions?.Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    const archive = vOfType('AWS::S3::Bucket').find(([, b]) => tagValue(b) === 'bucket:archive')![1];
    expect(archive.Properties.CorsConfiguration).toBeUndefined();
    const esm = vOfType('AWS::Lambda::EventSourceMapping').map(([, m]) => m.Properties);
    expect(esm).toContainEqual(expect.objectContaining({ BatchSize: 5, ScalingConfig: { MaximumConcurrency: 3 }, FunctionResponseTypes: ['ReportBatchItemFailures'] }));
  });

  it('grants the new function exactly its declared access', () => {
    const [fnLogicalId, fn] = vOfType('AWS::Lambda::Function').find(([, f]) => tagValue(f) === 'function:archive-worker')!;
    const env = fn.Properties.Environment.Variables;
    expect(Object.keys(env)).toEqual(expect.arrayContaining([bucketEnv('archive'), tableEnv('sessions'), queueEnv('video-ingest'), 'MONGODB_SECRET_ARN', 'MONGODB_DATABASE']));
    expect(fn.Properties.VpcConfig, 'a MongoDB user runs in the VPC').toBeDefined();
    const roleId = [...references(fn.Properties.Role)][0]!;
    const actions = vOfType('AWS::IAM::Policy')
      .filter(([, p]) => references(p.Properties.Roles).has(roleId))
      .flatMap(([, p]) => asArray<any>(p.Properties.PolicyDocument.Statement))
      .flatMap((s) => asArray<string>(s.Action));
    expect(actions).toContain('s3:PutObject');
    expect(actions).not.toContain('s3:GetObject');
    expect(actions).toContain('dynamodb:GetItem');
    expect(actions).not.toContain('dynamodb:PutItem');
    expect(actions).toContain('sqs:SendMessage');
    expect(actions).toContain('secretsmanager:GetSecretValue');
    expect(actions.filter((a) => a.startsWith('states:'))).toEqual([]);
    expect(fnLogicalId).toBeDefined();
  });
});

describe('an external MongoDB (-c mongoSecretArn=...)', () => {
  const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:atlas/framewise-uri-AbCdEf';
  let e: { Resources: Resources; Outputs: Record<string, any> };
  const eOfType = (type: string) => Object.entries(e.Resources).filter(([, r]) => r.Type === type);

  beforeAll(() => {
    const app = new App({ context: { ...cdkContext(), mongoSecretArn: arn, 'aws:cdk:bundling-stacks': [], 'aws:cdk:disable-asset-staging': true } });
    e = asOneTemplate(synthesize(app, framewiseStage(app, { stage: 'external' })));
  }, 120_000);

  it('creates no DocumentDB and no MongoDB secret; functions read and may read only that secret', () => {
    expect(Object.values(e.Resources).filter((r) => r.Type.startsWith('AWS::DocDB::'))).toEqual([]);
    expect(eOfType('AWS::SecretsManager::Secret').filter(([, s]) => /mongo/i.test(s.Properties.Name ?? ''))).toEqual([]);
    expect(e.Outputs.MongoDbSecretArn.Value).toBe(arn);
    const users = topology.functions.filter((f) => f.uses.mongodb);
    expect(users.length).toBeGreaterThan(0);
    for (const def of users) {
      const [fnLogicalId, fn] = eOfType('AWS::Lambda::Function').find(([, f]) => tagValue(f) === topologyTagValue('function', def.name))!;
      expect(fn.Properties.Environment.Variables.MONGODB_SECRET_ARN, def.name).toBe(arn);
      const roleId = [...references(fn.Properties.Role)][0]!;
      const reads = eOfType('AWS::IAM::Policy')
        .filter(([, p]) => references(p.Properties.Roles).has(roleId))
        .flatMap(([, p]) => asArray<any>(p.Properties.PolicyDocument.Statement))
        .filter((st) => asArray<string>(st.Action).includes('secretsmanager:GetSecretValue'))
        .flatMap((st) => asArray<unknown>(st.Resource));
      expect(reads, `${def.name} (${fnLogicalId})`).toContain(arn);
    }
  });

  it('refuses a value that is not a complete secret ARN', () => {
    const app = new App({ context: { ...cdkContext(), mongoSecretArn: 'atlas/framewise-uri', 'aws:cdk:bundling-stacks': [], 'aws:cdk:disable-asset-staging': true } });
    expect(() => framewiseStage(app, { stage: 'bad' })).toThrow(/mongoSecretArn must be the complete ARN/);
  });
});
