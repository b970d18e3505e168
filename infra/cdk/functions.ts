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
import { NodejsFunction, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { FUNCTION_BUNDLE } from '../bundling.ts';
import { functionEnvironment } from '../environment.ts';
import { STATE_MACHINE_ACTIONS } from '../grants.ts';
import { type Access, type FunctionDef, type Topology } from '../topology.ts';
import { POSTGRES_PORT, type Database } from './database.ts';
import { LAYER_ENVIRONMENT, type LayerName } from './ffmpeg-layer.ts';
import { lambdaRuntime, logRetention, pascal, PROJECT_ROOT, stateMachineName, TOPOLOGY_TAG, topologyTagValue } from './names.ts';
import type { Queues } from './queues.ts';
import type { Storage } from './storage.ts';
import type { Tables } from './tables.ts';

/** esbuild options for every function (infra/bundling.ts): local esbuild (no Docker), minified with source maps. */
export const BUNDLING: BundlingOptions = {
  forceDockerBundling: false,
  format: OutputFormat.ESM,
  target: FUNCTION_BUNDLE.target,
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  mainFields: [...FUNCTION_BUNDLE.mainFields],
  banner: FUNCTION_BUNDLE.banner,
  externalModules: [...FUNCTION_BUNDLE.external],
};

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

    const layers = def.layers.map((name) => {
      const layer = props.layers.get(name);
      if (!layer) throw new Error(`function ${def.name} uses layer ${name}, which was not built`);
      return layer;
    });
    const stateMachineArn = (sm: string) =>
      stack.formatArn({ service: 'states', resource: 'stateMachine', resourceName: stateMachineName(topology, sm), arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const environment = functionEnvironment(
      def,
      topology,
      {
        bucketName: (b) => props.storage.get(b).bucketName,
        tableName: (t) => props.tables.get(t).tableName,
        queueUrl: (q) => props.queues.get(q).queue.queueUrl,
        stateMachineArn,
      },
      {
        all: { NODE_OPTIONS: '--enable-source-maps' },
        postgres: { DATABASE_SECRET_ARN: database.postgresSecret.secretArn, DATABASE_HOST: database.proxy.endpoint, DATABASE_NAME: database.databaseName },
        mongodb: { MONGODB_SECRET_ARN: database.mongoSecret.secretArn },
        layers: LAYER_ENVIRONMENT,
      },
    );
    const stateMachineArns = (def.uses.stateMachines ?? []).map((sm) => ({
      arn: stateMachineArn(sm),
      executions: stack.formatArn({ service: 'states', resource: 'execution', resourceName: `${stateMachineName(topology, sm)}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
    }));

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
      bundling: BUNDLING,
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
