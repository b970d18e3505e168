// The whole local cloud killed (SIGKILL, FRAMEWISE_FAULT_POINT) before and after the side effects of every task of an
// ingest, a det_group computation, a bulk upload, an annotation content request, a dataset version and a slide
// image's pyramid (in one pass, and over the region threshold in regions side by side: at the first and the last
// region to start and to end), then started again on the same data without the fault, and the jobs sweeper fired as
// its schedule would: the work ends succeeded, its job ran again exactly once, and every result is there exactly once
// (metric documents, frames, table rows, tasks, dataset versions, tiles byte for byte, jobs). Two lanes, each a cloud
// of its own on a data folder of its own, take their workflows' fault points at the same time: a kill ends only its
// own lane's cloud. The next start of a lane's cloud is loaded while the one before runs, so a restart does not wait
// for it.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drawSampleGame, sampleLabelMapping, sampleLocalizations, type SampleGame } from '../../cli/sample-game.ts';
import { uploadFile, type UploadPlan } from '../../cli/upload.ts';
import { parseLabelMapping } from '../../shared/label-map.ts';
import { readZip } from '../../functions/annotation/zip.ts';
import { encodeNpy } from '../../functions/materialize/npy-write.ts';
import { SYNAPSE_NPY_MAPPING } from '../../functions/materialize/schemas.ts';
import type { Endpoints } from '../../infra/local/cloud.ts';
import { extractWhole } from '../../functions/ingest/extract.ts';
import { apiAt } from '../support/api.ts';
import { storedFrames } from '../support/frame-packs.ts';
import { ROOT } from '../support/processes.ts';
import { writeTestSlide } from '../support/slide-images.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const work = mkdtempSync(join(tmpdir(), 'framewise-crash-files-'));
const GAME: SampleGame = { seconds: 4, width: 160, height: 120, fps: 25 };
const FPS = 5;
const BUCKET = 'framewise-media';
const labelMapping = Object.fromEntries([...parseLabelMapping(sampleLabelMapping())].map(([k, v]) => [String(k), v]));
const ffmpegPath = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

type Replies = AsyncIterator<{ what: string; body: Json }>;
type Exit = { code: number | null; signal: NodeJS.Signals | null };

/** A cloud process that has loaded its code (or is loading it) and starts the cloud on `dir` when told to. */
class CloudProcess {
  readonly exited: Promise<Exit>;
  readonly replies: Replies;
  stderr = '';

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    if (process.env.CRASH_LOG) {
      child.stdout.on('data', (d: Buffer) => appendFileSync(process.env.CRASH_LOG!, d));
      child.stderr.on('data', (d: Buffer) => appendFileSync(process.env.CRASH_LOG!, d));
    }
    child.stderr.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    this.exited = new Promise<Exit>((done) => child.on('exit', (code, signal) => done({ code, signal })));
    this.replies = (async function* () {
      for await (const line of createInterface({ input: child.stdout })) {
        const m = /^@@cloud (\w+) (.*)$/.exec(line);
        if (m) yield { what: m[1]!, body: JSON.parse(m[2]!) as Json };
      }
    })();
  }

  /** `environment`: variables added to every function's environment. */
  static spawn(dir: string, environment: Record<string, string> = {}): CloudProcess {
    return new CloudProcess(
      spawn(process.execPath, ['--import', 'tsx', '--disable-warning=ExperimentalWarning', join(ROOT, 'test/support/cloud-child.ts')], {
        cwd: ROOT,
        env: {
          ...process.env, CLOUD_DIR: dir, CLOUD_WAIT: '1', CLOUD_ENVIRONMENT: JSON.stringify(environment),
          POWERTOOLS_LOG_LEVEL: process.env.CRASH_LOG_LEVEL ?? 'ERROR', FRAMEWISE_FAULT_POINT: '',
        },
        stdio: ['pipe', 'pipe', 'pipe'],
        // Its own process group, which a fault point kills whole (the PostgreSQL server with it).
        detached: true,
      }),
    );
  }

  /** Leaves without starting a cloud. */
  async dismiss(): Promise<void> {
    this.child.stdin.end();
    await this.exited;
  }
}

/** One start of the local cloud on a lane's data folder, in its own process. */
class Cloud {
  private constructor(
    private readonly process: CloudProcess,
    readonly endpoints: Endpoints,
    readonly adminApiKey: string,
  ) {}

  get exited(): Promise<Exit> {
    return this.process.exited;
  }

  static async start(loaded: CloudProcess): Promise<Cloud> {
    loaded.child.stdin.write('start\n');
    const ready = await Promise.race([loaded.replies.next(), loaded.exited.then((e) => ({ value: undefined, exit: e }))]);
    if (!ready.value) throw new Error(`the local cloud did not start: ${JSON.stringify(ready)}\n${loaded.stderr}`);
    return new Cloud(loaded, ready.value.body.endpoints, ready.value.body.adminApiKey);
  }

  /** Sets FRAMEWISE_FAULT_POINT in the cloud's process: the cloud dies when it gets there. */
  async arm(fault: string): Promise<void> {
    this.process.child.stdin.write(`fault ${fault}\n`);
    expect((await this.process.replies.next()).value).toEqual({ what: 'armed', body: fault });
  }

  /** Fires the sweeper; undefined when the cloud dies before it answers (a run it resumed died at once). */
  async sweep(): Promise<Json> {
    this.process.child.stdin.write('sweep\n');
    const reply = await Promise.race([this.process.replies.next(), this.exited.then(() => undefined)]);
    return reply?.value?.body;
  }

  async stop(): Promise<void> {
    const { child } = this.process;
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.stdin.write('stop\n');
    expect((await this.exited).code).toBe(0);
  }

  kill(): void {
    process.kill(-this.process.child.pid!, 'SIGKILL');
  }

  get api() {
    return apiAt(this.endpoints.api, this.adminApiKey);
  }

  s3(): S3Client {
    return new S3Client({ endpoint: this.endpoints.s3, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 't', secretAccessKey: 't' } });
  }

  /** Every key under `prefix`, without it, sorted. */
  async keys(prefix: string): Promise<string[]> {
    const s3 = this.s3();
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }));
      keys.push(...(page.Contents ?? []).map((o) => o.Key!.slice(prefix.length)));
      token = page.NextContinuationToken;
    } while (token);
    return keys.sort();
  }

  /** Every object under `prefix`, without it, sorted, with its ETag (the MD5 of its bytes, each put whole). */
  async objects(prefix: string): Promise<[string, string][]> {
    const s3 = this.s3();
    const objects: [string, string][] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }));
      objects.push(...(page.Contents ?? []).map((o): [string, string] => [o.Key!.slice(prefix.length), o.ETag!]));
      token = page.NextContinuationToken;
    } while (token);
    return objects.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  async object(key: string): Promise<Buffer> {
    return Buffer.from(await (await this.s3().send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray());
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

/**
 * A data folder and the start of the local cloud on it that runs now: each kill point is reached on it, and it is
 * replaced by a new start on the same data. The process of the next start is spawned as soon as one starts, so its
 * code is loaded by the time it is needed.
 */
class Lane {
  private folder?: string;
  cloud!: Cloud;
  private next?: CloudProcess;

  /** `environment`: variables added to every function's environment, at every start. */
  constructor(private readonly environment: Record<string, string> = {}) {}

  get dir(): string {
    return (this.folder ??= mkdtempSync(join(tmpdir(), 'framewise-crash-')));
  }

  async start(): Promise<void> {
    this.cloud = await Cloud.start(this.next ?? CloudProcess.spawn(this.dir, this.environment));
    this.next = CloudProcess.spawn(this.dir, this.environment);
  }

  /** Waits for the cloud of the moment to die (SIGKILL) and its PostgreSQL server with it, then starts it again. */
  async restartAfterKill(what: string, timeoutMs = 90_000): Promise<void> {
    const exit = await Promise.race([this.cloud.exited, new Promise((r) => setTimeout(r, timeoutMs, 'still running'))]);
    if (exit === 'still running') {
      this.cloud.kill();
      await this.cloud.exited;
      await this.postgresGone();
      await this.start();
      throw new Error(`${what} was never reached`);
    }
    expect(exit, what).toMatchObject({ signal: 'SIGKILL' });
    await this.postgresGone();
    await this.start();
  }

  /** Resolves when the PostgreSQL server of a killed cloud is gone too (it dies with the cloud's process group). */
  private async postgresGone(): Promise<void> {
    const pidFile = join(this.dir, 'postgres', 'data', 'postmaster.pid');
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : 0;
    for (let i = 0; pid > 0 && i < 200; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async close(): Promise<void> {
    await this.cloud?.stop();
    await this.next?.dismiss();
    if (this.folder) rmSync(this.folder, { recursive: true, force: true });
  }

  /**
   * Sets the fault point, starts the work (which may fail halfway: the cloud can die under it), waits for the cloud
   * to die there, starts it again (`atRestart` sees the data as the kill left it) and fires the sweeper: returns
   * the job (found by `findJob`) once it has ended.
   */
  async killAndResume(
    fault: string,
    begin: (cloud: Cloud) => Promise<void>,
    findJob: (cloud: Cloud) => Promise<string>,
    atRestart?: (cloud: Cloud) => Promise<void>,
  ): Promise<Json> {
    await this.cloud.arm(fault);
    const began = begin(this.cloud).then(() => 'begun', (err: Error) => err.message);
    await this.restartAfterKill(fault).catch(async (err: Error) => {
      throw new Error(`${err.message} (${await began})`);
    });
    await began;
    const cloud = this.cloud;
    await atRestart?.(cloud);
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

function expectResumedOnce(job: Json, fault: string): void {
  expect(job.state, `${fault}: ${JSON.stringify(job.error)}`).toBe('succeeded');
  // A kill after the outcome was recorded leaves nothing to resume.
  expect(job.resumes, fault).toBe(fault === 'jobs-outcome:after' ? 0 : 1);
  for (const [name, step] of Object.entries<Json>(job.steps)) {
    expect(step.state, `${fault}: step ${name} of ${JSON.stringify(job)}`).toBe('succeeded');
    if (step.total !== undefined) expect(step.done, `${fault}: parts of ${name}`).toBe(step.total);
  }
}

const jobsStartingWith = (cloud: Cloud, prefix: string) => cloud.jobs((j) => j.jobId.startsWith(prefix));
const jobStartingWith = (cloud: Cloud, prefix: string) =>
  found(async () => (await jobsStartingWith(cloud, prefix))[0]?.jobId as string | undefined, `the job ${prefix}…`);

let videoFile: string;
let locFile: string;
let clipFile: string;
let slideFile: string;
let splitSlideFile: string;

/**
 * The lanes' region threshold, and an image over it: diced in four regions of 512 × 512 (one halving to the split
 * level), as slides-split.test.ts checks against one pass. The one-pass slide is under it.
 */
const SLIDE_MAX_PIXELS_PER_REGION = 200_000;
const SPLIT_SLIDE = { width: 1000, height: 600, levels: 11, regions: 4 };

/** The sample game's video, detectables, det_groups and a game to upload videos into, on a lane's cloud. */
interface Videos {
  gameId: string;
  referenceVideo: string;
  detectables: Record<string, string>;
}

/** Uploads the sample game's localizations and video; the upload's notification starts the ingest. */
async function uploadVideo(cloud: Cloud, gameId: string, title: string): Promise<string> {
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

let reference: Promise<{ frame: number; jpeg: Buffer }[]> | undefined;
/** The sample game's frames as one ffmpeg run over the whole video extracts them (at the ingest's rate). */
const referenceFrames = () =>
  (reference ??= extractWhole({ ffmpegPath, input: videoFile, fps: FPS, outDir: join(work, 'reference-frames') }).then((frames) =>
    frames.map((f) => ({ frame: f.frame, jpeg: readFileSync(f.file) }))));

const ingestJobOf = (cloud: Cloud, videoId: string): Promise<string> =>
  found(async () => (await cloud.api('GET', `/v1/jobs?videoId=${videoId}&limit=10`)).body?.jobs?.[0]?.jobId as string | undefined, `the ingest job of ${videoId}`);

async function seedVideos(cloud: Cloud): Promise<Videos> {
  const detectables: Record<string, string> = {};
  for (const name of ['Nike', 'Adidas', 'Unknown Sponsor']) detectables[name] = (await cloud.api('POST', '/v1/detectables', { name })).body.id;
  await cloud.api('POST', '/v1/det-groups', { name: 'Nike', detectableIds: [detectables.Nike] });
  const sport = await cloud.api('POST', '/v1/sports', { name: 'Crash sport' });
  const league = await cloud.api('POST', '/v1/leagues', { sportId: sport.body.id, name: 'League' });
  const season = await cloud.api('POST', '/v1/seasons', { leagueId: league.body.id, name: '2026' });
  const gameId = (await cloud.api('POST', '/v1/games', { seasonId: season.body.id, title: 'A v B', startsAt: '2026-11-21T15:00:00Z' })).body.id;
  const referenceVideo = await uploadVideo(cloud, gameId, 'reference');
  expect((await cloud.ended(await ingestJobOf(cloud, referenceVideo))).state).toBe('succeeded');
  return { gameId, referenceVideo, detectables };
}

/** The metric documents of a video: det_groups with a frame series, and rollups per det_group. */
async function documentsOf(cloud: Cloud, filter: Record<string, string>): Promise<{ series: string[]; rollups: number }> {
  return cloud.mongo(async (db) => ({
    series: (await db.collection('frame_series').find(filter).toArray()).map((d) => `${d.videoId}/${d.detGroupId}`).sort(),
    rollups: await db.collection('rollups').countDocuments(filter),
  }));
}

const SLIDE_DESCRIPTORS = ['image.dzi', 'iiif/info.json'];

/** Slide images in a session of their own on a lane's cloud: diced unharmed, or with the cloud killed at a point. */
class SlideImages {
  private sessionId!: string;

  constructor(private readonly lane: Lane) {}

  async createSession(): Promise<void> {
    const session = await this.lane.cloud.api('POST', '/v1/slides/sessions', { name: 'crash' });
    expect(session.status, JSON.stringify(session.body)).toBe(201);
    this.sessionId = session.body.id;
  }

  /** Uploads the slide at `path`: answers the image's id. */
  async upload(cloud: Cloud, path: string): Promise<string> {
    const file = readFileSync(path);
    const started = await cloud.api('POST', '/v1/slides/uploads', { filename: 'slide.jpg', sizeBytes: file.length, sha256: sha256(file), sessionId: this.sessionId });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const { plan, image } = started.body;
    expect(plan.method).toBe('PUT');
    expect((await fetch(plan.url, { method: 'PUT', headers: plan.headers, body: file })).status).toBe(200);
    return image.id as string;
  }

  /** Completes the upload: its job starts. */
  async complete(cloud: Cloud, imageId: string): Promise<void> {
    const completed = await cloud.api('POST', `/v1/slides/uploads/${imageId}/complete`, {});
    expect(completed.status, JSON.stringify(completed.body)).toBe(200);
  }

  /** Dices the slide at `path` unharmed: every object published under slides/{imageId}/ with its ETag, and its job. */
  async diceUnharmed(path: string): Promise<{ published: [string, string][]; job: Json }> {
    const { cloud } = this.lane;
    const imageId = await this.upload(cloud, path);
    await this.complete(cloud, imageId);
    const job = await cloud.ended(`slide-${imageId}-1`);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    const published = await cloud.objects(`slides/${imageId}/`);
    expect(published.map(([key]) => key)).toEqual(expect.arrayContaining([...SLIDE_DESCRIPTORS, 'thumbnail.jpg', 'preview.jpg']));
    return { published, job };
  }

  /**
   * Kills the lane's cloud at `fault` while the slide at `path` is diced, and checks the resumed run: the job ran
   * again once, the image ready with its metadata, and every object published as the unharmed run published it,
   * byte for byte.
   */
  async diceKilled(
    fault: string, path: string, size: { width: number; height: number; levels: number }, published: () => [string, string][],
  ): Promise<{ job: Json; imageId: string }> {
    const imageId = await this.upload(this.lane.cloud, path);
    const job = await this.lane.killAndResume(
      fault,
      (c) => this.complete(c, imageId),
      (c) => jobStartingWith(c, `slide-${imageId}-`),
      async (c) => {
        // as the kill left it: a descriptor is published only with every tile in place
        const keys = new Set(await c.keys(`slides/${imageId}/`));
        const tiles = published().map(([k]) => k).filter((k) => !SLIDE_DESCRIPTORS.includes(k) && (k.startsWith('image_files/') || k.startsWith('iiif/')));
        if (SLIDE_DESCRIPTORS.some((d) => keys.has(d))) expect(tiles.filter((k) => !keys.has(k)), `${fault}: tiles missing beside a descriptor`).toEqual([]);
      },
    );
    const { cloud } = this.lane;
    expectResumedOnce(job, fault);
    expect(await jobsStartingWith(cloud, `slide-${imageId}-`)).toHaveLength(1);
    const image = (await cloud.api('GET', `/v1/slides/images/${imageId}`)).body;
    expect(image, fault).toMatchObject({
      state: 'ready', progress: 100, jobId: job.jobId, ...size, tileSize: 256, format: 'jpeg', bytes: statSync(path).size, error: null,
    });
    expect(await cloud.objects(`slides/${imageId}/`), fault).toEqual(published());
    return { job, imageId };
  }
}

// The regions run side by side: the n-th visit of a point is the n-th of all of them, so the points at the regions are
// the first region to start and to end, and the last to end. Pyramid, finish and the outcome run as after one pass,
// whose kills are above.
const splitPoints = [
  ...pointsOf(['slides-dice', 'slides-dice-region']),
  `slides-dice-region:after:${SPLIT_SLIDE.regions}`,
  ...pointsOf(['slides-dice-overview']),
];

/**
 * A slide image over the region threshold diced unharmed on `lane` (whose threshold is low), then killed at each of
 * `points`. Each lane takes some of the points, so that both end at about the same time.
 */
function splitSlideTests(lane: Lane, slides: SlideImages, points: readonly string[]): void {
  /** What an unharmed run publishes. */
  let pyramid: [string, string][];

  it.sequential('dices a first slide image over the region threshold in regions, unharmed', async () => {
    const { published, job } = await slides.diceUnharmed(splitSlideFile);
    pyramid = published;
    expect(job.steps.regions).toMatchObject({ state: 'succeeded', done: SPLIT_SLIDE.regions, total: SPLIT_SLIDE.regions });
    expect(pyramid.map(([key]) => key)).toContain(`image_files/${SPLIT_SLIDE.levels - 1}/1_1.jpg`);
  }, 120_000);

  it.sequential.each(points)('makes a slide image diced in regions ready once when killed at %s', async (fault) => {
    const { width, height, levels } = SPLIT_SLIDE;
    const { job, imageId } = await slides.diceKilled(fault, splitSlideFile, { width, height, levels }, () => pyramid);
    // the regions counted once each, and each left its split-level pixels for the overview once
    expect(job.steps.regions, fault).toMatchObject({ done: SPLIT_SLIDE.regions, total: SPLIT_SLIDE.regions });
    expect(await lane.cloud.keys(`slides/work/${imageId}/`), fault).toEqual(Array.from({ length: SPLIT_SLIDE.regions }, (_, i) => `${i}.v`));
  }, 150_000);
}

const run = promisify(execFile);

beforeAll(async () => {
  videoFile = join(work, 'game.mp4');
  locFile = join(work, 'loc.json');
  clipFile = join(work, 'clip.mp4');
  slideFile = join(work, 'slide.jpg');
  splitSlideFile = join(work, 'split-slide.jpg');
  await Promise.all([
    drawSampleGame(videoFile, GAME),
    // 1 s at 25 fps, processed at 5 fps into tasks of 4: 5 frames in 2 tasks
    run(ffmpegPath, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=25', '-t', '1', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', clipFile]),
    writeTestSlide(slideFile, 300, 200),
    writeTestSlide(splitSlideFile, SPLIT_SLIDE.width, SPLIT_SLIDE.height, 'jpeg', 11),
  ]);
  writeFileSync(locFile, JSON.stringify(sampleLocalizations(GAME)));
}, 60_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.concurrent('videos, det_groups and slide images', () => {
  const lane = new Lane({ SLIDE_MAX_PIXELS_PER_REGION: String(SLIDE_MAX_PIXELS_PER_REGION) });
  const slides = new SlideImages(lane);
  let videos: Videos;
  /** What an unharmed run publishes. */
  let pyramid: [string, string][];

  beforeAll(async () => {
    await lane.start();
    videos = await seedVideos(lane.cloud);
    await slides.createSession();
  }, 120_000);

  afterAll(() => lane.close());

  const detGroupOf: Record<string, string> = {};
  const detGroupPoints = pointsOf(['detgroups-videos', 'detgroups-compute', 'jobs-outcome']);
  /** A det_group per point, each of other detectables (two det_groups of the same detectables are refused). */
  const detectableSets = [['Adidas'], ['Unknown Sponsor'], ['Nike', 'Adidas'], ['Nike', 'Unknown Sponsor'], ['Adidas', 'Unknown Sponsor'], ['Nike', 'Adidas', 'Unknown Sponsor']];
  it.sequential.each(detGroupPoints)('computes a det_group once when killed at %s', async (fault) => {
    let detGroupId = '';
    const detectableIds = detectableSets[detGroupPoints.indexOf(fault)]!.map((name) => videos.detectables[name]);
    const job = await lane.killAndResume(
      fault,
      async (c) => {
        const created = await c.api('POST', '/v1/det-groups', { name: `Brands ${fault}`, detectableIds });
        expect(created.status, JSON.stringify(created.body)).toBe(201);
        detGroupId = detGroupOf[fault] = created.body.id;
      },
      (c) => found(async () => (await c.jobs((j) => j.detGroupId === detGroupId))[0]?.jobId as string | undefined, `the job of det_group ${detGroupId}`),
    );
    const { cloud } = lane;
    expectResumedOnce(job, fault);
    expect(await cloud.jobs((j) => j.detGroupId === detGroupId)).toHaveLength(1);
    expect(await documentsOf(cloud, { detGroupId }), fault).toEqual({ series: [`${videos.referenceVideo}/${detGroupId}`], rollups: 4 });
    expect((await cloud.api('GET', `/v1/videos/${videos.referenceVideo}/metrics?detGroup=${detGroupId}&resolution=video`)).status, fault).toBe(200);
  }, 150_000);

  it.sequential.each(pointsOf(['ingest-probe', 'ingest-localizations', 'ingest-plan', 'ingest-frames', 'ingest-metrics', 'jobs-outcome']))(
    'ingests a video once when killed at %s',
    async (fault) => {
      let videoId = '';
      const job = await lane.killAndResume(
        fault,
        async (c) => {
          videoId = await uploadVideo(c, videos.gameId, fault);
        },
        (c) => ingestJobOf(c, videoId),
      );
      const { cloud } = lane;
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
      // The frames of its one run, whatever died when: exactly those of one ffmpeg run over the whole video, byte for byte.
      const runs = await storedFrames(cloud.s3(), BUCKET, videoId);
      expect([...runs.keys()], fault).toEqual([job.jobId]);
      const stored = runs.get(job.jobId)!;
      const reference = await referenceFrames();
      expect([...stored.keys()], fault).toEqual(reference.map((f) => f.frame));
      for (const f of reference) expect(stored.get(f.frame)!.equals(f.jpeg), `${fault}: frame ${f.frame}`).toBe(true);
      const metrics = await cloud.api('GET', `/v1/videos/${videoId}/metrics?detGroup=${applicable[0].id}&resolution=video`);
      expect(metrics.status, fault).toBe(200);
    },
    150_000,
  );

  it.sequential('fails an ingest whose 3 runs all die, through its workflow: the job with ExecutionEnded, the video failed', async () => {
    await lane.cloud.arm('ingest-plan:after');
    const videoId = await uploadVideo(lane.cloud, videos.gameId, 'dies three times');
    await lane.restartAfterKill('run 1');
    for (const run of [2, 3]) {
      await lane.cloud.arm('ingest-plan:after');
      await lane.cloud.sweep();
      await lane.restartAfterKill(`run ${run}`);
    }
    const { cloud } = lane;
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

  it.sequential('counts every try of a part: a det_group video that fails 3 times shows 3 attempts', async () => {
    const { cloud } = lane;
    // Two det_groups of the same detectables are refused: this one takes those of the first point's, deleted.
    const video = await uploadVideo(cloud, videos.gameId, 'localizations lost');
    expect((await cloud.ended(await ingestJobOf(cloud, video))).state).toBe('succeeded');
    const [key] = await cloud.sql('SELECT localizations_key AS k FROM video WHERE id = $1', [video]);
    await cloud.s3().send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key.k }));
    expect((await cloud.api('DELETE', `/v1/det-groups/${detGroupOf[detGroupPoints[0]!]}`)).status).toBe(204);
    const created = await cloud.api('POST', '/v1/det-groups', { name: 'Adidas again', detectableIds: [videos.detectables.Adidas] });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const jobId = await found(async () => (await cloud.jobs((j) => j.detGroupId === created.body.id))[0]?.jobId as string | undefined, 'its job');
    const job = await cloud.ended(jobId);
    expect(job.state).toBe('failed');
    expect(job.steps.compute).toMatchObject({ state: 'failed', attempts: 3 });
    expect(job.steps.compute.partAttempts[video]).toBe(3);
    expect(job.attempts).toBe(3);
  }, 120_000);

  it.sequential('dices a first slide image, unharmed', async () => {
    pyramid = (await slides.diceUnharmed(slideFile)).published;
    expect(pyramid.map(([key]) => key)).toContain('image_files/9/1_0.jpg');
  }, 120_000);

  it.sequential.each(pointsOf(['slides-dice', 'slides-pyramid', 'slides-finish', 'jobs-outcome']))(
    'makes a slide image ready once when killed at %s',
    async (fault) => {
      await slides.diceKilled(fault, slideFile, { width: 300, height: 200, levels: 10 }, () => pyramid);
    },
    150_000,
  );

  splitSlideTests(lane, slides, splitPoints.slice(0, 4));
});

describe.concurrent('annotation content, datasets, bulk uploads and slide images diced in regions', () => {
  const lane = new Lane({ SLIDE_MAX_PIXELS_PER_REGION: String(SLIDE_MAX_PIXELS_PER_REGION) });
  const slides = new SlideImages(lane);
  let projectId: string;

  beforeAll(async () => {
    await lane.start();
    await slides.createSession();
    const project = await lane.cloud.api('POST', '/v1/annotation/projects', { name: 'crash', labels: ['ball', 'player'], framesPerTask: 4 });
    expect(project.status, JSON.stringify(project.body)).toBe(201);
    projectId = project.body.projectId;
  }, 120_000);

  afterAll(() => lane.close());

  /** An uploaded clip with a prediction set (version 1) that boxes a ball on source frame 2. */
  async function uploadClip(cloud: Cloud): Promise<string> {
    const body = readFileSync(clipFile);
    const started = await cloud.api('POST', `/v1/annotation/projects/${projectId}/uploads`, { fileName: 'clip.mp4', sizeBytes: body.length, contentType: 1 });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const uploadId = started.body.upload.uploadId as string;
    expect((await fetch(started.body.plan.url, { method: 'PUT', headers: started.body.plan.headers, body })).status).toBe(200);
    expect((await cloud.api('POST', `/v1/annotation/uploads/${uploadId}/complete`, {})).status).toBe(200);
    const localizations = { video: { width: 64, height: 48 }, frames: [{ frame: 2, time: 0.08, detections: [{ label: 'ball', score: 0.9, box: [8, 8, 16, 12] }] }] };
    const predictions = await cloud.api('POST', `/v1/annotation/uploads/${uploadId}/predictions`, { format: 'localizations', localizations });
    expect(predictions.status, JSON.stringify(predictions.body)).toBe(201);
    return uploadId;
  }

  const processClip = (cloud: Cloud, uploadId: string) =>
    cloud.api('POST', '/v1/annotation/process-content', { uploadId, projectId, frameRate: 5, forceWrite: 0, autoAnnoVersion: 1, requestType: 1, contentType: 1 });

  const contentUploads: string[] = [];
  it.sequential.each(pointsOf(['annotation-prepare', 'annotation-task', 'annotation-auto', 'annotation-finish', 'jobs-outcome']))(
    'processes annotation content once when killed at %s',
    async (fault) => {
      const uploadId = await uploadClip(lane.cloud);
      contentUploads.push(uploadId);
      const job = await lane.killAndResume(
        fault,
        async (c) => {
          const res = await processClip(c, uploadId);
          expect(res.status, JSON.stringify(res.body)).toBe(202);
        },
        (c) => jobStartingWith(c, `annotation-${uploadId}-`),
      );
      const { cloud } = lane;
      expectResumedOnce(job, fault);
      expect(await jobsStartingWith(cloud, `annotation-${uploadId}-`)).toHaveLength(1);
      expect((await cloud.api('GET', `/v1/annotation/uploads/${uploadId}`)).body).toMatchObject({ status: 1, progress: 100, requests: 1, taskCount: 2, frameCount: 5 });
      const tasks = (await cloud.api('GET', `/v1/annotation/uploads/${uploadId}/tasks`)).body.tasks;
      // 25 fps to 5 fps: sampled frame n shows source frame 5n + 2
      expect(tasks.map((t: Json) => [t.taskId, t.generated, t.jobId, t.sourceFrames]), fault).toEqual([
        [`${uploadId}-00000`, true, job.jobId, [2, 7, 12, 17]], [`${uploadId}-00001`, true, job.jobId, [22]],
      ]);
      for (const t of tasks) expect(t.history.map((h: Json) => [h.field, h.to]), `${fault}: ${t.taskId}`).toEqual([['generated', job.jobId]]);
      const stored = await cloud.mongo(async (db) => ({
        tasks: await db.collection('annotation_tasks').countDocuments({ uploadId }),
        frames: (await db.collection('annotation_frames').find({ uploadId }).sort({ sourceFrame: 1 }).toArray()).map((f) => [f.sourceFrame, f.auto?.version, f.auto?.boxes.length]),
      }));
      expect(stored, fault).toEqual({ tasks: 2, frames: [[2, 1, 1], [7, 1, 0], [12, 1, 0], [17, 1, 0], [22, 1, 0]] });
      const frames = await cloud.keys(`annotation/frames/${uploadId}/`);
      expect(frames, fault).toEqual([0, 1, 2, 3, 4].map((n) => `${String(n).padStart(6, '0')}.jpg`));
      for (const t of tasks) {
        expect((await cloud.keys(`annotation/tasks/${t.taskId}/`)).length, `${fault}: ${t.taskId}`).toBe(2);
        // the manifest names the frames stored, byte for byte
        const manifest = JSON.parse((await cloud.object(t.manifestKey)).toString('utf8'));
        for (const f of manifest.frames) {
          expect(md5(await cloud.object(`annotation/frames/${uploadId}/${String(f.sampledFrame).padStart(6, '0')}.jpg`)), `${fault}: ${t.taskId}`).toBe(f.md5);
        }
      }
    },
    150_000,
  );

  const DATASET = 'crash';
  let reference: { name: string; data: Buffer }[];
  const datasetZip = async (cloud: Cloud, version: number) => {
    const doc = (await cloud.api('GET', `/v1/annotation/datasets/${DATASET}/versions/${version}`)).body;
    return readZip(Buffer.from(await (await fetch(doc.zipUrl)).arrayBuffer()), { maxEntryBytes: 1 << 24 });
  };
  const datasetRequest = () => ({ name: DATASET, projectIds: [projectId], split: { train: 0.5, val: 0.5 }, seed: '1' });

  it.sequential('builds a first dataset version of an accepted task, unharmed', async () => {
    const { cloud } = lane;
    // the first task of the first content upload is done and accepted: the dataset's 4 images
    const taskId = `${contentUploads[0]}-00000`;
    for (const move of [{ taskStatus: 1 }, { taskStatus: 2 }, { auditStatus: 1 }]) {
      expect((await cloud.api('PATCH', `/v1/annotation/tasks/${taskId}`, move)).status).toBe(200);
    }
    const res = await cloud.api('POST', '/v1/annotation/datasets', datasetRequest());
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect((await cloud.ended(res.body.jobId)).state).toBe('succeeded');
    reference = await datasetZip(cloud, 1);
    expect(reference.filter((e) => e.name.startsWith('images/')).map((e) => e.name.replace(/^images\/\w+\//, ''))).toEqual(
      [2, 7, 12, 17].map((f) => `${contentUploads[0]}_${String(f).padStart(6, '0')}.jpg`),
    );
  }, 120_000);

  const datasetPoints = pointsOf(['annotation-dataset-build', 'jobs-outcome']);
  it.sequential.each(datasetPoints)('builds one new dataset version when killed at %s', async (fault) => {
    const version = datasetPoints.indexOf(fault) + 2;
    const jobId = `dataset-${DATASET}-v${version}`;
    const job = await lane.killAndResume(
      fault,
      async (c) => {
        const res = await c.api('POST', '/v1/annotation/datasets', datasetRequest());
        expect(res.status, JSON.stringify(res.body)).toBe(202);
        expect(res.body.jobId).toBe(jobId);
      },
      async () => jobId,
    );
    const { cloud } = lane;
    expectResumedOnce(job, fault);
    expect(await jobsStartingWith(cloud, `dataset-${DATASET}-`)).toHaveLength(version);
    const listed = (await cloud.api('GET', `/v1/annotation/datasets/${DATASET}`)).body.versions;
    expect(listed.map((v: Json) => [v.version, v.state]), fault).toEqual(Array.from({ length: version }, (_, i) => [i + 1, 'succeeded']));
    expect(listed.at(-1), fault).toMatchObject({ itemsDone: 4, itemsTotal: 4 });
    const zip = await datasetZip(cloud, version);
    expect(zip.map((e) => e.name), fault).toEqual(reference.map((e) => e.name));
    for (const [i, e] of zip.entries()) {
      const expected = e.name === 'manifest.json' ? reference[i]!.data.toString().replace('"version": 1,', `"version": ${version},`) : reference[i]!.data.toString('latin1');
      expect(e.data.toString(e.name === 'manifest.json' ? 'utf8' : 'latin1'), `${fault}: ${e.name}`).toBe(expected);
    }
  }, 150_000);

  it.sequential.each(pointsOf(['materialize-prepare', 'materialize-load-chunk', 'materialize-finish', 'jobs-outcome']))(
    'loads a bulk upload once when killed at %s',
    async (fault) => {
      const N = 40;
      const datastack = `crash${fault.replace(/[^a-z]/g, '').slice(0, 24)}${fault.endsWith('before') ? 'b' : 'a'}`;
      const prefix = `materialize/${datastack}/synapses/`;
      const job = await lane.killAndResume(fault, async (c) => {
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
      }, (c) => jobStartingWith(c, `bulk-${datastack}-`));
      const { cloud } = lane;
      expectResumedOnce(job, fault);
      expect(await jobsStartingWith(cloud, `bulk-${datastack}-`)).toHaveLength(1);
      for (const table of ['synapses', 'synapses__seg']) {
        const [rows] = await cloud.sql(`SELECT count(*)::int AS n, count(DISTINCT id)::int AS ids FROM "ds_${datastack}"."${table}"`);
        expect(rows, `${fault}: ${table}`).toEqual({ n: N, ids: N });
      }
    },
    150_000,
  );

  splitSlideTests(lane, slides, splitPoints.slice(4));
});
