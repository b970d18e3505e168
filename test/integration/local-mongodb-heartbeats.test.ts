// A MongoDB driver off Lambda streams the server's state when the server announces it can (topologyVersion in its
// hello). The local MongoDB cannot: each streamed heartbeat failed and cleared the client's pool under the
// operations in flight. It announces nothing now, so every driver polls, and no heartbeat fails.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { startMongo } from '../../infra/local/mongodb.ts';
import { freePort } from '../../infra/local/ports.ts';

const dir = mkdtempSync(join(tmpdir(), 'framewise-mongo-heartbeats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the local MongoDB and a driver’s monitoring', () => {
  it('fails no heartbeat of a client in the default mode, and keeps its pool', async () => {
    const mongo = await startMongo({ dataDir: dir, port: await freePort() });
    const client = new MongoClient(mongo.uri, { heartbeatFrequencyMS: 500 });
    const heartbeats = { succeeded: 0, failed: [] as string[] };
    let poolsCleared = 0;
    client.on('serverHeartbeatSucceeded', () => heartbeats.succeeded++);
    client.on('serverHeartbeatFailed', (e) => heartbeats.failed.push(String(e.failure)));
    client.on('connectionPoolCleared', () => poolsCleared++);
    try {
      await client.connect();
      const items = client.db('framewise').collection('heartbeats');
      const deadline = Date.now() + 3_000;
      for (let i = 0; Date.now() < deadline; i++) {
        await items.insertOne({ i });
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(heartbeats.failed).toEqual([]);
      expect(poolsCleared).toBe(0);
      expect(heartbeats.succeeded).toBeGreaterThanOrEqual(3);
    } finally {
      await client.close();
      await mongo.stop();
    }
  });
});
