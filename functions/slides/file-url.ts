// Where a viewer fetches a pyramid's files: in AWS, CloudFront signed URLs (the distribution serves slides/ only to
// URLs signed with its key pair, whose private key is in a secret); where there is no CDN (the local cloud),
// presigned S3 GETs of the same objects.
import { createSign } from 'node:crypto';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { readSecret, s3 } from '../lib/aws.ts';
import { config } from '../lib/config.ts';

/** The longest a presigned S3 URL of a pyramid file lives. */
const PRESIGNED_MAX_SECONDS = 900;

export interface SigningKey {
  readonly keyPairId: string;
  /** PEM. */
  readonly privateKey: string;
}

// CloudFront's URL-safe base64: these three characters are not valid in a query string.
const URL_SAFE: Readonly<Record<string, string>> = { '+': '-', '=': '_', '/': '~' };
export const cloudFrontBase64 = (bytes: Buffer): string => bytes.toString('base64').replace(/[+=/]/g, (c) => URL_SAFE[c]!);

/** The canned policy CloudFront rebuilds from a signed URL's resource and Expires, byte for byte (no whitespace). */
export const cannedPolicy = (resource: string, expires: number): string =>
  JSON.stringify({ Statement: [{ Resource: resource, Condition: { DateLessThan: { 'AWS:EpochTime': expires } } }] });

/** `resource` signed with a canned policy (RSA-SHA1), valid until `expires` (epoch seconds). Pure. */
export function signCloudFrontUrl(resource: string, expires: number, key: SigningKey): string {
  const signature = createSign('RSA-SHA1').update(cannedPolicy(resource, expires)).sign(key.privateKey);
  return `${resource}${resource.includes('?') ? '&' : '?'}Expires=${expires}&Signature=${cloudFrontBase64(signature)}&Key-Pair-Id=${key.keyPairId}`;
}

/** An object key as a URL path: each segment percent-encoded, as the browser then sends it and CloudFront signs it. */
const keyPath = (key: string): string => key.split('/').map(encodeURIComponent).join('/');

let privateKeyMemo: Promise<string> | undefined;
const privateKeyOf = (secretId: string): Promise<string> =>
  (privateKeyMemo ??= readSecret(secretId).catch((err: unknown) => {
    privateKeyMemo = undefined; // the next request reads it again
    throw err;
  }));

/** A short-lived URL of the object `key` of the media bucket, and how long it lives. */
export async function fileUrl(key: string): Promise<{ url: string; expiresIn: number }> {
  const cdn = config.slidesCdn();
  if (cdn) {
    const expiresIn = cdn.signedUrlSeconds;
    const privateKey = await privateKeyOf(cdn.keySecretId);
    const url = signCloudFrontUrl(`https://${cdn.domainName}/${keyPath(key)}`, Math.floor(Date.now() / 1000) + expiresIn, { keyPairId: cdn.keyPairId, privateKey });
    return { url, expiresIn };
  }
  const expiresIn = Math.min(config.presignedUrlSeconds(), PRESIGNED_MAX_SECONDS);
  return { url: await getSignedUrl(s3(), new GetObjectCommand({ Bucket: config.mediaBucket(), Key: key }), { expiresIn }), expiresIn };
}

let originMemo: Promise<string> | undefined;

/** The origin the URLs of {@link fileUrl} are on (a page's CSP allows it); presigning is local, no request. */
export function fileOrigin(): Promise<string> {
  const cdn = config.slidesCdn();
  if (cdn) return Promise.resolve(`https://${cdn.domainName}`);
  originMemo ??= getSignedUrl(s3(), new GetObjectCommand({ Bucket: config.mediaBucket(), Key: 'slides/' }), { expiresIn: 60 }).then(
    (url) => new URL(url).origin,
    (err: unknown) => {
      originMemo = undefined; // the next page asks again
      throw err;
    },
  );
  return originMemo;
}
