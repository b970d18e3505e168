// The detector side end to end: `framewise ingest` and `framewise metrics` as processes against the local
// cloud, and the bad inputs a detector pipeline meets — each a clear status and exit code, none leaving results.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { drawSampleGame, sampleLabelMapping, sampleLocalizations, SAMPLE_LOGOS, type SampleGame } from '../../cli/sample-game.ts';
import { apiClient } from '../support/api.ts';
import { runFramewise, runFramewiseWatched } from '../support/processes.ts';

const work = mkdtempSync(join(tmpdir(), 'framewise-cli-ingest-'));
const admin = apiClient();
const stamp = `${Date.now()}`;
// Logos named for this file, so that det_groups of other test files never apply to its videos.
const LOGOS = SAMPLE_LOGOS.slice(0, 2).map((l) => ({ ...l, label: `${l.label} ${stamp}` }));
const GAME: SampleGame = { seconds: 4, width: 160, height: 120, fps: 25, logos: LOGOS };
const mongo = new MongoClient(inject('endpoints').mongodb);

let analystKey: string;
let gameId: string;
let detGroupId: string;
const files = { video: join(work, 'game.mp4'), localizations: join(work, 'loc.json'), labels: join(work, 'labels.txt') };

const framewise = (args: string[]) =>
  runFramewise(args, { cwd: work, env: { FRAMEWISE_API_URL: inject('endpoints').api, FRAMEWISE_API_KEY: analystKey } });

const framewiseWith = (env: Record<string, string>, args: string[]) => runFramewise(args, { cwd: work, env });
const lastLine = (text: string) => text.trimEnd().split('\n').at(-1);
const newVideo = async (title: string) => (await apiClient(analystKey)('POST', '/v1/videos', { gameId, title })).body.id as string;
const ingestArgs = (videoId: string, over: Partial<typeof files> = {}) => [
  'ingest', '--video', videoId, '--file', over.video ?? files.video, '--localizations', over.localizations ?? files.localizations,
  '--label-mapping', files.labels, '--frame-rate', '5',
];
const documents = (videoId: string) => mongo.db('framewise').collection('rollups').countDocuments({ videoId });

beforeAll(async () => {
  analystKey = (await admin('POST', '/v1/api-keys', { name: 'cli ingest', role: 'analyst' })).body.key;
  const ids = [];
  for (const l of LOGOS) ids.push((await admin('POST', '/v1/detectables', { name: l.label })).body.id);
  detGroupId = (await admin('POST', '/v1/det-groups', { name: `CLI ${stamp}`, detectableIds: ids })).body.id;
  const sport = await admin('POST', '/v1/sports', { name: `CLI sport ${stamp}` });
  const league = await admin('POST', '/v1/leagues', { sportId: sport.body.id, name: 'L' });
  const season = await admin('POST', '/v1/seasons', { leagueId: league.body.id, name: 'S' });
  gameId = (await apiClient(analystKey)('POST', '/v1/games', { seasonId: season.body.id, title: 'G', startsAt: '2026-11-21T15:00:00Z' })).body.id;
  await drawSampleGame(files.video, GAME);
  writeFileSync(files.localizations, JSON.stringify(sampleLocalizations(GAME)));
  writeFileSync(files.labels, sampleLabelMapping(LOGOS));
});

afterAll(async () => {
  await mongo.close();
  rmSync(work, { recursive: true, force: true });
});

describe('framewise ingest', () => {
  it('uploads both files, follows every step and ends with status success; metrics prints the rollup', async () => {
    const videoId = await newVideo('cli game');
    const run = await framewise(ingestArgs(videoId));
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(lastLine(run.stdout)).toBe('status: success');
    for (const step of ['probe', 'localizations', 'plan', 'frames', 'metrics']) expect(run.stdout).toMatch(new RegExp(`${step}\\s+succeeded`));

    const metrics = await framewise(['metrics', '--video', videoId, '--det-group', detGroupId, '--resolution', 'video', '--json']);
    expect(metrics.code).toBe(0);
    const body = JSON.parse(metrics.stdout);
    expect(body).toMatchObject({ videoId, detGroupId, resolution: 'video', frameRate: 5 });
    // Nike is on screen throughout, Adidas from 2 s; every 7th source frame scores below the threshold for both,
    // so extracted frames k = 0, 7 and 14 (source frames 0, 35 and 70) show neither.
    expect(body.buckets[0].frames).toBe(20);
    expect(body.buckets[0].visibleFrames).toBe(20 - 3);
  });

  it('ends with status failure, naming the step, for a corrupt video — and leaves no results', async () => {
    const corrupt = join(work, 'corrupt.mp4');
    const bytes = readFileSync(files.video);
    writeFileSync(corrupt, Buffer.concat([bytes.subarray(0, 64), Buffer.alloc(bytes.length - 64, 7)]));
    const videoId = await newVideo('corrupt');
    const run = await framewise(ingestArgs(videoId, { video: corrupt }));
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/status: failure/);
    expect(run.stdout + run.stderr).toMatch(/probe/);
    expect(run.stdout + run.stderr).toMatch(/NotAVideo/);
    expect(await documents(videoId)).toBe(0);
  });

  it('ends with status failure at the localizations step for localizations that fail validation', async () => {
    const bad = join(work, 'bad.json');
    writeFileSync(bad, JSON.stringify({ video: { width: 160, height: 120 }, frames: [{ frame: 0, time: -1, detections: [] }] }));
    const videoId = await newVideo('bad localizations');
    const run = await framewise(ingestArgs(videoId, { localizations: bad }));
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).toMatch(/localizations/);
    expect(run.stdout + run.stderr).toMatch(/LocalizationsInvalid/);
    expect(await documents(videoId)).toBe(0);
  });

  it('ends with status error (exit 2) for an unknown video, uploading nothing', async () => {
    const run = await framewise(ingestArgs('3f0c6a9e-6f0e-4c1e-9a4b-2d9c7f1e5a10'));
    expect(run.code).toBe(2);
    expect(run.stdout + run.stderr).toMatch(/status: error/);
    expect(run.stdout + run.stderr).toMatch(/NotFound/);
  });

  it('leaves an upload interrupted halfway invisible: no job, no results, and the next upload works', async () => {
    const analyst = apiClient(analystKey);
    const videoId = await newVideo('interrupted');
    const big = join(work, 'big.bin');
    writeFileSync(big, Buffer.alloc(12 * 1024 * 1024, 1));
    const plan = await analyst('POST', `/v1/videos/${videoId}/upload`, { filename: 'g.mp4', contentType: 'video/mp4', sizeBytes: statSync(big).size });
    expect(plan.body.method).toBe('multipart');
    // One part is sent, then the uploader dies: the upload is never completed.
    const part = await fetch(plan.body.parts[0].url, { method: 'PUT', body: readFileSync(big).subarray(0, plan.body.partSize) });
    expect(part.ok).toBe(true);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await analyst('GET', `/v1/jobs?videoId=${videoId}`)).body.jobs).toEqual([]);
    expect((await analyst('GET', `/v1/videos/${videoId}`)).body.status).toBe('uploading');
    const run = await framewise(ingestArgs(videoId));
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(await documents(videoId)).toBe(4);
  });

  it('resumes an upload interrupted halfway (Ctrl-C): the second run sends only the parts storage lacks, and the ingest succeeds', async () => {
    const videoId = await newVideo('resumed');
    // the game padded with an MP4 `free` box (which readers skip) to 12 parts of the test cloud's 5 MiB
    const big = join(work, 'padded.mp4');
    const game = readFileSync(files.video);
    const free = Buffer.alloc(60 * 1024 * 1024 - game.length, 0);
    free.writeUInt32BE(free.length, 0);
    free.write('free', 4, 'latin1');
    writeFileSync(big, Buffer.concat([game, free]));
    const state = join(work, 'state');
    const env = { FRAMEWISE_API_URL: inject('endpoints').api, FRAMEWISE_API_KEY: analystKey, FRAMEWISE_STATE_DIR: state };

    let interruptedAt = '';
    const first = await runFramewiseWatched(ingestArgs(videoId, { video: big }), (line, child) => {
      if (interruptedAt || !/^video: \d+%/.test(line)) return;
      interruptedAt = line;
      child.kill('SIGINT');
    }, { cwd: work, env });
    expect(first.code, first.stdout + first.stderr).toBe(130);
    expect(interruptedAt).not.toBe('');
    expect((await apiClient(analystKey)('GET', `/v1/jobs?videoId=${videoId}`)).body.jobs).toEqual([]);

    // what storage holds of the open upload, as the API reports it
    const recorded = JSON.parse(readFileSync(join(state, 'uploads.json'), 'utf8')) as Record<string, { uploadId: string }>;
    const { uploadId } = Object.values(recorded)[0]!;
    const open = await apiClient(analystKey)('POST', `/v1/videos/${videoId}/upload/resume`, { uploadId });
    expect(open.status, JSON.stringify(open.body)).toBe(200);
    const held = open.body.uploaded.length as number;
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThan(12);

    const second = await framewiseWith(env, ingestArgs(videoId, { video: big }));
    expect(second.code, second.stdout + second.stderr).toBe(0);
    // A part whose body had wholly arrived when the first run stopped may be stored a moment later, as S3 stores it.
    const resumed = /video: resuming: (\d+) of 12 parts \(([\d.]+) MiB\) already in storage; sending the other (\d+)/.exec(second.stdout);
    expect(resumed, second.stdout).not.toBeNull();
    const stored = Number(resumed![1]);
    expect(stored).toBeGreaterThanOrEqual(held);
    expect(stored).toBeLessThan(12);
    expect([resumed![2], Number(resumed![3])]).toEqual([`${stored * 5}.0`, 12 - stored]);
    expect(lastLine(second.stdout)).toBe('status: success');
    expect(await documents(videoId)).toBe(4);
    const jobs = (await apiClient(analystKey)('GET', `/v1/jobs?videoId=${videoId}`)).body.jobs;
    expect(jobs).toHaveLength(1);
    // a finished upload leaves no record behind
    expect(existsSync(join(state, 'uploads.json')) ? Object.keys(JSON.parse(readFileSync(join(state, 'uploads.json'), 'utf8'))) : []).toEqual([]);
  });
});
