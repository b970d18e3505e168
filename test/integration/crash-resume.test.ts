// The whole local cloud killed (SIGKILL, FRAMEWISE_FAULT_POINT) before and after the side effects of every task of an
// ingest, a det_group computation and a bulk upload, then started again on the same data without the fault, and the
// jobs sweeper fired as its schedule would: the work ends succeeded, its job ran again exactly once, and every result
// is there exactly once (metric documents, frames, table rows, jobs).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drawSampleGame, sampleLabelMapping, sampleLocalizations, type SampleGame } from '../../cli/sample-game.ts';
import { uploadFile, type UploadPlan } from '../../cli/upload.ts';
import { parseLabelMapping } from '../../shared/label-map.ts';
import { encodeNpy } from '../../functions/materialize/npy-write.ts';
import { SYNAPSE_NPY_MAPPING } from '../../functions/materialize/schemas.ts';
import type { Endpoints } from '../../infra/local/cloud.ts';
import { apiAt } from '../support/api.ts';
import { ROOT } from '../support/processes.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const dir = mkdtempSync(join(tmpdir(), 'framewise-crash-'));
const work = mkdtempSync(join(tmpdir(), 'framewise-crash-files-'));
const GAME: SampleGame = { seconds: 4, width: 160, height: 120, fps: 25 };
const FPS = 5;
const BUCKET = 'framewise-media';
const labelMapping = Object.fromEntries([...parseLabelMapping(sampleLabelMapping())].map(([k, v]) => [String(k), v]));

/** One start of the local cloud on `dir`, in its own process. */
class Cloud {
  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly endpoints: Endpoints,
    readonly adminApiKey: string,
    private readonly replies: AsyncIterator<{ what: string; body: Json }>,
    readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
  ) {}

  static async start(): Promise<Cloud> {
    const child = spawn(process.execPath, ['--import', 'tsx', '--disable-warning=ExperimentalWarning', join(ROOT, 'test/support/cloud-child.ts')], {
      cwd: ROOT,
      env: { ...process.env, CLOUD_DIR: dir, POWERTOOLS_LOG_LEVEL: process.env.CRASH_LOG_LEVEL ?? 'ERROR', FRAMEWISE_FAULT_POINT: '' },
      stdio: ['pipe', 'pipe', 'pipe'],
      // Its own process group, which a fault point kills whole (the PostgreSQL server with it).
      detached: true,
    });
    if (process.env.CRASH_LOG) {
      child.stdout.on('data', (d: Buffer) => appendFileSync(process.env.CRASH_LOG!, d));
      child.stderr.on('data', (d: Buffer) => appendFileSync(process.env.CRASH_LOG!, d));
    }
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('exit', (code, signal) => done({ code, signal })));
    const replies = (async function* () {
      for await (const line of createInterface({ input: child.stdout })) {
        const m = /^@@cloud (\w+) (.*)$/.exec(line);
        if (m) yield { what: m[1]!, body: JSON.parse(m[2]!) as Json };
      }
    })();
    const ready = await Promise.race([replies.next(), exited.then((e) => ({ value: undefined, exit: e }))]);
    if (!ready.value) throw new Error(`the local cloud did not start: ${JSON.stringify(ready)}\n${stderr}`);
    return new Cloud(child, ready.value.body.endpoints, ready.value.body.adminApiKey, replies, exited);
  }

  /** Sets FRAMEWISE_FAULT_POINT in the cloud's process: the cloud dies when it gets there. */
  async arm(fault: string): Promise<void> {
    this.child.stdin.write(`fault ${fault}\n`);
    expect((await this.replies.next()).value).toEqual({ what: 'armed', body: fault });
  }

  /** Fires the sweeper; undefined when the cloud dies before it answers (a run it resumed died at once). */
  async sweep(): Promise<Json> {
    this.child.stdin.write('sweep\n');
    const reply = await Promise.race([this.replies.next(), this.exited.then(() => undefined)]);
    return reply?.value?.body;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.stdin.write('stop\n');
    expect((await this.exited).code).toBe(0);
  }

  kill(): void {
    process.kill(-this.child.pid!, 'SIGKILL');
  }

  get api() {
    return apiAt(this.endpoints.api, this.adminApiKey);
  }

  s3(): S3Client {
    return new S3Client({ endpoint: this.endpoints.s3, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 't', secretAccessKey: 't' } });
  }

  async mongo<T>(use: (db: ReturnType<MongoClient['db']>) => Promise<T>): Promise<T> {
    const client = new MongoClient(this.endpoints.mongodb);
    try {
      return await use(client.db('framewise'));
    } finally {
      await client.close();
    }
  }

  async sql(text: string, values: unknown[] = []): Promise<Json[]> {
    const client = new pg.Client({ connectionString: this.endpoints.postgres });
    await client.connect();
    try {
      return (await client.query(text, values)).rows;
    } finally {
      await client.end();
    }
  }

  /** Polls the job until it ends; `meanwhile` sees each poll's job, and what it answers goes into the error on a timeout. */
  async ended(jobId: string, timeoutMs = 90_000, meanwhile?: (job: Json) => Promise<unknown>): Promise<Json> {
    const deadline = Date.now() + timeoutMs;
    let seen: unknown;
    for (;;) {
      const job = (await this.api('GET', `/v1/jobs/${jobId}`)).body;
      if (job?.state === 'succeeded' || job?.state === 'failed') return job;
      if (Date.now() > deadline) throw new Error(`job ${jobId} did not end: ${JSON.stringify(job)}; meanwhile: ${JSON.stringify(seen)}`);
      if (meanwhile) seen = await meanwhile(job);
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  async jobs(match: (j: Json) => boolean): Promise<Json[]> {
    const found: Json[] = [];
    let cursor: string | undefined;
    do {
      const page = (await this.api('GET', `/v1/jobs?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)).body;
      found.push(...page.jobs.filter(match));
      cursor = page.cursor;
    } while (cursor);
    return found;
  }
}

/** Resolves when the PostgreSQL server of a killed cloud is gone too (it dies with the cloud's process group). */
async function postgresGone(): Promise<void> {
  const pidFile = join(dir, 'postgres', 'data', 'postmaster.pid');
  const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : 0;
  for (let i = 0; pid > 0 && i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The cloud of the moment: each kill point is reached on it, and it is replaced by a new start on the same data. */
let cloud: Cloud;

/**
 * Sets the fault point, starts the work (which may fail halfway: the cloud can die under it), waits for the cloud
 * to die there, starts it again and fires the sweeper: returns the job (found by `findJob`) once it has ended.
 */
async function killAndResume(fault: string, begin: (cloud: Cloud) => Promise<void>, findJob: (cloud: Cloud) => Promise<string>): Promise<Json> {
  const doomed = cloud;
  await doomed.arm(fault);
  const began = begin(doomed).then(() => 'begun', (err: Error) => err.message);
  const exit = await Promise.race([doomed.exited, new Promise((r) => setTimeout(r, 90_000, 'still running'))]);
  if (exit === 'still running') {
    doomed.kill();
    await doomed.exited;
    await postgresGone();
    cloud = await Cloud.start();
    throw new Error(`${fault} was never reached (${await began})`);
  }
  expect(exit, fault).toMatchObject({ signal: 'SIGKILL' });
  await began;
  await postgresGone();
  cloud = await Cloud.start();
  const sweeps = [await cloud.sweep()];
  const jobId = await findJob(cloud);
  // The schedule fires the sweeper again and again; here it is fired again while the job has not moved for a while
  // (a sweep never resumes a run that is still going, so this cannot run a job twice). What each sweep did is in
  // the error if the job never ends.
  let last = '';
  let still = 0;
  return cloud.ended(jobId, 90_000, async (job) => {
    const now = JSON.stringify([job.state, job.updatedAt, job.resumes]);
    still = now === last ? still + 1 : 0;
    last = now;
    if (still > 0 && still % 100 === 0) sweeps.push(await cloud.sweep());
    return sweeps;
  });
}

/** Waits for the cloud of the moment to die at its fault point, and starts it again. */
async function diesAndRestarts(what: string): Promise<void> {
  const exit = await Promise.race([cloud.exited, new Promise((r) => setTimeout(r, 90_000, 'still running'))]);
  expect(exit, what).toMatchObject({ signal: 'SIGKILL' });
  await postgresGone();
  cloud = await Cloud.start();
}

/** Polls until `find` finds something. */
async function found<T>(find: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = await find();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not found: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const pointsOf = (functions: readonly string[]) => functions.flatMap((fn) => [`${fn}:before`, `${fn}:after`]);

let videoFile: string;
let locFile: string;
let gameId: string;
let referenceVideo: string;
const detectables: Record<string, string> = {};

/** Uploads the sample game's localizations and video; the upload's notification starts the ingest. */
async function uploadVideo(cloud: Cloud, title: string): Promise<string> {
  const videoId = (await cloud.api('POST', '/v1/videos', { gameId, title })).body.id as string;
  const loc = await cloud.api<UploadPlan>('POST', `/v1/videos/${videoId}/localizations/upload`, { sizeBytes: statSync(locFile).size, labelMapping });
  expect(loc.status).toBe(200);
  await uploadFile(loc.body, locFile);
  const plan = await cloud.api<UploadPlan>('POST', `/v1/videos/${videoId}/upload`, {
    filename: 'game.mp4', contentType: 'video/mp4', sizeBytes: statSync(videoFile).size, frameRate: FPS, threshold: 0.5,
  });
  expect(plan.status).toBe(200);
  await uploadFile(plan.body, videoFile);
  return videoId;
}

const ingestJobOf = (cloud: Cloud, videoId: string): Promise<string> =>
  found(async () => (await cloud.api('GET', `/v1/jobs?videoId=${videoId}&limit=10`)).body?.jobs?.[0]?.jobId as string | undefined, `the ingest job of ${videoId}`);

/** The metric documents of a video: det_groups with a frame series, and rollups per det_group. */
async function documentsOf(cloud: Cloud, filter: Record<string, string>): Promise<{ series: string[]; rollups: number }> {
  return cloud.mongo(async (db) => ({
    series: (await db.collection('frame_series').find(filter).toArray()).map((d) => `${d.videoId}/${d.detGroupId}`).sort(),
    rollups: await db.collection('rollups').countDocuments(filter),
  }));
}

function expectResumedOnce(job: Json, fault: string): void {
  expect(job.state, `${fault}: ${JSON.stringify(job.error)}`).toBe('succeeded');
  // A kill after the outcome was recorded leaves nothing to resume.
  expect(job.resumes, fault).toBe(fault === 'jobs-outcome:after' ? 0 : 1);
  for (const [name, step] of Object.entries<Json>(job.steps)) {
    expect(step.state, `${fault}: step ${name} of ${JSON.stringify(job)}`).toBe('succeeded');
    if (step.total !== undefined) expect(step.done, `${fault}: parts of ${name}`).toBe(step.total);
  }
}

beforeAll(async () => {
  videoFile = join(work, 'game.mp4');
  locFile = join(work, 'loc.json');
  await drawSampleGame(videoFile, GAME);
  writeFileSync(locFile, JSON.stringify(sampleLocalizations(GAME)));
  cloud = await Cloud.start();
  for (const name of ['Nike', 'Adidas', 'Unknown Sponsor']) detectables[name] = (await cloud.api('POST', '/v1/detectables', { name })).body.id;
  await cloud.api('POST', '/v1/det-groups', { name: 'Nike', detectableIds: [detectables.Nike] });
  const sport = await cloud.api('POST', '/v1/sports', { name: 'Crash sport' });
  const league = await cloud.api('POST', '/v1/leagues', { sportId: sport.body.id, name: 'League' });
  const season = await cloud.api('POST', '/v1/seasons', { leagueId: league.body.id, name: '2026' });
  gameId = (await cloud.api('POST', '/v1/games', { seasonId: season.body.id, title: 'A v B', startsAt: '2026-11-21T15:00:00Z' })).body.id;
  referenceVideo = await uploadVideo(cloud, 'reference');
  expect((await cloud.ended(await ingestJobOf(cloud, referenceVideo))).state).toBe('succeeded');
}, 120_000);

afterAll(async () => {
  await cloud?.stop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe('a local cloud killed at every task of a workflow, and started again', () => {
  const detGroupOf: Record<string, string> = {};
  const detGroupPoints = pointsOf(['detgroups-videos', 'detgroups-compute', 'jobs-outcome']);
  /** A det_group per point, each of other detectables (two det_groups of the same detectables are refused). */
  const detectableSets = [['Adidas'], ['Unknown Sponsor'], ['Nike', 'Adidas'], ['Nike', 'Unknown Sponsor'], ['Adidas', 'Unknown Sponsor'], ['Nike', 'Adidas', 'Unknown Sponsor']];
  it.each(detGroupPoints)('computes a det_group once when killed at %s', async (fault) => {
    let detGroupId = '';
    const detectableIds = detectableSets[detGroupPoints.indexOf(fault)]!.map((name) => detectables[name]);
    const job = await killAndResume(
      fault,
      async (c) => {
        const created = await c.api('POST', '/v1/det-groups', { name: `Brands ${fault}`, detectableIds });
        expect(created.status, JSON.stringify(created.body)).toBe(201);
        detGroupId = detGroupOf[fault] = created.body.id;
      },
      (c) => found(async () => (await c.jobs((j) => j.detGroupId === detGroupId))[0]?.jobId as string | undefined, `the job of det_group ${detGroupId}`),
    );
    expectResumedOnce(job, fault);
    expect(await cloud.jobs((j) => j.detGroupId === detGroupId)).toHaveLength(1);
    expect(await documentsOf(cloud, { detGroupId }), fault).toEqual({ series: [`${referenceVideo}/${detGroupId}`], rollups: 4 });
    expect((await cloud.api('GET', `/v1/videos/${referenceVideo}/metrics?detGroup=${detGroupId}&resolution=video`)).status, fault).toBe(200);
  }, 150_000);

  it.each(pointsOf(['materialize-prepare', 'materialize-load-chunk', 'materialize-finish', 'jobs-outcome']))(
    'loads a bulk upload once when killed at %s',
    async (fault) => {
      const N = 40;
      const datastack = `crash${fault.replace(/[^a-z]/g, '').slice(0, 24)}${fault.endsWith('before') ? 'b' : 'a'}`;
      const prefix = `materialize/${datastack}/synapses/`;
      const job = await killAndResume(fault, async (c) => {
        const s3 = c.s3();
        const put = (name: string, body: Buffer) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}${name}.npy`, Body: body }));
        const xyz = (f: (i: number) => number[]) => Array.from({ length: N }, (_, i) => f(i)).flat();
        await Promise.all([
          put('id', encodeNpy({ dtype: 'int64', shape: [N], values: Array.from({ length: N }, (_, i) => BigInt(i + 1)) })),
          put('presyn_coords', encodeNpy({ dtype: 'int32', shape: [N, 3], values: xyz((i) => [i, i, i]) })),
          put('center_coords', encodeNpy({ dtype: 'int32', shape: [N, 3], values: xyz((i) => [i, 1, 2]) })),
          put('postsyn_coords', encodeNpy({ dtype: 'int32', shape: [N, 3], values: xyz((i) => [2, 1, i]) })),
          put('sizes', encodeNpy({ dtype: 'float32', shape: [N], values: Array.from({ length: N }, (_, i) => i / 2) })),
          put('sv_ids_ordered', encodeNpy({ dtype: 'uint64', shape: [N, 2], values: xyz((i) => [i + 100, i + 200]).map(BigInt) })),
          put('root_ids_ordered', encodeNpy({ dtype: 'uint64', shape: [N, 2], values: xyz((i) => [i + 300, i + 400]).map(BigInt) })),
        ]);
        const res = await c.api('POST', `/v1/materialize/${datastack}/bulk-upload`, {
          bucket: BUCKET, prefix, table: 'synapses', schema: 'synapse', columnMapping: SYNAPSE_NPY_MAPPING, chunkRows: 7,
        });
        expect(res.status, JSON.stringify(res.body)).toBe(202);
      }, (c) => found(async () => (await c.jobs((j) => j.jobId.startsWith(`bulk-${datastack}-`)))[0]?.jobId as string | undefined, `the bulk upload of ${datastack}`));
      expectResumedOnce(job, fault);
      expect(await cloud.jobs((j) => j.jobId.startsWith(`bulk-${datastack}-`))).toHaveLength(1);
      for (const table of ['synapses', 'synapses__seg']) {
        const [rows] = await cloud.sql(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids FROM "ds_${datastack}"."${table}"`);
        expect(rows, `${fault}: ${table}`).toEqual({ n: N, ids: N });
      }
    },
    150_000,
  );

  it.each(pointsOf(['ingest-probe', 'ingest-localizations', 'ingest-plan', 'ingest-frames', 'ingest-metrics', 'jobs-outcome']))(
    'ingests a video once when killed at %s',
    async (fault) => {
      let videoId = '';
      const job = await killAndResume(
        fault,
        async (c) => {
          videoId = await uploadVideo(c, fault);
        },
        (c) => ingestJobOf(c, videoId),
      );
      expectResumedOnce(job, fault);
      expect((await cloud.api('GET', `/v1/jobs?videoId=${videoId}&limit=10`)).body.jobs).toHaveLength(1);
      expect((await cloud.api('GET', `/v1/videos/${videoId}`)).body.status).toBe('ingested');
      // Every det_group whose detectables all occur in the video, each with one frame series and 4 rollups.
      const applicable = await cloud.sql(
        `SELECT g.id FROM det_group g WHERE NOT EXISTS (SELECT 1 FROM det_group_detectable d WHERE d.det_group_id = g.id
           AND NOT EXISTS (SELECT 1 FROM video_detectable v WHERE v.video_id = $1 AND v.detectable_id = d.detectable_id))`,
        [videoId],
      );
      expect(applicable.length).toBeGreaterThan(0);
      const docs = await documentsOf(cloud, { videoId });
      expect(docs.series, fault).toEqual(applicable.map((g) => `${videoId}/${g.id}`).sort());
      expect(docs.rollups, fault).toBe(4 * applicable.length);
      const frames = await cloud.s3().send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `frames/${videoId}/` }));
      expect(frames.KeyCount, fault).toBe(GAME.seconds * FPS);
      const metrics = await cloud.api('GET', `/v1/videos/${videoId}/metrics?detGroup=${applicable[0].id}&resolution=video`);
      expect(metrics.status, fault).toBe(200);
    },
    150_000,
  );

  it('fails an ingest whose 3 runs all die, through its workflow: the job with ExecutionEnded, the video failed', async () => {
    await cloud.arm('ingest-plan:after');
    const videoId = await uploadVideo(cloud, 'dies three times');
    await diesAndRestarts('run 1');
    for (const run of [2, 3]) {
      await cloud.arm('ingest-plan:after');
      await cloud.sweep();
      await diesAndRestarts(`run ${run}`);
    }
    expect((await cloud.sweep()).resumed).toHaveLength(1); // the closing run
    const job = await cloud.ended(await ingestJobOf(cloud, videoId));
    expect(job).toMatchObject({ state: 'failed', resumes: 3, error: { code: 'ExecutionEnded' } });
    // Each run died with its frames step just begun: the step tried 3 times, failed with the job.
    expect(job.steps.plan).toMatchObject({ state: 'succeeded', attempts: 3 });
    expect(job.steps.frames).toMatchObject({ state: 'failed', attempts: 3, done: 0 });
    expect(job.steps.metrics.state).toBe('pending');
    expect((await cloud.api('GET', `/v1/videos/${videoId}`)).body.status).toBe('failed');
    expect((await cloud.api('GET', `/v1/jobs?videoId=${videoId}&limit=10`)).body.jobs).toHaveLength(1);
  }, 300_000);

  it('counts every try of a part: a det_group video that fails 3 times shows 3 attempts', async () => {
    // Two det_groups of the same detectables are refused: this one takes those of the first point's, deleted.
    const video = await uploadVideo(cloud, 'localizations lost');
    expect((await cloud.ended(await ingestJobOf(cloud, video))).state).toBe('succeeded');
    const [key] = await cloud.sql('SELECT localizations_key AS k FROM video WHERE id = $1', [video]);
    await cloud.s3().send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key.k }));
    expect((await cloud.api('DELETE', `/v1/det-groups/${detGroupOf[detGroupPoints[0]!]}`)).status).toBe(204);
    const created = await cloud.api('POST', '/v1/det-groups', { name: 'Adidas again', detectableIds: [detectables.Adidas] });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const jobId = await found(async () => (await cloud.jobs((j) => j.detGroupId === created.body.id))[0]?.jobId as string | undefined, 'its job');
    const job = await cloud.ended(jobId);
    expect(job.state).toBe('failed');
    expect(job.steps.compute).toMatchObject({ state: 'failed', attempts: 3 });
    expect(job.steps.compute.partAttempts[video]).toBe(3);
    expect(job.attempts).toBe(3);
  }, 120_000);
});
