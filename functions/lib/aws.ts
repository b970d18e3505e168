// One client per service per process. Endpoints come from the SDK's own AWS_ENDPOINT_URL_<SERVICE> variables,
// which the local cloud sets; in AWS they are unset and the SDK uses the regional endpoints.
import { HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SecretsManagerClient, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { config } from './config.ts';

let s3Client: S3Client | undefined;
let documentClient: DynamoDBDocumentClient | undefined;
let cacheDocumentClient: DynamoDBDocumentClient | undefined;
let cacheS3Client: S3Client | undefined;
let sfnClient: SFNClient | undefined;
let sqsClient: SQSClient | undefined;
let secretsClient: SecretsManagerClient | undefined;

// Checksums only where S3 requires them: otherwise presigned PUT and UploadPart URLs carry the checksum of
// an empty body, and an upload of real bytes to them fails.
export const s3 = (): S3Client =>
  (s3Client ??= new S3Client({
    region: config.region(),
    forcePathStyle: config.s3ForcePathStyle(),
    requestChecksumCalculation: 'WHEN_REQUIRED',
  }));
export const dynamo = (): DynamoDBDocumentClient =>
  (documentClient ??= DynamoDBDocumentClient.from(new DynamoDBClient({ region: config.region() }), {
    marshallOptions: { removeUndefinedValues: true },
  }));
/**
 * Clients for the cache only: short connection and request timeouts and one retry, so that a cache outage
 * costs a request milliseconds, not the SDK's default backoff (functions/lib/cache.ts treats failures as misses).
 */
const cacheClientOptions = () => ({
  region: config.region(),
  maxAttempts: 2,
  requestHandler: { connectionTimeout: 300, requestTimeout: config.cacheTimeoutMs() },
});
export const cacheDynamo = (): DynamoDBDocumentClient =>
  (cacheDocumentClient ??= DynamoDBDocumentClient.from(new DynamoDBClient(cacheClientOptions()), {
    marshallOptions: { removeUndefinedValues: true },
  }));
export const cacheS3 = (): S3Client =>
  (cacheS3Client ??= new S3Client({ ...cacheClientOptions(), forcePathStyle: config.s3ForcePathStyle(), requestChecksumCalculation: 'WHEN_REQUIRED' }));
export const sfn = (): SFNClient => (sfnClient ??= new SFNClient({ region: config.region() }));
export const sqs = (): SQSClient => (sqsClient ??= new SQSClient({ region: config.region() }));

/**
 * What a secret that a deploy creates for a function holds until that function puts the value in: never a generated
 * value, which the function would take for a real one.
 */
export const SECRET_NOT_SET = 'not set yet: the Framewise function that uses this secret puts its value here';

export const secrets = (): SecretsManagerClient => (secretsClient ??= new SecretsManagerClient({ region: config.region() }));

/** Closes every client; the next call makes new ones (with the endpoints of the environment then). */
export function closeAwsClients(): void {
  for (const c of [s3Client, documentClient, cacheDocumentClient, cacheS3Client, sfnClient, sqsClient, secretsClient]) c?.destroy();
  s3Client = documentClient = cacheDocumentClient = cacheS3Client = sfnClient = sqsClient = secretsClient = undefined;
}

export async function readSecret(arn: string): Promise<string> {
  const out = await secrets().send(new GetSecretValueCommand({ SecretId: arn }));
  if (!out.SecretString) throw new Error(`secret ${arn} has no string value`);
  return out.SecretString;
}

/** Whether the media bucket holds `key` (a HEAD: not found is false, any other failure throws). */
export async function mediaObjectExists(key: string): Promise<boolean> {
  try {
    await s3().send(new HeadObjectCommand({ Bucket: config.mediaBucket(), Key: key }));
    return true;
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return false;
    throw err;
  }
}

export interface ListedObject {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
}

/** Every object of `bucket` whose key begins with `prefix`, page after page of ListObjectsV2. */
export async function listObjects(bucket: string, prefix: string): Promise<ListedObject[]> {
  const out: ListedObject[] = [];
  let token: string | undefined;
  do {
    const page = await s3().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) out.push({ key: o.Key!, size: o.Size ?? 0, etag: o.ETag ?? '' });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}
