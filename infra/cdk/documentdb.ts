// MongoDB in AWS: an Amazon DocumentDB cluster in the VPC (default), or an external MongoDB (e.g. Atlas) whose
// URI is in an existing secret, chosen by `-c mongoSecretArn=arn:aws:secretsmanager:...`.
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { ClusterParameterGroup, DatabaseCluster } from 'aws-cdk-lib/aws-docdb';
import { InstanceClass, InstanceSize, InstanceType, Port, SubnetType, type IConnectable, type IVpc } from 'aws-cdk-lib/aws-ec2';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { CaCertificate } from 'aws-cdk-lib/aws-rds';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { secretName } from '../topology.ts';
import { logRetention, physicalName, type Deployment } from './names.ts';

/** Context key naming an existing secret that holds a MongoDB URI; with it no cluster is created. */
export const MONGO_SECRET_ARN_CONTEXT = 'mongoSecretArn';

/**
 * 5.0: the MongoDB driver (7.x) refuses servers older than MongoDB 4.4, so DocumentDB 4.0 is out; what the code
 * asks of MongoDB is checked against 5.0 in functions/lib/mongo-compat.ts.
 */
export const DOCUMENTDB_ENGINE_VERSION = '5.0.0';
export const DOCUMENTDB_PORT = 27017;
/**
 * The smallest DocumentDB instance: 2 vCPUs, 4 GiB. Idle cost, us-east-1 on-demand: about $0.078/hour, ~$57 a
 * month, plus storage ($0.10/GB-month), I/O ($0.20 per million) and backups beyond the data size ($0.02/GB-month).
 * DocumentDB Serverless (0.5 DCU minimum, ~$30 a month) would be cheaper idle, but this CDK version creates a
 * serverless cluster without any instance (aws/aws-cdk#37011), and Elastic clusters exist only as L1 resources.
 */
export const DOCUMENTDB_INSTANCE_TYPE = InstanceType.of(InstanceClass.T3, InstanceSize.MEDIUM);
/** Operations slower than this land in the profiler log. */
export const DOCUMENTDB_PROFILER_THRESHOLD_MS = 200;

/** Complete secret ARN (with the 6-character suffix Secrets Manager appends), so that grants name exactly it. */
const COMPLETE_SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/;

export interface MongoDatabaseProps {
  readonly deployment: Deployment;
  readonly vpc: IVpc;
  /** An existing secret holding a MongoDB URI; defaults to the `mongoSecretArn` context value. */
  readonly externalSecretArn?: string;
}

export class MongoDatabase extends Construct {
  /** What functions read (MONGODB_SECRET_ARN): the cluster's generated credentials (JSON), or the external URI. */
  readonly secret: ISecret;
  /** The DocumentDB cluster; undefined with an external MongoDB. */
  readonly cluster?: DatabaseCluster;
  readonly databaseName: string;

  constructor(scope: Construct, id: string, props: MongoDatabaseProps) {
    super(scope, id);
    const { deployment, vpc } = props;
    const { topology } = deployment;
    this.databaseName = topology.settings.mongoDatabase;
    const external = props.externalSecretArn ?? this.node.tryGetContext(MONGO_SECRET_ARN_CONTEXT);
    if (external !== undefined) {
      if (typeof external !== 'string' || !COMPLETE_SECRET_ARN.test(external)) {
        throw new Error(`${MONGO_SECRET_ARN_CONTEXT} must be the complete ARN of a Secrets Manager secret (…:secret:name-AbCdEf), got ${JSON.stringify(external)}`);
      }
      this.secret = Secret.fromSecretCompleteArn(this, 'ExternalUri', external);
      return;
    }

    // Fixed identifier so that the log groups below exist (with their retention) before DocumentDB exports
    // into them; otherwise DocumentDB creates them with infinite retention or CDK needs a custom resource.
    const clusterIdentifier = physicalName(deployment, 'mongo');
    const logGroups = (['audit', 'profiler'] as const).map((log) => new LogGroup(this, `${log === 'audit' ? 'Audit' : 'Profiler'}Logs`, {
      logGroupName: `/aws/docdb/${clusterIdentifier}/${log}`,
      retention: logRetention(topology),
      // a retained log group with this fixed name would block re-creating the stack after a deletion
      removalPolicy: RemovalPolicy.DESTROY,
    }));

    const parameterGroup = new ClusterParameterGroup(this, 'Parameters', {
      family: 'docdb5.0',
      description: `${topology.app} DocumentDB: TLS required, audit and profiler logs`,
      parameters: {
        tls: 'enabled',
        // DDL, user management and authentication events; not every read and write
        audit_logs: 'enabled',
        profiler: 'enabled',
        profiler_threshold_ms: String(DOCUMENTDB_PROFILER_THRESHOLD_MS),
      },
    });

    this.cluster = new DatabaseCluster(this, 'Cluster', {
      dbClusterName: clusterIdentifier,
      instanceIdentifierBase: `${clusterIdentifier}-`,
      engineVersion: DOCUMENTDB_ENGINE_VERSION,
      port: DOCUMENTDB_PORT,
      masterUser: { username: 'framewise_admin', secretName: secretName(deployment.stage, 'mongodb') },
      instanceType: DOCUMENTDB_INSTANCE_TYPE,
      instances: 1,
      // the CA functions trust is bundled with them (functions/lib/mongo.ts): pin the one it certainly holds
      caCertificate: CaCertificate.RDS_CA_RSA2048_G1,
      vpc,
      vpcSubnets: { subnetType: SubnetType.PRIVATE_ISOLATED },
      parameterGroup,
      storageEncrypted: true,
      backup: { retention: Duration.days(7) },
      deletionProtection: true,
      exportAuditLogsToCloudWatch: true,
      exportProfilerLogsToCloudWatch: true,
      removalPolicy: RemovalPolicy.SNAPSHOT,
    });
    for (const logGroup of logGroups) this.cluster.node.addDependency(logGroup);
    const auditEvents = 'DocumentDB exports only the audit and profiler logs (both on); authentication and DDL such as createIndex and dropCollection are audit events, which audit_logs=enabled records';
    Validations.of(this.cluster).acknowledge(
      { id: 'AwsSolutions-DOC2', reason: 'the cluster admits only the functions\' security group, from isolated subnets; another port would hide nothing from them' },
      { id: 'AwsSolutions-DOC3', reason: 'the master credentials are generated into Secrets Manager (masterUser.secretName); the check cannot resolve the reference to them' },
      { id: 'AwsSolutions-DOC5[LogExport::authenticate]', reason: auditEvents },
      { id: 'AwsSolutions-DOC5[LogExport::createIndex]', reason: auditEvents },
      { id: 'AwsSolutions-DOC5[LogExport::dropCollection]', reason: auditEvents },
      // on the cluster: its generated credentials secret is a child of it
      { id: 'AwsSolutions-SMG4', reason: 'the generated DocumentDB credentials: functions cache them for a client\'s life, so rotation needs them to re-read the secret on an authentication failure first' },
    );
    this.secret = this.cluster.secret!;
  }

  /** Whether functions must run in the VPC to reach MongoDB. */
  get inVpc(): boolean {
    return this.cluster !== undefined;
  }

  /** The environment functions/lib/mongo.ts reads. */
  environment(): Record<string, string> {
    return { MONGODB_SECRET_ARN: this.secret.secretArn, MONGODB_DATABASE: this.databaseName };
  }

  /** Lets these functions reach DocumentDB on its port (they read the secret by their own grants). */
  admit(functions: IConnectable): void {
    this.cluster?.connections.allowFrom(functions, Port.tcp(DOCUMENTDB_PORT), 'functions to DocumentDB');
  }
}
