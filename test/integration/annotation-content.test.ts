// processContent on the shared local cloud, with real ffmpeg: a 4 s 320x240 video at 25 fps uploaded through the
// presigned PUT and processed at 5 fps into tasks of 8 frames: the job succeeds, the tasks hold the right frame
// ranges and source frames, each task video is H.264 with its frame count, each manifest maps to the stored JPEGs,
// the progress only grows and ends at 100. A second request is refused without forceWrite and regenerates the same
// task ids with it. Bad input is a 4xx (or, for what only the content shows, a failed job with a clear error) and
// changes nothing. A zip of 3 images of different sizes makes one letterboxed task.
import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { zipBytes } from '../../functions/annotation/zip.ts';
import { apiClient, eventually } from '../support/api.ts';
import { CLI_ENTRY, run as runProcess, TSX } from '../support/processes.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const ffmpegPath = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
const ffprobePath = (require('@ffprobe-installer/ffprobe') as { path: string }).path;
const endpoints = inject('endpoints');
const api = apiClient();
const s3 = new S3Client({ endpoint: endpoints.s3, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
const BUCKET = 'framewise-media';
const STAMP = `${Date.now().toString(36)}${process.pid}`;

let dir: string;
let projectId: string;

const ffmpeg = (...args: string[]) => run(ffmpegPath, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...args]);
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const getObject = async (key: string) => Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray());

/** Uploads content through the API's presigned PUT and completes it; answers the upload document. */
async function upload(fileName: string, body: Buffer, contentType: 1 | 2, complete = true): Promise<Json> {
  const started = await api('POST', `/v1/annotation/projects/${projectId}/uploads`, { fileName, sizeBytes: body.length, contentType });
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  const { upload: doc, plan } = started.body;
  expect(plan.method).toBe('PUT');
  expect(plan.key).toBe(`annotation/uploads/${doc.uploadId}/${fileName}`);
  if (!complete) return doc;
  const put = await fetch(plan.url, { method: 'PUT', headers: plan.headers, body });
  expect(put.status).toBe(200);
  const done = await api('POST', `/v1/annotation/uploads/${doc.uploadId}/complete`, {});
  expect(done.status, JSON.stringify(done.body)).toBe(200);
  expect(done.body.uploadState).toBe('uploaded');
  return done.body;
}

/** Follows the job to its end, sampling the upload's progress on the way. */
async function follow(jobId: string, uploadId: string): Promise<{ job: Json; progress: number[] }> {
  const progress: number[] = [];
  const job = await eventually(async () => {
    progress.push((await api('GET', `/v1/annotation/uploads/${uploadId}`)).body.progress);
    const j = (await api('GET', `/v1/jobs/${jobId}`)).body;
    return j.state === 'succeeded' || j.state === 'failed' ? j : undefined;
  }, `job ${jobId}`, 60_000);
  progress.push((await api('GET', `/v1/annotation/uploads/${uploadId}`)).body.progress);
  return { job, progress };
}

async function probeFile(file: string): Promise<Json> {
  const { stdout } = await run(ffprobePath, ['-v', 'error', '-count_frames', '-print_format', 'json', '-show_streams', '-show_format', file]);
  return JSON.parse(stdout);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'annotation-content-'));
  const created = await api('POST', '/v1/annotation/projects', { name: `players ${STAMP}`, labels: ['player', 'ball'], framesPerTask: 8 });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  projectId = created.body.projectId;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('annotation projects', () => {
  it('refuses a second project of the same name, lists and gets them', async () => {
    const again = await api('POST', '/v1/annotation/projects', { name: `players ${STAMP}`, labels: ['x'] });
    expect(again.status).toBe(409);
    expect((await api('GET', '/v1/annotation/projects')).body.projects.map((p: Json) => p.projectId)).toContain(projectId);
    expect((await api('GET', `/v1/annotation/projects/${projectId}`)).body).toMatchObject({ labels: ['player', 'ball'], framesPerTask: 8 });
    expect((await api('GET', `/v1/annotation/projects/${randomUUID()}`)).status).toBe(404);
  });
});

describe('processContent of a video', () => {
  let video: Json;
  let first: { job: Json; progress: number[] };
  let tasks: Json[];

  beforeAll(async () => {
    const file = join(dir, 'clip.mp4');
    await ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '4', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', file);
    video = await upload('clip.mp4', readFileSync(file), 1);
  });

  it('answers 202 with the upload (snake_case names), and the job succeeds', async () => {
    const res = await api('POST', '/v1/annotation/process-content', {
      upload_id: video.uploadId, project_id: projectId, frame_rate: 5, force_write: 0, auto_anno_version: 0, request_type: 0, content_type: 1,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toMatchObject({ uploadId: video.uploadId, status: 0, requests: 1, request: { frameRate: 5, forceWrite: 0, requestType: 0 } });
    first = await follow(res.body.jobId, video.uploadId);
    expect(first.job.state, JSON.stringify(first.job.error)).toBe('succeeded');
    expect(first.job.kind).toBe('annotation-content');
    expect(Object.values(first.job.steps).map((s: Json) => s.state)).toEqual(['succeeded', 'succeeded', 'succeeded', 'succeeded']);
    expect(first.job.steps.tasks).toMatchObject({ done: 3, total: 3 });
    const after = (await api('GET', `/v1/annotation/uploads/${video.uploadId}`)).body;
    expect(after).toMatchObject({ status: 1, progress: 100, taskCount: 3, frameCount: 20, sourceFrameRate: 25, width: 320, height: 240 });
    // progress only grows, and ends at 100
    expect(first.progress).toEqual([...first.progress].sort((a, b) => a - b));
    expect(first.progress.at(-1)).toBe(100);
  });

  it('makes tasks of 8 sampled frames, each with its source frames', async () => {
    tasks = (await api('GET', `/v1/annotation/uploads/${video.uploadId}/tasks`)).body.tasks;
    expect(tasks.map((t: Json) => [t.taskId, t.index, t.frames.first, t.frames.count])).toEqual([
      [`${video.uploadId}-00000`, 0, 0, 8], [`${video.uploadId}-00001`, 1, 8, 8], [`${video.uploadId}-00002`, 2, 16, 4],
    ]);
    // 25 fps to 5 fps: sampled frame n shows the last source frame j with round(j / 5) <= n, i.e. j = 5n + 2
    for (const t of tasks) {
      expect(t.sourceFrames).toEqual(Array.from({ length: t.frames.count }, (_, i) => 5 * (t.frames.first + i) + 2));
      expect(t).toMatchObject({ generated: true, taskStatus: 0, auditStatus: 0, width: 320, height: 240 });
    }
  });

  it('gives each task an H.264 video of its frames and a manifest mapping to the stored frames', async () => {
    for (const t of tasks) {
      const got = (await api('GET', `/v1/annotation/tasks/${t.taskId}`)).body;
      const mp4 = Buffer.from(await (await fetch(got.videoUrl)).arrayBuffer());
      const file = join(dir, `${t.taskId}.mp4`);
      writeFileSync(file, mp4);
      const probed = await probeFile(file);
      expect(probed.streams).toHaveLength(1);
      expect(probed.streams[0]).toMatchObject({ codec_name: 'h264', pix_fmt: 'yuv420p', width: 320, height: 240, r_frame_rate: '5/1', nb_read_frames: String(t.frames.count) });
      const manifest = (await (await fetch(got.manifestUrl)).json()) as Json;
      expect(manifest).toMatchObject({ taskId: t.taskId, frameRate: 5, width: 320, height: 240, letterboxed: false });
      expect(manifest.frames.map((f: Json) => [f.index, f.sampledFrame, f.sourceFrame])).toEqual(t.sourceFrames.map((s: number, i: number) => [i, t.frames.first + i, s]));
      for (const f of manifest.frames) {
        const jpeg = await getObject(`annotation/frames/${video.uploadId}/${String(f.sampledFrame).padStart(6, '0')}.jpg`);
        expect(md5(jpeg)).toBe(f.md5);
        // when the source frame is shown in the source: (5n + 2) / 25
        expect(f.time).toBeCloseTo(f.sourceFrame / 25, 6);
      }
    }
  });

  it('refuses a second request without forceWrite, changing nothing', async () => {
    const before = (await api('GET', `/v1/annotation/uploads/${video.uploadId}`)).body;
    const res = await api('POST', '/v1/annotation/process-content', { uploadId: video.uploadId, projectId, frameRate: 5, forceWrite: 0, contentType: 1 });
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/already processed.*forceWrite 1/);
    expect((await api('GET', `/v1/annotation/uploads/${video.uploadId}`)).body).toEqual(before);
  });

  it('regenerates the same task ids with forceWrite 1, never duplicating them', async () => {
    const res = await api('POST', '/v1/annotation/process-content', { uploadId: video.uploadId, projectId, frameRate: 5, forceWrite: 1, contentType: 1 });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body.jobId).not.toBe(first.job.jobId);
    // one request at a time: another while this one runs is refused
    const meanwhile = await api('POST', '/v1/annotation/process-content', { uploadId: video.uploadId, projectId, frameRate: 5, forceWrite: 1, contentType: 1 });
    expect(meanwhile.status).toBe(409);
    expect(meanwhile.body.error.message).toContain(res.body.jobId);
    const second = await follow(res.body.jobId, video.uploadId);
    expect(second.job.state, JSON.stringify(second.job.error)).toBe('succeeded');
    expect(second.progress).toEqual([...second.progress].sort((a, b) => a - b));
    const again = (await api('GET', `/v1/annotation/uploads/${video.uploadId}/tasks`)).body.tasks;
    expect(again.map((t: Json) => t.taskId)).toEqual(tasks.map((t: Json) => t.taskId));
    expect(again.map((t: Json) => t.sourceFrames)).toEqual(tasks.map((t: Json) => t.sourceFrames));
    for (const t of again) {
      expect(t.jobId).toBe(res.body.jobId);
      expect(t.createdAt).toBe(tasks.find((x: Json) => x.taskId === t.taskId).createdAt);
      expect(t.history.map((h: Json) => h.to)).toEqual([first.job.jobId, res.body.jobId]);
    }
  });

  it('refuses bad requests with a clear 4xx, changing nothing', async () => {
    const before = (await api('GET', `/v1/annotation/uploads/${video.uploadId}`)).body;
    const request = { uploadId: video.uploadId, projectId, frameRate: 5, forceWrite: 1, contentType: 1 };
    const cases: [Json, number, RegExp | string][] = [
      [{ ...request, frameRate: 0 }, 400, 'ValidationFailed'],
      [{ ...request, frameRate: 2.5 }, 400, 'ValidationFailed'],
      [{ ...request, frameRate: 30 }, 400, 'FrameRateAboveSource'],
      [{ ...request, projectId: randomUUID() }, 404, 'NotFound'],
      [{ ...request, uploadId: randomUUID() }, 404, 'NotFound'],
      [{ ...request, requestType: 1 }, 400, 'ValidationFailed'],
      [{ ...request, frame_rate: 4 }, 400, 'BadRequest'],
      [{ ...request, unknown: 1 }, 400, 'ValidationFailed'],
    ];
    for (const [body, status, code] of cases) {
      const res = await api('POST', '/v1/annotation/process-content', body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.body.error.code, JSON.stringify(res.body)).toBe(code);
    }
    expect((await api('GET', `/v1/annotation/uploads/${video.uploadId}`)).body).toEqual(before);
  });

  it('refuses an upload still in progress (409) and a file that is not a video (400), changing nothing', async () => {
    const pending = await upload('later.mp4', Buffer.alloc(1000), 1, false);
    const res = await api('POST', '/v1/annotation/process-content', { uploadId: pending.uploadId, projectId, frameRate: 5, contentType: 1 });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('UploadInProgress');
    expect((await api('GET', `/v1/annotation/uploads/${pending.uploadId}`)).body).toEqual(pending);

    const text = await upload('notes.mp4', Buffer.from('these are not the frames you are looking for\n'.repeat(50)), 1);
    const bad = await api('POST', '/v1/annotation/process-content', { uploadId: text.uploadId, projectId, frameRate: 5, contentType: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('NotAVideo');
    expect((await api('GET', `/v1/annotation/uploads/${text.uploadId}`)).body).toMatchObject({ requests: 0, status: 0 });
    expect((await api('GET', `/v1/annotation/uploads/${text.uploadId}/tasks`)).body.tasks).toEqual([]);
  });

  it('takes content in a multipart upload (resumed, completed), then refuses it when it is not a video', async () => {
    const body = Buffer.alloc(7 * 1024 * 1024, 7);
    const started = await api('POST', `/v1/annotation/projects/${projectId}/uploads`, { fileName: 'big.mp4', sizeBytes: body.length, contentType: 1 });
    expect(started.status).toBe(201);
    const { upload: doc, plan } = started.body;
    expect(plan.method).toBe('multipart');
    const first = plan.parts[0];
    const put1 = await fetch(first.url, { method: 'PUT', body: body.subarray(0, plan.partSize) });
    expect(put1.status).toBe(200);
    const early = await api('POST', '/v1/annotation/process-content', { uploadId: doc.uploadId, projectId, frameRate: 5, contentType: 1 });
    expect(early.status).toBe(409);
    expect(early.body.error.code).toBe('UploadInProgress');
    expect((await api('POST', `/v1/annotation/uploads/${doc.uploadId}/resume`, { uploadId: 'another' })).status).toBe(404);
    const resumed = (await api('POST', `/v1/annotation/uploads/${doc.uploadId}/resume`, { uploadId: plan.uploadId })).body;
    expect(resumed.uploaded.map((p: Json) => p.partNumber)).toEqual([1]);
    const second = resumed.parts[1];
    const put2 = await fetch(second.url, { method: 'PUT', body: body.subarray(plan.partSize) });
    expect(put2.status).toBe(200);
    const parts = [{ partNumber: 1, etag: put1.headers.get('etag') }, { partNumber: 2, etag: put2.headers.get('etag') }];
    const done = await api('POST', `/v1/annotation/uploads/${doc.uploadId}/complete`, { uploadId: plan.uploadId, parts });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.uploadState).toBe('uploaded');
    const bad = await api('POST', '/v1/annotation/process-content', { uploadId: doc.uploadId, projectId, frameRate: 5, contentType: 1 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('NotAVideo');
  });

  it('refuses auto annotations alone for an upload without tasks', async () => {
    const none = await upload('empty.mp4', readFileSync(join(dir, 'clip.mp4')), 1);
    const res = await api('POST', '/v1/annotation/process-content', { uploadId: none.uploadId, projectId, frameRate: 5, requestType: 2, autoAnnoVersion: 1, contentType: 1 });
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/no tasks/);
  });
});

describe('processContent of images', () => {
  const image = async (name: string, size: string, out: string): Promise<Buffer> => {
    const file = join(dir, out);
    await ffmpeg('-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=1`, '-frames:v', '1', file);
    return readFileSync(file);
  };

  it('makes one letterboxed task of a zip of 3 images of different sizes, in name order', async () => {
    const zip = await zipBytes([
      { name: 'b.jpg', data: await image('b', '160x100', 'b.jpg') },
      { name: 'a.png', data: await image('a', '320x240', 'a.png') },
      { name: 'c.png', data: await image('c', '200x200', 'c.png') },
    ]);
    const doc = await upload('frames.zip', zip, 2);
    const res = await api('POST', '/v1/annotation/process-content', { uploadId: doc.uploadId, projectId, frameRate: 2, contentType: 2 });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const { job } = await follow(res.body.jobId, doc.uploadId);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    const tasks = (await api('GET', `/v1/annotation/uploads/${doc.uploadId}/tasks`)).body.tasks;
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({ frames: { first: 0, count: 3 }, sourceFrames: [0, 1, 2], width: 320, height: 240 });
    const got = (await api('GET', `/v1/annotation/tasks/${tasks[0].taskId}`)).body;
    const file = join(dir, 'images.mp4');
    writeFileSync(file, Buffer.from(await (await fetch(got.videoUrl)).arrayBuffer()));
    expect((await probeFile(file)).streams[0]).toMatchObject({ codec_name: 'h264', width: 320, height: 240, nb_read_frames: '3' });
    const manifest = (await (await fetch(got.manifestUrl)).json()) as Json;
    expect(manifest).toMatchObject({ letterboxed: true, width: 320, height: 240 });
    // a.png first (name order): the first image's size is the task's
    expect(manifest.frames.map((f: Json) => f.sampledFrame)).toEqual([0, 1, 2]);
  });

  it('makes one task of one image', async () => {
    const doc = await upload('single.png', await image('s', '120x90', 'single.png'), 2);
    const res = await api('POST', '/v1/annotation/process-content', { uploadId: doc.uploadId, projectId, frameRate: 1, contentType: 2 });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const { job } = await follow(res.body.jobId, doc.uploadId);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    const tasks = (await api('GET', `/v1/annotation/uploads/${doc.uploadId}/tasks`)).body.tasks;
    expect(tasks.map((t: Json) => [t.frames, t.sourceFrames, t.width, t.height])).toEqual([[{ first: 0, count: 1 }, [0], 120, 90]]);
  });

  it('fails the job of a zip holding a file that is not an image, naming it, and the failed job can be requeued', async () => {
    const zip = await zipBytes([
      { name: 'a.png', data: await image('a', '64x48', 'small.png') },
      { name: 'readme.txt', data: Buffer.from('not an image') },
    ]);
    const doc = await upload('mixed.zip', zip, 2);
    const res = await api('POST', '/v1/annotation/process-content', { uploadId: doc.uploadId, projectId, frameRate: 1, contentType: 2 });
    expect(res.status).toBe(202);
    const { job } = await follow(res.body.jobId, doc.uploadId);
    expect(job.state).toBe('failed');
    expect(job.error).toMatchObject({ code: 'NotAnImage' });
    expect(job.error.message).toContain('readme.txt');
    const after = (await api('GET', `/v1/annotation/uploads/${doc.uploadId}`)).body;
    expect(after).toMatchObject({ status: 2, error: { code: 'NotAnImage' } });
    expect((await api('GET', `/v1/annotation/uploads/${doc.uploadId}/tasks`)).body.tasks).toEqual([]);
    const failed = (await api('GET', '/v1/jobs?state=failed&limit=100')).body.jobs.map((j: Json) => j.jobId);
    expect(failed).toContain(job.jobId);
    const requeued = await api('POST', `/v1/jobs/${job.jobId}/requeue`);
    expect(requeued.status, JSON.stringify(requeued.body)).toBe(200);
    const rerun = await follow(job.jobId, doc.uploadId);
    expect(rerun.job).toMatchObject({ state: 'failed', requeues: 1, error: { code: 'NotAnImage' } });
  });

  it('fails the job of images content that is neither an image nor a zip', async () => {
    const doc = await upload('notes.png', Buffer.from('plain text, named like an image'), 2);
    const res = await api('POST', '/v1/annotation/process-content', { uploadId: doc.uploadId, projectId, frameRate: 1, contentType: 2 });
    expect(res.status).toBe(202);
    const { job } = await follow(res.body.jobId, doc.uploadId);
    expect(job).toMatchObject({ state: 'failed', error: { code: 'NotAnImage', message: 'notes.png is neither a JPEG or PNG image nor a zip of them' } });
    expect((await api('GET', `/v1/annotation/uploads/${doc.uploadId}`)).body).toMatchObject({ status: 2, progress: 0 });
  });

  it('fails the job of a zip with an entry named to leave it, making no task', async () => {
    const zip = await zipBytes([
      { name: 'a.png', data: await image('a', '64x48', 'small.png') },
      { name: 'up/b.png', data: await image('b', '64x48', 'small.png') },
    ]);
    // the second name made '../b.png' in the bytes: no writer makes it, an attacker's zip would
    const escaping = Buffer.from(zip.toString('latin1').replaceAll('up/b.png', '../b.png'), 'latin1');
    const doc = await upload('escaping.zip', escaping, 2);
    const res = await api('POST', '/v1/annotation/process-content', { uploadId: doc.uploadId, projectId, frameRate: 1, contentType: 2 });
    expect(res.status).toBe(202);
    const { job } = await follow(res.body.jobId, doc.uploadId);
    expect(job).toMatchObject({ state: 'failed', error: { code: 'ZipInvalid', message: expect.stringContaining('invalid relative path: ../b.png') } });
    expect((await api('GET', `/v1/annotation/uploads/${doc.uploadId}`)).body).toMatchObject({ status: 2, error: { code: 'ZipInvalid' } });
    expect((await api('GET', `/v1/annotation/uploads/${doc.uploadId}/tasks`)).body.tasks).toEqual([]);
  });
});

describe('framewise annotate', () => {
  const framewise = (args: string[]) =>
    runProcess(TSX, [CLI_ENTRY, ...args], { cwd: dir, env: { FRAMEWISE_API_URL: endpoints.api, FRAMEWISE_API_KEY: inject('adminApiKey') } });

  it('creates and lists projects, processes a video to "status: success", and ends a refused request with "status: error"', async () => {
    const created = await framewise(['annotate', 'projects', 'create', '--name', `cli ${STAMP}`, '--labels', 'car,bike', '--frames-per-task', '10', '--json']);
    expect(created.code, created.stdout + created.stderr).toBe(0);
    const project = JSON.parse(created.stdout.slice(0, created.stdout.lastIndexOf('}') + 1)) as Json;
    expect((await framewise(['annotate', 'projects', 'list'])).stdout).toContain(project.projectId);

    const file = join(dir, 'cli.mp4');
    await ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=10', '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', file);
    const ok = await framewise(['annotate', 'process', '--project', project.projectId, '--file', file, '--frame-rate', '5']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/content: uploaded .* as upload [0-9a-f-]{36}/);
    expect(ok.stdout).toMatch(/status: success/);

    const tooFast = await framewise(['annotate', 'process', '--project', project.projectId, '--file', file, '--frame-rate', '25']);
    expect(tooFast.code).toBe(2);
    expect(tooFast.stdout).toMatch(/status: error[\s\S]*above the video's frame rate/);
  });
});
