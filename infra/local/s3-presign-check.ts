// What S3 checks on a presigned request and fauxqs does not: the SigV4 query signature (over the signed headers,
// so a body whose length differs from a signed content-length is refused) and the expiry. Requests signed in the
// Authorization header (SDK clients) pass unchanged.
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { s3ErrorXml, type HookReply } from './s3-xml.ts';

/** The access key the local cloud hands its functions (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), which signs their presigned URLs. */
export const LOCAL_ACCESS_KEY = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
export const LOCAL_ACCESS_KEYS: ReadonlyMap<string, string> = new Map([[LOCAL_ACCESS_KEY.accessKeyId, LOCAL_ACCESS_KEY.secretAccessKey]]);

/** The parts of an incoming request the check needs (a Fastify request has them). */
export interface PresignedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

export interface Refusal {
  readonly status: 403;
  readonly code: 'AccessDenied' | 'SignatureDoesNotMatch' | 'InvalidAccessKeyId' | 'AuthorizationQueryParametersError';
  readonly message: string;
}

type Bytes = string | ArrayBuffer | ArrayBufferView;
const toBinary = (d: Bytes): string | Uint8Array =>
  typeof d === 'string' ? d : d instanceof ArrayBuffer ? new Uint8Array(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

class Sha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: Bytes) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBinary(secret));
  }
  update(data: Bytes): void {
    this.hash.update(toBinary(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

const refuse = (code: Refusal['code'], message: string): Refusal => ({ status: 403, code, message });

/**
 * Undefined when the request is not presigned or its presignature holds; otherwise why S3 would refuse it.
 * `secrets` maps access key ids to their secret keys.
 */
export async function checkPresigned(req: PresignedRequest, secrets: ReadonlyMap<string, string>, now = new Date()): Promise<Refusal | undefined> {
  const url = new URL(req.url, 'http://local');
  const q = url.searchParams;
  const signature = q.get('X-Amz-Signature');
  if (signature === null) return undefined;
  const credential = q.get('X-Amz-Credential')?.split('/') ?? [];
  const date = AMZ_DATE.exec(q.get('X-Amz-Date') ?? '');
  const expires = Number(q.get('X-Amz-Expires'));
  const signedHeaders = (q.get('X-Amz-SignedHeaders') ?? '').split(';').filter(Boolean);
  if (credential.length !== 5 || !date || !Number.isInteger(expires) || expires < 1 || !signedHeaders.includes('host')) {
    return refuse('AuthorizationQueryParametersError', 'the presigned URL lacks or malforms X-Amz-Credential, X-Amz-Date, X-Amz-Expires or X-Amz-SignedHeaders');
  }
  const [accessKeyId, , region, service] = credential as [string, string, string, string, string];
  const secretAccessKey = secrets.get(accessKeyId);
  if (secretAccessKey === undefined) return refuse('InvalidAccessKeyId', `the access key ${accessKeyId} does not exist`);
  const signingDate = new Date(Date.UTC(+date[1]!, +date[2]! - 1, +date[3]!, +date[4]!, +date[5]!, +date[6]!));
  if (now.getTime() > signingDate.getTime() + expires * 1000) return refuse('AccessDenied', 'Request has expired');

  const headers: Record<string, string> = {};
  for (const name of signedHeaders) {
    const value = req.headers[name];
    if (value === undefined) return refuse('SignatureDoesNotMatch', `the signed header ${name} is missing from the request`);
    headers[name] = Array.isArray(value) ? value.join(',') : value;
  }
  const payloadHash = q.get('X-Amz-Content-Sha256');
  if (payloadHash !== null) headers['X-Amz-Content-Sha256'] = payloadHash; // as the presigner does: hoisted back into the query
  const query: Record<string, string | string[]> = {};
  for (const key of new Set(q.keys())) {
    if (key === 'X-Amz-Signature') continue;
    const values = q.getAll(key);
    query[key] = values.length === 1 ? values[0]! : values;
  }
  const signer = new SignatureV4({ service, region, credentials: { accessKeyId, secretAccessKey }, sha256: Sha256, uriEscapePath: false });
  const expected = await signer.presign(
    { method: req.method, protocol: 'http:', hostname: url.hostname, path: url.pathname, query, headers },
    { signingDate, expiresIn: expires, signableHeaders: new Set(signedHeaders) },
  );
  if (expected.query?.['X-Amz-Signature'] !== signature) {
    return refuse('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided');
  }
  return undefined;
}

/**
 * A Fastify preHandler that refuses what S3 would refuse (after the body is read, so that the client sees the
 * answer rather than a reset connection).
 */
export const presignedRequestCheck =
  (secrets: ReadonlyMap<string, string>) =>
  async (request: PresignedRequest, reply: HookReply): Promise<HookReply | undefined> => {
    const refusal = await checkPresigned(request, secrets);
    if (!refusal) return undefined;
    return reply.code(refusal.status).header('content-type', 'application/xml').send(s3ErrorXml(refusal.code, refusal.message));
  };
