import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileRoutes, encodeS3EventKey, isMalformedPath, matchRoute, sqsRecord, apiGatewayEvent } from '../../infra/local/events.ts';
import { httpRoutes, topology } from '../../infra/topology.ts';

const routes = compileRoutes(httpRoutes());

describe('route matching', () => {
  it('matches every declared route to its own route key', () => {
    for (const r of httpRoutes()) {
      const path = r.path.replace(/\{(\w+)\+?\}/g, (_, n: string) => `${n}-value`);
      expect(matchRoute(routes, r.method, path)).toMatchObject({ routeKey: `${r.method} ${r.path}`, fn: r.fn });
    }
  });

  it('prefers a literal segment over a parameter and decodes parameters', () => {
    const m = matchRoute(routes, 'POST', '/v1/videos/a%20b/upload/complete');
    expect(m).toEqual({ routeKey: 'POST /v1/videos/{id}/upload/complete', fn: 'catalog-api', pathParameters: { id: 'a b' } });
  });

  it('finds nothing for an unknown path or method', () => {
    expect(matchRoute(routes, 'GET', '/v1/nope')).toBeUndefined();
    expect(matchRoute(routes, 'PUT', '/v1/jobs')).toBeUndefined();
  });

  it('serves each route from exactly one function', () => {
    const keys = httpRoutes().map((r) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe('event shapes', () => {
  it('encodes S3 keys as S3 does in notifications', () => {
    expect(encodeS3EventKey('videos/a b/c+d.mp4')).toBe('videos/a+b/c%2Bd.mp4');
  });

  it('builds SQS records with the attributes Lambda passes', () => {
    const r = sqsRecord({ MessageId: 'm1', ReceiptHandle: 'rh', Body: 'x', Attributes: { ApproximateReceiveCount: '2' } }, 'arn:q', 'us-east-1');
    expect(r).toMatchObject({ messageId: 'm1', receiptHandle: 'rh', body: 'x', eventSource: 'aws:sqs', eventSourceARN: 'arn:q' });
    expect(r.attributes.ApproximateReceiveCount).toBe('2');
  });

  it('builds API Gateway v2 events with lower-case headers, joined query values and base64 for binary bodies', () => {
    const e = apiGatewayEvent({
      method: 'POST',
      rawPath: '/v1/videos/1/upload',
      rawQueryString: 'a=1&a=2&b=x',
      headers: { 'Content-Type': 'application/octet-stream', Cookie: 'c=1; d=2' },
      body: Buffer.from([0, 1, 2]),
      match: { routeKey: 'POST /v1/videos/{id}/upload', fn: 'catalog-api', pathParameters: { id: '1' } },
      sourceIp: '127.0.0.1',
      domainName: 'localhost',
    });
    expect(e.queryStringParameters).toEqual({ a: '1,2', b: 'x' });
    expect(e.headers['content-type']).toBe('application/octet-stream');
    expect(e.cookies).toEqual(['c=1', 'd=2']);
    expect(e.isBase64Encoded).toBe(true);
    expect(Buffer.from(e.body!, 'base64')).toEqual(Buffer.from([0, 1, 2]));
  });

  it('ships a sample event for every trigger kind the topology uses', () => {
    const kinds = new Set(topology.functions.flatMap((f) => f.triggers.map((t) => t.kind)));
    const samples: Record<string, string> = {
      http: 'events/http-get-openapi.json',
      queue: 'events/sqs-video-uploaded.json',
      schedule: 'events/schedule-sweep-stuck-jobs.json',
      task: 'events/task-ingest-probe.json',
      deploy: 'events/deploy-platform-bootstrap.json', // a CDK trigger invokes with no payload
    };
    for (const kind of kinds) expect(JSON.parse(readFileSync(samples[kind]!, 'utf8'))).toBeTruthy();
    const sqs = JSON.parse(readFileSync('events/sqs-video-uploaded.json', 'utf8'));
    expect(JSON.parse(sqs.Records[0].body).Records[0].s3.object.key).toMatch(/^videos\/.+\/source$/);
  });
});

describe('paths that do not decode', () => {
  it('tells a path whose percent-encoding is broken from one that decodes', () => {
    for (const bad of ['/v1/sports/%ZZ', '/v1/sports/%', '/v1/sports/%E0%A4%A', '/v1/jobs/%ED%A0%80']) expect(isMalformedPath(bad), bad).toBe(true);
    for (const good of ['/v1/sports/abc', '/v1/sports/a%20b', '/v1/sports/%C3%A9', '/v1/sports/a%00b']) expect(isMalformedPath(good), good).toBe(false);
  });
});
