// Lambda: one NodejsFunction per topology function (esbuild, locally, ESM), with its log group, layers,
// environment (resource names through the topology's env helpers), least-privilege grants and queue triggers.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { ArnFormat, Duration, Stack, Tags } from 'aws-cdk-lib';
import { Port, SubnetType, type IVpc } from 'aws-cdk-lib/aws-ec2';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Architecture, Function as LambdaFunction, Tracing, type ILayerVersion } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat, type BundlingOptions, type ICommandHooks } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  bucketEnv,
  folderEnv,
  queueEnv,
  stateMachineEnv,
  tableEnv,
  type Access,
  type FunctionDef,
  type Topology,
} from '../topology.ts';
import { POSTGRES_PORT, type Database } from './database.ts';
import { LAYER_ENVIRONMENT, type LayerName } from './ffmpeg-layer.ts';
import { lambdaRuntime, logRetention, pascal, PROJECT_ROOT, stateMachineName, TOPOLOGY_TAG, topologyTagValue } from './names.ts';
import type { Queues } from './queues.ts';
import type { Storage } from './storage.ts';
import type { Tables } from './tables.ts';

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

/** Where Lambda unpacks a function's bundle. */
const LAMBDA_TASK_ROOT = '/var/task';

/** Bundling hooks that copy project folders (e.g. `migrations`) beside the bundled code; they change its asset hash. */
const copyFolders = (folders: readonly string[]): ICommandHooks => ({
  beforeBundling: () => [],
  beforeInstall: () => [],
  afterBundling: (inputDir, outputDir) => folders.map((f) => `cp -R "${path.join(inputDir, f)}" "${path.join(outputDir, f)}"`),
});

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

export interface TopologyFunction {
  readonly def: FunctionDef;
  readonly fn: LambdaFunction;
  readonly logGroup: LogGroup;
}

export interface FunctionsProps {
  readonly topology: Topology;
  readonly storage: Storage;
  readonly tables: Tables;
  readonly queues: Queues;
  readonly database: Database;
  readonly vpc: IVpc;
  readonly layers: Map<LayerName, ILayerVersion>;
}

export class Functions extends Construct {
  readonly byName = new Map<string, TopologyFunction>();

  constructor(scope: Construct, id: string, props: FunctionsProps) {
    super(scope, id);
    for (const def of props.topology.functions) this.byName.set(def.name, this.createFunction(def, props));
  }

  get(name: string): TopologyFunction {
    const f = this.byName.get(name);
    if (!f) throw new Error(`no function named ${name} in the topology`);
    return f;
  }

  private createFunction(def: FunctionDef, props: FunctionsProps): TopologyFunction {
    const { topology, database } = props;
    const stack = Stack.of(this);
    const id = pascal(def.name);
    const logGroup = new LogGroup(this, `${id}Logs`, { retention: logRetention(topology) });

    const environment: Record<string, string> = {
      POWERTOOLS_SERVICE_NAME: topology.app,
      NODE_OPTIONS: '--enable-source-maps',
    };
    const layers = def.layers.map((name) => {
      const layer = props.layers.get(name);
      if (!layer) throw new Error(`function ${def.name} uses layer ${name}, which was not built`);
      Object.assign(environment, LAYER_ENVIRONMENT[name]);
      return layer;
    });
    for (const b of def.uses.buckets ?? []) environment[bucketEnv(b.name)] = props.storage.get(b.name).bucketName;
    if ((def.uses.buckets ?? []).length > 0) Object.assign(environment, uploadSettingsEnvironment(topology));
    for (const t of def.uses.tables ?? []) environment[tableEnv(t.name)] = props.tables.get(t.name).tableName;
    for (const q of def.uses.queues ?? []) environment[queueEnv(q)] = props.queues.get(q).queue.queueUrl;
    const stateMachineArns = (def.uses.stateMachines ?? []).map((sm) => {
      const name = stateMachineName(topology, sm);
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
    for (const folder of def.bundledFolders ?? []) environment[folderEnv(folder)] = `${LAMBDA_TASK_ROOT}/${folder}`;
    if (def.uses.mongodb) {
      environment.MONGODB_SECRET_ARN = database.mongoSecret.secretArn;
      environment.MONGODB_DATABASE = topology.settings.mongoDatabase;
    }

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
      // Only functions that talk to PostgreSQL run in the VPC (private subnets, through the NAT for AWS APIs).
      ...(def.uses.postgres ? { vpc: props.vpc, vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS } } : {}),
      // Failed asynchronous invocations (EventBridge schedules, manual async invokes) land in a queue.
      onFailure: new SqsDestination(props.queues.asyncFailures),
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
      bundling: def.bundledFolders ? { ...BUNDLING, commandHooks: copyFolders(def.bundledFolders) } : BUNDLING,
    });
    Tags.of(fn).add(TOPOLOGY_TAG, topologyTagValue('function', def.name), { includeResourceTypes: ['AWS::Lambda::Function'] });

    // ---- least-privilege grants, exactly what the topology declares ----
    const grant = <T>(access: Access, read: (g: T) => unknown, write: (g: T) => unknown, readWrite: (g: T) => unknown, target: T) =>
      (access === 'read' ? read : access === 'write' ? write : readWrite)(target);
    for (const b of def.uses.buckets ?? []) {
      const bucket = props.storage.get(b.name);
      grant(b.access, (x) => x.grantRead(fn), (x) => x.grantWrite(fn), (x) => x.grantReadWrite(fn), bucket);
    }
    for (const t of def.uses.tables ?? []) {
      const table = props.tables.get(t.name);
      grant(t.access, (x) => x.grantReadData(fn), (x) => x.grantWriteData(fn), (x) => x.grantReadWriteData(fn), table);
    }
    for (const q of def.uses.queues ?? []) props.queues.get(q).queue.grantSendMessages(fn);
    if (stateMachineArns.length > 0) {
      fn.addToRolePolicy(new PolicyStatement({ actions: [...STATE_MACHINE_ACTIONS.stateMachine], resources: stateMachineArns.map((s) => s.arn) }));
      fn.addToRolePolicy(new PolicyStatement({ actions: [...STATE_MACHINE_ACTIONS.execution], resources: stateMachineArns.map((s) => s.executions) }));
    }
    if (def.uses.postgres) {
      database.postgresSecret.grantRead(fn);
      database.proxy.connections.allowFrom(fn, Port.tcp(POSTGRES_PORT), `${def.name} to PostgreSQL via RDS Proxy`);
    }
    if (def.uses.mongodb) database.mongoSecret.grantRead(fn);

    // ---- queue triggers ----
    for (const trigger of def.triggers) {
      if (trigger.kind !== 'queue') continue;
      const { def: queueDef, queue } = props.queues.get(trigger.queue);
      if (queueDef.visibilityTimeoutSeconds <= def.timeoutSeconds) {
        throw new Error(`queue ${queueDef.name}: visibility timeout ${queueDef.visibilityTimeoutSeconds}s must exceed the timeout of ${def.name} (${def.timeoutSeconds}s)`);
      }
      fn.addEventSource(new SqsEventSource(queue, {
        batchSize: trigger.batchSize,
        maxConcurrency: trigger.maxConcurrency,
        reportBatchItemFailures: true,
      }));
    }
    return { def, fn, logGroup };
  }
}
