// A server that ends its connections (a failover, a proxy or server restart) never ends a process: the database
// libraries of the functions, against the real local servers, with connections ended while idle, while a query runs
// and between the queries of a transaction; then the whole local cloud as `npm start` runs it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectId } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { freePort } from '../../infra/local/ports.ts';
import { startMongo, type LocalMongo } from '../../infra/local/mongodb.ts';
import { logger } from '../../functions/lib/logger.ts';
import { closeDb, query, transaction } from '../../functions/lib/pg.ts';
import { closeMongo, mongo } from '../../functions/lib/mongo.ts';
import { apiAt, eventually } from '../support/api.ts';
import { startCloudProcess } from '../support/child.ts';

const endpoints = inject('endpoints');
process.env.DATABASE_URL = endpoints.postgres;
const admin = new pg.Client({ connectionString: endpoints.postgres });
admin.on('error', () => undefined);
const scratch: string[] = [];
const tempDir = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(d);
  return d;
};

beforeAll(() => admin.connect());
afterAll(async () => {
  await closeDb();
  await closeMongo();
  await admin.end();
  scratch.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

const terminate = async (pid: number) => {
  await admin.query('SELECT pg_terminate_backend($1)', [pid]);
  await eventually(async () => ((await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount === 0 ? true : undefined), `backend ${pid} gone`, 10_000);
};
const backendPid = async (): Promise<number> => (await query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0]!.pid;

describe('PostgreSQL ends a function pool connection', () => {
  it('while it is idle: logged, and the next query gets a new connection', async () => {
    const warn = vi.spyOn(logger, 'warn');
    const before = await backendPid();
    await terminate(before);
    await eventually(async () => (warn.mock.calls.length > 0 ? true : undefined), 'the disconnect logged', 5_000);
    expect(warn.mock.calls[0]![0]).toBe('database connection ended by the server');
    const after = await backendPid();
    expect(after).not.toBe(before);
    warn.mockRestore();
  });

  it('while a query of a transaction runs: that transaction fails, the next one succeeds', async () => {
    const failure = transaction(async (c) => {
      await c.query('SELECT pg_sleep(30)');
    }).then(() => undefined, (err: Error) => err);
    const pid = await eventually(async () => {
      const r = await admin.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)' AND state = 'active'");
      return r.rows[0]?.pid;
    }, 'the query running', 10_000);
    await terminate(pid);
    expect((await failure)?.message).toMatch(/terminating connection|Connection terminated/);
    expect(await transaction(async (c) => (await c.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one)).toBe(1);
  });

  it('between the queries of a transaction: the next query of that transaction fails, the next transaction succeeds', async () => {
    const warn = vi.spyOn(logger, 'warn');
    const outcome = transaction(async (c) => {
      const { pid } = (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!;
      await terminate(pid);
      await eventually(async () => (warn.mock.calls.length > 0 ? true : undefined), 'the disconnect logged', 5_000);
      await c.query('SELECT 1');
    });
    await expect(outcome).rejects.toThrow();
    expect((await query<{ one: number }>('SELECT 1 AS one'))[0]!.one).toBe(1);
    warn.mockRestore();
  });
});

describe('MongoDB ends the connections of a function', () => {
  let server: LocalMongo | undefined;
  afterAll(() => server?.stop());

  it('a restart of the server: a request under way fails or waits for it, the next ones succeed', async () => {
    const dataDir = tempDir('framewise-mongo-restart-');
    const port = await freePort();
    server = await startMongo({ dataDir, port });
    await closeMongo();
    process.env.MONGODB_URI = server.uri;
    const docs = (await mongo()).collection('disconnects');
    const a = new ObjectId();
    await docs.insertOne({ _id: a, n: 1 });

    await server.stop(); // every client connection is destroyed, as a server restart does
    server = undefined;
    const during = docs.findOne({ _id: a }).then(
      (doc) => ({ doc }),
      (err: Error) => ({ err }),
    );
    await new Promise((r) => setTimeout(r, 500));
    server = await startMongo({ dataDir, port });
    const outcome = await during;
    // Failed (the connection it was sent on ended: a network error, or the socket's own 'ended by the other party'),
    // or answered once the server was back.
    if ('err' in outcome) expect(outcome.err).toBeInstanceOf(Error);
    else expect(outcome.doc).toMatchObject({ n: 1 });
    expect(await docs.findOne({ _id: a })).toMatchObject({ n: 1 });
    await docs.insertOne({ _id: new ObjectId(), n: 2 });
    expect(await docs.countDocuments()).toBe(2);
  });

  it('a server not there at the first request: that request fails, the next one connects', async () => {
    const dataDir = tempDir('framewise-mongo-late-');
    const port = await freePort();
    await closeMongo();
    process.env.MONGODB_URI = `mongodb://127.0.0.1:${port}/?directConnection=true&serverSelectionTimeoutMS=300`;
    await expect(mongo()).rejects.toThrow(/ECONNREFUSED|Server selection timed out/);
    const late = await startMongo({ dataDir, port });
    try {
      expect(await (await mongo()).collection('disconnects').countDocuments()).toBe(0);
    } finally {
      await closeMongo();
      await late.stop();
    }
  });
});

describe('npm start', () => {
  it('survives the server ending every database connection of its functions, and stops cleanly on Ctrl-C', async () => {
    const cloud = await startCloudProcess(tempDir('framewise-disconnect-'));
    try {
      const call = apiAt(cloud.endpoints.api, cloud.adminApiKey);
      expect((await call('GET', '/v1/me')).status).toBe(200);
      const db = new pg.Client({ connectionString: cloud.endpoints.postgres });
      db.on('error', () => undefined);
      await db.connect();
      const ended = await db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'framewise' AND pid <> pg_backend_pid() AND backend_type = 'client backend'");
      await db.end();
      expect(ended.rowCount).toBeGreaterThan(0);
      expect((await call('GET', '/v1/me')).status).toBe(200);
      expect(cloud.process.exitCode).toBeNull();
      expect(cloud.output()).toContain('database connection ended by the server');

      cloud.killAll('SIGINT'); // Ctrl-C: the terminal signals the whole process group, PostgreSQL included
      const exit = await cloud.exited;
      expect(exit.code, cloud.output()).toBe(0);
      expect(cloud.output()).toContain('SIGINT: stopping the local cloud');
      expect(cloud.output()).toMatch(/\nstopped\n/);
      expect(cloud.output()).not.toMatch(/Unhandled|uncaught/i);
      await cloud.allGone();
    } finally {
      cloud.killAll();
    }
  });
});
