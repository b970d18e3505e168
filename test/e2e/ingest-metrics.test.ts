// Detections in, released metrics out: localizations and a video uploaded through the API, the whole
// video-ingest workflow (probe, localizations, segment plan, parallel frame extraction, metrics), the metrics
// API, a forced re-run, release and what a client may see, and bad localizations failing cleanly.
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { drawSampleGame, sampleLabelMapping, sampleLocalizations, type SampleGame } from '../../cli/sample-game.ts';
import { uploadFile, type UploadPlan } from '../../cli/upload.ts';
import { parseLabelMapping } from '../../shared/label-map.ts';
import { extractWhole } from '../../functions/ingest/extract.ts';
import { apiClient, eventually } from '../support/api.ts';
import { storedFrames, storedPacks } from '../support/frame-packs.ts';

const endpoints = inject('endpoints');
const admin = apiClient();
const work = mkdtempSync(join(tmpdir(), 'framewise-ingest-'));
const s3 = new S3Client({ endpoint: endpoints.s3, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 't', secretAccessKey: 't' } });
const mongo = new MongoClient(endpoints.mongodb);
afterAll(() => mongo.close());

const ffmpegPath = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
const GAME: SampleGame = { seconds: 8, width: 320, height: 240, fps: 25 };
const FPS = 5;
let analyst: ReturnType<typeof apiClient>;
let gameId: string;
let seasonId: string;
const detGroups: Record<string, string> = {};
let videoFile: string;
let locFile: string;

const labelMapping = Object.fromEntries([...parseLabelMapping(sampleLabelMapping())].map(([k, v]) => [String(k), v]));

async function ingest(videoId: string, locPath: string): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const loc = await analyst<UploadPlan>('POST', `/v1/videos/${videoId}/localizations/upload`, { sizeBytes: statSync(locPath).size, labelMapping });
  expect(loc.status).toBe(200);
  await uploadFile(loc.body, locPath);
  const plan = await analyst<UploadPlan>('POST', `/v1/videos/${videoId}/upload`, {
    filename: 'game.mp4', contentType: 'video/mp4', sizeBytes: statSync(videoFile).size, frameRate: FPS, threshold: 0.5,
  });
  expect(plan.status).toBe(200);
  const parts = await uploadFile(plan.body, videoFile);
  if (plan.body.method === 'multipart') await analyst('POST', `/v1/videos/${videoId}/upload/complete`, { uploadId: plan.body.uploadId, parts });
  return followJob(videoId);
}

async function followJob(videoId: string, after = ''): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return eventually(async () => {
    const res = await analyst('GET', `/v1/jobs?videoId=${videoId}&limit=10`);
    const job = res.body.jobs.find((j: { jobId: string; state: string }) => j.jobId !== after);
    return job && (job.state === 'succeeded' || job.state === 'failed') ? job : undefined;
  }, `the ingest of video ${videoId}`, 120_000);
}

const metrics = (call: ReturnType<typeof apiClient>, videoId: string, detGroup: string, resolution: string) =>
  call('GET', `/v1/videos/${videoId}/metrics?detGroup=${detGroup}&resolution=${resolution}`);

async function createVideo(title: string): Promise<string> {
  const res = await analyst('POST', '/v1/videos', { gameId, title });
  expect(res.status).toBe(201);
  return res.body.id;
}

beforeAll(async () => {
  const key = await admin('POST', '/v1/api-keys', { name: 'ingest analyst', role: 'analyst' });
  analyst = apiClient(key.body.key);
  const stamp = Date.now();
  const ids: Record<string, string> = {};
  for (const name of ['Nike', 'Adidas', 'Puma', 'Heineken', `Absent ${stamp}`]) {
    const existing = await admin('GET', '/v1/detectables?limit=200');
    const found = existing.body.items.find((d: { name: string }) => d.name.toLowerCase() === name.toLowerCase());
    ids[name] = found?.id ?? (await admin('POST', '/v1/detectables', { name })).body.id;
  }
  const group = async (name: string, members: string[]) =>
    (await admin('POST', '/v1/det-groups', { name: `${name} ${stamp}`, detectableIds: members.map((m) => ids[m]) })).body.id as string;
  detGroups.sportswear = await group('Sportswear', ['Nike', 'Adidas', 'Puma']);
  detGroups.nike = await group('Nike', ['Nike']);
  detGroups.drinks = await group('Drinks', ['Heineken']);
  detGroups.absent = await group('Absent', ['Nike', `Absent ${stamp}`]);

  const sport = await admin('POST', '/v1/sports', { name: `Metrics sport ${stamp}` });
  const goal = await admin('POST', '/v1/event-types', { sportId: sport.body.id, name: 'Goal', weight: 3, windowSeconds: 1 });
  const league = await admin('POST', '/v1/leagues', { sportId: sport.body.id, name: 'League' });
  seasonId = (await admin('POST', '/v1/seasons', { leagueId: league.body.id, name: '2026' })).body.id;
  gameId = (await analyst('POST', '/v1/games', { seasonId, title: 'A v B', startsAt: '2026-11-21T15:00:00Z' })).body.id;
  expect((await analyst('POST', '/v1/events', { gameId, eventTypeId: goal.body.id, time: 4 })).status).toBe(201);

  videoFile = join(work, 'game.mp4');
  locFile = join(work, 'loc.json');
  await drawSampleGame(videoFile, GAME);
  writeFileSync(locFile, JSON.stringify(sampleLocalizations(GAME)));
});

describe('video ingest with metrics', () => {
  let videoId: string;
  let firstJob: any; // eslint-disable-line @typescript-eslint/no-explicit-any

  it('runs every step and stores exactly the frames of the fps filter', async () => {
    videoId = await createVideo('sample game');
    firstJob = await ingest(videoId, locFile);
    expect(firstJob.error).toBeUndefined();
    expect(firstJob.state).toBe('succeeded');
    for (const step of ['probe', 'localizations', 'plan', 'frames', 'metrics']) expect(firstJob.steps[step].state, step).toBe('succeeded');
    expect(firstJob.steps.frames.done).toBe(firstJob.steps.frames.total);

    const video = (await analyst('GET', `/v1/videos/${videoId}`)).body;
    expect(video).toMatchObject({ status: 'ingested', frameCount: GAME.seconds * FPS, ingestFrameRate: FPS });
    // One pack per segment, under the run; together exactly the frames of one ffmpeg run over the whole video, byte for byte.
    const packs = await storedPacks(s3, 'framewise-media', videoId);
    expect(packs.map((p) => p.run)).toEqual(Array(firstJob.steps.frames.total).fill(firstJob.jobId));
    for (const p of packs) expect([...p.frames.keys()][0], p.key).toBe(p.firstFrame);
    const stored = (await storedFrames(s3, 'framewise-media', videoId)).get(firstJob.jobId)!;
    const reference = await extractWhole({ ffmpegPath, input: videoFile, fps: FPS, outDir: join(work, 'reference') });
    expect([...stored.keys()]).toEqual(Array.from({ length: GAME.seconds * FPS }, (_, n) => n));
    expect(reference.map((f) => f.frame)).toEqual([...stored.keys()]);
    for (const f of reference) expect(stored.get(f.frame)!.equals(readFileSync(f.file)), `frame ${f.frame}`).toBe(true);
  });

  it('serves rollups that follow from the drawn logos', async () => {
    // Nike is on screen throughout; every 7th source frame scores 0.3 (below the threshold). Extracted frame k
    // is source frame 5k, so k = 0, 7, 14, 21, 28, 35 show no Nike: 34 of 40 frames are visible.
    const whole = await metrics(analyst, videoId, detGroups.nike!, 'video');
    expect(whole.status).toBe(200);
    expect(whole.body).toMatchObject({ videoId, detGroupId: detGroups.nike, resolution: 'video', frameRate: FPS });
    expect(whole.body.buckets).toHaveLength(1);
    expect(whole.body.buckets[0]).toMatchObject({ start: 0, frames: 40, visibleFrames: 34, detections: 34 });
    expect(whole.body.buckets[0].exposureSeconds).toBeCloseTo(34 / FPS, 9);
    // Nike's box is 12% x 8% of the frame, drawn with even sides: 38 x 20 pixels.
    expect(whole.body.buckets[0].maxArea).toBeCloseTo((38 * 20) / (320 * 240), 9);

    const perSecond = await metrics(analyst, videoId, detGroups.nike!, '1');
    expect(perSecond.body.buckets.map((b: { start: number }) => b.start)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(perSecond.body.buckets.every((b: { frames: number }) => b.frames === 5)).toBe(true);
    const sum = perSecond.body.buckets.reduce((s: number, b: { sumEffectiveness: number }) => s + b.sumEffectiveness, 0);
    expect(sum).toBeCloseTo(whole.body.buckets[0].sumEffectiveness, 9);

    // The goal at 4 s (weight 3, window 1 s) triples effectiveness on frames between 3 s and 5 s.
    const frames = await analyst('GET', `/v1/videos/${videoId}/frames?detGroup=${detGroups.nike}&from=2&to=6`);
    expect(frames.status).toBe(200);
    expect(frames.body.frames.map((f: { time: number }) => f.time)[0]).toBe(2);
    for (const f of frames.body.frames) expect(f.eventWeight, `t=${f.time}`).toBe(f.time >= 3 && f.time <= 5 ? 3 : 1);

    // Heineken appears at 25 s: not in these 8 s, so its det_group does not apply; nor does one with an absent detectable.
    expect((await metrics(analyst, videoId, detGroups.drinks!, 'video')).status).toBe(404);
    expect((await metrics(analyst, videoId, detGroups.absent!, 'video')).status).toBe(404);
    expect((await metrics(analyst, videoId, detGroups.sportswear!, '10')).body.buckets[0].frames).toBe(40);
  });

  it('replaces its results on a forced re-run, never doubling them', async () => {
    const count = () => mongo.db('framewise').collection('rollups').countDocuments({ videoId });
    const before = await count();
    expect(before).toBe(2 * 4); // nike and sportswear, 4 resolutions each
    expect((await analyst('POST', `/v1/videos/${videoId}/ingest`, {})).status).toBe(409);
    const rerun = await analyst('POST', `/v1/videos/${videoId}/ingest`, { force: true });
    expect(rerun.status).toBe(201);
    const job = await followJob(videoId, firstJob.jobId);
    expect(job.state).toBe('succeeded');
    expect(await count()).toBe(before);
    expect(await mongo.db('framewise').collection('frame_series').countDocuments({ videoId })).toBe(2);
  });

  it('shows a client only released videos of released, granted det_groups in granted seasons', async () => {
    const org = await admin('POST', '/v1/organizations', { name: `Org ${Date.now()}` });
    const client = await admin('POST', '/v1/clients', { organizationId: org.body.id, name: 'Brand client' });
    const key = await admin('POST', '/v1/api-keys', { name: 'client key', role: 'client', clientId: client.body.id });
    const asClient = apiClient(key.body.key);
    await admin('PUT', `/v1/clients/${client.body.id}/det-groups/${detGroups.nike}`);
    await admin('PUT', `/v1/clients/${client.body.id}/seasons/${seasonId}`);

    expect((await metrics(asClient, videoId, detGroups.nike!, 'video')).status).toBe(404);
    const releasable = await admin('GET', '/v1/jobs?state=releasable');
    expect(releasable.body.jobs.map((j: { videoId: string }) => j.videoId)).toContain(videoId);
    expect((await admin('POST', `/v1/videos/${videoId}/release`)).status).toBe(200);
    expect((await admin('GET', '/v1/jobs?state=releasable')).body.jobs.map((j: { videoId: string }) => j.videoId)).not.toContain(videoId);
    expect((await metrics(asClient, videoId, detGroups.nike!, 'video')).status).toBe(404); // det_group not released
    expect((await analyst('POST', `/v1/det-groups/${detGroups.nike}/release`)).status).toBe(403);
    expect((await admin('POST', `/v1/det-groups/${detGroups.nike}/release`)).status).toBe(200);
    const seen = await metrics(asClient, videoId, detGroups.nike!, 'video');
    expect(seen.status).toBe(200);
    expect(seen.body.buckets[0].visibleFrames).toBe(34);
    // Released but not granted to this client:
    await admin('POST', `/v1/det-groups/${detGroups.sportswear}/release`);
    expect((await metrics(asClient, videoId, detGroups.sportswear!, 'video')).status).toBe(404);
  });

  it('fails a video whose localizations are invalid at the localizations step, leaving no results', async () => {
    const bad = join(work, 'bad.json');
    writeFileSync(bad, JSON.stringify({ video: { width: 320, height: 240 }, frames: [{ frame: 0, time: 0, detections: [{ label: 'Nike', score: 2, box: [0, 0, 1] }] }] }));
    const id = await createVideo('bad localizations');
    const job = await ingest(id, bad);
    expect(job.state).toBe('failed');
    expect(job.error.code).toBe('LocalizationsInvalid');
    expect(job.error.message).toMatch(/frames\.0\.detections\.0\.score/);
    expect(job.steps.localizations.state).toBe('failed');
    expect(job.steps.probe.state).toBe('succeeded');
    expect(job.steps.frames.state).toBe('pending');
    expect(await mongo.db('framewise').collection('rollups').countDocuments({ videoId: id })).toBe(0);
    expect((await analyst('GET', `/v1/videos/${id}`)).body.status).toBe('failed');
  });
});
