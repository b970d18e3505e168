// S3: every topology bucket, private and encrypted, with its S3 -> SQS notifications and browser-upload CORS.
import { Duration, RemovalPolicy, Tags } from 'aws-cdk-lib';
import { BlockPublicAccess, Bucket, BucketEncryption, EventType, HttpMethods, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { SqsDestination } from 'aws-cdk-lib/aws-s3-notifications';
import { Construct } from 'constructs';
import type { Topology } from '../topology.ts';
import { pascal, TOPOLOGY_TAG, topologyTagValue } from './names.ts';
import type { Queues } from './queues.ts';

export class Storage extends Construct {
  readonly buckets = new Map<string, Bucket>();

  constructor(scope: Construct, id: string, props: { topology: Topology; queues: Queues }) {
    super(scope, id);
    for (const def of props.topology.buckets) {
      const bucket = new Bucket(this, pascal(def.name), {
        blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
        objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
        encryption: BucketEncryption.S3_MANAGED,
        enforceSSL: true,
        versioned: false,
        removalPolicy: RemovalPolicy.RETAIN,
        lifecycleRules: [
          { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
          ...(def.expirations ?? []).map((e) => ({ id: `expire-${e.prefix.replace(/\W+/g, '-')}`, prefix: e.prefix, expiration: Duration.days(e.days) })),
        ],
        cors: def.browserUploads
          ? [
              {
                // presigned PUTs (single and multipart parts) straight from browsers; ETag is needed to complete multipart
                allowedMethods: [HttpMethods.PUT, HttpMethods.GET, HttpMethods.HEAD],
                allowedOrigins: ['*'],
                allowedHeaders: ['*'],
                exposedHeaders: ['ETag'],
                maxAge: 3000,
              },
            ]
          : undefined,
      });
      Tags.of(bucket).add(TOPOLOGY_TAG, topologyTagValue('bucket', def.name), { includeResourceTypes: ['AWS::S3::Bucket'] });
      for (const n of def.notifications) {
        bucket.addEventNotification(EventType.OBJECT_CREATED, new SqsDestination(props.queues.get(n.queue).queue), { prefix: n.prefix });
      }
      this.buckets.set(def.name, bucket);
    }
  }

  get(name: string): Bucket {
    const b = this.buckets.get(name);
    if (!b) throw new Error(`no bucket named ${name} in the topology`);
    return b;
  }
}
