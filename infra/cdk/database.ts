// PostgreSQL (Aurora Serverless v2 behind an RDS Proxy) and MongoDB (infra/cdk/documentdb.ts).
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { SubnetType, type IVpc } from 'aws-cdk-lib/aws-ec2';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import {
  AuroraPostgresEngineVersion,
  ClusterInstance,
  Credentials,
  DatabaseCluster,
  DatabaseClusterEngine,
  DatabaseProxy,
  ProxyTarget,
} from 'aws-cdk-lib/aws-rds';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { MongoDatabase } from './documentdb.ts';
import { secretName } from '../topology.ts';
import { logRetention, physicalName, type Deployment } from './names.ts';

export const POSTGRES_ENGINE_VERSION = AuroraPostgresEngineVersion.VER_16_8;
/** Port of the cluster and of the RDS Proxy (a PostgreSQL proxy always listens on 5432). */
export const POSTGRES_PORT = 5432;
/** Aurora Serverless v2 capacity range in ACUs. */
export const POSTGRES_CAPACITY = { min: 0.5, max: 4 } as const;

export class Database extends Construct {
  readonly cluster: DatabaseCluster;
  readonly proxy: DatabaseProxy;
  /** Generated master credentials (JSON: username, password, host, port, dbname, ...). */
  readonly postgresSecret: ISecret;
  /** DocumentDB, or the external MongoDB of `-c mongoSecretArn=...`. */
  readonly mongo: MongoDatabase;
  readonly databaseName: string;

  constructor(scope: Construct, id: string, props: { deployment: Deployment; vpc: IVpc }) {
    super(scope, id);
    const { deployment, vpc } = props;
    const { topology } = deployment;
    this.databaseName = topology.settings.postgresDatabase;

    // Fixed identifier so that the log group below can be created (with its retention) before Aurora
    // exports into it; otherwise RDS creates it with infinite retention or CDK needs a custom resource.
    const clusterIdentifier = physicalName(deployment, 'postgres');
    const logGroup = new LogGroup(this, 'PostgresLogs', {
      logGroupName: `/aws/rds/cluster/${clusterIdentifier}/postgresql`,
      retention: logRetention(topology),
      // a retained log group with this fixed name would block re-creating the stack after a deletion
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.cluster = new DatabaseCluster(this, 'Postgres', {
      clusterIdentifier,
      engine: DatabaseClusterEngine.auroraPostgres({ version: POSTGRES_ENGINE_VERSION }),
      credentials: Credentials.fromGeneratedSecret('framewise_admin', { secretName: secretName(deployment.stage, 'postgres') }),
      defaultDatabaseName: this.databaseName,
      port: POSTGRES_PORT,
      writer: ClusterInstance.serverlessV2('Writer', { autoMinorVersionUpgrade: true }),
      serverlessV2MinCapacity: POSTGRES_CAPACITY.min,
      serverlessV2MaxCapacity: POSTGRES_CAPACITY.max,
      vpc,
      vpcSubnets: { subnetType: SubnetType.PRIVATE_ISOLATED },
      storageEncrypted: true,
      backup: { retention: Duration.days(7) },
      deletionProtection: true,
      cloudwatchLogsExports: ['postgresql'],
      removalPolicy: RemovalPolicy.SNAPSHOT,
    });
    this.cluster.node.addDependency(logGroup);
    Validations.of(this.cluster).acknowledge({
      id: 'AwsSolutions-RDS6',
      reason: 'functions authenticate to the RDS Proxy with the generated secret (IAM database authentication is off on the proxy too); no client reaches the cluster directly',
    });
    // on the cluster: its generated credentials secret is a child of it
    Validations.of(this.cluster).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'the generated PostgreSQL credentials: functions cache the PostgreSQL password for a connection pool\'s life; rotation needs them to re-read the secret on an authentication failure first',
    });
    this.postgresSecret = this.cluster.secret!;

    // Functions connect through the proxy (connection pooling for Lambda); TLS required.
    // IAM database authentication is off: functions read the secret and use its username/password.
    this.proxy = new DatabaseProxy(this, 'Proxy', {
      proxyTarget: ProxyTarget.fromCluster(this.cluster),
      secrets: [this.postgresSecret],
      vpc,
      vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
      requireTLS: true,
      iamAuth: false,
    });

    this.mongo = new MongoDatabase(this, 'Mongo', { deployment, vpc });
  }
}
