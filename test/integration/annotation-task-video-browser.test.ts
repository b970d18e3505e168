// A task video plays in a real browser (Debian's chromium) straight from the local cloud's S3 through a
// presigned GET, as the annotation front end loads it: it becomes playable, reports the task's duration and
// size, and seeking to the middle of frame i shows frame i. Frames are solid colours far apart, so a frame is
// recognised whatever the compression did to it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LOCAL_ACCESS_KEY } from '../../infra/local/s3-presign-check.ts';
import { encodeTaskVideo, type TaskVideo } from '../../functions/annotation/task-video.ts';
import { launchBrowser } from '../support/browser.ts';
import { colorDistance, ffmpegPath, makeFrame, nearestPaletteIndex, PALETTE, type Rgb } from '../support/task-video.ts';

const endpoints = inject('endpoints');
const BUCKET = 'framewise-media';
const RATE = 5;
const COUNT = 12;
const SIZE = { width: 641, height: 359 };
const s3 = new S3Client({ endpoint: endpoints.s3, region: 'us-east-1', forcePathStyle: true, credentials: LOCAL_ACCESS_KEY });

let browser: Browser;
let dir: string;
let video: TaskVideo;
let bytes: Buffer;
let url: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'framewise-task-video-browser-'));
  const launched = launchBrowser();
  const frames = await Promise.all(Array.from({ length: COUNT }, async (_, i) => {
    const path = join(dir, `${i}.jpg`);
    await makeFrame(path, i, SIZE, { solid: true });
    return { path, sampledFrame: i, sourceFrame: i * 5, time: i / RATE };
  }));
  const outPath = join(dir, 'video.mp4');
  video = await encodeTaskVideo({ ffmpegPath, frames, frameRate: RATE, outPath });
  bytes = readFileSync(outPath);
  const key = `annotation/tasks/browser-${Date.now()}-00000/video.mp4`;
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: bytes, ContentType: 'video/mp4' }));
  url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: key }), { expiresIn: 600 });
  browser = await launched;
}, 600_000);

afterAll(async () => {
  await browser?.close();
  s3.destroy();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a task video from the local cloud', () => {
  // (Unlike S3, the local S3 sends no `Accept-Ranges: bytes` on a whole GET: media elements ask for a range first anyway.)
  it('is served as video/mp4, in byte ranges, as a media element asks for it', async () => {
    const whole = await fetch(url);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('video/mp4');
    expect(Buffer.from(await whole.arrayBuffer()).equals(bytes)).toBe(true);
    for (const [range, from, to] of [['bytes=0-', 0, bytes.length - 1], ['bytes=100-1099', 100, 1099], [`bytes=-200`, bytes.length - 200, bytes.length - 1]] as const) {
      const part = await fetch(url, { headers: { range } });
      expect(part.status, range).toBe(206);
      expect(part.headers.get('content-range'), range).toBe(`bytes ${from}-${to}/${bytes.length}`);
      expect(part.headers.get('content-type'), range).toBe('video/mp4');
      expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(from, to + 1)), range).toBe(true);
    }
  });

  it('plays in chromium with its duration and size, and seeking to frame i shows frame i', async () => {
    const page = await browser.newPage();
    const failed: string[] = [];
    page.on('requestfailed', (r) => failed.push(`${r.url().split('?')[0]} ${r.failure()?.errorText}`));
    // The page is served at the bucket's origin (the video is read back from a canvas, which needs one origin);
    // the video itself comes from the local S3.
    const origin = new URL(url).origin;
    await page.route(`${origin}/task-video-page`, (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><video muted preload="auto"></video><canvas></canvas>' }));
    await page.goto(`${origin}/task-video-page`);
    // (page functions run in the browser: their element is typed by playwright, the project has no DOM types)
    const support = await page.$eval('video', (v) => ({
      canPlay: v.canPlayType('video/mp4; codecs="avc1.640028"') as string,
      mse: v.ownerDocument.defaultView.MediaSource.isTypeSupported('video/mp4; codecs="avc1.640028"') as boolean,
    }));
    expect(support, 'this chromium cannot decode H.264').toEqual({ canPlay: 'probably', mse: true });

    const loaded = await page.$eval('video', async (v, src) => {
      await new Promise<void>((resolve, reject) => {
        v.addEventListener('canplay', () => resolve(), { once: true });
        v.addEventListener('error', () => reject(new Error(`video error ${v.error?.code}: ${v.error?.message}`)), { once: true });
        v.src = src;
      });
      return { duration: v.duration as number, width: v.videoWidth as number, height: v.videoHeight as number, readyState: v.readyState as number };
    }, url);
    expect(loaded.readyState).toBeGreaterThanOrEqual(3);
    expect(loaded.width).toBe(video.width);
    expect(loaded.height).toBe(video.height);
    expect(Math.abs(loaded.duration - COUNT / RATE)).toBeLessThanOrEqual(1 / RATE);

    // out of order, backwards too, first and last included
    for (const i of [7, 2, 11, 0, 5, 4, 9, 1]) {
      const seen = await page.$eval('video', async (v, { t, w, h }) => {
        await new Promise<void>((resolve) => {
          v.addEventListener('seeked', () => resolve(), { once: true });
          v.currentTime = t;
        });
        // the seeked picture is composited by the next video frame callback (or is already, when none comes)
        await Promise.race([new Promise((r) => v.requestVideoFrameCallback(r)), new Promise((r) => setTimeout(r, 500))]);
        const c = v.ownerDocument.querySelector('canvas');
        c.width = w;
        c.height = h;
        const ctx = c.getContext('2d', { willReadFrequently: true });
        ctx.drawImage(v, 0, 0, w, h);
        const d: Uint8ClampedArray = ctx.getImageData(Math.floor(w / 4), Math.floor(h / 4), Math.floor(w / 2), Math.floor(h / 2)).data;
        const sum = [0, 0, 0];
        for (let p = 0; p < d.length; p += 4) for (let c = 0; c < 3; c++) sum[c]! += d[p + c]!;
        return { color: sum.map((s) => s / (d.length / 4)), currentTime: v.currentTime as number };
      }, { t: (i + 0.5) / RATE, w: video.width, h: video.height });
      const color = seen.color as unknown as Rgb;
      expect(nearestPaletteIndex(color), `frame shown at ${seen.currentTime} s (colour ${color.map(Math.round).join(',')})`).toBe(i);
      expect(colorDistance(color, PALETTE[i]!), `colour of frame ${i}`).toBeLessThan(24);
    }
    expect(failed).toEqual([]);
    await page.close();
  });
});
