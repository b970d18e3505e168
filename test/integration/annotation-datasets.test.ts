// Task work and datasets on the shared local cloud, with real ffmpeg: a 2 s 64x48 video at 25 fps processed at 5 fps
// into tasks of 4 frames; prediction sets registered (inline localizations, a zip of YOLO txt files through a
// presigned PUT) and applied as auto annotations without touching human ones; human boxes put per task frame;
// status and audit moves with their history (a disallowed one is a 409 naming the allowed moves; of two concurrent
// changes from one state one applies); a dataset version built by its job whose zip holds exactly the expected
// YOLO and COCO text; a build cut short after k items, finished by the resume schedule, giving the same bytes; the
// datasets CLI; and a prediction set applied through processContent (requestType 2).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatasetVersion, getDatasetVersion, readFrames, recordDatasetProgress, takeLease } from '../../functions/annotation/annotation-store.ts';
import { applyPredictions } from '../../functions/annotation/auto-annotations.ts';
import { buildDatasetVersion } from '../../functions/annotation/dataset-build.ts';
import { resumeDatasets } from '../../functions/annotation/dataset-resume.ts';
import { splitOf, type DatasetRequest } from '../../functions/annotation/dataset.ts';
import { readZip, zipBytes } from '../../functions/annotation/zip.ts';
import { localAdminEnvironment } from '../../infra/local/cloud.ts';
import { apiClient, eventually } from '../support/api.ts';
import { CLI_ENTRY, run as runProcess, TSX } from '../support/processes.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const ffmpegPath = (require('@ffmpeg-installer/ffmpeg') as { path: string }).path;
const endpoints = inject('endpoints');
const api = apiClient();
const s3 = new S3Client({ endpoint: endpoints.s3, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
const BUCKET = 'framewise-media';
const STAMP = `${Date.now().toString(36)}${process.pid}`;
const DATASET = `balls-${STAMP}`;
const W = 64;
const H = 48;

let dir: string;
let projectId: string;
let uploadId: string;
let tasks: Json[];

const getObject = async (key: string) => Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray());
const pad6 = (n: number) => String(n).padStart(6, '0');

async function followJob(jobId: string): Promise<Json> {
  return eventually(async () => {
    const j = (await api('GET', `/v1/jobs/${jobId}`)).body;
    return j.state === 'succeeded' || j.state === 'failed' ? j : undefined;
  }, `job ${jobId}`, 90_000);
}

beforeAll(async () => {
  Object.assign(process.env, localAdminEnvironment(endpoints));
  dir = mkdtempSync(join(tmpdir(), 'annotation-datasets-'));
  const created = await api('POST', '/v1/annotation/projects', { name: `datasets ${STAMP}`, labels: ['ball', 'player'], framesPerTask: 4 });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  projectId = created.body.projectId;
  const file = join(dir, 'clip.mp4');
  await run(ffmpegPath, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-f', 'lavfi', '-i', `testsrc2=size=${W}x${H}:rate=25`, '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', file]);
  const body = readFileSync(file);
  const started = await api('POST', `/v1/annotation/projects/${projectId}/uploads`, { fileName: 'clip.mp4', sizeBytes: body.length, contentType: 1 });
  expect(started.status, JSON.stringify(started.body)).toBe(201);
  uploadId = started.body.upload.uploadId;
  expect((await fetch(started.body.plan.url, { method: 'PUT', headers: started.body.plan.headers, body })).status).toBe(200);
  expect((await api('POST', `/v1/annotation/uploads/${uploadId}/complete`, {})).status).toBe(200);
  const res = await api('POST', '/v1/annotation/process-content', { uploadId, projectId, frameRate: 5, forceWrite: 0, autoAnnoVersion: 0, requestType: 0, contentType: 1 });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  const job = await followJob(res.body.jobId);
  expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
  tasks = (await api('GET', `/v1/annotation/uploads/${uploadId}/tasks`)).body.tasks;
  expect(tasks.map((t: Json) => t.frames.count)).toEqual([4, 4, 2]);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const src = (task: number, index: number): number => tasks[task].sourceFrames[index];

describe('prediction sets', () => {
  it('registers inline localizations as version 1, with boxes in source pixels', async () => {
    const localizations = {
      video: { width: W, height: H },
      frames: [
        { frame: src(0, 0), time: 0, detections: [{ label: 'ball', score: 0.5, box: [40, 30, 8, 8] }] },
        { frame: src(0, 1), time: 0.2, detections: [{ class: 0, score: 0.9, box: [0, 0, 8, 6] }] },
        { frame: src(1, 0), time: 0.8, detections: [{ label: 'ball', score: 0.7, box: [-4, 0, 8, 8] }] },
      ],
    };
    const res = await api('POST', `/v1/annotation/uploads/${uploadId}/predictions`, { format: 'localizations', localizations });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ uploadId, version: 1, format: 'localizations', frames: 3, boxes: 3 });
  });

  it('registers a zip of YOLO txt files put through a presigned URL as the next version', async () => {
    const zip = await zipBytes([
      { name: `yolo/${pad6(src(2, 0))}.txt`, data: Buffer.from('1 0.5 0.5 0.25 0.25 0.8\n') },
      { name: `yolo/${src(2, 1)}.txt`, data: Buffer.from('') },
    ]);
    const presigned = await api('POST', `/v1/annotation/uploads/${uploadId}/predictions/file`, { format: 'yolo', sizeBytes: zip.length });
    expect(presigned.status, JSON.stringify(presigned.body)).toBe(200);
    const put = await fetch(presigned.body.url, { method: 'PUT', headers: { 'content-type': presigned.body.contentType }, body: zip });
    expect(put.status).toBe(200);
    const res = await api('POST', `/v1/annotation/uploads/${uploadId}/predictions`, { format: 'yolo', key: presigned.body.key });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ version: 2, format: 'yolo', frames: 2, boxes: 1 });
    const list = (await api('GET', `/v1/annotation/uploads/${uploadId}/predictions`)).body;
    expect(list.versions.map((v: Json) => v.version)).toEqual([1, 2]);
  });

  it('refuses invalid files by path and labels the project lacks by name, registering nothing', async () => {
    const bad = await api('POST', `/v1/annotation/uploads/${uploadId}/predictions`, {
      format: 'localizations',
      localizations: { video: { width: W, height: H }, frames: [{ frame: 1, time: 0, detections: [{ label: 'ball', score: 3, box: [0, 0, 1, 1] }] }] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('PredictionsInvalid');
    expect(bad.body.error.details).toEqual([expect.objectContaining({ path: 'frames.0.detections.0.score' })]);
    const unknown = await api('POST', `/v1/annotation/uploads/${uploadId}/predictions`, {
      format: 'localizations',
      localizations: { video: { width: W, height: H }, frames: [{ frame: 1, time: 0, detections: [{ label: 'referee', score: 1, box: [0, 0, 1, 1] }] }] },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: 'UnknownLabels', details: { labels: ['referee'], projectLabels: ['ball', 'player'] } });
    const foreign = await api('POST', `/v1/annotation/uploads/${uploadId}/predictions`, { format: 'yolo', key: 'annotation/uploads/x/clip.mp4' });
    expect(foreign.status).toBe(400);
    // a zip entry named to leave the zip (made by renaming an entry of the same length in the bytes)
    const escaping = Buffer.from((await zipBytes([{ name: `yo/${src(2, 0)}.txt`, data: Buffer.from('0 0.5 0.5 0.1 0.1\n') }])).toString('latin1').replaceAll('yo/', '../'), 'latin1');
    const presigned = await api('POST', `/v1/annotation/uploads/${uploadId}/predictions/file`, { format: 'yolo', sizeBytes: escaping.length });
    expect((await fetch(presigned.body.url, { method: 'PUT', headers: { 'content-type': presigned.body.contentType }, body: escaping })).status).toBe(200);
    const traversal = await api('POST', `/v1/annotation/uploads/${uploadId}/predictions`, { format: 'yolo', key: presigned.body.key });
    expect(traversal.status).toBe(400);
    expect(traversal.body.error.message).toMatch(/not a zip this API reads: a refused entry: invalid relative path: \.\.\//);
    const list = (await api('GET', `/v1/annotation/uploads/${uploadId}/predictions`)).body;
    expect(list.versions).toHaveLength(2);
  });
});

describe('annotations', () => {
  it('puts human boxes per task frame, refusing labels the project lacks and frames the task lacks', async () => {
    const t0 = tasks[0].taskId;
    const wrong = await api('PUT', `/v1/annotation/tasks/${t0}/annotations`, { frames: [{ index: 0, boxes: [{ label: 'goal', x: 0, y: 0, w: 1, h: 1 }] }, { index: 9, boxes: [] }] });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.details.issues.map((i: Json) => i.path)).toEqual(['frames.0.boxes.0.label', 'frames.1.index']);
    const res = await api('PUT', `/v1/annotation/tasks/${t0}/annotations`, { frames: [{ index: 0, boxes: [{ label: 'player', x: 16, y: 12, w: 32, h: 24 }] }] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.frames[0]).toMatchObject({ index: 0, sourceFrame: src(0, 0), human: [{ label: 'player', x: 16, y: 12, w: 32, h: 24 }], auto: null });
    // a person saw nothing on task 1's second frame
    expect((await api('PUT', `/v1/annotation/tasks/${tasks[1].taskId}/annotations`, { frames: [{ index: 1, boxes: [] }] })).status).toBe(200);
  });

  it('applies a prediction set as auto annotations, never touching human ones, the same when applied again', async () => {
    const applied = await applyPredictions(uploadId, 1);
    expect(applied).toEqual({ frames: 10, boxes: 3 });
    const once = await readFrames(uploadId, tasks.flatMap((t: Json) => t.sourceFrames));
    expect(await applyPredictions(uploadId, 1)).toEqual(applied);
    const twice = await readFrames(uploadId, tasks.flatMap((t: Json) => t.sourceFrames));
    expect([...twice.values()].map(({ updatedAt: _, ...d }) => d)).toEqual([...once.values()].map(({ updatedAt: _, ...d }) => d));
    const got = (await api('GET', `/v1/annotation/tasks/${tasks[0].taskId}/annotations`)).body;
    expect(got.frames[0]).toMatchObject({ human: [{ label: 'player', x: 16, y: 12, w: 32, h: 24 }], auto: { version: 1, boxes: [{ label: 'ball', x: 40, y: 30, w: 8, h: 8, score: 0.5 }] } });
    expect(got.frames[1]).toMatchObject({ human: [], humanSavedAt: null, auto: { version: 1, boxes: [{ label: 'ball', x: 0, y: 0, w: 8, h: 6, score: 0.9 }] } });
    expect(got.frames[2].auto).toEqual({ version: 1, boxes: [] });
  });
});

describe('task statuses', () => {
  const patch = (t: number, body: Json) => api('PATCH', `/v1/annotation/tasks/${tasks[t].taskId}`, body);

  it('refuses an audit of unfinished work with a 409 naming the allowed moves, changing nothing', async () => {
    const res = await patch(0, { auditStatus: 1 });
    expect(res.status).toBe(409);
    expect(res.body.error.details).toMatchObject({ field: 'auditStatus', from: 0, to: 1, allowed: [{ field: 'taskStatus', to: 1, name: 'start' }] });
    expect((await api('GET', `/v1/annotation/tasks/${tasks[0].taskId}`)).body).toMatchObject({ taskStatus: 0, auditStatus: 0 });
  });

  it('moves work and audit through their states, keeping who, when, from and to', async () => {
    for (const body of [{ taskStatus: 1 }, { taskStatus: 2 }, { auditStatus: 1 }]) expect((await patch(0, body)).status).toBe(200);
    for (const body of [{ taskStatus: 1 }, { taskStatus: 2 }, { auditStatus: 2 }, { auditStatus: 4 }, { auditStatus: 3 }, { auditStatus: 0 }, { auditStatus: 1 }]) {
      const res = await patch(1, body);
      expect(res.status, `${JSON.stringify(body)}: ${JSON.stringify(res.body)}`).toBe(200);
    }
    const done = await patch(1, { auditStatus: 5 });
    expect(done.body).toMatchObject({ taskStatus: 2, auditStatus: 5 });
    const audit = done.body.history.filter((h: Json) => h.field === 'auditStatus').map((h: Json) => [h.from, h.to]);
    expect(audit).toEqual([[0, 2], [2, 4], [4, 3], [3, 0], [0, 1], [1, 5]]);
    expect(done.body.history.at(-1)).toMatchObject({ by: expect.stringMatching(/^admin:/), field: 'auditStatus', from: 1, to: 5, at: expect.any(String) });
  });

  it('applies one of two concurrent changes from the same state', async () => {
    const results = await Promise.all([patch(2, { taskStatus: 1 }), patch(2, { taskStatus: 1 }), patch(2, { taskStatus: 1 })]);
    expect(results.every((r) => r.status === 200 || r.status === 409)).toBe(true);
    const task = (await api('GET', `/v1/annotation/tasks/${tasks[2].taskId}`)).body;
    expect(task.history.filter((h: Json) => h.field === 'taskStatus')).toHaveLength(1);
  });
});

describe('datasets', () => {
  let seed = 0;
  let request: Json;
  let firstZip: { name: string; data: Buffer }[];
  const fileOf = (t: number, i: number) => `${uploadId}_${pad6(src(t, i))}`;

  beforeAll(() => {
    // a seed that puts tasks 0 and 1 in different splits, so both splits have images
    while (splitOf(String(seed), tasks[0].taskId, { train: 0.5, val: 0.5 }) === splitOf(String(seed), tasks[1].taskId, { train: 0.5, val: 0.5 })) seed++;
    request = { name: DATASET, projectIds: [projectId], split: { train: 0.5, val: 0.5 }, seed: String(seed) };
  });

  it('builds a version of the accepted and completed tasks, whose zip holds exactly the YOLO and COCO text', async () => {
    const res = await api('POST', '/v1/annotation/datasets', request);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toMatchObject({ name: DATASET, version: 1, state: 'queued', jobId: `dataset-${DATASET}-v1` });
    const job = await followJob(res.body.jobId);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    const version = (await api('GET', `/v1/annotation/datasets/${DATASET}/versions/1`)).body;
    expect(version).toMatchObject({ state: 'succeeded', progress: 100, itemsDone: 8, itemsTotal: 8, zipKey: `datasets/${DATASET}/v1.zip` });
    firstZip = await readZip(Buffer.from(await (await fetch(version.zipUrl)).arrayBuffer()));

    const split0 = splitOf(String(seed), tasks[0].taskId, request.split);
    const split1 = split0 === 'train' ? 'val' : 'train';
    const items = [...[0, 1, 2, 3].map((i) => [split0, fileOf(0, i)]), ...[0, 1, 2, 3].map((i) => [split1, fileOf(1, i)])]
      .sort((a, b) => (a[0] === b[0] ? (a[1]! < b[1]! ? -1 : 1) : a[0] === 'train' ? -1 : 1));
    expect(firstZip.map((e) => e.name)).toEqual([
      'data.yaml', 'annotations/train.json', 'annotations/val.json', 'manifest.json',
      ...items.flatMap(([s, f]) => [`images/${s}/${f}.jpg`, `labels/${s}/${f}.txt`]),
    ]);
    const text = (name: string) => firstZip.find((e) => e.name === name)!.data.toString('utf8');
    expect(text('data.yaml')).toBe('path: .\ntrain: images/train\nval: images/val\nnames:\n  0: "ball"\n  1: "player"\n');
    // human boxes where a person saved the frame, auto ones elsewhere (clipped to the frame), nothing where neither
    expect(text(`labels/${split0}/${fileOf(0, 0)}.txt`)).toBe('1 0.500000 0.500000 0.500000 0.500000\n');
    expect(text(`labels/${split0}/${fileOf(0, 1)}.txt`)).toBe('0 0.062500 0.062500 0.125000 0.125000\n');
    expect(text(`labels/${split1}/${fileOf(1, 0)}.txt`)).toBe('0 0.031250 0.083333 0.062500 0.166667\n');
    for (const [s, f] of [[split0, fileOf(0, 2)], [split1, fileOf(1, 1)], [split1, fileOf(1, 3)]]) expect(text(`labels/${s}/${f}.txt`)).toBe('');
    const categories = [{ id: 1, name: 'ball' }, { id: 2, name: 'player' }];
    const images = (t: number) => [0, 1, 2, 3].map((i, n) => ({ id: n + 1, file_name: `${fileOf(t, i)}.jpg`, width: W, height: H }));
    expect(text(`annotations/${split0}.json`)).toBe(`${JSON.stringify({
      images: images(0),
      annotations: [
        { id: 1, image_id: 1, category_id: 2, bbox: [16, 12, 32, 24], area: 768, iscrowd: 0 },
        { id: 2, image_id: 2, category_id: 1, bbox: [0, 0, 8, 6], area: 48, iscrowd: 0 },
      ],
      categories,
    })}\n`);
    expect(text(`annotations/${split1}.json`)).toBe(`${JSON.stringify({
      images: images(1),
      annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 4, 8], area: 32, iscrowd: 0 }],
      categories,
    })}\n`);
    const manifest = JSON.parse(text('manifest.json'));
    expect(manifest.counts).toEqual({ train: { images: 4, boxes: split0 === 'train' ? 2 : 1, tasks: 1 }, val: { images: 4, boxes: split0 === 'val' ? 2 : 1, tasks: 1 } });
    expect(manifest.images.find((i: Json) => i.image === `images/${split0}/${fileOf(0, 1)}.jpg`)).toMatchObject({ sourceFrame: src(0, 1), sampledFrame: 1, labelsFrom: 'auto', taskId: tasks[0].taskId });
    // the images are the sampled frames
    expect(firstZip.find((e) => e.name === `images/${split0}/${fileOf(0, 1)}.jpg`)!.data.equals(await getObject(`annotation/frames/${uploadId}/000001.jpg`))).toBe(true);
    const listed = (await api('GET', `/v1/annotation/datasets/${DATASET}`)).body;
    expect(listed.versions.map((v: Json) => [v.version, v.state])).toEqual([[1, 'succeeded']]);
  });

  it('finishes a build cut short after 3 items from where it stopped, by the resume schedule, with the same bytes', async () => {
    const doc = await createDatasetVersion({ auditStatus: [1, 5], formats: ['yolo', 'coco'], ...request } as DatasetRequest);
    expect(doc.version).toBe(2);
    const cut = await buildDatasetVersion({ name: DATASET, version: 2, deadline: Date.now() + 60_000, stopAfterItems: 3 });
    expect(cut).toMatchObject({ complete: false, itemsDone: 3, itemsTotal: 8 });
    expect((await api('GET', `/v1/annotation/datasets/${DATASET}/versions/2`)).body).toMatchObject({ state: 'building', itemsDone: 3, progress: 37 });
    // annotations changed after the build began do not change the version: its plan is frozen
    expect((await api('PUT', `/v1/annotation/tasks/${tasks[1].taskId}/annotations`, { frames: [{ index: 3, boxes: [{ label: 'ball', x: 1, y: 1, w: 2, h: 2 }] }] })).status).toBe(200);
    // one builder at a time: while another holds the version, a builder waits and changes nothing
    expect(await takeLease(DATASET, 2, new Date(Date.now() + 60_000))).toBe(true);
    expect(await buildDatasetVersion({ name: DATASET, version: 2, deadline: Date.now() + 60_000 })).toMatchObject({ complete: false, waiting: true, itemsDone: 3 });
    expect((await resumeDatasets(0, Date.now() + 60_000)).resumed.filter((r) => r.name === DATASET)).toEqual([]);
    await recordDatasetProgress(DATASET, 2, { leaseUntil: null });
    const resumed = await resumeDatasets(0, Date.now() + 300_000);
    expect(resumed.resumed).toContainEqual({ name: DATASET, version: 2, complete: true });
    const built = await getDatasetVersion(DATASET, 2);
    expect(built).toMatchObject({ state: 'succeeded', itemsDone: 8, leaseUntil: null });
    const bytes = await getObject(`datasets/${DATASET}/v2.zip`);
    const zip = await readZip(bytes);
    expect(zip.map((e) => e.name)).toEqual(firstZip.map((e) => e.name));
    for (const [i, e] of zip.entries()) {
      const expected = e.name === 'manifest.json' ? firstZip[i]!.data.toString().replace('"version": 1,', '"version": 2,') : firstZip[i]!.data.toString('latin1');
      expect(e.data.toString(e.name === 'manifest.json' ? 'utf8' : 'latin1'), e.name).toBe(expected);
    }
    // and the same bytes as the zip of those entries made in one go
    expect((await zipBytes(zip)).equals(bytes)).toBe(true);
    // a finished version never changes: building it again does nothing
    expect(await buildDatasetVersion({ name: DATASET, version: 2, deadline: Date.now() + 60_000 })).toMatchObject({ complete: true });
  });

  it('framewise datasets create, status and download: a third version, followed to its end, whose zip is the same', async () => {
    const env = { FRAMEWISE_API_URL: endpoints.api, FRAMEWISE_API_KEY: inject('adminApiKey') };
    const framewise = (...args: string[]) => runProcess(TSX, [CLI_ENTRY, ...args], { env, cwd: dir });
    const created = await framewise('datasets', 'create', '--name', DATASET, '--project', projectId, '--split', 'train=0.5,val=0.5', '--seed', String(seed));
    expect(created.stdout, created.stderr).toMatch(/status: success/);
    expect(created.stderr).toContain(`dataset ${DATASET} v3: job dataset-${DATASET}-v3`);
    const status = await framewise('datasets', 'status', DATASET);
    expect(status.stdout).toMatch(/v1\s+succeeded\s+100%\s+8\/8/);
    expect(status.stdout).toMatch(/v3\s+succeeded\s+100%\s+8\/8/);
    const downloaded = await framewise('datasets', 'download', DATASET, '--version', '3', '--out', 'v3.zip');
    expect(downloaded.stdout, downloaded.stderr).toMatch(/status: success/);
    const zip = await readZip(readFileSync(join(dir, 'v3.zip')));
    // v3 was made after task 1's last frame got a box: that frame's label says so, the rest is v1's
    const changed = zip.filter((e, i) => !e.data.equals(firstZip[i]!.data)).map((e) => e.name);
    expect(changed.filter((n) => n !== 'manifest.json' && !n.startsWith('annotations/'))).toEqual([expect.stringMatching(new RegExp(`^labels/\\w+/${fileOf(1, 3)}\\.txt$`))]);
    const notBuilt = await framewise('datasets', 'download', DATASET, '--version', '9');
    expect(notBuilt.code).not.toBe(0);
    expect(notBuilt.stdout).toMatch(/status: error/);
  }, 120_000);

  it('refuses bad requests with a 4xx, creating no version', async () => {
    const cases: [Json, number][] = [
      [{ ...request, split: { train: 0.5, val: 0.4 } }, 400],
      [{ ...request, name: 'Bad Name' }, 400],
      [{ ...request, formats: ['voc'] }, 400],
      [{ ...request, projectIds: ['00000000-0000-4000-8000-000000000000'] }, 404],
    ];
    for (const [body, status] of cases) expect((await api('POST', '/v1/annotation/datasets', body)).status, JSON.stringify(body)).toBe(status);
    expect((await api('GET', `/v1/annotation/datasets/${DATASET}`)).body.versions).toHaveLength(3);
    expect((await api('GET', `/v1/annotation/datasets/${DATASET}/versions/9`)).status).toBe(404);
  });
});

describe('auto annotations through processContent', () => {
  it('requestType 2 applies a prediction set version onto the existing tasks, human boxes kept', async () => {
    const res = await api('POST', '/v1/annotation/process-content', { uploadId, projectId, frameRate: 5, forceWrite: 0, autoAnnoVersion: 2, requestType: 2, contentType: 1 });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const job = await followJob(res.body.jobId);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.steps['auto-annotations'].state).toBe('succeeded');
    const t2 = (await api('GET', `/v1/annotation/tasks/${tasks[2].taskId}/annotations`)).body;
    expect(t2.frames[0].auto).toEqual({ version: 2, boxes: [{ label: 'player', x: 24, y: 18, w: 16, h: 12, score: 0.8 }] });
    expect(t2.frames[1].auto).toEqual({ version: 2, boxes: [] });
    const t0 = (await api('GET', `/v1/annotation/tasks/${tasks[0].taskId}/annotations`)).body;
    expect(t0.frames[0]).toMatchObject({ human: [{ label: 'player', x: 16, y: 12, w: 32, h: 24 }], auto: { version: 2, boxes: [] } });
  }, 120_000);
});

describe('tasks generated again', () => {
  it('forceWrite 1 regenerates the tasks under the same ids, and they show every human box again', async () => {
    const before = await readFrames(uploadId, tasks.flatMap((t: Json) => t.sourceFrames));
    expect([...before.values()].filter((d) => d.human.length > 0).length).toBeGreaterThan(0);
    const res = await api('POST', '/v1/annotation/process-content', { uploadId, projectId, frameRate: 5, forceWrite: 1, autoAnnoVersion: 0, requestType: 0, contentType: 1 });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const job = await followJob(res.body.jobId);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    const regenerated = (await api('GET', `/v1/annotation/uploads/${uploadId}/tasks`)).body.tasks;
    expect(regenerated.map((t: Json) => t.taskId)).toEqual(tasks.map((t: Json) => t.taskId));
    expect(regenerated.map((t: Json) => t.sourceFrames)).toEqual(tasks.map((t: Json) => t.sourceFrames));
    const t0 = (await api('GET', `/v1/annotation/tasks/${tasks[0].taskId}/annotations`)).body;
    expect(t0.frames[0]).toMatchObject({ sourceFrame: src(0, 0), human: [{ label: 'player', x: 16, y: 12, w: 32, h: 24 }] });
    const t1 = (await api('GET', `/v1/annotation/tasks/${tasks[1].taskId}/annotations`)).body;
    expect(t1.frames[1].human).toEqual([]);
    expect(t1.frames[1].humanSavedAt).not.toBeNull();
    const after = await readFrames(uploadId, tasks.flatMap((t: Json) => t.sourceFrames));
    expect(after.size).toBe(before.size);
    expect([...after.values()].map((d) => [d.sourceFrame, d.human])).toEqual([...before.values()].map((d) => [d.sourceFrame, d.human]));
  }, 120_000);
});
