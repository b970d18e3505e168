// Lambda: one NodejsFunction per topology function (esbuild, locally, ESM), with its log group, layers,
// environment (resource names through the topology's env helpers), least-privilege grants and queue triggers.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { ArnFormat, Duration, Stack, Tags, Validations } from 'aws-cdk-lib';
import { SubnetType } from 'aws-cdk-lib/aws-ec2';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Architecture, Function as LambdaFunction, Tracing } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  bucketEnv,
  queueEnv,
  stateMachineEnv,
  tableEnv,
  type Access,
  type BucketUse,
  type FunctionDef,
  type Topology,
} from '../topology.ts';
import type { Foundation } from './foundation.ts';
import { LAYER_ENVIRONMENT } from './ffmpeg-layer.ts';
import { escapeRegExp, intendWildcards } from './nag.ts';
import { lambdaRuntime, logRetention, pascal, PROJECT_ROOT, stateMachineName, TOPOLOGY_TAG, topologyTagValue, type Deployment } from './names.ts';

/**
 * esbuild options for every function: local esbuild (no Docker), ESM output for Node 22, minified with
 * source maps. The banner gives ESM bundles a `require` for the CommonJS dependencies that call it.
 */
export const BUNDLING: BundlingOptions = {
  forceDockerBundling: false,
  format: OutputFormat.ESM,
  target: 'node22',
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  banner: "import { createRequire as __fwCreateRequire } from 'node:module'; const require = __fwCreateRequire(import.meta.url);",
  // The AWS SDK v3 is bundled (pinned by package-lock) rather than taken from the runtime. Listed here are
  // only optional native/peer modules of pg and mongodb that the functions never load.
  externalModules: ['pg-native', 'kerberos', '@mongodb-js/zstd', 'snappy', 'mongodb-client-encryption', 'gcp-metadata', 'socks', '@aws-sdk/credential-providers'],
};

/** Actions a function gets on the state machines it declares (on the machine, and on its executions). */
export const STATE_MACHINE_ACTIONS = {
  stateMachine: ['states:StartExecution', 'states:ListExecutions'],
  execution: ['states:DescribeExecution', 'states:StopExecution'],
} as const;

/** Upload settings of the topology, as functions/lib/config.ts reads them (the local cloud sets the same). */
export const uploadSettingsEnvironment = (t: Topology): Record<string, string> => ({
  PRESIGNED_URL_SECONDS: String(t.settings.presignedUrlSeconds),
  MULTIPART_THRESHOLD_BYTES: String(t.settings.multipartThresholdBytes),
  MULTIPART_PART_BYTES: String(t.settings.multipartPartBytes),
  MAX_UPLOAD_BYTES: String(t.settings.maxUploadBytes),
});

/** Functions that reach PostgreSQL or MongoDB run in the VPC. */
export const inVpc = (def: FunctionDef): boolean => !!(def.uses.postgres || def.uses.mongodb);

export interface TopologyFunction {
  readonly def: FunctionDef;
  readonly fn: LambdaFunction;
  readonly logGroup: LogGroup;
}

export interface FunctionsProps {
  readonly deployment: Deployment;
  /** The functions to create here: those of one context. */
  readonly defs: readonly FunctionDef[];
  readonly foundation: Foundation;
  /** Where failed asynchronous invocations of these functions land. */
  readonly asyncFailures: IQueue;
}

/**
 * S3 actions of a bucket use, on the objects under its prefixes. Reading includes listing under them (without
 * it S3 answers 403 instead of 404 for a missing key); writing includes multipart uploads. No DeleteObject.
 */
export const BUCKET_ACTIONS: Record<Access, readonly string[]> = {
  read: ['s3:GetObject'],
  write: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
  readwrite: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
};

/** The IAM statements of one bucket use: object actions under its prefixes, and listing them when it reads. */
export function bucketUseStatements(use: BucketUse, bucketArn: string): PolicyStatement[] {
  if (use.prefixes.length === 0) throw new Error(`bucket use of ${use.name} names no prefix`);
  const statements = [new PolicyStatement({ actions: [...BUCKET_ACTIONS[use.access]], resources: use.prefixes.map((p) => `${bucketArn}/${p}*`) })];
  if (use.access !== 'write') {
    statements.push(new PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [bucketArn],
      conditions: { StringLike: { 's3:prefix': use.prefixes.map((p) => `${p}*`) } },
    }));
  }
  return statements;
}

export class Functions extends Construct {
  readonly byName = new Map<string, TopologyFunction>();

  constructor(scope: Construct, id: string, props: FunctionsProps) {
    super(scope, id);
    for (const def of props.defs) this.byName.set(def.name, this.createFunction(def, props));
  }

  get(name: string): TopologyFunction {
    const f = this.byName.get(name);
    if (!f) throw new Error(`no function named ${name} in the topology`);
    return f;
  }

  private createFunction(def: FunctionDef, props: FunctionsProps): TopologyFunction {
    const { deployment, foundation } = props;
    const { topology } = deployment;
    const { database } = foundation;
    const stack = Stack.of(this);
    const id = pascal(def.name);
    const logGroup = new LogGroup(this, `${id}Logs`, { retention: logRetention(topology) });

    const environment: Record<string, string> = {
      POWERTOOLS_SERVICE_NAME: topology.app,
      NODE_OPTIONS: '--enable-source-maps',
    };
    const layers = def.layers.map((name) => {
      const layer = foundation.layers.get(name);
      if (!layer) throw new Error(`function ${def.name} uses layer ${name}, which was not built`);
      Object.assign(environment, LAYER_ENVIRONMENT[name]);
      return layer;
    });
    for (const b of def.uses.buckets ?? []) environment[bucketEnv(b.name)] = foundation.storage.get(b.name).bucketName;
    if ((def.uses.buckets ?? []).length > 0) Object.assign(environment, uploadSettingsEnvironment(topology));
    for (const t of def.uses.tables ?? []) environment[tableEnv(t.name)] = foundation.tables.get(t.name).tableName;
    for (const q of def.uses.queues ?? []) environment[queueEnv(q)] = foundation.queues.get(q).queue.queueUrl;
    const stateMachineArns = (def.uses.stateMachines ?? []).map((sm) => {
      const name = stateMachineName(deployment, sm);
      if (!topology.stateMachines.some((s) => s.name === sm)) throw new Error(`function ${def.name} uses unknown state machine ${sm}`);
      const arn = stack.formatArn({ service: 'states', resource: 'stateMachine', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
      const executions = stack.formatArn({ service: 'states', resource: 'execution', resourceName: `${name}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
      environment[stateMachineEnv(sm)] = arn;
      return { arn, executions };
    });
    if (def.uses.postgres) {
      environment.DATABASE_SECRET_ARN = database.postgresSecret.secretArn;
      environment.DATABASE_HOST = database.proxy.endpoint;
      environment.DATABASE_NAME = database.databaseName;
    }
    if (def.uses.mongodb) Object.assign(environment, database.mongo.environment());

    const common = {
      description: def.purpose,
      runtime: lambdaRuntime(topology),
      architecture: Architecture.X86_64,
      memorySize: def.memoryMb,
      ...(def.reservedConcurrency !== undefined && { reservedConcurrentExecutions: def.reservedConcurrency }),
      timeout: Duration.seconds(def.timeoutSeconds),
      logGroup,
      tracing: Tracing.ACTIVE,
      environment,
      layers,
      // Only functions that talk to the databases run in the VPC (private subnets, through the NAT for AWS APIs), all
      // in the one security group the databases admit.
      ...(inVpc(def)
        ? { vpc: foundation.vpc, vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS }, securityGroups: [foundation.functionSecurityGroup] }
        : {}),
      // Failed asynchronous invocations (EventBridge schedules, manual async invokes) land in a queue.
      onFailure: new SqsDestination(props.asyncFailures),
      retryAttempts: 2,
    };
    const entry = path.join(PROJECT_ROOT, def.entry);
    if (!existsSync(entry)) throw new Error(`entry ${def.entry} of function ${def.name} does not exist`);
    const fn = new NodejsFunction(this, id, {
      ...common,
      entry,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      bundling: BUNDLING,
    });
    Tags.of(fn).add(TOPOLOGY_TAG, topologyTagValue('function', def.name), { includeResourceTypes: ['AWS::Lambda::Function'] });

    // ---- least-privilege grants, exactly what the topology declares ----
    for (const b of def.uses.buckets ?? []) {
      for (const statement of bucketUseStatements(b, foundation.storage.get(b.name).bucketArn)) fn.addToRolePolicy(statement);
    }
    for (const t of def.uses.tables ?? []) {
      const table = foundation.tables.get(t.name);
      if (t.access === 'read') table.grantReadData(fn);
      else if (t.access === 'write') table.grantWriteData(fn);
      else table.grantReadWriteData(fn);
    }
    for (const q of def.uses.queues ?? []) foundation.queues.get(q).queue.grantSendMessages(fn);
    if (stateMachineArns.length > 0) {
      fn.addToRolePolicy(new PolicyStatement({ actions: [...STATE_MACHINE_ACTIONS.stateMachine], resources: stateMachineArns.map((s) => s.arn) }));
      fn.addToRolePolicy(new PolicyStatement({ actions: [...STATE_MACHINE_ACTIONS.execution], resources: stateMachineArns.map((s) => s.executions) }));
    }
    if (def.uses.postgres) database.postgresSecret.grantRead(fn);
    if (def.uses.mongodb) database.mongo.secret.grantRead(fn);

    // ---- queue triggers ----
    for (const trigger of def.triggers) {
      if (trigger.kind !== 'queue') continue;
      const { def: queueDef, queue } = foundation.queues.get(trigger.queue);
      if (queueDef.visibilityTimeoutSeconds <= def.timeoutSeconds) {
        throw new Error(`queue ${queueDef.name}: visibility timeout ${queueDef.visibilityTimeoutSeconds}s must exceed the timeout of ${def.name} (${def.timeoutSeconds}s)`);
      }
      fn.addEventSource(new SqsEventSource(queue, {
        batchSize: trigger.batchSize,
        maxConcurrency: trigger.maxConcurrency,
        reportBatchItemFailures: true,
      }));
    }
    acknowledgeFunctionFindings(fn, def, deployment);
    return { def, fn, logGroup };
  }
}

/** The cdk-nag findings a topology function carries by design, each with its reason. */
function acknowledgeFunctionFindings(fn: LambdaFunction, def: FunctionDef, deployment: Deployment): void {
  Validations.of(fn).acknowledge(
    {
      id: 'AwsSolutions-L1',
      reason: `${deployment.topology.settings.lambdaRuntime} is the runtime of settings.lambdaRuntime: the bundles target it and the local cloud runs the same Node major; it moves with that setting, not per function`,
    },
    {
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'the AWS-maintained minimum for a function to write its logs; the function logs to its own log group',
    },
  );
  if (inVpc(def)) {
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
      reason: 'the AWS-maintained policy Lambda needs to attach the network interfaces of a function in the VPC',
    });
  }
  intendWildcards(fn,
    { resource: /^\*$/, actions: /^xray:(PutTraceSegments|PutTelemetryRecords)$/, reason: 'active tracing: X-Ray trace uploads take no resource' },
    ...(def.uses.buckets ?? []).flatMap((b) => b.prefixes.map((prefix) => ({
      resource: new RegExp(`/${escapeRegExp(prefix)}\\*$`),
      actions: /^s3:/,
      reason: `objects under ${prefix} in bucket ${b.name}: the prefix the topology declares for ${def.name} (${b.access})`,
    }))),
    ...((def.uses.tables ?? []).length > 0
      ? [{ resource: /\/index\/\*$/, actions: /^dynamodb:/, reason: `the indexes of the tables the topology declares for ${def.name} (queries by index)` }]
      : []),
    ...(def.uses.stateMachines ?? []).map((sm) => ({
      resource: new RegExp(`:execution:${escapeRegExp(stateMachineName(deployment, sm))}:\\*$`),
      actions: new RegExp(`^(${STATE_MACHINE_ACTIONS.execution.join('|')})$`),
      reason: `the executions of state machine ${sm}, which the topology declares for ${def.name}`,
    })),
  );
}
