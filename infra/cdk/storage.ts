// S3: every topology bucket, private and encrypted, with its S3 -> SQS notifications and browser CORS,
// and one bucket of their server access logs.
import { Duration, RemovalPolicy, Stack, Tags, Validations } from 'aws-cdk-lib';
import { BlockPublicAccess, Bucket, BucketEncryption, EventType, HttpMethods, ObjectOwnership, StorageClass } from 'aws-cdk-lib/aws-s3';
import { SqsDestination } from 'aws-cdk-lib/aws-s3-notifications';
import { Construct } from 'constructs';
import { BROWSER_BUCKET_CORS, type Topology } from '../topology.ts';
import { logRetention, pascal, TOPOLOGY_TAG, topologyTagValue } from './names.ts';
import type { Queues } from './queues.ts';

export const ABORT_INCOMPLETE_UPLOADS = { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) };

const STORAGE_CLASSES = { GLACIER_IR: StorageClass.GLACIER_INSTANT_RETRIEVAL, GLACIER: StorageClass.GLACIER, DEEP_ARCHIVE: StorageClass.DEEP_ARCHIVE } as const;
const EVENT_TYPES = { created: EventType.OBJECT_CREATED, restored: EventType.OBJECT_RESTORE_COMPLETED } as const;

export class Storage extends Construct {
  readonly buckets = new Map<string, Bucket>();
  /** Server access logs of every topology bucket: the only record of who used a presigned URL. */
  readonly accessLogs: Bucket;

  constructor(scope: Construct, id: string, props: { topology: Topology; queues: Queues }) {
    super(scope, id);
    this.accessLogs = new Bucket(this, 'AccessLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // S3 delivers server access logs only into SSE-S3 buckets
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [ABORT_INCOMPLETE_UPLOADS, { id: 'expire-logs', expiration: Duration.days(logRetention(props.topology)) }],
    });
    Validations.of(this.accessLogs).acknowledge({ id: 'AwsSolutions-S1', reason: 'the bucket of access logs itself: logging its access would log the log deliveries' });
    for (const def of props.topology.buckets) {
      const bucket = new Bucket(this, pascal(def.name), {
        blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
        objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
        encryption: BucketEncryption.S3_MANAGED,
        enforceSSL: true,
        versioned: false,
        removalPolicy: RemovalPolicy.RETAIN,
        serverAccessLogsBucket: this.accessLogs,
        serverAccessLogsPrefix: `${def.name}/`,
        lifecycleRules: [
          ABORT_INCOMPLETE_UPLOADS,
          ...(def.expirations ?? []).map((e) => ({ id: `expire-${e.prefix.replace(/\W+/g, '-')}`, prefix: e.prefix, expiration: Duration.days(e.days) })),
          ...(def.archivals ?? []).map((a) => ({
            id: `archive-${a.prefix.replace(/\W+/g, '-')}`,
            prefix: a.prefix,
            transitions: [{ storageClass: STORAGE_CLASSES[a.storageClass], transitionAfter: Duration.days(a.days) }],
          })),
        ],
        cors: def.browserUploads
          ? [
              {
                allowedMethods: BROWSER_BUCKET_CORS.allowedMethods.map((m) => HttpMethods[m]),
                allowedOrigins: [...BROWSER_BUCKET_CORS.allowedOrigins],
                allowedHeaders: [...BROWSER_BUCKET_CORS.allowedHeaders],
                exposedHeaders: [...BROWSER_BUCKET_CORS.exposedHeaders],
                maxAge: BROWSER_BUCKET_CORS.maxAgeSeconds,
              },
            ]
          : undefined,
      });
      Tags.of(bucket).add(TOPOLOGY_TAG, topologyTagValue('bucket', def.name), { includeResourceTypes: ['AWS::S3::Bucket'] });
      for (const n of def.notifications) {
        const queue = new SqsDestination(props.queues.get(n.queue).queue);
        for (const e of n.events) bucket.addEventNotification(EVENT_TYPES[e], queue, { prefix: n.prefix });
      }
      this.buckets.set(def.name, bucket);
    }
    // The stack-wide function CDK adds to put the notification configurations at deploy time.
    for (const handler of Stack.of(this).node.children.filter((c) => c.node.id.startsWith('BucketNotificationsHandler'))) {
      Validations.of(handler).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: "the logging policy of CDK's bucket-notifications handler, which only runs during a deployment",
      });
    }
  }

  get(name: string): Bucket {
    const b = this.buckets.get(name);
    if (!b) throw new Error(`no bucket named ${name} in the topology`);
    return b;
  }
}
