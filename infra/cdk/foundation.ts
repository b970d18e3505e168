// The foundation stack of a stage: what every context stands on and nothing a context owns alone — network,
// PostgreSQL (Aurora + RDS Proxy), MongoDB, buckets and their CDNs, tables, queues, the HTTP API, layers, the alarm topic.
// Context stacks (infra/cdk/context-stack.ts) reference these; adding a context never changes this stack.
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { Port, SecurityGroup, type IVpc } from 'aws-cdk-lib/aws-ec2';
import type { ILayerVersion } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { AlarmTopic, Alarms, raiseFoundationAlarms } from './alarms.ts';
import { Api } from './api.ts';
import { StageDashboard } from './dashboard.ts';
import { Database, POSTGRES_PORT } from './database.ts';
import { Cdns } from './cdn.ts';
import { buildLayers, type LayerName } from './ffmpeg-layer.ts';
import { pascal, type Deployment } from './names.ts';
import { Network } from './network.ts';
import { Queues } from './queues.ts';
import { Secrets } from './secrets.ts';
import { Storage } from './storage.ts';
import { Tables } from './tables.ts';

export interface FoundationStackProps extends StackProps {
  readonly deployment: Deployment;
  /** Operators subscribed to the alarm topic (`-c alarmEmail=...`). */
  readonly alarmEmail?: string;
}

export class FoundationStack extends Stack {
  readonly vpc: IVpc;
  /** The one security group of every function in the VPC; the databases admit it. */
  readonly functionSecurityGroup: SecurityGroup;
  readonly database: Database;
  readonly storage: Storage;
  /** CloudFront in front of parts of the buckets, beside them (each bucket's policy names its distribution). */
  readonly cdns: Cdns;
  readonly tables: Tables;
  readonly queues: Queues;
  readonly api: Api;
  readonly layers: Map<LayerName, ILayerVersion>;
  readonly alarmTopic: AlarmTopic;
  readonly secrets: Secrets;
  readonly alarms: Alarms;

  constructor(scope: Construct, id: string, props: FoundationStackProps) {
    super(scope, id, { description: `Framewise ${props.deployment.stage}: foundation (network, databases, storage, queues, API)`, ...props });
    const { deployment } = props;
    const { topology } = deployment;

    this.queues = new Queues(this, 'Queues', { deployment });
    this.storage = new Storage(this, 'Storage', { topology, queues: this.queues });
    this.cdns = new Cdns(this, 'Cdns', { deployment, bucket: (name) => this.storage.get(name) });
    this.tables = new Tables(this, 'Tables', { topology });
    this.secrets = new Secrets(this, 'Secrets', { deployment });
    this.vpc = new Network(this, 'Network', { topology }).vpc;
    this.database = new Database(this, 'Database', { deployment, vpc: this.vpc });
    this.functionSecurityGroup = new SecurityGroup(this, 'FunctionSecurityGroup', {
      vpc: this.vpc,
      description: 'Framewise functions that reach the databases',
      allowAllOutbound: true,
    });
    this.database.proxy.connections.allowFrom(this.functionSecurityGroup, Port.tcp(POSTGRES_PORT), 'functions to PostgreSQL via RDS Proxy');
    this.database.mongo.admit(this.functionSecurityGroup);
    this.api = new Api(this, 'Api', { deployment });
    this.layers = buildLayers(this, topology);
    this.alarmTopic = new AlarmTopic(this, 'AlarmTopic', { deployment, email: props.alarmEmail });

    this.alarms = new Alarms(this, 'Alarms', { topic: this.alarmTopic.topic });
    raiseFoundationAlarms(this.alarms, { deployment, queues: this.queues, api: this.api, database: this.database });
    new StageDashboard(this, 'Dashboard', { deployment, queues: this.queues, api: this.api, database: this.database });

    for (const [name, bucket] of this.storage.buckets) {
      new CfnOutput(this, `Bucket${pascal(name)}Name`, { value: bucket.bucketName, description: `S3 bucket ${name}` });
    }
    for (const cdn of this.cdns.all()) {
      new CfnOutput(this, `Cdn${pascal(cdn.node.id)}Domain`, { value: cdn.distribution.distributionDomainName, description: `CloudFront (signed URLs) of CDN ${cdn.node.id}` });
    }
    new CfnOutput(this, 'MongoDbSecretArn', {
      value: this.database.mongo.secret.secretArn,
      description: this.database.mongo.inVpc ? 'DocumentDB credentials (functions build the URI from them)' : 'Secret holding the external MongoDB URI',
    });
    new CfnOutput(this, 'PostgresSecretArn', { value: this.database.postgresSecret.secretArn, description: 'Aurora PostgreSQL credentials' });
    new CfnOutput(this, 'PostgresProxyEndpoint', { value: this.database.proxy.endpoint, description: 'RDS Proxy endpoint (TLS required)' });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topic.topicArn, description: 'subscribe operators here' });
  }
}

/** What a context stack may use of the foundation: its shared resources (not its own alarms). */
export type Foundation = Omit<FoundationStack, keyof Stack | 'alarms'>;
