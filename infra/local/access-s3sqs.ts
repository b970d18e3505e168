// The access gate of fauxqs's app (S3 and SQS on one port): each request as the IAM action, resource and
// condition keys AWS would check, and a refusal in the protocol's own shape (S3's 403 XML, SQS's JSON).
import type { Request } from '../grants.ts';
import { accessKeyIdOf, type AccessPolicy } from './access.ts';
import { ACCOUNT, REGION } from './names.ts';
import { s3ErrorXml, type HookReply } from './s3-xml.ts';

export interface GatedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body?: unknown;
}

/** SQS batch actions are authorized as their single action. */
const SQS_ACTION: Record<string, string> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};

function sqsRequest(target: string, body: unknown): Request {
  const action = target.slice('AmazonSQS.'.length);
  const input = (body ?? {}) as { QueueUrl?: string; QueueName?: string };
  const queue = input.QueueName ?? input.QueueUrl?.split('/').pop();
  return { action: `sqs:${SQS_ACTION[action] ?? action}`, resource: queue ? `arn:aws:sqs:${REGION}:${ACCOUNT}:${queue}` : '*' };
}

function s3Requests(method: string, url: string, headers: GatedRequest['headers']): Request[] {
  const { pathname, searchParams: q } = new URL(url, 'http://local');
  const [bucket = '', ...rest] = pathname.slice(1).split('/').map((s) => decodeURIComponent(s));
  const key = rest.join('/');
  const bucketArn = `arn:aws:s3:::${bucket}`;
  if (!key) {
    if (q.has('uploads')) return [{ action: 's3:ListBucketMultipartUploads', resource: bucketArn }];
    if (method === 'POST' && q.has('delete')) return [{ action: 's3:DeleteObject', resource: `${bucketArn}/*` }];
    if (method === 'GET' && [...q.keys()].every((k) => ['list-type', 'prefix', 'delimiter', 'continuation-token', 'max-keys', 'start-after', 'marker', 'encoding-type', 'fetch-owner', 'x-id'].includes(k))) {
      return [{ action: 's3:ListBucket', resource: bucketArn, context: { 's3:prefix': q.get('prefix') ?? '' } }];
    }
    return [{ action: `s3:${method === 'HEAD' ? 'ListBucket' : 'ManageBucket'}`, resource: bucketArn }];
  }
  const object = `${bucketArn}/${key}`;
  if (method === 'GET' || method === 'HEAD') return [{ action: q.has('uploadId') ? 's3:ListMultipartUploadParts' : 's3:GetObject', resource: object }];
  if (method === 'DELETE') return [{ action: q.has('uploadId') ? 's3:AbortMultipartUpload' : 's3:DeleteObject', resource: object }];
  if (method === 'POST' && q.has('restore')) return [{ action: 's3:RestoreObject', resource: object }];
  const source = headers['x-amz-copy-source'];
  const copied = typeof source === 'string' ? decodeURIComponent(source.replace(/^\//, '').split('?')[0]!) : undefined;
  return [{ action: 's3:PutObject', resource: object }, ...(copied ? [{ action: 's3:GetObject', resource: `arn:aws:s3:::${copied}` }] : [])];
}

const isSqs = (request: GatedRequest): boolean => String(request.headers['x-amz-target'] ?? '').startsWith('AmazonSQS.');
const isQueryProtocol = (request: GatedRequest): boolean =>
  request.method === 'POST' && String(request.headers['content-type'] ?? '').includes('x-www-form-urlencoded') && new URL(request.url, 'http://local').pathname === '/';
const withoutBody = (request: GatedRequest): boolean => ['GET', 'HEAD', 'DELETE'].includes(request.method);

function check(policy: AccessPolicy, request: GatedRequest, reply: HookReply): HookReply | undefined {
  const keyId = accessKeyIdOf(request.headers, request.url);
  if (isSqs(request)) {
    const refusal = policy.refusal(keyId, [sqsRequest(String(request.headers['x-amz-target']), request.body)]);
    if (!refusal) return undefined;
    return reply
      .code(400)
      .header('content-type', 'application/x-amz-json-1.0')
      .header('x-amzn-query-error', 'AccessDenied;Sender')
      .send(JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', message: refusal }));
  }
  // SNS's query protocol: no function uses it.
  const requests = isQueryProtocol(request) ? [{ action: 'sns:Publish', resource: '*' }] : s3Requests(request.method, request.url, request.headers);
  const refusal = policy.refusal(keyId, requests);
  return refusal ? reply.code(403).header('content-type', 'application/xml').send(s3ErrorXml('AccessDenied', refusal)) : undefined;
}

/**
 * Fastify hooks refusing what IAM would. Requests without a body are checked on arrival, before any other hook
 * can answer them (the ListParts hook would); the others once their body is read (so that the client sees the
 * answer rather than a reset connection, and SQS's parsed JSON names the queue).
 */
export const s3SqsAccessChecks = (policy: AccessPolicy) => ({
  onRequest: async (request: GatedRequest, reply: HookReply): Promise<HookReply | undefined> =>
    withoutBody(request) ? check(policy, request, reply) : undefined,
  preHandler: async (request: GatedRequest, reply: HookReply): Promise<HookReply | undefined> =>
    withoutBody(request) ? undefined : check(policy, request, reply),
});
