// The console's slides page in Debian's chromium against the shared local cloud, as an operator uses it: a session
// holding a small generated JPEG (diced to ready) and a file that is not an image (failed, NotAnImage), both
// uploaded through the API. Under the console's Content-Security-Policy the page lists the session, shows both
// images with the API's state, progress, size and format, the failed one's error code, the ready one's thumbnail
// (fetched with the key through the API's redirect, 256 px on its longest side) and a link that opens it in the
// viewer. axe-core finds no serious violation; a screenshot is kept under test-results/.
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { apiClient } from '../support/api.ts';
import { launchBrowser } from '../support/browser.ts';
import { consolePage, expectAccessible, pageUnderPolicy, screenshot, signIn, tableRows } from '../support/console.ts';
import { completeSlide, uploadSlide } from '../support/slides.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const endpoints = inject('endpoints');
const adminKey = inject('adminApiKey');
const api = apiClient();
const WAIT = { timeout: 15_000 };
const STAMP = `${Date.now().toString(36)}${process.pid}`;
const SESSION = `Console slides ${STAMP}`;

/** A slide image uploaded as one PUT, completed, and diced to its end (ready or failed). */
async function uploaded(sessionId: string, filename: string, file: Buffer): Promise<Json> {
  return completeSlide(api, await uploadSlide(api, sessionId, filename, file));
}

/** The rows of the images table: each cell's text, by header. */
const rows = (page: Page) => tableRows(page, '.slide-images');

let browser: Browser;
let ready: Json;
let failed: Json;

beforeAll(async () => {
  const launched = launchBrowser();
  const session = await api('POST', '/v1/slides/sessions', { name: SESSION });
  expect(session.status, JSON.stringify(session.body)).toBe(201);
  const jpeg = await sharp({ create: { width: 600, height: 400, channels: 3, background: { r: 30, g: 120, b: 200 } } }).jpeg().toBuffer();
  [ready, failed] = await Promise.all([
    uploaded(session.body.id, 'blue.jpg', jpeg),
    uploaded(session.body.id, 'notes.jpg', Buffer.from('this is not an image\n'.repeat(50))),
  ]);
  expect(ready, JSON.stringify(ready.error)).toMatchObject({ state: 'ready', width: 600, height: 400, format: 'jpeg' });
  expect(failed.state).toBe('failed');
  expect(failed.error.code).toBe('NotAnImage');
  browser = await launched;
}, 40_000);

afterAll(async () => {
  await browser?.close();
});

describe('the console slides page', () => {
  it("lists the session, shows its images with the API's state, the thumbnail and the error, and opens the viewer", async () => {
    // under the console's Content-Security-Policy: the thumbnail is a blob: URL the policy allows
    const { page, refused } = await pageUnderPolicy(browser);
    await signIn(page, endpoints.api, adminKey);
    await page.getByRole('link', { name: 'Slides', exact: true }).click();
    await page.getByRole('link', { name: SESSION }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent(), WAIT).toBe(`Slides: ${SESSION}`);
    await expect.poll(async () => (await rows(page)).length, WAIT).toBe(2);

    const shown = await rows(page);
    const byName = Object.fromEntries(shown.map((r) => [r.Image, r]));
    expect(Object.keys(byName).sort()).toEqual(['blue.jpg', 'notes.jpg']);
    expect(byName['blue.jpg']).toMatchObject({ State: ready.state, Progress: `${ready.progress}%`, Format: 'jpeg, 600 × 400' });
    expect(byName['notes.jpg']).toMatchObject({ State: failed.state, Progress: `${failed.progress}%` });
    expect(byName['notes.jpg']!['Thumbnail, viewer or error']).toContain(`${failed.error.code}: ${failed.error.message}`);
    expect(byName['blue.jpg']!.Size).toMatch(/^\d+(\.\d)? (B|KiB)$/);
    expect(await page.locator('progress').evaluateAll((ps: Json[]) => ps.map((p) => p.value))).toEqual(
      shown.map((r) => (r.Image === 'blue.jpg' ? ready.progress : failed.progress)));
    // only the ready image has a thumbnail and a viewer link
    expect(await page.getByRole('link', { name: /^Open in viewer: / }).count()).toBe(1);
    const thumbnail = page.getByRole('img', { name: 'Thumbnail of blue.jpg' });
    await expect.poll(() => thumbnail.evaluate((img: Json) => img.complete && img.naturalWidth), WAIT).toBe(256);
    expect(await thumbnail.evaluate((img: Json) => img.naturalHeight)).toBe(Math.round((256 * ready.height) / ready.width));
    expect(await thumbnail.getAttribute('src')).toMatch(/^blob:/);
    expect(await page.getByRole('img').count()).toBe(1);
    expect(refused).toEqual([]);

    await page.getByRole('link', { name: 'Open in viewer: blue.jpg' }).click();
    await page.waitForURL(`${endpoints.api}/v1/slides/images/${ready.id}/view`);
    // the key the console keeps in sessionStorage signs the viewer in
    await page.waitForFunction(() => (globalThis as Json).framewiseViewer?.isOpen() === true, undefined, { timeout: 15_000 });
    expect(await page.locator('#title').textContent()).toBe('blue.jpg');
    await page.context().close();
  }, 40_000);

  it('has no serious accessibility violation, and keeps a screenshot', async () => {
    const page = await consolePage(browser);
    await signIn(page, endpoints.api, adminKey);
    await page.goto(`${endpoints.api}/#/slides`);
    await page.getByRole('link', { name: SESSION }).waitFor(WAIT);
    await expectAccessible(page);
    await page.getByRole('link', { name: SESSION }).click();
    await page.getByRole('img', { name: 'Thumbnail of blue.jpg' }).waitFor(WAIT);
    await expect.poll(() => page.getByRole('img', { name: 'Thumbnail of blue.jpg' }).evaluate((img: Json) => img.naturalWidth), WAIT).toBe(256);
    await expectAccessible(page);
    await screenshot(page, 'slides');
    await page.context().close();
  }, 30_000);

  it("pages with More, and refreshes while an image is uploading until it is ready", async () => {
    const session = (await api('POST', '/v1/slides/sessions', { name: `${SESSION} busy` })).body;
    const jpeg = await sharp({ create: { width: 300, height: 200, channels: 3, background: { r: 200, g: 60, b: 30 } } }).jpeg().toBuffer();
    const first = await api('POST', '/v1/slides/uploads', { filename: 'later.jpg', sizeBytes: jpeg.length, sessionId: session.id });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    // one more than the API's first page (100), all left uploading
    for (let batch = 0; batch < 10; batch += 1) {
      await Promise.all(Array.from({ length: 10 }, async (_, i) => {
        const res = await api('POST', '/v1/slides/uploads', { filename: `open-${batch * 10 + i}.jpg`, sizeBytes: 1000, sessionId: session.id });
        expect(res.status).toBe(201);
      }));
    }
    const page = await consolePage(browser);
    await signIn(page, endpoints.api, adminKey);
    await page.goto(`${endpoints.api}/#/slides?session=${session.id}`);
    await expect.poll(async () => (await rows(page)).length, WAIT).toBe(100);
    expect(await page.getByRole('status').textContent()).toContain('refreshes every 5 s');
    await page.getByRole('button', { name: 'More' }).click();
    await expect.poll(async () => (await rows(page)).length, WAIT).toBe(101);
    expect(await page.getByRole('button', { name: 'More' }).isVisible()).toBe(false);
    expect((await rows(page)).find((r) => r.Image === 'later.jpg')?.State).toBe('uploading');

    // completed while the page is open: a refresh shows it ready, with its thumbnail, and keeps both pages
    const plan = first.body.plan;
    expect((await fetch(plan.url, { method: 'PUT', headers: plan.headers, body: jpeg })).status).toBe(200);
    expect((await api('POST', `/v1/slides/uploads/${first.body.image.id}/complete`, {})).status).toBe(200);
    await expect.poll(async () => (await rows(page)).find((r) => r.Image === 'later.jpg')?.State, { timeout: 25_000 }).toBe('ready');
    await expect.poll(() => page.getByRole('img', { name: 'Thumbnail of later.jpg' }).evaluate((img: Json) => img.naturalWidth), WAIT).toBe(256);
    expect((await rows(page)).length).toBe(101);
    await page.context().close();
  }, 40_000);
});
