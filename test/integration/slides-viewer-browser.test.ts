// The slide viewer page in a real browser (Debian's chromium) against the shared local cloud: a 2048 × 1536 JPEG of
// coloured 256 px cells is uploaded through the API and diced; the page asks for the API key and shows no data
// without it; with it, OpenSeadragon opens the image, zooms past full size and pans, and every descriptor and tile
// request (the API's redirect, then the presigned GET on the local S3, another origin) succeeds, tiles of the deepest
// level among them, and the canvas shows each cell's colour where the image has it. A wrong key, an image that does
// not exist and one that is not ready each get a clear message. Its files are versioned and compressed; the local S3
// answers a preflight as the bucket's CORS rule says.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { API_KEY_STORAGE } from '../../functions/slides/viewer.ts';
import { apiClient, eventually } from '../support/api.ts';
import { launchBrowser } from '../support/browser.ts';
import { uploadSlide } from '../support/slides.ts';
import { ROOT } from '../support/processes.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
type Rgb = readonly [number, number, number];

const endpoints = inject('endpoints');
const adminKey = inject('adminApiKey');
const api = apiClient();
const STAMP = `${Date.now().toString(36)}${process.pid}`;

const WIDTH = 2048;
const HEIGHT = 1536;
const CELL = 256;
// Far apart, and no two neighbours (across a side or a corner) alike: x moves one step, y two.
const PALETTE: readonly Rgb[] = [[220, 40, 40], [40, 200, 60], [40, 80, 220], [240, 220, 40], [200, 60, 220], [40, 210, 220]];
const cellIndex = (x: number, y: number) => (Math.floor(x / CELL) + 2 * Math.floor(y / CELL)) % PALETTE.length;

async function cellsJpeg(): Promise<Buffer> {
  const pixels = Buffer.alloc(WIDTH * HEIGHT * 3);
  for (let y = 0; y < HEIGHT; y += 1) {
    const row = y * WIDTH * 3;
    if (y % CELL !== 0) {
      pixels.copy(pixels, row, row - WIDTH * 3, row);
      continue;
    }
    for (let x = 0; x < WIDTH; x += 1) {
      const [r, g, b] = PALETTE[cellIndex(x, y)]!;
      pixels[row + x * 3] = r;
      pixels[row + x * 3 + 1] = g;
      pixels[row + x * 3 + 2] = b;
    }
  }
  return sharp(pixels, { raw: { width: WIDTH, height: HEIGHT, channels: 3 } }).jpeg({ quality: 90 }).toBuffer();
}

const distance = (a: Rgb, b: Rgb) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
const nearest = (c: Rgb) => PALETTE.reduce((best, p, i) => (distance(c, p) < distance(c, PALETTE[best]!) ? i : best), 0);

const viewUrl = (id: string) => `${endpoints.api}/v1/slides/images/${id}/view`;

/** A page of its own (its own sessionStorage), optionally holding `key` before the page's script runs. */
async function openPage(context: BrowserContext, id: string, key?: string): Promise<Page> {
  const page = await context.newPage();
  if (key) await page.addInitScript(([name, value]) => sessionStorage.setItem(name!, value!), [API_KEY_STORAGE, key]);
  const res = await page.goto(viewUrl(id));
  expect(res?.status()).toBe(200);
  return page;
}

let browser: Browser;
let context: BrowserContext;
let image: Json;

beforeAll(async () => {
  const launched = launchBrowser();
  const session = await api('POST', '/v1/slides/sessions', { name: `viewer ${STAMP}` });
  expect(session.status).toBe(201);
  const id = await uploadSlide(api, session.body.id, 'cells.jpg', await cellsJpeg());
  const completed = await api('POST', `/v1/slides/uploads/${id}/complete`, {});
  expect(completed.status, JSON.stringify(completed.body)).toBe(200);
  image = await eventually(async () => {
    const now = (await api('GET', `/v1/slides/images/${id}`)).body;
    return now.state === 'ready' || now.state === 'failed' ? now : undefined;
  }, `image ${id}`, 60_000);
  expect(image, JSON.stringify(image.error)).toMatchObject({ state: 'ready', width: WIDTH, height: HEIGHT, levels: 12, tileSize: 256 });
  browser = await launched;
  context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

describe('the slide viewer page', () => {
  it('asks for the API key in a form and reads nothing without it: the page is public and holds no data', async () => {
    const requests: string[] = [];
    const page = await context.newPage();
    page.on('request', (r) => requests.push(r.url()));
    const res = await page.goto(viewUrl(image.id));
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-type']).toMatch(/^text\/html/);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    await expect.poll(() => page.getByLabel('API key').isVisible()).toBe(true);
    expect(await page.locator('#viewer').innerHTML()).toBe('');
    expect(await page.content()).not.toContain('cells.jpg');
    expect(requests.filter((u) => u.startsWith(`${endpoints.api}/v1/slides/images/`) && !u.endsWith('/view'))).toEqual([]);
    await page.close();
  });

  it('opens the image with the key from the form, zooms to the deepest level and pans: every tile loads and shows the image', async () => {
    const page = await context.newPage();
    const responses: { url: string; status: number; cors: string | undefined }[] = [];
    const failed: string[] = [];
    const consoleErrors: string[] = [];
    page.on('response', (r) => responses.push({ url: r.url(), status: r.status(), cors: r.headers()['access-control-allow-origin'] }));
    page.on('requestfailed', (r) => failed.push(`${r.url()} ${r.failure()?.errorText}`));
    page.on('console', (m) => void (m.type() === 'error' && consoleErrors.push(m.text())));
    await page.goto(viewUrl(image.id));
    await page.getByLabel('API key').fill(adminKey);
    await page.getByRole('button', { name: 'Open the image' }).click();
    await page.waitForFunction(() => (globalThis as Json).framewiseViewer?.isOpen() === true, undefined, { timeout: 15_000 });
    expect(await page.evaluate((name) => sessionStorage.getItem(name), API_KEY_STORAGE)).toBe(adminKey);
    expect(await page.locator('#title').textContent()).toBe('cells.jpg');
    expect(await page.getByLabel('API key').isVisible()).toBe(false);
    const maxLevel = image.levels - 1;
    expect(await page.evaluate(() => (globalThis as Json).framewiseViewer.world.getItemAt(0).source.maxLevel)).toBe(maxLevel);

    const objectTiles = (level: number) =>
      responses.filter((r) => r.url.startsWith(endpoints.s3) && r.url.includes(`/slides/${image.id}/image_files/${level}/`));
    const fullyLoaded = () =>
      page
        .waitForFunction(() => {
          const item = (globalThis as Json).framewiseViewer.world.getItemAt(0);
          return item.getFullyLoaded() && !item.needsDraw();
        }, undefined, { timeout: 15_000 })
        .catch((err: unknown) => {
          // a tile that failed is why, if any did
          expect(failed).toEqual([]);
          expect(consoleErrors).toEqual([]);
          throw err;
        });

    await fullyLoaded();
    // past full size (two screen pixels to an image pixel), then a pan to tiles not yet seen
    await page.evaluate(() => {
      const v = (globalThis as Json).framewiseViewer;
      v.viewport.zoomTo(v.viewport.imageToViewportZoom(2), undefined, true);
    });
    await expect.poll(() => objectTiles(maxLevel).length, { timeout: 15_000 }).toBeGreaterThan(0);
    await fullyLoaded();
    const beforePan = objectTiles(maxLevel).length;
    await page.evaluate(() => {
      const w = globalThis as Json;
      w.framewiseViewer.viewport.panBy(new w.OpenSeadragon.Point(0.15, 0.08), true);
    });
    await expect.poll(() => objectTiles(maxLevel).length, { timeout: 15_000 }).toBeGreaterThan(beforePan);
    await fullyLoaded();

    expect(failed).toEqual([]);
    // nothing from elsewhere (blob: URLs are tiles the page decodes)
    expect(responses.filter((r) => ![endpoints.api, endpoints.s3, 'blob:'].some((o) => r.url.startsWith(o))).map((r) => r.url)).toEqual([]);
    expect(responses.filter((r) => r.status >= 400).map((r) => `${r.status} ${r.url}`)).toEqual([]);
    // each tile: the API's redirect, then the object from the local S3 with CORS
    const apiTiles = responses.filter((r) => r.url.startsWith(`${endpoints.api}/v1/slides/images/${image.id}/image_files/${maxLevel}/`));
    expect(apiTiles.length).toBeGreaterThan(0);
    expect(apiTiles.every((r) => r.status === 302)).toBe(true);
    expect(objectTiles(maxLevel).every((r) => r.status === 200 && r.cors === '*')).toBe(true);
    // at 2× over a 1000 × 700 viewer, 500 × 350 image pixels: at least 2 × 2 tiles, and more after the pan
    expect(objectTiles(maxLevel).length).toBeGreaterThanOrEqual(6);
    expect(consoleErrors).toEqual([]);

    // every 20 screen pixels, away from the cells' edges and the buttons, the colour the image has there
    const points = await page.evaluate(({ cell }) => {
      const w = globalThis as Json;
      const vp = w.framewiseViewer.viewport;
      const size = vp.getContainerSize();
      const out: { x: number; y: number; sx: number; sy: number }[] = [];
      for (let sy = 10; sy < size.y; sy += 20) {
        for (let sx = 10; sx < size.x; sx += 20) {
          if (sx < 200 && sy < 60) continue;
          const p = vp.viewerElementToImageCoordinates(new w.OpenSeadragon.Point(sx, sy));
          const fromEdge = Math.min(p.x % cell, cell - (p.x % cell), p.y % cell, cell - (p.y % cell));
          if (fromEdge > 8) out.push({ x: Math.floor(p.x), y: Math.floor(p.y), sx, sy });
        }
      }
      return out;
    }, { cell: CELL });
    expect(points.length).toBeGreaterThan(500);
    expect(new Set(points.map((p) => cellIndex(p.x, p.y))).size).toBeGreaterThanOrEqual(3);
    mkdirSync(join(ROOT, 'test-results'), { recursive: true });
    const shot = await page.locator('#viewer').screenshot({ path: join(ROOT, 'test-results', 'slides-viewer.png') });
    const { data, info } = await sharp(shot).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const wrong = points.flatMap((p) => {
      const at = (p.sy * info.width + p.sx) * 3;
      const seen: Rgb = [data[at]!, data[at + 1]!, data[at + 2]!];
      return nearest(seen) === cellIndex(p.x, p.y) && distance(seen, PALETTE[cellIndex(p.x, p.y)]!) < 40 ? [] : [{ ...p, seen }];
    });
    expect(wrong).toEqual([]);
    await page.close();
  }, 60_000);

  it('serves its files compressed, cacheable by version, and nothing it does not list', async () => {
    const page = (await fetch(viewUrl(image.id))).text();
    const script = /src="\.\.\/\.\.\/viewer\/(openseadragon\.min\.js\?v=[^"]+)"/.exec(await page)?.[1];
    expect(script).toBe('openseadragon.min.js?v=6.1.1');
    const js = await fetch(`${endpoints.api}/v1/slides/viewer/${script}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(js.status).toBe(200);
    expect(js.headers.get('content-encoding')).toBe('gzip');
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect(await js.text()).toContain('OpenSeadragon');
    const button = await fetch(`${endpoints.api}/v1/slides/viewer/zoomin_rest.png`);
    expect(button.headers.get('content-type')).toBe('image/png');
    expect(button.headers.get('cache-control')).not.toContain('immutable');
    expect((await fetch(`${endpoints.api}/v1/slides/viewer/package.json`)).status).toBe(400);
    expect((await fetch(`${endpoints.api}/v1/slides/viewer/..%2F..%2Fpackage.json`)).status).toBe(400);
  });

  it("answers a browser's preflight to the media bucket as its CORS rule says", async () => {
    const preflight = (method: string) =>
      fetch(`${endpoints.s3}/framewise-media/slides/${image.id}/image.dzi`, {
        method: 'OPTIONS',
        headers: { origin: 'http://viewer.example', 'access-control-request-method': method, 'access-control-request-headers': 'content-type' },
      });
    const put = await preflight('PUT');
    expect(put.status).toBe(200);
    expect(put.headers.get('access-control-allow-origin')).toBe('*');
    expect(put.headers.get('access-control-allow-headers')).toBe('content-type');
    expect(put.headers.get('access-control-expose-headers')).toBe('ETag');
    expect((await preflight('DELETE')).status).toBe(403);
  });

  it('says so clearly when the key is refused, the image does not exist or is not ready', async () => {
    const refused = await openPage(context, image.id, 'not-a-key');
    await expect.poll(() => refused.locator('#status').textContent()).toContain('The API key was not accepted (401');
    expect(await refused.getByLabel('API key').isVisible()).toBe(true);
    expect(await refused.evaluate((name) => sessionStorage.getItem(name), API_KEY_STORAGE)).toBeNull();

    const wrongId = randomUUID();
    const missing = await openPage(context, wrongId, adminKey);
    await expect.poll(() => missing.locator('#status').textContent()).toBe(`There is no slide image with the id ${wrongId} (404).`);
    expect(await missing.evaluate(() => (globalThis as Json).framewiseViewer)).toBeUndefined();

    const session = (await api('POST', '/v1/slides/sessions', { name: `viewer pending ${STAMP}` })).body;
    const pendingId = await uploadSlide(api, session.id, 'pending.jpg', Buffer.from('not yet complete'));
    const pending = await openPage(context, pendingId, adminKey);
    await expect.poll(() => pending.locator('#status').textContent()).toMatch(/^The image is uploading \(\d+%\): it can be viewed once it is ready\.$/);
    expect(await pending.evaluate(() => (globalThis as Json).framewiseViewer)).toBeUndefined();
  });
});
