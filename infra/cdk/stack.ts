// The Framewise stack: the topology (infra/topology.ts) turned into AWS resources, one construct per concern.
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { topology as defaultTopology, type Topology } from '../topology.ts';
import { Alarms } from './alarms.ts';
import { Api } from './api.ts';
import { Bootstrap } from './bootstrap.ts';
import { Database } from './database.ts';
import { buildLayers } from './ffmpeg-layer.ts';
import { Functions } from './functions.ts';
import { pascal } from './names.ts';
import { Network } from './network.ts';
import { Queues } from './queues.ts';
import { Schedules } from './schedules.ts';
import { Storage } from './storage.ts';
import { Tables } from './tables.ts';
import { Workflows } from './workflows.ts';

export interface FramewiseStackProps extends StackProps {
  /** Defaults to the project's topology; tests may pass another. */
  readonly topology?: Topology;
}

export class FramewiseStack extends Stack {
  readonly topology: Topology;
  readonly queues: Queues;
  readonly storage: Storage;
  readonly tables: Tables;
  readonly database: Database;
  readonly functions: Functions;
  readonly workflows: Workflows;
  readonly api: Api;
  readonly schedules: Schedules;
  readonly alarms: Alarms;

  constructor(scope: Construct, id: string, props: FramewiseStackProps = {}) {
    super(scope, id, { description: 'Framewise serverless media pipeline', ...props });
    const topology = (this.topology = props.topology ?? defaultTopology);

    this.queues = new Queues(this, 'Queues', { topology });
    this.storage = new Storage(this, 'Storage', { topology, queues: this.queues });
    this.tables = new Tables(this, 'Tables', { topology });
    const network = new Network(this, 'Network');
    this.database = new Database(this, 'Database', { topology, vpc: network.vpc });
    this.functions = new Functions(this, 'Functions', {
      topology,
      storage: this.storage,
      tables: this.tables,
      queues: this.queues,
      database: this.database,
      vpc: network.vpc,
      layers: buildLayers(this, topology),
    });
    this.workflows = new Workflows(this, 'Workflows', { topology, functions: this.functions });
    this.api = new Api(this, 'Api', { topology, functions: this.functions });
    const stage = (this.node.tryGetContext('stage') as string | undefined) ?? 'dev';
    new Bootstrap(this, 'Bootstrap', { topology, stage, functions: this.functions, after: [this.database], before: [this.api] });
    this.schedules = new Schedules(this, 'Schedules', { topology, functions: this.functions, queues: this.queues });
    this.alarms = new Alarms(this, 'Alarms', { topology, queues: this.queues, functions: this.functions, workflows: this.workflows, api: this.api });

    for (const [name, bucket] of this.storage.buckets) {
      new CfnOutput(this, `Bucket${pascal(name)}Name`, { value: bucket.bucketName, description: `S3 bucket ${name}` });
    }
    for (const [name, { stateMachine }] of this.workflows.byName) {
      new CfnOutput(this, `StateMachine${pascal(name)}Arn`, { value: stateMachine.stateMachineArn, description: `state machine ${name}` });
    }
    new CfnOutput(this, 'MongoDbUriSecretArn', {
      value: this.database.mongoSecret.secretArn,
      description: 'Secret holding the MongoDB URI: put the real connection string into it after the first deploy',
    });
    new CfnOutput(this, 'PostgresSecretArn', { value: this.database.postgresSecret.secretArn, description: 'Aurora PostgreSQL credentials' });
    new CfnOutput(this, 'PostgresProxyEndpoint', { value: this.database.proxy.endpoint, description: 'RDS Proxy endpoint (TLS required)' });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn, description: 'subscribe operators here' });
  }
}
