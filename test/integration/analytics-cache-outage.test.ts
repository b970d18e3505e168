// The cache spills large values to S3, and a cache outage (its table gone) degrades to computing from the
// stores: same responses, no errors. Its own local cloud, so that deleting the cache table harms no other test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloud, type LocalCloud } from '../../infra/local/cloud.ts';
import { SeasonFixture } from '../support/season-fixture.ts';

const dir = mkdtempSync(join(tmpdir(), 'framewise-cache-outage-'));
let cloud: LocalCloud;
let mongo: MongoClient;
let fx: SeasonFixture;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

beforeAll(async () => {
  // Tiny values go to S3, and no per-instance memory hides the shared cache.
  const environment = { CACHE_INLINE_MAX_BYTES: '300', CACHE_MEMORY_MB: '0', CACHE_TIMEOUT_MS: '500' };
  cloud = await startLocalCloud({ dir, schedules: false, retryIntervalScale: 0.05, environment });
  mongo = new MongoClient(cloud.endpoints.mongodb);
  fx = await SeasonFixture.connect(cloud.endpoints.postgres, mongo);
});
afterAll(async () => {
  await fx?.close();
  await mongo?.close();
  await cloud?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('cache outage', () => {
  it('spills large values to S3 and, with the cache table gone, still answers correctly', async () => {
    const { seasonId } = await fx.season('Outage');
    const game = await fx.game(seasonId, 'G', new Date('2026-01-01T15:00:00Z'));
    const video = await fx.video(game, 'v', { seconds: 30 });
    const dg = await fx.detGroup('Outage group');
    await fx.metrics(video, dg, { seconds: 30, seed: 3 });
    const client = await fx.client('Outage client');
    await fx.grant(client, { seasonId, detGroupId: dg });
    const key = await fx.clientKey(client);
    const get = async (path: string) => {
      const res = await fetch(`${cloud.endpoints.api}${path}`, { headers: { authorization: `Bearer ${key}`, 'accept-encoding': 'gzip' } });
      return { status: res.status, cache: res.headers.get('x-cache'), body: (await res.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    const path = `/v1/seasons/${seasonId}/metrics?resolution=1`;

    const first = await get(path);
    expect(first).toMatchObject({ status: 200, cache: 'miss' });
    const second = await get(path);
    expect(second).toMatchObject({ status: 200, cache: 'hit' });
    expect(second.body).toEqual(first.body);
    const s3 = new S3Client({ endpoint: cloud.endpoints.s3, region: 'us-east-1', forcePathStyle: true, credentials });
    const spilled = await s3.send(new ListObjectsV2Command({ Bucket: 'framewise-media', Prefix: 'cache/' }));
    expect(spilled.KeyCount).toBeGreaterThanOrEqual(2); // the response and its fragment

    const dynamo = new DynamoDBClient({ endpoint: cloud.endpoints.dynamodb, region: 'us-east-1', credentials });
    await dynamo.send(new DeleteTableCommand({ TableName: 'framewise-cache' }));
    const started = Date.now();
    const during = await get(path);
    expect(during).toMatchObject({ status: 200, cache: 'miss' });
    expect(during.body).toEqual(first.body);
    const meta = await get(`/v1/seasons/${seasonId}/meta`);
    expect(meta.status).toBe(200);
    expect(meta.body.games[0].videos.map((v: { id: string }) => v.id)).toEqual([video]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
