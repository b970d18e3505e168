// The local MongoDB acknowledges only what survives a crash: it runs in a child process, the official driver
// writes to it, the child is killed with SIGKILL right after a write is acknowledged, and a restart on the same
// folder finds every acknowledged write (and every acknowledged delete still deleted).
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { EJSON, ObjectId as BsonObjectId } from 'bson';
import { MongoClient, ObjectId } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { startMongo } from '../../infra/local/mongodb.ts';
import { freePort } from '../../infra/local/ports.ts';
import { startChild } from '../support/child.ts';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'framewise-mongo-'));
  dirs.push(d);
  return d;
};
const children: { killAll(): void }[] = [];
afterAll(() => {
  children.forEach((c) => c.killAll());
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

/** A journal this small makes the child compact every few writes, so kills also land during compactions. */
const SMALL_JOURNAL = String(64 * 1024);

async function startStore(dir: string) {
  const child = await startChild<{ uri: string }>('test/support/mongo-child.ts', [dir, SMALL_JOURNAL]);
  children.push(child);
  const client = await new MongoClient(child.ready.uri, { serverSelectionTimeoutMS: 1_000 }).connect();
  return { child, client, docs: client.db('framewise').collection<{ _id: ObjectId; v: number; pad?: string }>('docs') };
}

async function kill(store: Awaited<ReturnType<typeof startStore>>) {
  store.child.process.kill('SIGKILL');
  await store.child.exited;
  await store.client.close(true).catch(() => undefined);
}

const idOf = (n: number) => new ObjectId(n.toString(16).padStart(24, '0'));

describe('local MongoDB durability', () => {
  it('keeps a write and a delete acknowledged right before a SIGKILL', async () => {
    const dir = tempDir();
    const first = await startStore(dir);
    await first.docs.replaceOne({ _id: idOf(1) }, { v: 1 }, { upsert: true });
    await first.docs.replaceOne({ _id: idOf(2) }, { v: 2 }, { upsert: true });
    await first.docs.deleteOne({ _id: idOf(2) });
    await first.docs.replaceOne({ _id: idOf(3) }, { v: 3 }, { upsert: true });
    await kill(first);

    const second = await startStore(dir);
    try {
      expect(await second.docs.findOne({ _id: idOf(1) })).toMatchObject({ v: 1 });
      expect(await second.docs.findOne({ _id: idOf(2) })).toBeNull();
      expect(await second.docs.findOne({ _id: idOf(3) })).toMatchObject({ v: 3 });
    } finally {
      await kill(second);
    }
  });

  it('loses no acknowledged write of concurrent writers killed at random moments, across compactions', async () => {
    const dir = tempDir();
    const WRITERS = 4;
    const IDS_PER_WRITER = 12;
    // What each id must hold after a restart: its last acknowledged value (null: no document, deleted or never
    // written), or the value of a write that was in flight when the process died (it may or may not have landed).
    const acked = new Map<number, number | null>();
    const inFlight = new Map<number, number | null>();
    let value = 0;
    let checked = 0;

    for (let round = 0; round < 6; round++) {
      const store = await startStore(dir);
      for (let id = 0; id < WRITERS * IDS_PER_WRITER; id++) {
        const doc = await store.docs.findOne({ _id: idOf(id) });
        const found: number | null = doc ? doc.v : null;
        const allowed = [acked.get(id) ?? null, ...(inFlight.has(id) ? [inFlight.get(id) ?? null] : [])];
        expect(allowed, `round ${round}, id ${id}: found ${found}`).toContain(found);
        acked.set(id, found);
        checked++;
      }
      inFlight.clear();

      const killAfter = 20 + Math.floor(Math.random() * 120);
      let acknowledged = 0;
      let killed = false;
      const writer = async (w: number) => {
        while (!killed) {
          const id = w * IDS_PER_WRITER + Math.floor(Math.random() * IDS_PER_WRITER);
          const remove = Math.random() < 0.25;
          const v = remove ? null : ++value;
          inFlight.set(id, v);
          try {
            if (v === null) await store.docs.deleteOne({ _id: idOf(id) });
            else await store.docs.replaceOne({ _id: idOf(id) }, { v, pad: 'x'.repeat(Math.floor(Math.random() * 8_000)) }, { upsert: true });
          } catch (err) {
            if (killed) return;
            throw err;
          }
          if (killed) return; // acknowledged after the kill was decided: it stays "in flight"
          acked.set(id, v);
          inFlight.delete(id);
          if (++acknowledged === killAfter) {
            killed = true;
            store.child.process.kill('SIGKILL'); // immediately after this write's acknowledgement
          }
        }
      };
      await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
      await kill(store);
    }
    expect(checked).toBe(6 * WRITERS * IDS_PER_WRITER);
    // Compactions ran: the folder holds a snapshot and journals are not all there is.
    expect(readdirSync(dir).some((f) => /^snapshot-\d+\.bson$/.test(f))).toBe(true);
  });

  it('keeps 60 concurrent upserts, all acknowledged, through a SIGKILL', async () => {
    const dir = tempDir();
    const first = await startStore(dir);
    await Promise.all(Array.from({ length: 60 }, (_, i) => first.docs.replaceOne({ _id: idOf(100 + i) }, { v: i }, { upsert: true })));
    await kill(first);
    const second = await startStore(dir);
    try {
      expect(await second.docs.countDocuments()).toBe(60);
    } finally {
      await kill(second);
    }
  });

  it('compacts a 60 MB store off the hot path: no stall of the event loop, nothing lost', async () => {
    const dir = tempDir();
    const payload = 'x'.repeat(200_000);
    let mongo = await startMongo({ dataDir: dir, port: await freePort(), compactAfterBytes: 1024 ** 3 });
    let client = await new MongoClient(mongo.uri).connect();
    for (let batch = 0; batch < 15; batch++) {
      await client.db('framewise').collection('big').insertMany(Array.from({ length: 20 }, (_, i) => ({ _id: idOf(batch * 20 + i), payload })));
    }
    await client.close();
    await mongo.stop();

    // A start replays the 60 MB journal and compacts it in the background while the server serves.
    mongo = await startMongo({ dataDir: dir, port: await freePort(), compactAfterBytes: 1024 * 1024 });
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    client = await new MongoClient(mongo.uri).connect();
    const started = Date.now();
    expect((await client.db('framewise').collection('big').findOne({ _id: idOf(7) }))?._id).toEqual(idOf(7));
    const firstReadMs = Date.now() - started;
    await mongo.flush();
    loop.disable();
    // One snapshot and the journal after it are left: the journals it holds are gone.
    expect(readdirSync(dir).filter((f) => f.startsWith('journal-') || f.startsWith('snapshot-')).sort()).toEqual(['journal-3.bson', 'snapshot-3.bson']);
    // The whole-store snapshot this replaces blocked the event loop for 1.7 s at this size.
    expect(loop.max / 1e6).toBeLessThan(500);
    expect(firstReadMs).toBeLessThan(500);
    await client.close();
    await mongo.stop();

    mongo = await startMongo({ dataDir: dir, port: await freePort() });
    client = await new MongoClient(mongo.uri).connect();
    try {
      expect(await client.db('framewise').collection('big').countDocuments()).toBe(300);
    } finally {
      await client.close();
      await mongo.stop();
    }
  });

  it('reads a store saved in the older whole-snapshot format and converts it', async () => {
    const dir = tempDir();
    const id = new ObjectId();
    const at = new Date('2026-01-02T03:04:05Z');
    // Written as the older local cloud wrote it: with the bson package's own types.
    const legacy = { databases: { framewise: { docs: [{ _id: new BsonObjectId(id.toHexString()), v: 7, at }] } }, indexes: { framewise: { docs: [{ name: '_id_', key: { _id: 1 }, unique: true }] } } };
    writeFileSync(join(dir, 'snapshot.ejson'), EJSON.stringify(legacy, { relaxed: false }));
    for (let i = 0; i < 2; i++) {
      const mongo = await startMongo({ dataDir: dir, port: await freePort() });
      const client = await new MongoClient(mongo.uri).connect();
      try {
        expect(await client.db('framewise').collection('docs').findOne({ _id: id })).toEqual({ _id: id, v: 7, at });
      } finally {
        await client.close();
        await mongo.flush();
        await mongo.stop();
      }
    }
    expect(readdirSync(dir)).not.toContain('snapshot.ejson');
  });
});
