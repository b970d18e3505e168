// The console's best-frames page in Debian's chromium against the shared local cloud, as a brand client uses it: a
// sample game ingested for real and released; the client opens the game, follows the best-frames link under the
// video's chart and sees the frames drawn with their boxes, in the API's order with the API's numbers, under the
// console's Content-Security-Policy with no request refused; the page passes axe-core and the keyboard walk. Each of
// the game's two clients sees on its season page only its own det_group, with the API's numbers.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { apiClient } from '../support/api.ts';
import { launchBrowser } from '../support/browser.ts';
import { consolePage, expectAccessible, screenshot, signIn } from '../support/console.ts';
import { ingestSampleGame, release, type IngestedGame } from '../support/sample-ingest.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const endpoints = inject('endpoints');
const WAIT = { timeout: 30_000 };
const STAMP = `${Date.now().toString(36)}${process.pid}`;

let browser: Browser;
let g: IngestedGame;

beforeAll(async () => {
  const launched = launchBrowser();
  g = await ingestSampleGame(STAMP);
  await release(g);
  browser = await launched;
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

const gameUrl = () => `${endpoints.api}/#/game?id=${g.gameId}&detGroup=${g.detGroupId}&season=${g.seasonId}&resolution=10`;

/** Opens the game and follows the best-frames link under its video's chart; resolves once every frame is shown. */
async function openBestFrames(page: Page, frames: number): Promise<void> {
  await page.goto(gameUrl());
  const link = page.getByRole('link', { name: `Best frames of Main camera ${STAMP}` });
  await link.waitFor(WAIT);
  await link.click();
  await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent(), WAIT).toBe(`Best frames: Brand client brands ${STAMP}`);
  await expect.poll(() => page.locator('ol.best-frames img').evaluateAll((imgs: Json[]) => imgs.filter((i) => i.complete && i.naturalWidth > 0).length), WAIT).toBe(frames);
}

describe('the console best-frames page', () => {
  it("shows a client the video's best frames drawn with their boxes, in the API's order, with nothing refused", async () => {
    const api = (await apiClient(g.clientKey)('GET', `/v1/videos/${g.videoId}/best-frames?detGroup=${g.detGroupId}&limit=12`)).body;
    expect(api.frames.length).toBeGreaterThan(3);

    // under the console's Content-Security-Policy (no axe-core here)
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    const refused: string[] = [];
    const errors: string[] = [];
    const failedResponses: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) refused.push(m.text());
      // the browser's own request for /favicon.ico, which the console does not have, is no request of the page
      else if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) errors.push(`${m.text()} ${m.location().url}`);
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('response', (r) => void (r.status() >= 400 && failedResponses.push(`${r.status()} ${r.url().split('?')[0]}`)));
    page.on('requestfailed', (r) => failedResponses.push(`failed ${r.url().split('?')[0]} ${r.failure()?.errorText}`));
    // signed in as the sign-in page leaves it (the key in sessionStorage), straight onto the game's page
    await page.addInitScript((key) => sessionStorage.setItem('framewise.apiKey', key), g.clientKey);
    await openBestFrames(page, api.frames.length);

    const shown = await page.locator('ol.best-frames li').evaluateAll((lis: Json[]) => lis.map((li) => ({
      frame: Number(li.dataset.frame),
      caption: li.querySelector('figcaption').textContent,
      img: { width: li.querySelector('img').naturalWidth, height: li.querySelector('img').naturalHeight, src: li.querySelector('img').getAttribute('src') },
    })));
    expect(shown.map((s) => s.frame)).toEqual(api.frames.map((f: Json) => f.frame));
    for (const [i, s] of shown.entries()) {
      const f = api.frames[i];
      expect(s.caption).toContain(`#${i + 1}`);
      expect(s.caption).toContain(`Effectiveness ${f.effectiveness.toPrecision(3)}`);
      expect(s.caption).toContain(`frame ${f.frame}`);
      expect(s.img).toMatchObject({ width: g.game.width, height: g.game.height });
      expect(s.img.src).toMatch(/^blob:/);
    }
    const legend = await page.getByRole('list', { name: 'Box colours' }).locator('li').allTextContents();
    expect(legend).toEqual(api.legend.map((l: Json) => l.label));
    expect({ refused, errors, failedResponses }).toEqual({ refused: [], errors: [], failedResponses: [] });
    await page.context().close();
  }, 60_000);

  it('has no serious accessibility violation, reaches every control by keyboard, and keeps a screenshot', async () => {
    const page = await consolePage(browser);
    await signIn(page, endpoints.api, g.clientKey);
    const api = (await apiClient(g.clientKey)('GET', `/v1/videos/${g.videoId}/best-frames?detGroup=${g.detGroupId}&limit=12`)).body;
    await openBestFrames(page, api.frames.length);
    await expectAccessible(page);
    await screenshot(page, 'best-frames');
    await page.context().close();
  }, 60_000);

  it("says what went wrong for a det_group the client does not hold", async () => {
    const page = await consolePage(browser);
    await signIn(page, endpoints.api, g.otherClientKey);
    await page.goto(`${endpoints.api}/#/best-frames?video=${g.videoId}&detGroup=${g.detGroupId}&game=${g.gameId}&season=${g.seasonId}`);
    await expect.poll(() => page.getByRole('alert').textContent(), WAIT).toContain('Not found');
    expect(await page.locator('ol.best-frames img').count()).toBe(0);
    await page.getByRole('button', { name: 'Try again' }).waitFor();
    await page.context().close();
  }, 60_000);

  it("shows each client on its season page only its own det_group, with the API's numbers of the real ingest", async () => {
    for (const [key, own] of [[g.clientKey, g.detGroupId], [g.otherClientKey, g.otherDetGroupId]] as const) {
      const api = (await apiClient(key)('GET', `/v1/seasons/${g.seasonId}/metrics?resolution=video`)).body;
      expect(api.detGroups.map((d: Json) => d.id)).toEqual([own]);
      const totals = api.detGroups[0].totals;
      expect(totals.detections).toBeGreaterThan(0);
      const page = await consolePage(browser);
      await signIn(page, endpoints.api, key);
      await page.goto(`${endpoints.api}/#/season?season=${g.seasonId}`);
      const section = page.locator('section.det-group');
      await section.first().waitFor(WAIT);
      expect(await section.evaluateAll((all: Json[]) => all.map((s) => s.dataset.detGroup))).toEqual([own]);
      const measure = (m: string) => section.locator(`dd[data-measure="${m}"]`).textContent();
      expect(Number(await measure('detections'))).toBe(totals.detections);
      expect(Math.abs(Number(await measure('exposureSeconds')) - totals.exposureSeconds)).toBeLessThanOrEqual(0.05);
      await page.context().close();
    }
  });
});

