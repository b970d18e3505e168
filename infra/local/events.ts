// Pure builders of the event shapes AWS delivers to Lambda, and the route matching API Gateway does.
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, S3Event, SQSRecord, ScheduledEvent } from 'aws-lambda';

/** S3 URL-encodes keys in notifications, with `+` for spaces. */
export const encodeS3EventKey = (key: string): string => encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');

export function s3Notification(o: {
  region: string;
  bucket: string;
  key: string;
  size: number;
  etag: string;
  eventName: string;
  sequencer: string;
  time?: Date;
  /** Of an ObjectRestore:Completed event: until when the restored copy is readable, and the object's class. */
  restore?: { expiryTime: Date; storageClass: string };
}): S3Event {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: o.region,
        eventTime: (o.time ?? new Date()).toISOString(),
        eventName: o.eventName,
        userIdentity: { principalId: 'local' },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: { 'x-amz-request-id': randomUUID(), 'x-amz-id-2': randomUUID() },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'framewise-local',
          bucket: { name: o.bucket, ownerIdentity: { principalId: 'local' }, arn: `arn:aws:s3:::${o.bucket}` },
          object: { key: encodeS3EventKey(o.key), size: o.size, eTag: o.etag, sequencer: o.sequencer },
        },
        ...(o.restore && {
          glacierEventData: {
            restoreEventData: { lifecycleRestorationExpiryTime: o.restore.expiryTime.toISOString(), lifecycleRestoreStorageClass: o.restore.storageClass },
          },
        }),
      },
    ],
  };
}

export interface ReceivedMessage {
  MessageId?: string;
  ReceiptHandle?: string;
  Body?: string;
  MD5OfBody?: string;
  Attributes?: Record<string, string>;
  MessageAttributes?: Record<string, { DataType?: string; StringValue?: string; BinaryValue?: Uint8Array }>;
}

export function sqsRecord(m: ReceivedMessage, queueArn: string, region: string): SQSRecord {
  const a = m.Attributes ?? {};
  return {
    messageId: m.MessageId ?? '',
    receiptHandle: m.ReceiptHandle ?? '',
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [
        k,
        { dataType: v.DataType ?? 'String', stringValue: v.StringValue, binaryValue: v.BinaryValue ? Buffer.from(v.BinaryValue).toString('base64') : undefined },
      ]),
    ),
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

export function scheduledEvent(ruleName: string, region: string, time = new Date()): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '000000000000',
    time: time.toISOString(),
    region,
    resources: [`arn:aws:events:${region}:000000000000:rule/${ruleName}`],
    detail: {},
  };
}

export interface RouteMatch {
  readonly routeKey: string;
  readonly fn: string;
  readonly pathParameters: Record<string, string>;
}

export interface CompiledRoute {
  readonly method: string;
  readonly routeKey: string;
  readonly fn: string;
  readonly pattern: RegExp;
  readonly names: readonly string[];
  /** Literal segments first, as API Gateway prefers the most specific route. */
  readonly literalCount: number;
}

export function compileRoutes(routes: readonly { method: string; path: string; fn: string }[]): CompiledRoute[] {
  return routes
    .map((r) => {
      const names: string[] = [];
      const segments = r.path.split('/').filter(Boolean);
      const source = segments
        .map((s) => {
          const greedy = /^\{(\w+)\+\}$/.exec(s);
          if (greedy) {
            names.push(greedy[1]!);
            return '/(.+)';
          }
          const param = /^\{(\w+)\}$/.exec(s);
          if (param) {
            names.push(param[1]!);
            return '/([^/]+)';
          }
          return `/${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`;
        })
        .join('');
      return {
        method: r.method,
        routeKey: `${r.method} ${r.path}`,
        fn: r.fn,
        pattern: new RegExp(`^${source}/?$`),
        names,
        literalCount: segments.filter((s) => !s.startsWith('{')).length,
      };
    })
    .sort((a, b) => b.literalCount - a.literalCount);
}

/** A path whose percent-encoding does not decode (`/v1/sports/%ZZ`): API Gateway answers 400 before any route. */
export function isMalformedPath(path: string): boolean {
  try {
    decodeURIComponent(path);
    return false;
  } catch {
    return true;
  }
}

export function matchRoute(routes: readonly CompiledRoute[], method: string, path: string): RouteMatch | undefined {
  for (const r of routes) {
    if (r.method !== method && r.method !== 'ANY') continue;
    const m = r.pattern.exec(path);
    if (!m) continue;
    const pathParameters: Record<string, string> = {};
    r.names.forEach((n, i) => (pathParameters[n] = decodeURIComponent(m[i + 1]!)));
    return { routeKey: r.routeKey, fn: r.fn, pathParameters };
  }
  return undefined;
}

const TEXT_TYPES = /^(application\/(json|x-www-form-urlencoded|xml|.*\+json)|text\/)/;

export function apiGatewayEvent(o: {
  method: string;
  rawPath: string;
  rawQueryString: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  match: RouteMatch;
  sourceIp: string;
  domainName: string;
}): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [k, v] of Object.entries(o.headers)) {
    if (v === undefined) continue;
    if (k.toLowerCase() === 'cookie') cookies = (Array.isArray(v) ? v.join('; ') : v).split(/;\s*/);
    else headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
  }
  const params = new URLSearchParams(o.rawQueryString);
  const query: Record<string, string> = {};
  for (const key of new Set(params.keys())) query[key] = params.getAll(key).join(',');
  const now = new Date();
  const text = o.body.length === 0 || TEXT_TYPES.test(headers['content-type'] ?? 'application/json');
  return {
    version: '2.0',
    routeKey: o.match.routeKey,
    rawPath: o.rawPath,
    rawQueryString: o.rawQueryString,
    ...(cookies && { cookies }),
    headers,
    ...(Object.keys(query).length > 0 && { queryStringParameters: query }),
    ...(Object.keys(o.match.pathParameters).length > 0 && { pathParameters: o.match.pathParameters }),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: o.domainName,
      domainPrefix: o.domainName.split('.')[0]!,
      http: { method: o.method, path: o.rawPath, protocol: 'HTTP/1.1', sourceIp: o.sourceIp, userAgent: headers['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey: o.match.routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(o.body.length > 0 && { body: text ? o.body.toString('utf8') : o.body.toString('base64') }),
    isBase64Encoded: !text,
  };
}
