// API Gateway v2 (HTTP API) events for calling handlers in-process, as API Gateway would after matching a route.
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

export interface ApiEventInput {
  params?: Record<string, string>;
  query?: Record<string, string>;
  /** Sent as JSON unless it is already a string. */
  body?: unknown;
  headers?: Record<string, string>;
}

/** `apiEvent('GET /v1/seasons/{id}', { params: { id } })`: rawPath has the params substituted. */
export function apiEvent(routeKey: string, input: ApiEventInput = {}): APIGatewayProxyEventV2 {
  const [method, path] = routeKey.split(' ') as [string, string];
  const params = input.params ?? {};
  const rawPath = path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`apiEvent: no value for {${name}} in ${routeKey}`);
    return encodeURIComponent(value);
  });
  const rawQueryString = new URLSearchParams(input.query ?? {}).toString();
  const body = input.body === undefined ? undefined : typeof input.body === 'string' ? input.body : JSON.stringify(input.body);
  const headers: Record<string, string> = {
    host: 'api.local',
    ...(body !== undefined && { 'content-type': 'application/json' }),
    ...Object.fromEntries(Object.entries(input.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
  };
  const now = new Date();
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString,
    headers,
    queryStringParameters: input.query && Object.keys(input.query).length ? { ...input.query } : undefined,
    pathParameters: Object.keys(params).length ? { ...params } : undefined,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: 'api.local',
      domainPrefix: 'api',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
  };
}

/** The Authorization header for an API key. */
export const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });
