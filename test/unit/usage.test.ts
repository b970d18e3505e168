// How the usage meter classes and sizes requests as AWS bills them, and what a diff of two snapshots is.
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { dynamoUnitsMeter, s3PriceClass, sqsBilledRequests, UsageMeter, usageDiff } from '../../infra/local/usage.ts';

describe('S3 price classes', () => {
  const cls = (method: string, url: string, headers: Record<string, string> = {}) => s3PriceClass(method, url, headers);
  it('bills PUT, COPY, POST and LIST in the first class, GET, HEAD and the rest in the second, DELETE not at all', () => {
    expect(cls('PUT', '/b/frames/1.jpg?X-Amz-Signature=x')).toEqual({ action: 'PutObject', tier: 1 });
    expect(cls('PUT', '/b/k', { 'x-amz-copy-source': '/b/j' })).toEqual({ action: 'CopyObject', tier: 1 });
    expect(cls('PUT', '/b/k?partNumber=2&uploadId=u')).toEqual({ action: 'UploadPart', tier: 1 });
    expect(cls('POST', '/b/k?uploads')).toEqual({ action: 'CreateMultipartUpload', tier: 1 });
    expect(cls('POST', '/b/k?uploadId=u')).toEqual({ action: 'CompleteMultipartUpload', tier: 1 });
    expect(cls('POST', '/b/videos/v/game.mp4?restore')).toEqual({ action: 'RestoreObject', tier: 1 });
    expect(cls('GET', '/b?list-type=2&prefix=frames/')).toEqual({ action: 'ListObjects', tier: 1 });
    expect(cls('GET', '/b/k?uploadId=u')).toEqual({ action: 'ListParts', tier: 1 });
    expect(cls('POST', '/b?delete')).toEqual({ action: 'DeleteObjects', tier: 1 });
    expect(cls('GET', '/b/videos/v/game.mp4')).toEqual({ action: 'GetObject', tier: 2 });
    expect(cls('HEAD', '/b/k')).toEqual({ action: 'HeadObject', tier: 2 });
    expect(cls('OPTIONS', '/b/k')).toEqual({ action: 'Preflight', tier: 2 });
    expect(cls('DELETE', '/b/k')).toEqual({ action: 'DeleteObject', tier: 0 });
    expect(cls('DELETE', '/b/k?uploadId=u')).toEqual({ action: 'AbortMultipartUpload', tier: 0 });
  });
});

describe('SQS billed requests', () => {
  it('counts one request per started 64 KB of the request or of its answer, at least one', () => {
    expect(sqsBilledRequests(0, 0)).toBe(1);
    expect(sqsBilledRequests(65_536, 10)).toBe(1);
    expect(sqsBilledRequests(65_537, 10)).toBe(2);
    expect(sqsBilledRequests(100, 200_000)).toBe(4);
  });
});

describe('DynamoDB units', () => {
  it('asks dynalite for the consumed capacity, records it and answers without it, with the checksum of what it answers', async () => {
    const usage = new UsageMeter();
    const metered = dynamoUnitsMeter(usage)('DynamoDB_20120810.GetItem', { TableName: 't', Key: {} })!;
    expect(JSON.parse(metered.body!.toString())).toEqual({ TableName: 't', Key: {}, ReturnConsumedCapacity: 'TOTAL' });
    const answer = metered.answer(200, { 'x-amz-crc32': '1' }, Buffer.from(JSON.stringify({ Item: { a: { S: 'x' } }, ConsumedCapacity: { CapacityUnits: 0.5, TableName: 't' } })));
    expect(JSON.parse(answer.body.toString())).toEqual({ Item: { a: { S: 'x' } } });
    expect(answer.headers['x-amz-crc32']).toBe(String(crc32(answer.body)));
    expect(answer.headers['content-length']).toBe(String(answer.body.length));
    expect((await usage.snapshot()).dynamodb).toEqual({ readUnits: 0.5, writeUnits: 0, byAction: { GetItem: 1 } });
  });

  it('leaves a call that asked for its capacity, and calls that are not item reads or writes, as they are', () => {
    const meter = dynamoUnitsMeter(new UsageMeter());
    const asked = meter('DynamoDB_20120810.BatchWriteItem', { RequestItems: {}, ReturnConsumedCapacity: 'INDEXES' })!;
    expect(asked.body).toBeUndefined();
    const body = Buffer.from(JSON.stringify({ ConsumedCapacity: [{ CapacityUnits: 2 }, { CapacityUnits: 3 }] }));
    expect(asked.answer(200, {}, body).body).toBe(body);
    expect(meter('DynamoDB_20120810.DescribeTable', { TableName: 't' })).toBeUndefined();
  });
});

describe('usage diff', () => {
  it('subtracts every counter and keeps each function\'s memory', async () => {
    const usage = new UsageMeter({ storedBytes: () => ({ media: 100 }) });
    usage.recordInvocation('f', 512, 10.2);
    const before = await usage.snapshot();
    usage.recordInvocation('f', 512, 0.3);
    usage.recordInvocation('g', 128, 5);
    usage.recordS3Request('PutObject', 1);
    const after = await usage.snapshot();
    const d = usageDiff(before, after);
    expect(d.functions).toEqual({ f: { invocations: 1, billedMs: 1, memoryMb: 512 }, g: { invocations: 1, billedMs: 5, memoryMb: 128 } });
    expect(d.s3).toMatchObject({ tier1: 1, tier2: 0, byAction: { PutObject: 1 }, storedBytes: { media: 0 } });
    expect(before.functions.f).toEqual({ invocations: 1, billedMs: 11, memoryMb: 512 });
  });
});
