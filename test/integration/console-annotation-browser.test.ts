// The console's annotation pages in Debian's chromium against the shared local cloud, with tasks the annotation
// workflow made from a real upload: a 2 s 320x240 video processed at 5 fps into two tasks of 5 frames, one task moved
// to in progress and the other completed and rejected, and boxes (a person's and an automatic one) put on one frame.
// Under the console's Content-Security-Policy the project page shows each task's status, audit status and frame count
// as the API has them; the player plays the task video (chromium decodes its H.264 at the video's size), steps one
// frame at a time with the buttons and the arrow keys, shows the picture of the frame it names, and draws the frame's
// boxes where the annotation puts them on the displayed video. axe-core finds no serious violation; screenshots are
// kept under test-results/.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { sampledFrameKey } from '../../functions/annotation/documents.ts';
import { LOCAL_ACCESS_KEY } from '../../infra/local/s3-presign-check.ts';
import { apiClient, eventually } from '../support/api.ts';
import { launchBrowser } from '../support/browser.ts';
import { consolePage, expectAccessible, pageUnderPolicy, screenshot, signIn, tableRows } from '../support/console.ts';
import { ffmpeg } from '../support/task-video.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const endpoints = inject('endpoints');
const adminKey = inject('adminApiKey');
const api = apiClient();
const WAIT = { timeout: 15_000 };
const STAMP = `${Date.now().toString(36)}${process.pid}`;
const PROJECT = `Console annotation ${STAMP}`;
const FPS = 5;
const SIZE = { width: 320, height: 240 };
/** The API's numbers as its documentation names them. */
const TASK_STATUS: Record<number, string> = { 0: 'not started', 1: 'in progress', 2: 'completed' };
const AUDIT_STATUS: Record<number, string> = { 0: 'pending', 1: 'accepted', 2: 'rejected', 3: 'fixed', 4: 'fixing', 5: 'completed' };
const ANNOTATED = 3;
const s3 = new S3Client({ endpoint: endpoints.s3, region: 'us-east-1', forcePathStyle: true, credentials: LOCAL_ACCESS_KEY });
const HUMAN = [{ label: 'player', x: 40, y: 30, w: 100, h: 80 }, { label: 'ball', x: 250, y: 190, w: 20, h: 20 }];
const AUTO = [{ label: 'player', x: 150, y: 60, w: 60, h: 120, score: 0.8 }];

let browser: Browser;
let dir: string;
let projectId: string;
let upload: Json;
let tasks: Json[];

async function ok(method: string, path: string, body?: unknown): Promise<Json> {
  const res = await api(method, path, body);
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
  return res.body;
}

/** The rows of the tasks table: each cell's text, by header. */
const rows = (page: Page) => tableRows(page, '.upload-tasks');

const counter = (page: Page) => page.locator('.frame-counter').textContent();
const frameOf = async (page: Page) => Number(/^Frame (\d+) of/.exec((await counter(page)) ?? '')?.[1]) - 1;
/**
 * How far the picture the page shows (the video element, its boxes hidden) is from each frame JPEG the task video
 * was made of, scaled to the shown size: the mean absolute difference per channel, by task frame.
 */
async function distancesToFrames(page: Page, task: Json): Promise<number[]> {
  await page.locator('svg.boxes').evaluate((svg: Json) => void (svg.style.visibility = 'hidden'));
  const shot = await sharp(await page.locator('video').screenshot()).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  await page.locator('svg.boxes').evaluate((svg: Json) => void (svg.style.visibility = ''));
  return Promise.all(Array.from({ length: task.frames.count }, async (_, i) => {
    const object = await s3.send(new GetObjectCommand({ Bucket: 'framewise-media', Key: sampledFrameKey(task.uploadId, task.frames.first + i) }));
    const frame = await sharp(Buffer.from(await object.Body!.transformToByteArray())).resize(shot.info.width, shot.info.height, { fit: 'fill' }).removeAlpha().raw().toBuffer();
    let sum = 0;
    for (let p = 0; p < frame.length; p += 1) sum += Math.abs(frame[p]! - shot.data[p]!);
    return sum / frame.length;
  }));
}

/** Waits for the video to have the picture of its current position (a seek done). */
const settled = (page: Page) =>
  expect.poll(() => page.locator('video').evaluate((v: Json) => !v.seeking && v.readyState >= 2), WAIT).toBe(true);

beforeAll(async () => {
  const launched = launchBrowser();
  dir = mkdtempSync(join(tmpdir(), 'console-annotation-'));
  projectId = (await ok('POST', '/v1/annotation/projects', { name: PROJECT, labels: ['player', 'ball'], framesPerTask: 5 })).projectId;
  const file = join(dir, 'match.mp4');
  await ffmpeg('-f', 'lavfi', '-i', `testsrc2=size=${SIZE.width}x${SIZE.height}:rate=25`, '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', file);
  const body = readFileSync(file);
  const { upload: started, plan } = await ok('POST', `/v1/annotation/projects/${projectId}/uploads`, { fileName: 'match.mp4', sizeBytes: body.length, contentType: 1 });
  expect((await fetch(plan.url, { method: 'PUT', headers: plan.headers, body })).status).toBe(200);
  await ok('POST', `/v1/annotation/uploads/${started.uploadId}/complete`, {});
  const processing = await ok('POST', '/v1/annotation/process-content', { uploadId: started.uploadId, projectId, frameRate: FPS, contentType: 1 });
  const job = await eventually(async () => {
    const j = (await api('GET', `/v1/jobs/${processing.jobId}`)).body;
    return j.state === 'succeeded' || j.state === 'failed' ? j : undefined;
  }, `job ${processing.jobId}`, 45_000);
  expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
  upload = await ok('GET', `/v1/annotation/uploads/${started.uploadId}`);
  tasks = (await ok('GET', `/v1/annotation/uploads/${started.uploadId}/tasks`)).tasks;
  expect(tasks.map((t) => t.frames.count)).toEqual([5, 5]);
  // statuses that differ from task to task and from the defaults
  await ok('PATCH', `/v1/annotation/tasks/${tasks[0].taskId}`, { taskStatus: 1 });
  await ok('PATCH', `/v1/annotation/tasks/${tasks[1].taskId}`, { taskStatus: 1 });
  await ok('PATCH', `/v1/annotation/tasks/${tasks[1].taskId}`, { taskStatus: 2 });
  await ok('PATCH', `/v1/annotation/tasks/${tasks[1].taskId}`, { auditStatus: 2 });
  tasks = (await ok('GET', `/v1/annotation/uploads/${started.uploadId}/tasks`)).tasks;
  await ok('PUT', `/v1/annotation/tasks/${tasks[0].taskId}/annotations`, { frames: [{ index: ANNOTATED, boxes: HUMAN }] });
  await ok('PUT', `/v1/annotation/tasks/${tasks[0].taskId}/annotations`, { source: 'auto', frames: [{ index: ANNOTATED, boxes: AUTO }] });
  browser = await launched;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  s3.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the console annotation pages', () => {
  it("list the project's tasks with the API's status, audit status and frames, and play a task frame by frame with its boxes", async () => {
    // under the console's Content-Security-Policy: the video and the manifest come from the media bucket's origin
    const { page, refused } = await pageUnderPolicy(browser);
    await signIn(page, endpoints.api, adminKey);
    await page.getByRole('link', { name: 'Annotation', exact: true }).click();
    await page.getByRole('link', { name: PROJECT }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent(), WAIT).toBe(`Annotation project: ${PROJECT}`);
    await expect.poll(async () => (await rows(page)).length, WAIT).toBe(2);
    expect(await rows(page)).toEqual(tasks.map((t) => ({
      Task: `Task ${t.index + 1}`, Frames: String(t.frames.count), Status: TASK_STATUS[t.taskStatus], 'Audit status': AUDIT_STATUS[t.auditStatus],
    })));
    expect(tasks.map((t) => [t.taskStatus, t.auditStatus])).toEqual([[1, 0], [2, 2]]);
    expect(await page.locator('.upload-summary').textContent()).toContain(`${upload.taskCount} tasks · ${upload.frameCount} frames`);

    await page.getByRole('link', { name: 'Play task 1 of match.mp4' }).click();
    const video = page.locator('video');
    await settled(page);
    const task = (await api('GET', `/v1/annotation/tasks/${tasks[0].taskId}`)).body;
    const manifest = (await (await fetch(task.manifestUrl)).json()) as Json;
    expect(manifest).toMatchObject({ frameRate: FPS, width: SIZE.width, height: SIZE.height });
    // Debian's chromium is built with H.264, and decodes the task video at its own size
    expect(await video.evaluate((v: Json) => ({
      canPlay: v.canPlayType('video/mp4; codecs="avc1.42E01E"'), mse: v.ownerDocument.defaultView.MediaSource.isTypeSupported('video/mp4; codecs="avc1.42E01E"'),
    })), 'this chromium cannot decode H.264').toEqual({ canPlay: 'probably', mse: true });
    expect(await video.evaluate((v: Json) => ({ width: v.videoWidth, height: v.videoHeight }))).toEqual({ width: manifest.width, height: manifest.height });
    expect(await counter(page)).toBe(`Frame 1 of 5 (source frame ${task.sourceFrames[0]})`);

    // it plays: the time advances, and the counter follows
    await page.getByRole('button', { name: 'Play' }).click();
    await expect.poll(() => video.evaluate((v: Json) => v.currentTime), WAIT).toBeGreaterThan(0.3);
    expect(await video.evaluate((v: Json) => v.readyState)).toBeGreaterThanOrEqual(2);
    await expect.poll(() => frameOf(page), WAIT).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Previous frame' }).click(); // pauses, one frame back
    await settled(page);
    expect(await video.evaluate((v: Json) => v.paused)).toBe(true);

    // steps of exactly one frame, by buttons and by arrow keys, to the annotated frame
    let at = await frameOf(page);
    for (const [how, by] of [['Next frame', 1], ['ArrowLeft', -1], ['ArrowRight', 1], ['Previous frame', -1]] as const) {
      if (at + by < 0 || at + by > 4) continue;
      if (how.startsWith('Arrow')) await page.keyboard.press(how);
      else await page.getByRole('button', { name: how }).click();
      await settled(page);
      expect(await frameOf(page), how).toBe(at + by);
      at += by;
    }
    while (at !== ANNOTATED) {
      await page.keyboard.press(at < ANNOTATED ? 'ArrowRight' : 'ArrowLeft');
      at += at < ANNOTATED ? 1 : -1;
      await settled(page);
      expect(await frameOf(page)).toBe(at);
    }
    expect(await counter(page)).toBe(`Frame ${ANNOTATED + 1} of 5 (source frame ${task.sourceFrames[ANNOTATED]})`);
    // the step seeks to the middle of the frame's span, paused
    const position = await video.evaluate((v: Json) => ({ t: v.currentTime, paused: v.paused }));
    expect(position.paused).toBe(true);
    expect(position.t).toBeCloseTo((ANNOTATED + 0.5) / FPS, 3);

    // the picture shown is that frame's, not a neighbour's: once painted, which on a loaded machine may come a
    // moment after the seek has ended (the previous frame still on screen)
    let distances: number[] = [];
    const nearest = async () => {
      distances = await distancesToFrames(page, task);
      return distances.indexOf(Math.min(...distances));
    };
    await expect.poll(nearest, { ...WAIT, message: "the task's frame nearest to the picture shown" }).toBe(ANNOTATED);
    expect(distances[ANNOTATED]!, `far closer to its frame than to any other: ${distances.map((d) => d.toFixed(1)).join(', ')}`).toBeLessThan(Math.min(...distances.filter((_, i) => i !== ANNOTATED)) / 2);

    // the boxes, a person's and the automatic one, drawn where they are on the displayed video
    const drawn = await page.locator('svg.boxes rect').evaluateAll((rects: Json[]) => rects.map((r) => {
      const b = r.getBoundingClientRect();
      return { label: r.dataset.label, source: r.dataset.source, left: b.left, top: b.top, width: b.width, height: b.height };
    }));
    const shown = await video.evaluate((v: Json) => {
      const b = v.getBoundingClientRect();
      return { left: b.left, top: b.top, width: b.width, height: b.height };
    });
    const scale = shown.width / manifest.width;
    expect(scale, 'the video is shown larger than its pixels').toBeGreaterThan(1.5);
    expect(shown.height / manifest.height).toBeCloseTo(scale, 2);
    const expected = [...HUMAN.map((b) => ({ ...b, source: 'human' })), ...AUTO.map((b) => ({ ...b, source: 'auto' }))];
    expect(drawn.map((d) => [d.label, d.source])).toEqual(expected.map((b) => [b.label, b.source]));
    drawn.forEach((d, i) => {
      const b = expected[i]!;
      for (const [k, want] of [['left', shown.left + b.x * scale], ['top', shown.top + b.y * scale], ['width', b.w * scale], ['height', b.h * scale]] as const) {
        expect(Math.abs(d[k] - want), `${b.source} ${b.label} ${k}: ${d[k]} vs ${want}`).toBeLessThan(1);
      }
    });
    expect(await page.locator('.frame-boxes li').allTextContents()).toEqual([
      'player (annotated) at 40, 30, 100 × 80', 'ball (annotated) at 250, 190, 20 × 20', 'player (automatic v0) at 150, 60, 60 × 120',
    ]);

    // the next frame has none
    await page.getByRole('button', { name: 'Next frame' }).click();
    await settled(page);
    expect(await frameOf(page)).toBe(ANNOTATED + 1);
    expect(await page.locator('svg.boxes rect').count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Next frame' }).isDisabled()).toBe(true);
    expect(refused).toEqual([]);
    await page.context().close();
  }, 45_000);

  it('has no serious accessibility violation for an analyst, and keeps screenshots', async () => {
    const analyst = await ok('POST', '/v1/api-keys', { name: `console annotation analyst ${STAMP}`, role: 'analyst' });
    const page = await consolePage(browser);
    await signIn(page, endpoints.api, analyst.key);
    await page.getByRole('link', { name: 'Annotation', exact: true }).waitFor(WAIT);
    await page.goto(`${endpoints.api}/#/annotation?project=${projectId}`);
    await expect.poll(async () => (await rows(page)).length, WAIT).toBe(2);
    await expectAccessible(page);
    await screenshot(page, 'annotation-project');
    await page.goto(`${endpoints.api}/#/annotation?task=${tasks[0].taskId}`);
    await page.locator('video').waitFor(WAIT);
    await settled(page);
    for (let i = 0; i < ANNOTATED; i += 1) await page.keyboard.press('ArrowRight');
    await expect.poll(() => page.locator('svg.boxes rect').count(), WAIT).toBe(3);
    await settled(page);
    await expectAccessible(page);
    await screenshot(page, 'annotation-player');
    await page.context().close();
    expect((await api('DELETE', `/v1/api-keys/${analyst.id}`)).status).toBe(204);
  }, 30_000);

  it('says so when a project or a task is not found', async () => {
    const page = await consolePage(browser);
    await signIn(page, endpoints.api, adminKey);
    await page.goto(`${endpoints.api}/#/annotation?project=${randomUUID()}`);
    await expect.poll(() => page.getByRole('alert').textContent(), WAIT).toMatch(/^Not found: .+Try again$/);
    await page.goto(`${endpoints.api}/#/annotation?task=${upload.uploadId}-00007`);
    await expect.poll(() => page.getByRole('alert').textContent(), WAIT).toMatch(/^Not found: .+Try again$/);
    expect(await page.locator('video').count()).toBe(0);
    await page.context().close();
  }, 30_000);
});
