// Release and review on a local cloud of its own: a det_group is released only once computed for every video it
// applies to; a forced re-run of a released video changes nothing clients see until an admin releases it; a
// det_group deleted while its computation writes leaves no documents behind. The race is made deterministic by
// holding a PostgreSQL lock the computation waits for after it has read the det_group and before it writes.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloud, type LocalCloud } from '../../infra/local/cloud.ts';
import { drawSampleGame, sampleLabelMapping, sampleLocalizations, type SampleGame } from '../../cli/sample-game.ts';
import { uploadFile, type UploadPlan } from '../../cli/upload.ts';
import { parseLabelMapping } from '../../shared/label-map.ts';
import { apiAt, eventually } from '../support/api.ts';

const until = <T>(probe: () => Promise<T | undefined>, what: string) => eventually(probe, what, 90_000);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const dir = mkdtempSync(join(tmpdir(), 'framewise-release-'));
let cloud: LocalCloud;
let mongo: MongoClient;
let db: pg.Client;
let s3: S3Client;

// Nike is on screen from 0 s, Adidas from 2 s: both in each 4 s video.
const GAME: SampleGame = { seconds: 4, width: 160, height: 120, fps: 25 };
const FPS = 5;
const labelMapping = Object.fromEntries([...parseLabelMapping(sampleLabelMapping())].map(([k, v]) => [String(k), v]));
const videoFile = join(dir, 'game.mp4');
const locFile = join(dir, 'loc.json');

type Call = (method: string, path: string, body?: unknown) => Promise<{ status: number; body: Json }>;
/** A caller whose key is read at each call (the analyst's and client's keys exist once the catalog is made). */
const caller = (key: () => string): Call => (method, path, body) => apiAt(cloud.endpoints.api, key())(method, path, body);
const admin = caller(() => cloud.credentials.adminApiKey);
let analystKey = '';
let clientKey = '';
const analyst = caller(() => analystKey);
const client = caller(() => clientKey);

const ended = (job: Json) => (job && (job.state === 'succeeded' || job.state === 'failed') ? job : undefined);
const ingestJob = (videoId: string, not?: string) =>
  until(async () => ended((await analyst('GET', `/v1/jobs?videoId=${videoId}&limit=10`)).body.jobs.find((j: Json) => j.jobId !== not)), `the ingest of ${videoId}`);
const detGroupJob = (detGroupId: string) =>
  until(async () => ended((await admin('GET', '/v1/jobs?limit=100')).body.jobs.find((j: Json) => j.kind === 'det-group' && j.detGroupId === detGroupId)), `the job of ${detGroupId}`);

async function uploadLocalizations(videoId: string, file: string): Promise<void> {
  const plan = await analyst('POST', `/v1/videos/${videoId}/localizations/upload`, { sizeBytes: statSync(file).size, labelMapping });
  expect(plan.status).toBe(200);
  await uploadFile(plan.body as UploadPlan, file);
}

async function ingest(videoId: string): Promise<Json> {
  await uploadLocalizations(videoId, locFile);
  const plan = await analyst('POST', `/v1/videos/${videoId}/upload`, { filename: 'game.mp4', contentType: 'video/mp4', sizeBytes: statSync(videoFile).size, frameRate: FPS });
  expect(plan.status).toBe(200);
  await uploadFile(plan.body as UploadPlan, videoFile);
  return ingestJob(videoId);
}

const localizationsKey = (videoId: string) => `localizations/${videoId}/localizations.json`;
const wholeVideo = async (call: Call, videoId: string, detGroupId: string) => {
  const res = await call('GET', `/v1/videos/${videoId}/metrics?detGroup=${detGroupId}&resolution=video`);
  return res.status === 200 ? res.body.buckets[0] : res.status;
};
const documentsOf = async (filter: Record<string, unknown>) => ({
  series: await mongo.db('framewise').collection('frame_series').countDocuments(filter),
  rollups: await mongo.db('framewise').collection('rollups').countDocuments(filter),
});

const ids: Record<string, string> = {};

beforeAll(async () => {
  cloud = await startLocalCloud({ dir, schedules: false, retryIntervalScale: 0.05 });
  mongo = new MongoClient(cloud.endpoints.mongodb);
  db = new pg.Client({ connectionString: cloud.endpoints.postgres });
  await db.connect();
  s3 = new S3Client({ endpoint: cloud.endpoints.s3, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 't', secretAccessKey: 't' } });
  await drawSampleGame(videoFile, GAME);
  writeFileSync(locFile, JSON.stringify(sampleLocalizations(GAME)));

  analystKey = (await admin('POST', '/v1/api-keys', { name: 'analyst', role: 'analyst' })).body.key;
  for (const name of ['Nike', 'Adidas']) ids[name] = (await admin('POST', '/v1/detectables', { name })).body.id;
  const sport = await admin('POST', '/v1/sports', { name: 'Release sport' });
  const league = await admin('POST', '/v1/leagues', { sportId: sport.body.id, name: 'League' });
  ids.season = (await admin('POST', '/v1/seasons', { leagueId: league.body.id, name: '2026' })).body.id;
  ids.game = (await analyst('POST', '/v1/games', { seasonId: ids.season, title: 'A v B', startsAt: '2026-11-21T15:00:00Z' })).body.id;
  const org = await admin('POST', '/v1/organizations', { name: 'Brand org' });
  ids.client = (await admin('POST', '/v1/clients', { organizationId: org.body.id, name: 'Brand client' })).body.id;
  clientKey = (await admin('POST', '/v1/api-keys', { name: 'client', role: 'client', clientId: ids.client })).body.key;
  expect((await admin('PUT', `/v1/clients/${ids.client}/seasons/${ids.season}`)).status).toBeLessThan(300);

  ids.v1 = (await analyst('POST', '/v1/videos', { gameId: ids.game, title: 'first half' })).body.id;
  ids.v2 = (await analyst('POST', '/v1/videos', { gameId: ids.game, title: 'second half' })).body.id;
  const jobs = await Promise.all([ingest(ids.v1!), ingest(ids.v2!)]);
  for (const job of jobs) expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
  for (const v of [ids.v1, ids.v2]) expect((await admin('POST', `/v1/videos/${v}/release`)).status).toBe(200);
}, 120_000);

afterAll(async () => {
  await mongo?.close();
  await db?.end();
  await cloud?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('releasing a det_group', () => {
  it('is refused while it is not computed for every video it applies to, and changes nothing', async () => {
    // The computation for the second video fails (its localizations are gone) after three attempts, once the
    // first video's is done (a failed Map item ends the others).
    await s3.send(new DeleteObjectCommand({ Bucket: 'framewise-media', Key: localizationsKey(ids.v2!) }));
    let holdSecond = true;
    cloud.functions.intercept(async (name, event) => {
      const e = event as { jobId?: string; videoId?: string };
      if (!holdSecond || name !== 'detgroups-compute' || e.videoId !== ids.v2) return;
      await until(async () => ((await admin('GET', `/v1/jobs/${e.jobId}`)).body.steps.compute.done >= 1 ? true : undefined), 'the first video computed');
    });
    const created = await admin('POST', `/v1/clients/${ids.client}/det-groups`, { name: 'Nike', detectableIds: [ids.Nike] });
    expect(created.status).toBe(201);
    const nike = (ids.nike = created.body.detGroupId as string);
    const failed = await detGroupJob(nike);
    holdSecond = false;
    await s3.send(new PutObjectCommand({ Bucket: 'framewise-media', Key: localizationsKey(ids.v2!), Body: readFileSync(locFile) }));
    expect(failed.state).toBe('failed');
    expect(failed.steps.compute).toMatchObject({ state: 'failed', total: 2, done: 1 });
    expect(await documentsOf({ detGroupId: nike })).toEqual({ series: 1, rollups: 4 }); // the first video's results only

    const refused = await admin('POST', `/v1/det-groups/${nike}/release`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('Conflict');
    expect(refused.body.error.message).toContain(ids.v2);
    expect(refused.body.error.message).not.toContain(ids.v1);
    expect(refused.body.error.details).toEqual({ notComputed: [ids.v2], releasedRunWithout: [] });
    expect((await db.query('SELECT released_at FROM det_group WHERE id = $1', [nike])).rows[0].released_at).toBeNull();
    expect(await wholeVideo(client, ids.v1!, nike)).toBe(404); // clients see nothing of it
    // its review shows the first video's totals, and the second's as not computed
    const review = await analyst('GET', `/v1/det-groups/${nike}/review`);
    expect(review.status).toBe(200);
    expect(review.body).toEqual({
      detGroupId: nike, name: 'Nike', releasedAt: null,
      videos: [
        { videoId: ids.v1, title: 'first half', totals: await wholeVideo(analyst, ids.v1!, nike) },
        { videoId: ids.v2, title: 'second half', totals: null },
      ],
    });
    expect((await client('GET', `/v1/det-groups/${nike}/review`)).status).toBe(403);
    expect((await analyst('GET', `/v1/det-groups/${crypto.randomUUID()}/review`)).status).toBe(404);

    // Once its job succeeds (requeued, the localizations are back), it is released.
    expect((await admin('POST', `/v1/jobs/${failed.jobId}/requeue`)).status).toBe(200);
    expect((await until(async () => ended((await admin('GET', `/v1/jobs/${failed.jobId}`)).body), 'the requeued job')).state).toBe('succeeded');
    const released = await admin('POST', `/v1/det-groups/${nike}/release`);
    expect(released.status, JSON.stringify(released.body)).toBe(200);
    // Nike is in 17 of the 20 frames of each video (every 7th source frame scores below the threshold).
    for (const v of [ids.v1!, ids.v2!]) expect(await wholeVideo(client, v, nike)).toMatchObject({ frames: 20, visibleFrames: 17 });
    const reviewed = (await analyst('GET', `/v1/det-groups/${nike}/review`)).body;
    expect(reviewed.releasedAt).toBe(released.body.releasedAt);
    expect(reviewed.videos.map((v: Json) => v.totals.visibleFrames)).toEqual([17, 17]);
  });
});

describe('a forced re-run of a released video', () => {
  it('changes what clients see only when an admin releases its results', async () => {
    const nike = ids.nike!;
    const v1 = ids.v1!;
    const season = () => client('GET', `/v1/seasons/${ids.season}/metrics?resolution=video`);
    const seasonVisible = async () => {
      const dg = (await season()).body.games[0].detGroups.find((g: Json) => g.id === nike);
      return dg.videos.find((v: Json) => v.videoId === v1).buckets.visibleFrames[0];
    };
    const released = await wholeVideo(client, v1, nike);
    const releasedFrames = (await client('GET', `/v1/videos/${v1}/frames?detGroup=${nike}`)).body.frames;
    expect(await seasonVisible()).toBe(17);
    const firstRun = (await ingestJob(v1)).jobId;

    // New localizations: Nike scores below the threshold in the first 2 s.
    const changed = sampleLocalizations(GAME) as Json;
    for (const f of changed.frames) for (const d of f.detections) if (d.class === 0 && f.time < 2) d.score = 0.2;
    const changedFile = join(dir, 'changed.json');
    writeFileSync(changedFile, JSON.stringify(changed));
    await uploadLocalizations(v1, changedFile);
    const rerun = await analyst('POST', `/v1/videos/${v1}/ingest`, { force: true });
    expect(rerun.status).toBe(201);
    expect((await ingestJob(v1, firstRun)).state).toBe('succeeded');

    // The analyst sees the new results; clients still the released ones, on every endpoint.
    const fresh = await wholeVideo(analyst, v1, nike);
    expect(fresh.visibleFrames).toBeLessThan(17);
    expect(await wholeVideo(client, v1, nike)).toEqual(released);
    expect((await client('GET', `/v1/videos/${v1}/frames?detGroup=${nike}`)).body.frames).toEqual(releasedFrames);
    expect(await seasonVisible()).toBe(17);
    expect((await admin('GET', '/v1/jobs?state=releasable')).body.jobs.map((j: Json) => j.videoId)).toContain(v1);

    // The review shows operators what a release would show clients: each det_group's totals of the new run.
    const review = await analyst('GET', `/v1/videos/${v1}/review`);
    expect(review.status).toBe(200);
    expect(review.body).toMatchObject({ videoId: v1, status: 'ingested', runReleased: false, releasedAt: expect.any(String) });
    expect(review.body.detGroups).toEqual([{ detGroupId: nike, name: 'Nike', releasedAt: expect.any(String), totals: fresh }]);
    expect((await client('GET', `/v1/videos/${v1}/review`)).status).toBe(403);
    expect((await analyst('GET', `/v1/videos/${crypto.randomUUID()}/review`)).status).toBe(404);

    // Released: clients see the new results everywhere, the season's cached response included.
    expect((await admin('POST', `/v1/videos/${v1}/release`)).status).toBe(200);
    expect((await analyst('GET', `/v1/videos/${v1}/review`)).body).toMatchObject({ runReleased: true, detGroups: review.body.detGroups });
    expect(await wholeVideo(client, v1, nike)).toEqual(fresh);
    expect(await seasonVisible()).toBe(fresh.visibleFrames);
    expect((await admin('GET', '/v1/jobs?state=releasable')).body.jobs.map((j: Json) => j.videoId)).not.toContain(v1);
    // The first run's documents went with its release; one set of results per det_group remains.
    expect(await documentsOf({ videoId: v1, run: firstRun })).toEqual({ series: 0, rollups: 0 });
    expect(await documentsOf({ videoId: v1, detGroupId: nike })).toEqual({ series: 1, rollups: 4 });
  });
});

describe('a det_group computed while a re-run of a released video waits for release', () => {
  it('is released once that video\'s new results are: clients never see the video without it', async () => {
    const v2 = ids.v2!;
    const firstRun = (await ingestJob(v2)).jobId;
    expect((await analyst('POST', `/v1/videos/${v2}/ingest`, { force: true })).status).toBe(201);
    expect((await ingestJob(v2, firstRun)).state).toBe('succeeded');
    const created = await admin('POST', `/v1/clients/${ids.client}/det-groups`, { name: 'Adidas', detectableIds: [ids.Adidas] });
    const adidas = created.body.detGroupId as string;
    expect((await detGroupJob(adidas)).state).toBe('succeeded'); // for the first video's released run and the second's new one

    const refused = await admin('POST', `/v1/det-groups/${adidas}/release`);
    expect(refused.status).toBe(409);
    expect(refused.body.error.details).toEqual({ notComputed: [], releasedRunWithout: [v2] });
    expect(refused.body.error.message).toContain(v2);
    expect((await db.query('SELECT released_at FROM det_group WHERE id = $1', [adidas])).rows[0].released_at).toBeNull();

    expect((await admin('POST', `/v1/videos/${v2}/release`)).status).toBe(200);
    expect((await admin('POST', `/v1/det-groups/${adidas}/release`)).status).toBe(200);
    // Adidas is on screen from 2 s: in 9 of the 20 frames of each video.
    for (const v of [ids.v1!, v2]) expect(await wholeVideo(client, v, adidas)).toMatchObject({ frames: 20, visibleFrames: 9 });
  });
});

describe('a det_group deleted while its computation writes', () => {
  it('leaves no documents behind', async () => {
    // Held, this lock stops each computation at its read of the game's events: after it has read the det_group,
    // before it writes anything.
    await db.query('BEGIN');
    let created: string | undefined;
    try {
      await db.query('LOCK TABLE event IN ACCESS EXCLUSIVE MODE');
      const res = await admin('POST', '/v1/det-groups', { name: 'Nike and Adidas', detectableIds: [ids.Nike, ids.Adidas] });
      expect(res.status).toBe(201);
      created = res.body.id as string;
      await until(async () => {
        const waiting = await db.query(`SELECT count(*)::int AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'event' AND NOT l.granted`);
        return waiting.rows[0].n === 2 ? true : undefined; // both videos' computations
      }, 'the computations to reach the lock');
      expect((await admin('DELETE', `/v1/det-groups/${created}`)).status).toBe(204);
    } finally {
      await db.query('COMMIT');
    }
    const job = await detGroupJob(created!);
    expect(job.steps.compute).toMatchObject({ total: 2, done: 2 });
    expect(await documentsOf({ detGroupId: created })).toEqual({ series: 0, rollups: 0 });
    expect((await admin('GET', `/v1/videos/${ids.v1}/metrics?detGroup=${created}&resolution=video`)).status).toBe(404);
  });
});
