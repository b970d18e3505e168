// A local S3 on its own (no local cloud) in `dir`, with one bucket, recording the object events it raises, and a
// client as the functions' is: no checksums asked for, so PUTs and parts go the plain way presigned ones go.
import { S3Client } from '@aws-sdk/client-s3';
import { startS3Sqs, type LocalS3Sqs, type S3ObjectEvent } from '../../infra/local/s3sqs.ts';
import { LOCAL_ACCESS_KEY } from '../../infra/local/s3-presign-check.ts';

export async function startLocalS3(dir: string, bucket: string, events: S3ObjectEvent[]): Promise<{ s3local: LocalS3Sqs; s3: S3Client }> {
  const s3local = await startS3Sqs({
    dataDir: dir, port: 0, region: 'us-east-1',
    notificationsFor: (e) => {
      events.push(e);
      return [];
    },
  });
  s3local.createBucket(bucket);
  const s3 = new S3Client({ endpoint: s3local.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: LOCAL_ACCESS_KEY, requestChecksumCalculation: 'WHEN_REQUIRED' });
  return { s3local, s3 };
}
