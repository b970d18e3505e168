// Lambda: one NodejsFunction per topology function (esbuild, locally, ESM), with its log group, layers,
// environment (resource names through the topology's env helpers), least-privilege grants and queue triggers.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { ArnFormat, Duration, Size, Stack, Tags, Validations } from 'aws-cdk-lib';
import { SubnetType } from 'aws-cdk-lib/aws-ec2';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Architecture, Function as LambdaFunction, Tracing } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat, type BundlingOptions, type ICommandHooks } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { FUNCTION_BUNDLE } from '../bundling.ts';
import { functionEnvironment } from '../environment.ts';
import { grantsOf, STATE_MACHINE_ACTIONS } from '../grants.ts';
import type { FunctionDef } from '../topology.ts';
import type { Foundation } from './foundation.ts';
import { LAYER_ENVIRONMENT } from './ffmpeg-layer.ts';
import { escapeRegExp, intendWildcards } from './nag.ts';
import { lambdaRuntime, logRetention, pascal, PROJECT_ROOT, stateMachineName, TOPOLOGY_TAG, topologyTagValue, type Deployment } from './names.ts';

/** esbuild options for every function (infra/bundling.ts): local esbuild (no Docker), minified with source maps. */
export const BUNDLING: BundlingOptions = {
  forceDockerBundling: false,
  format: OutputFormat.ESM,
  target: 'node22',
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  mainFields: [...FUNCTION_BUNDLE.mainFields],
  banner: FUNCTION_BUNDLE.banner,
  externalModules: [...FUNCTION_BUNDLE.external],
};

/** Functions that reach PostgreSQL or MongoDB run in the VPC. */
export const inVpc = (def: FunctionDef): boolean => !!(def.uses.postgres || def.uses.mongodb);

/** Where Lambda unpacks a function's bundle. */
const LAMBDA_TASK_ROOT = '/var/task';

/** Bundling hooks that copy project folders (e.g. `migrations`) beside the bundled code; they change its asset hash. */
const copyFolders = (folders: readonly string[]): ICommandHooks => ({
  beforeBundling: () => [],
  beforeInstall: () => [],
  afterBundling: (inputDir, outputDir) => folders.map((f) => `mkdir -p "${path.dirname(path.join(outputDir, f))}" && cp -R "${path.join(inputDir, f)}" "${path.join(outputDir, f)}"`),
});

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

    const layers = def.layers.map((name) => {
      const layer = foundation.layers.get(name);
      if (!layer) throw new Error(`function ${def.name} uses layer ${name}, which was not built`);
      return layer;
    });
    const stateMachineArn = (sm: string) =>
      stack.formatArn({ service: 'states', resource: 'stateMachine', resourceName: stateMachineName(deployment, sm), arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const environment = functionEnvironment(
      def,
      topology,
      {
        bucketName: (b) => foundation.storage.get(b).bucketName,
        tableName: (t) => foundation.tables.get(t).tableName,
        queueUrl: (q) => foundation.queues.get(q).queue.queueUrl,
        stateMachineArn,
        secretId: (x) => foundation.secrets.get(x).secretArn,
        cdn: (c) => foundation.cdns.get(c).location(),
      },
      {
        all: { NODE_OPTIONS: '--enable-source-maps' },
        bundleRoot: LAMBDA_TASK_ROOT,
        postgres: { DATABASE_SECRET_ARN: database.postgresSecret.secretArn, DATABASE_HOST: database.proxy.endpoint, DATABASE_NAME: database.databaseName },
        mongodb: database.mongo.environment(),
        layers: LAYER_ENVIRONMENT,
      },
    );

    const common = {
      description: def.purpose,
      runtime: lambdaRuntime(topology),
      architecture: Architecture.X86_64,
      memorySize: def.memoryMb,
      ...(def.reservedConcurrency !== undefined && { reservedConcurrentExecutions: def.reservedConcurrency }),
      ...(def.ephemeralStorageMb !== undefined && { ephemeralStorageSize: Size.mebibytes(def.ephemeralStorageMb) }),
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
      bundling: def.bundledFolders ? { ...BUNDLING, commandHooks: copyFolders(def.bundledFolders) } : BUNDLING,
    });
    Tags.of(fn).add(TOPOLOGY_TAG, topologyTagValue('function', def.name), { includeResourceTypes: ['AWS::Lambda::Function'] });

    // ---- least-privilege grants: exactly the statements the topology gives it (infra/grants.ts, which the local
    // cloud's access gate enforces too) ----
    const grants = grantsOf(def, {
      bucketArn: (b) => foundation.storage.get(b).bucketArn,
      tableArn: (t) => foundation.tables.get(t).tableArn,
      queueArn: (q) => foundation.queues.get(q).queue.queueArn,
      stateMachineArn,
      secretArn: (x) => foundation.secrets.get(x).secretArn,
      executionsArn: (sm) =>
        stack.formatArn({ service: 'states', resource: 'execution', resourceName: `${stateMachineName(deployment, sm)}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
    });
    for (const g of grants) {
      fn.addToRolePolicy(new PolicyStatement({ actions: [...g.actions], resources: [...g.resources], ...(g.conditions && { conditions: g.conditions }) }));
    }
    if (def.uses.postgres) database.postgresSecret.grantRead(fn);
    if (def.uses.mongodb) database.mongo.secret.grantRead(fn);
    // signing a CDN's URLs: reading its private key, nothing else of the CDN
    for (const c of def.uses.cdns ?? []) foundation.cdns.get(c).signingKey.grantRead(fn);

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
