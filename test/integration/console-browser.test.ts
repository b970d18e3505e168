// The web console in Debian's chromium against the shared local cloud, as an operator uses it: signed out it shows
// only the sign-in form; a wrong key is refused; an admin sees the failed jobs (a slide image that is not an image),
// requeues one and sees it run again; reviews a video's and a det_group's metrics and releases them; an analyst
// sees jobs without the admin's actions; a key revoked while its page polls returns to sign-in. Every page passes
// axe-core with no serious violation; screenshots go to test-results/.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { apiClient, eventually } from '../support/api.ts';
import { launchBrowser } from '../support/browser.ts';
import { consolePage, expectAccessible, screenshot, signIn, unreachableByKeyboard } from '../support/console.ts';
import { ingestSampleVideo } from '../support/sample-ingest.ts';
import { completeSlide, uploadSlide } from '../support/slides.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const endpoints = inject('endpoints');
const adminKey = inject('adminApiKey');
const api = apiClient();
// a cold function under a loaded machine may take seconds to answer the first time
const WAIT = { timeout: 20_000 };
const STAMP = `${Date.now().toString(36)}${process.pid}`;

let browser: Browser;
let failedJobId: string;
const work = mkdtempSync(join(tmpdir(), 'framewise-console-'));
/** An ingested video not yet released, and the det_group that sees its logo. */
const releasable = { videoId: '', detGroupId: '', detGroup: `Console Nike ${STAMP}` };

/** A slide-image job that fails: a text file uploaded as a JPEG. */
async function failedJob(): Promise<string> {
  const session = await api('POST', '/v1/slides/sessions', { name: `console ${STAMP}` });
  const image = await completeSlide(api, await uploadSlide(api, session.body.id, 'notes.jpg', Buffer.from('not an image\n'.repeat(50))));
  expect(image.state).toBe('failed');
  await eventually(async () => ((await api('GET', `/v1/jobs/${image.jobId}`)).body.state === 'failed' ? true : undefined), 'its job to fail');
  return image.jobId;
}

/** A video of the sample game ingested, with a det_group of our own for its first logo (named after this run: names are unique). */
async function releasableVideo(): Promise<void> {
  const created = async (path: string, body: unknown) => {
    const res = await api('POST', path, body);
    expect(res.status, `${path} ${JSON.stringify(res.body)}`).toBe(201);
    return res.body.id as string;
  };
  const nike = await created('/v1/detectables', { name: `Nike ${STAMP}` });
  releasable.detGroupId = await created('/v1/det-groups', { name: releasable.detGroup, detectableIds: [nike] });
  const sport = await created('/v1/sports', { name: `Console sport ${STAMP}` });
  const league = await created('/v1/leagues', { sportId: sport, name: 'League' });
  const season = await created('/v1/seasons', { leagueId: league, name: '2026' });
  const game = await created('/v1/games', { seasonId: season, title: 'A v B', startsAt: '2026-11-21T15:00:00Z' });
  releasable.videoId = await created('/v1/videos', { gameId: game, title: 'review me' });
  const job = await ingestSampleVideo(api, releasable.videoId, work, { labels: { 0: `Nike ${STAMP}` } });
  expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
}

beforeAll(async () => {
  const launched = launchBrowser();
  await Promise.all([failedJob().then((id) => (failedJobId = id)), releasableVideo()]);
  browser = await launched;
}, 600_000);

afterAll(async () => {
  await browser?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('jobs by kind (GET /v1/jobs?kind=), as the jobs page asks for them', () => {
  it('filters each page by kind: followed to its end, it finds the failed slide-image job and no other kind', async () => {
    const listed = async (query: string): Promise<Json[]> => {
      const jobs: Json[] = [];
      let cursor: string | undefined;
      do {
        const res = await api('GET', `/v1/jobs?${query}&limit=5${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.status).toBe(200);
        expect(res.body.jobs.length).toBeLessThanOrEqual(5);
        jobs.push(...res.body.jobs);
        cursor = res.body.cursor;
      } while (cursor);
      return jobs;
    };
    const slides = await listed('state=failed&kind=slide-image');
    expect(slides.map((j) => j.jobId)).toContain(failedJobId);
    expect(new Set(slides.map((j) => j.kind))).toEqual(new Set(['slide-image']));
    expect((await listed('state=failed&kind=video-ingest')).map((j) => j.jobId)).not.toContain(failedJobId);
    const all = await listed('state=failed');
    expect(slides.map((j) => j.jobId).sort()).toEqual(all.filter((j) => j.kind === 'slide-image').map((j) => j.jobId).sort());
    expect((await api('GET', '/v1/jobs?kind=sorting')).status).toBe(400);
  });
});

describe('the web console', () => {
  it('signed out, shows only the sign-in form (no API data asked for), and refuses a wrong key', async () => {
    const page = await consolePage(browser);
    const asked: string[] = [];
    page.on('request', (r) => { if (new URL(r.url()).pathname.startsWith('/v1/')) asked.push(r.url()); });
    const res = await page.goto(`${endpoints.api}/`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    await expect.poll(() => page.getByLabel('API key').isVisible(), WAIT).toBe(true);
    expect(asked).toEqual([]);
    await expectAccessible(page);
    await screenshot(page, 'sign-in');
    // the keyboard check finds a control Tab skips
    await page.evaluate(() => {
      const doc = (globalThis as Json).document;
      const skipped = doc.createElement('button');
      skipped.textContent = 'Skipped by Tab';
      skipped.tabIndex = -1;
      doc.querySelector('main').append(skipped);
    });
    expect(await unreachableByKeyboard(page)).toEqual(['button "Skipped by Tab"']);
    await page.reload();
    await page.getByLabel('API key').fill('fw_wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.locator('.message').textContent(), WAIT).toBe('This key is not valid.');
    expect(await page.evaluate(() => sessionStorage.getItem('framewise.apiKey'))).toBeNull();
    expect(page.url()).not.toContain('fw_');
    await page.context().close();
  });

  it('an admin sees the failed job, with its step and error, and requeues it', async () => {
    const page = await consolePage(browser);
    await signIn(page, endpoints.api, adminKey);
    await page.goto(`${endpoints.api}/#/jobs?state=failed&kind=slide-image`);
    const row = page.getByRole('row').filter({ hasText: failedJobId });
    await row.waitFor();
    await expect.poll(() => row.textContent(), WAIT).toContain('NotAnImage');
    await expect.poll(() => row.textContent(), WAIT).toContain('dice: failed');
    expect(await page.evaluate(() => sessionStorage.getItem('framewise.apiKey'))).toBe(adminKey);
    expect(page.url()).not.toContain(adminKey);
    await expectAccessible(page);
    await screenshot(page, 'jobs-failed');

    await row.getByRole('button', { name: 'Requeue' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: `Requeued ${failedJobId}` }).count(), WAIT).toBe(1);
    const job = (await api('GET', `/v1/jobs/${failedJobId}`)).body as Json;
    expect(job.requeues).toBe(1);
    // it runs again and fails again (the file is still not an image), and the page shows it among the failed
    await eventually(async () => ((await api('GET', `/v1/jobs/${failedJobId}`)).body.state === 'failed' ? true : undefined), 'the requeued job to end');
    await expect.poll(() => page.getByRole('row').filter({ hasText: failedJobId }).count(), WAIT).toBe(1);
    await page.context().close();
  }, 60_000);

  it("an admin reviews a releasable video's and det_group's metrics, equal to the API's, and releases them", async () => {
    const { videoId, detGroupId, detGroup } = releasable;
    const review = (await api('GET', `/v1/videos/${videoId}/review`)).body as Json;
    const totals = review.detGroups.find((g: Json) => g.detGroupId === detGroupId).totals;
    // Nike is in 17 of the 20 extracted frames (every 7th source frame scores below the threshold)
    expect(totals).toMatchObject({ frames: 20, visibleFrames: 17 });

    const page = await consolePage(browser);
    await signIn(page, endpoints.api, adminKey);
    await page.goto(`${endpoints.api}/#/jobs?state=releasable&videoId=${videoId}`);
    const row = page.getByRole('row').filter({ hasText: `video ${videoId}` });
    await row.waitFor(WAIT);
    await row.getByRole('button', { name: 'Review' }).click();
    const metrics = page.getByRole('table', { name: `Whole-video metrics of video ${videoId}` });
    await metrics.waitFor(WAIT);
    const cells = await metrics.getByRole('row').filter({ hasText: detGroup }).getByRole('cell').allTextContents();
    expect(cells.slice(0, 5)).toEqual([detGroup, '17 of 20', totals.exposureSeconds.toFixed(1), String(totals.detections), totals.sumEffectiveness.toFixed(2)]);
    expect(await page.getByText('Clients see nothing of this video before this release.').count()).toBe(1);
    await expectAccessible(page);
    await screenshot(page, 'jobs-release-review');

    await row.getByRole('button', { name: 'Release' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: `Released video ${videoId}` }).count(), WAIT).toBe(1);
    expect((await api('GET', `/v1/videos/${videoId}`)).body.releasedAt).toEqual(expect.any(String));
    expect((await api('GET', `/v1/videos/${videoId}/review`)).body.runReleased).toBe(true);
    // released, it leaves the releasable tab
    await expect.poll(() => page.getByRole('row').filter({ hasText: `video ${videoId}` }).count(), WAIT).toBe(0);

    // the det_group's own review: its totals in each video it applies to, here the one video
    await page.goto(`${endpoints.api}/#/jobs?state=releasable&kind=det-group`);
    const groupRow = page.getByRole('row').filter({ hasText: `det_group ${detGroupId}` });
    await groupRow.waitFor(WAIT);
    await groupRow.getByRole('button', { name: 'Review' }).click();
    const perVideo = page.getByRole('table', { name: `Whole-video metrics of det_group ${detGroup}` });
    await perVideo.waitFor(WAIT);
    expect(await perVideo.getByRole('row').filter({ hasText: 'review me' }).getByRole('cell').allTextContents())
      .toEqual(['review me', '17 of 20', totals.exposureSeconds.toFixed(1), String(totals.detections), totals.sumEffectiveness.toFixed(2)]);
    await expectAccessible(page);
    await groupRow.getByRole('button', { name: 'Release' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: `Released det_group ${detGroupId}` }).count(), WAIT).toBe(1);
    expect((await api('GET', `/v1/det-groups/${detGroupId}/review`)).body.releasedAt).toEqual(expect.any(String));
    await page.context().close();
  }, 90_000);

  it("an analyst sees jobs without the admin's actions; a key revoked while its page is open returns to sign-in", async () => {
    const created = await api('POST', '/v1/api-keys', { name: `console analyst ${STAMP}`, role: 'analyst' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const page = await consolePage(browser);
    await signIn(page, endpoints.api, created.body.key);
    await page.goto(`${endpoints.api}/#/jobs?state=failed`);
    const row = page.getByRole('row').filter({ hasText: failedJobId });
    await row.waitFor();
    expect(await row.getByRole('button').count()).toBe(0);
    expect(await page.getByText('Analyst').count()).toBeGreaterThan(0);

    expect((await api('DELETE', `/v1/api-keys/${created.body.id}`)).status).toBe(204);
    // the next refresh (every 5 s) hears 401
    await page.getByLabel('API key').waitFor({ timeout: 15_000 });
    await expect.poll(() => page.getByText('The key was refused').count(), WAIT).toBe(1);
    expect(await page.evaluate(() => sessionStorage.getItem('framewise.apiKey'))).toBeNull();
    await page.context().close();
  }, 60_000);
});
