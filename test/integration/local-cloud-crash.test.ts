// The local cloud as `npm start` runs it, in its own process, stopped the hard way: an upload answered right
// before a SIGKILL still raises its S3 notification after the restart, data deleted right before a SIGTERM
// stays deleted, and SIGTERM stops every service cleanly.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { MongoClient, ObjectId } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { apiAt as api, eventually } from '../support/api.ts';
import { startCloudProcess, startProcess, type CloudProcess } from '../support/child.ts';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'framewise-crash-'));
  dirs.push(d);
  return d;
};
const running: CloudProcess[] = [];
afterAll(() => {
  for (const c of running) c.killAll();
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

async function start(dir: string): Promise<CloudProcess> {
  const cloud = await startCloudProcess(dir);
  running.push(cloud);
  return cloud;
}

const isOpen = (url: string) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(Number(new URL(url.replace(/^postgres:|^mongodb:/, 'http:')).port), '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });

describe('local cloud stopped the hard way', () => {
  it('delivers the S3 notification of a video PUT answered right before a SIGKILL, after the restart', async () => {
    const dir = tempDir();
    const first = await start(dir);
    const admin = api(first.endpoints.api, first.adminApiKey);
    const stamp = Date.now();
    const sport = await admin('POST', '/v1/sports', { name: `Crash sport ${stamp}` });
    const league = await admin('POST', '/v1/leagues', { sportId: sport.body.id, name: 'League' });
    const season = await admin('POST', '/v1/seasons', { leagueId: league.body.id, name: '2026' });
    const game = await admin('POST', '/v1/games', { seasonId: season.body.id, title: 'A v B', startsAt: '2026-11-21T15:00:00Z' });
    const video = await admin('POST', '/v1/videos', { gameId: game.body.id, title: 'killed after upload' });
    expect(video.status).toBe(201);
    const body = Buffer.alloc(4096, 1);
    const plan = await admin('POST', `/v1/videos/${video.body.id}/upload`, {
      filename: 'game.mp4', contentType: 'video/mp4', sizeBytes: body.length, frameRate: 5, threshold: 0.5,
    });
    expect(plan.body.method).toBe('PUT');
    const put = await fetch(plan.body.url, { method: 'PUT', headers: plan.body.headers, body });
    if (put.ok) first.killAll('SIGKILL'); // the whole local cloud, at 0 ms after the 200
    expect(put.status).toBe(200);
    await first.allGone();

    const second = await start(dir);
    try {
      const admin2 = api(second.endpoints.api, second.adminApiKey);
      const job = await eventually(async () => {
        const res = await admin2('GET', `/v1/jobs?videoId=${video.body.id}&limit=10`);
        return res.body?.jobs?.[0];
      }, `a job for the video uploaded before the kill`);
      expect(job).toMatchObject({ kind: 'video-ingest', videoId: video.body.id });
      // Delivered notifications leave the outbox.
      await eventually(async () => (readdirSync(join(dir, 's3sqs', 'outbox')).length === 0 ? true : undefined), 'an empty outbox', 10_000);
    } finally {
      second.process.kill('SIGTERM');
      await second.exited;
    }
  });

  it('keeps the workflow executions started right before a SIGKILL', async () => {
    const dir = tempDir();
    const first = await start(dir);
    const aws = { region: 'us-east-1', credentials: { accessKeyId: 't', secretAccessKey: 't' } };
    const stateMachineArn = 'arn:aws:states:us-east-1:000000000000:stateMachine:framewise-video-ingest';
    const names = Array.from({ length: 20 }, (_, i) => `crash-${i}`);
    const sfn = new SFNClient({ ...aws, endpoint: first.endpoints.stepfunctions });
    await Promise.all(names.map((name) => sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: '{}' }))));
    first.killAll('SIGKILL'); // the whole local cloud, right after the last start was acknowledged
    sfn.destroy();
    await first.allGone();

    const second = await start(dir);
    try {
      const sfn2 = new SFNClient({ ...aws, endpoint: second.endpoints.stepfunctions });
      for (const name of names) {
        const x = await sfn2.send(new DescribeExecutionCommand({ executionArn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}` }));
        expect(x.name).toBe(name);
      }
      sfn2.destroy();
    } finally {
      second.process.kill('SIGTERM');
      await second.exited;
    }
  });

  it('keeps data deleted right before a SIGTERM deleted, and stops cleanly', async () => {
    const dir = tempDir();
    const first = await start(dir);
    const mongo = await new MongoClient(first.endpoints.mongodb).connect();
    const series = mongo.db('framewise').collection('frame_series');
    const detGroupId = `dg-${Date.now()}`;
    const ids = Array.from({ length: 20 }, () => new ObjectId());
    await series.insertMany(ids.map((_id, i) => ({ _id, videoId: `v${i}`, detGroupId, columns: { frame: [1, 2, 3] } })));
    const kept = new ObjectId();
    await series.insertOne({ _id: kept, videoId: 'v-kept', detGroupId: 'other', columns: { frame: [1] } });
    expect((await series.deleteMany({ detGroupId })).deletedCount).toBe(20);
    first.process.kill('SIGTERM'); // to `npm start`, right after the delete is acknowledged
    const stopped = Date.now();
    await mongo.close(true).catch(() => undefined);
    const exit = await first.exited;
    expect(exit.code, first.output()).toBe(0);
    expect(first.output()).toContain('stopped');
    expect(Date.now() - stopped).toBeLessThan(30_000);
    for (const url of Object.values(first.endpoints)) expect(await isOpen(url), url).toBe(false);
    await first.allGone(); // no process of it left, PostgreSQL included

    const second = await start(dir);
    try {
      const mongo2 = await new MongoClient(second.endpoints.mongodb).connect();
      try {
        const left = mongo2.db('framewise').collection('frame_series');
        expect(await left.countDocuments({ detGroupId })).toBe(0);
        expect(await left.findOne({ _id: kept })).toMatchObject({ detGroupId: 'other' });
      } finally {
        await mongo2.close();
      }
    } finally {
      second.killAll('SIGTERM'); // to the process group, as a service manager stops it
      const exit = await second.exited;
      expect(exit.code, second.output()).toBe(0);
      expect(second.output()).toContain('SIGTERM: stopping the local cloud');
      expect(second.output()).not.toMatch(/Unhandled|uncaught/i);
      await second.allGone();
    }
  });

  it('stops cleanly on a SIGTERM that comes while it starts (PostgreSQL already running)', async () => {
    const dir = tempDir();
    const starting = await startProcess('npm', ['start', '--', '--dir', dir], (line) => (line.includes('npm start') || line.includes('> framewise') ? true : undefined));
    try {
      await eventually(async () => (existsSync(join(dir, 'postgres', 'data', 'postmaster.pid')) ? true : undefined), 'PostgreSQL running', 60_000);
      starting.process.kill('SIGTERM');
      const exit = await starting.exited;
      expect(exit.code, starting.output()).toBe(0);
      expect(starting.output()).toContain('SIGTERM: stopping the local cloud');
      expect(starting.output()).toMatch(/\nstopped\n/);
      await starting.allGone(); // PostgreSQL included
    } finally {
      starting.killAll();
    }
  });
});
