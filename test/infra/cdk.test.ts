// Synthesizes the Framewise stack once and checks every resource the topology declares, by iterating the
// template (not one example) and comparing counts with the topology.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FramewiseStack } from '../../infra/cdk/stack.ts';
import { logRetention, PROJECT_ROOT, rateSeconds, stateMachineName, TOPOLOGY_TAG, topologyTagValue, type TopologyKind } from '../../infra/cdk/names.ts';
import { aslPlaceholders, checkSubstitutions } from '../../infra/cdk/workflows.ts';
import { SECRET_NOT_SET } from '../../functions/lib/aws.ts';
import {
  bucketEnv,
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

// esbuild bundles every function for real (a few seconds); FRAMEWISE_TEST_SKIP_BUNDLING=1 skips it
// (the `aws:cdk:bundling-stacks: []` context) for a quicker look at the template.
const BUNDLE = process.env.FRAMEWISE_TEST_SKIP_BUNDLING !== '1';

/** The context of cdk.json (feature flags), so that the test synthesizes what `cdk synth` does. */
const cdkContext = (): Record<string, unknown> => JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')).context;

let outdir: string;
let template: Template;
let json: { Resources: Resources; Outputs: Record<string, any> };

beforeAll(() => {
  outdir = mkdtempSync(path.join(tmpdir(), 'framewise-cdk-test-'));
  const app = new App({
    outdir,
    context: {
      ...cdkContext(),
      ...(BUNDLE ? {} : { 'aws:cdk:bundling-stacks': [] }),
      // reference assets in place instead of copying them (the ffmpeg layer is ~150 MB)
      'aws:cdk:disable-asset-staging': true,
      // each function names its bundle's folder (aws:asset:path), to look inside
      'aws:cdk:enable-asset-metadata': true,
    },
  });
  const stack = new FramewiseStack(app, 'Framewise');
  template = Template.fromStack(stack);
  json = template.toJSON() as typeof json;
}, 120_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

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

  it('CORS for PUT exactly on buckets with browser uploads', () => {
    for (const def of topology.buckets) {
      const b = json.Resources[logicalId('AWS::S3::Bucket', 'bucket', def.name)]!;
      const rules = b.Properties.CorsConfiguration?.CorsRules ?? [];
      if (def.browserUploads) expect(rules.some((r: any) => r.AllowedMethods.includes('PUT')), def.name).toBe(true);
      else expect(rules, def.name).toEqual([]);
    }
  });

  it('an OBJECT_CREATED notification into its queue per topology notification', () => {
    const notifications = ofType('Custom::S3BucketNotifications');
    for (const def of topology.buckets) {
      const bucketId = logicalId('AWS::S3::Bucket', 'bucket', def.name);
      const configs = notifications
        .filter(([, n]) => references(n.Properties.BucketName).has(bucketId))
        .flatMap(([, n]) => asArray<any>(n.Properties.NotificationConfiguration?.QueueConfigurations));
      expect(configs, def.name).toHaveLength(def.notifications.length);
      for (const n of def.notifications) {
        expect(configs).toContainEqual({
          Events: ['s3:ObjectCreated:*'],
          Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: n.prefix }] } },
          QueueArn: getAtt(logicalId('AWS::SQS::Queue', 'queue', n.queue), 'Arn'),
        });
      }
    }
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
      if (BUNDLE) expect(p.Handler, def.name).toBe('index.handler');
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
      for (const sm of def.uses.stateMachines ?? []) expect(JSON.stringify(env[stateMachineEnv(sm)])).toContain(`:stateMachine:${stateMachineName(topology, sm)}`);
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

  it('postgres users run in the private subnets and may reach the RDS Proxy; others run outside the VPC', () => {
    const [proxyId] = ofType('AWS::RDS::DBProxy')[0]!;
    const proxySgs = references(json.Resources[proxyId]!.Properties.VpcSecurityGroupIds);
    const ingress = ofType('AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties);
    for (const def of topology.functions) {
      const vpc = json.Resources[fnId(def.name)]!.Properties.VpcConfig;
      if (!def.uses.postgres) {
        expect(vpc, def.name).toBeUndefined();
        continue;
      }
      for (const subnet of references(vpc.SubnetIds)) expect(subnet, def.name).toMatch(/private/i);
      const fnSgs = references(vpc.SecurityGroupIds);
      const allowed = ingress.some((i) => [...references(i.GroupId)].some((g) => proxySgs.has(g)) &&
        [...references(i.SourceSecurityGroupId)].some((g) => fnSgs.has(g)) && i.FromPort === 5432);
      expect(allowed, `${def.name} -> proxy`).toBe(true);
    }
  });

  it('the ffmpeg layer is attached exactly to the functions declaring it, with its binary paths', () => {
    const layers = ofType('AWS::Lambda::LayerVersion');
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

  it.runIf(BUNDLE)('each function is bundled by esbuild as an ESM index.mjs with the createRequire banner', () => {
    const bundles = readdirSync(outdir).filter((d) => d.startsWith('asset.') && existsSync(path.join(outdir, d, 'index.mjs')));
    expect(bundles.length).toBeGreaterThanOrEqual(topology.functions.length > 0 ? 1 : 0);
    for (const d of bundles) expect(readFileSync(path.join(outdir, d, 'index.mjs'), 'utf8').startsWith('import { createRequire as __fwCreateRequire }')).toBe(true);
  });
});

// ---- Step Functions ----

describe('state machines', () => {
  it('one per topology state machine, named, every placeholder substituted by the ARN of its function', () => {
    expect(tagged('AWS::StepFunctions::StateMachine', 'state-machine')).toHaveLength(topology.stateMachines.length);
    expect(ofType('AWS::StepFunctions::StateMachine')).toHaveLength(topology.stateMachines.length);
    for (const def of topology.stateMachines) {
      const p = json.Resources[logicalId('AWS::StepFunctions::StateMachine', 'state-machine', def.name)]!.Properties;
      expect(p.StateMachineName).toBe(stateMachineName(topology, def.name));
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
        expect(resources).toContain(`:stateMachine:${stateMachineName(topology, sm)}`);
        expect(resources).toContain(`:execution:${stateMachineName(topology, sm)}:*`);
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
    expect(actions).toContain('s3:GetObject*');
    expect(actions.filter((a) => /^s3:(Put|Delete|Abort)/.test(a))).toEqual([]);
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']));
    const jobs = logicalId('AWS::DynamoDB::Table', 'table', 'jobs');
    for (const s of statements.filter((x) => asArray<string>(x.Action).some((a) => a.startsWith('dynamodb:')))) {
      expect([...references(s.Resource)].every((id) => id === jobs), JSON.stringify(s.Resource)).toBe(true);
    }
    const states = JSON.stringify(statements.filter((s) => asArray<string>(s.Action).some((a) => a.startsWith('states:'))).map((s) => s.Resource));
    expect(states).toContain(`:stateMachine:${stateMachineName(topology, 'video-ingest')}`);
    for (const other of topology.stateMachines.filter((m) => m.name !== 'video-ingest')) {
      expect(states).not.toContain(`:stateMachine:${stateMachineName(topology, other.name)}"`);
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
    expect(actions).toContain('s3:GetObject*');
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

  it('secrets: generated PostgreSQL credentials and the MongoDB URI placeholder, both output', () => {
    const secrets = ofType('AWS::SecretsManager::Secret');
    const mongo = secrets.filter(([, s]) => s.Properties.Name === 'framewise/mongodb-uri');
    expect(mongo).toHaveLength(1);
    expect(mongo[0]![1].Properties.GenerateSecretString).toBeDefined();
    expect(secrets.length).toBeGreaterThanOrEqual(2);
    // The topology's secrets start as a fixed text their function recognizes; every other secret is generated.
    const topologyNames = topology.secrets.map((d) => secretName('dev', d.name));
    for (const [, s] of secrets.filter(([, x]) => !topologyNames.includes(x.Properties.Name))) {
      expect(s.Properties.GenerateSecretString, 'no literal secret values').toBeDefined();
    }
    expect(references(json.Outputs.MongoDbUriSecretArn.Value).has(mongo[0]![0])).toBe(true);
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
    const found = ofType('AWS::SecretsManager::Secret').filter(([, s]) => s.Properties.Name === secretName('dev', name));
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

  it('a trigger runs each deploy function when its version changes, after the database and before the API', () => {
    expect(deployFunctions.map((f) => f.name)).toEqual(['platform-bootstrap']);
    const triggers = ofType('Custom::Trigger');
    expect(triggers).toHaveLength(deployFunctions.length);
    const [clusterId] = ofType('AWS::RDS::DBCluster')[0]!;
    const [proxyId] = ofType('AWS::RDS::DBProxy')[0]!;
    const [apiId, api] = ofType('AWS::ApiGatewayV2::Api')[0]!;
    for (const def of deployFunctions) {
      const versions = ofType('AWS::Lambda::Version').filter(([, v]) => references(v.Properties.FunctionName).has(fnId(def.name)));
      expect(versions, def.name).toHaveLength(1);
      const [triggerId, trigger] = triggers.find(([, t]) => references(t.Properties.HandlerArn).has(versions[0]![0]))!;
      expect(trigger.Properties.ExecuteOnHandlerChange).toBe(true);
      expect(trigger.Properties.InvocationType).toBe('RequestResponse');
      expect(trigger.Properties.Timeout).toBe(String(def.timeoutSeconds * 1000));
      expect((trigger as any).DependsOn).toEqual(expect.arrayContaining([clusterId, proxyId]));
      expect(asArray((api as any).DependsOn), apiId).toContain(triggerId);
    }
  });

  it('ships the migrations beside the bootstrap code and tells it where', () => {
    const def = deployFunctions[0]!;
    expect(def.bundledFolders).toEqual(['migrations']);
    const fn = json.Resources[fnId(def.name)] as Resource & { Metadata?: Record<string, string> };
    expect(fn.Properties.Environment.Variables[folderEnv('migrations')]).toBe('/var/task/migrations');
    if (!BUNDLE) return;
    const bundle = fn.Metadata!['aws:asset:path']!;
    expect(readdirSync(path.join(bundle, 'migrations')).sort()).toEqual(readdirSync(path.join(PROJECT_ROOT, 'migrations')).filter((f) => f.endsWith('.sql')).sort());
    expect(existsSync(path.join(bundle, 'index.mjs'))).toBe(true);
  });
});

// ---- operations ----

describe('alarms', () => {
  const alarms = () => ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
  const topicId = () => {
    const topics = ofType('AWS::SNS::Topic').filter(([, t]) => t.Properties.TopicName === 'framewise-alarms');
    expect(topics).toHaveLength(1);
    return topics[0]![0];
  };
  const alarmOn = (metric: string, dimension: string, id: string) =>
    alarms().filter((a) => a.MetricName === metric && asArray<any>(a.Dimensions).some((d) => d.Name === dimension && references(d.Value).has(id)));
  const expectAlarm = (found: any[], what: string) => {
    expect(found, what).toHaveLength(1);
    expect(found[0].Threshold, what).toBe(1);
    expect(found[0].ComparisonOperator, what).toBe('GreaterThanOrEqualToThreshold');
    expect(found[0].AlarmActions, what).toEqual([ref(topicId())]);
  };

  it('the alarm topic is encrypted', () => {
    const topic = json.Resources[topicId()]!.Properties;
    expect(topic.KmsMasterKeyId).toBeDefined();
  });

  it('every dead-letter queue', () => {
    const dlqs = ofType('AWS::SQS::Queue').filter(([id]) =>
      ofType('AWS::SQS::Queue').some(([, q]) => references(q.Properties.RedrivePolicy).has(id)) || tagValue(json.Resources[id]!)?.startsWith('dlq:'));
    expect(dlqs).toHaveLength(topology.queues.length);
    for (const [id] of dlqs) expectAlarm(alarmOn('ApproximateNumberOfMessagesVisible', 'QueueName', id), id);
    // and every queue used as an EventBridge or Lambda async dead letter
    for (const [, rule] of ofType('AWS::Events::Rule')) {
      for (const t of asArray<any>(rule.Properties.Targets)) {
        for (const id of references(t.DeadLetterConfig?.Arn)) expectAlarm(alarmOn('ApproximateNumberOfMessagesVisible', 'QueueName', id), id);
      }
    }
  });

  it('every state machine: executions failed and timed out', () => {
    for (const def of topology.stateMachines) {
      const id = logicalId('AWS::StepFunctions::StateMachine', 'state-machine', def.name);
      expectAlarm(alarmOn('ExecutionsFailed', 'StateMachineArn', id), `${def.name} failed`);
      expectAlarm(alarmOn('ExecutionsTimedOut', 'StateMachineArn', id), `${def.name} timed out`);
    }
  });

  it('every function: errors over 5 minutes', () => {
    for (const def of topology.functions) {
      const found = alarmOn('Errors', 'FunctionName', fnId(def.name));
      expectAlarm(found, def.name);
      expect(found[0].Period).toBe(300);
    }
  });

  it('the API: 5xx', () => {
    const apiId = ofType('AWS::ApiGatewayV2::Api')[0]![0];
    expectAlarm(alarmOn('5xx', 'ApiId', apiId), 'api 5xx');
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
    v = Template.fromStack(new FramewiseStack(app, 'Variant', { topology: variant })).toJSON() as typeof v;
  }, 120_000);

  it('materializes the added bucket, table, queue + DLQ, function and trigger', () => {
    expect(vOfType('AWS::S3::Bucket')).toHaveLength(variant.buckets.length);
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
    expect(fn.Properties.VpcConfig).toBeUndefined();
    const roleId = [...references(fn.Properties.Role)][0]!;
    const actions = vOfType('AWS::IAM::Policy')
      .filter(([, p]) => references(p.Properties.Roles).has(roleId))
      .flatMap(([, p]) => asArray<any>(p.Properties.PolicyDocument.Statement))
      .flatMap((s) => asArray<string>(s.Action));
    expect(actions).toContain('s3:PutObject');
    expect(actions).not.toContain('s3:GetObject*');
    expect(actions).toContain('dynamodb:GetItem');
    expect(actions).not.toContain('dynamodb:PutItem');
    expect(actions).toContain('sqs:SendMessage');
    expect(actions).toContain('secretsmanager:GetSecretValue');
    expect(actions.filter((a) => a.startsWith('states:'))).toEqual([]);
    expect(fnLogicalId).toBeDefined();
  });
});
