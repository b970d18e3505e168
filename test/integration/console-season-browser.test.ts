// The console's season and game pages in Debian's chromium against the shared local cloud, as a brand client uses
// them: a season of three released games whose metrics are written as the ingest writes them
// (test/support/season-fixture.ts), three det_groups of which the client was granted two. The client sees only
// its two, with the numbers of the API; switches resolution; drills down to a game's time series with its events;
// an operator reads the same view by picking the client; errors are shown as such; the pages load under the
// console's Content-Security-Policy. A season of 40 games × 10 det_groups renders in under 1 s.
import { MongoClient } from 'mongodb';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { apiClient } from '../support/api.ts';
import { launchBrowser } from '../support/browser.ts';
import { consolePage, expectAccessible, screenshot, signIn } from '../support/console.ts';
import { SeasonFixture } from '../support/season-fixture.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const endpoints = inject('endpoints');
const adminKey = inject('adminApiKey');
const admin = apiClient();
const mongo = new MongoClient(endpoints.mongodb);
const WAIT = { timeout: 20_000 };
const STAMP = `${Date.now().toString(36)}${process.pid}`;
const SECONDS = 120;

let browser: Browser;
let fx: SeasonFixture;
let clientKey: string;
const ids = {} as Record<'season' | 'client' | 'g1' | 'g2' | 'g3' | 'v1' | 'a' | 'b' | 'hidden', string>;
const names = { a: `Acme Cola ${STAMP}`, b: `Bolt Tyres ${STAMP}`, hidden: `Not granted ${STAMP}` };

async function asClient(path: string): Promise<Json> {
  const res = await fetch(`${endpoints.api}${path}`, { headers: { authorization: `Bearer ${clientKey}` } });
  expect(res.status, path).toBe(200);
  return res.json();
}

beforeAll(async () => {
  const launched = launchBrowser();
  fx = await SeasonFixture.connect(endpoints.postgres, mongo);
  const s = await fx.season(`Console season ${STAMP}`);
  ids.season = s.seasonId;
  ids.g1 = await fx.game(ids.season, `Opening ${STAMP}`, new Date('2026-03-01T15:00:00Z'));
  ids.g2 = await fx.game(ids.season, 'Derby', new Date('2026-03-08T15:00:00Z'));
  ids.g3 = await fx.game(ids.season, 'Final', new Date('2026-03-15T15:00:00Z'));
  ids.v1 = await fx.video(ids.g1, 'Opening, main camera', { seconds: SECONDS });
  const v2 = await fx.video(ids.g2, 'Derby, main camera', { seconds: SECONDS });
  const v3 = await fx.video(ids.g3, 'Final, main camera', { seconds: SECONDS });
  ids.a = await fx.detGroup(names.a);
  ids.b = await fx.detGroup(names.b);
  ids.hidden = await fx.detGroup(names.hidden);
  let seed = 11;
  for (const v of [ids.v1, v2, v3]) for (const dg of [ids.a, ids.b, ids.hidden]) await fx.metrics(v, dg, { seconds: SECONDS, seed: seed++ });
  ids.client = await fx.client(`Console client ${STAMP}`);
  await fx.grant(ids.client, { seasonId: ids.season, detGroupId: ids.a });
  await fx.grant(ids.client, { detGroupId: ids.b });
  const key = await admin('POST', '/v1/api-keys', { name: `console client ${STAMP}`, role: 'client', clientId: ids.client });
  expect(key.status, JSON.stringify(key.body)).toBe(201);
  clientKey = key.body.key;
  const type = await admin('POST', '/v1/event-types', { sportId: s.sportId, name: `Goal ${STAMP}`, windowSeconds: 5, weight: 2 });
  expect(type.status, JSON.stringify(type.body)).toBe(201);
  for (const time of [30, 75]) expect((await admin('POST', '/v1/events', { gameId: ids.g1, eventTypeId: type.body.id, time })).status).toBe(201);
  browser = await launched;
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await fx?.close();
  await mongo.close();
});

/** What the page's per-game tables and season totals show, by det_group. */
const shown = (page: Page) =>
  page.locator('section.det-group').evaluateAll((sections: Json[]) => sections.map((s) => ({
    detGroup: s.dataset.detGroup as string,
    name: s.querySelector('h2').textContent as string,
    totals: Object.fromEntries([...s.querySelectorAll('dd[data-measure]')].map((d: Json) => [d.dataset.measure, Number(d.textContent)])) as Record<string, number>,
    rows: [...s.querySelectorAll('table.per-game tbody tr')].map((tr: Json) => [...tr.querySelectorAll('td')].map((td: Json) => (td.textContent ?? '') as string)),
  })));

/** Each shown number equals the API's within the precision it is shown at (one decimal, integers, 3 digits). */
function expectSameNumbers(page: Awaited<ReturnType<typeof shown>>, api: Json): void {
  const close = (got: number, want: number, what: string) => {
    const tolerance = Math.max(0.05, Math.abs(want) * 0.005);
    expect(Math.abs(got - want), `${what}: shown ${got}, API ${want}`).toBeLessThanOrEqual(tolerance);
  };
  expect(page.map((s) => s.detGroup)).toEqual(api.detGroups.map((d: Json) => d.id));
  for (const section of page) {
    const dg = api.detGroups.find((d: Json) => d.id === section.detGroup);
    expect(section.name).toBe(dg.name);
    close(section.totals.exposureSeconds!, dg.totals.exposureSeconds, 'season exposure');
    expect(section.totals.detections).toBe(dg.totals.detections);
    close(section.totals.sumEffectiveness!, dg.totals.sumEffectiveness, 'season effectiveness');
    expect(section.rows.map((r) => r[0])).toEqual(api.games.map((g: Json) => g.title));
    api.games.forEach((g: Json, i: number) => {
      const t = g.detGroups.find((d: Json) => d.id === section.detGroup).totals;
      const [, , exposure, detections, effectiveness] = section.rows[i]!;
      close(Number(exposure), t.exposureSeconds, `${g.title} exposure`);
      expect(Number(detections), `${g.title} detections`).toBe(t.detections);
      close(Number(effectiveness), t.sumEffectiveness, `${g.title} effectiveness`);
    });
  }
}

describe('the console for a brand client', () => {
  it("shows only the client's det_groups, with the API's numbers, and switches resolution", async () => {
    const page = await consolePage(browser);
    const asked: string[] = [];
    page.on('request', (r) => { const u = new URL(r.url()); if (u.pathname.startsWith('/v1/')) asked.push(u.pathname); });
    await signIn(page, endpoints.api, clientKey);
    // a client key lands on the season page, on its only season
    await expect.poll(() => page.locator('section.det-group').count(), WAIT).toBe(2);
    expect(page.url()).toContain(`season=${ids.season}`);
    expect(asked.filter((p) => p === `/v1/seasons/${ids.season}/metrics`)).toHaveLength(1);
    expect(await page.getByRole('link', { name: 'Jobs' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Annotation' }).count()).toBe(0);
    expect(asked.filter((p) => p.startsWith('/v1/annotation/'))).toEqual([]);

    const perGame = await asClient(`/v1/seasons/${ids.season}/metrics?resolution=video`);
    expect(perGame.detGroups.map((d: Json) => d.id).sort()).toEqual([ids.a, ids.b].sort());
    expectSameNumbers(await shown(page), perGame);
    const html = await page.content();
    for (const secret of [ids.hidden, names.hidden]) expect(html).not.toContain(secret);
    await expectAccessible(page);
    await screenshot(page, 'season');

    await page.getByLabel('10 s').check();
    await expect.poll(() => page.getByRole('columnheader', { name: 'Exposure per 10 s' }).count(), WAIT).toBe(2);
    const tenSeconds = await asClient(`/v1/seasons/${ids.season}/metrics?resolution=10`);
    expectSameNumbers(await shown(page), tenSeconds);
    // each game's strip holds the API's buckets of that resolution
    const buckets = tenSeconds.games.map((g: Json) => g.detGroups[0].videos.reduce((n: number, v: Json) => n + v.buckets.start.length, 0));
    const peaks = await page.locator('section.det-group').first().locator('.peak').allTextContents();
    expect(peaks.map((p) => Number(p.split(' ')[0]))).toEqual(buckets);
    expect(buckets[0]).toBeGreaterThan(SECONDS / 10 - 2);
    await expectAccessible(page);
    await screenshot(page, 'season-10s');

    // nothing outside the client's view was asked for: no client list, no other route
    const allowed = new Set(['/v1/me', '/v1/seasons', `/v1/seasons/${ids.season}/metrics`]);
    expect(asked.filter((p) => !allowed.has(p))).toEqual([]);
    await page.context().close();
  }, 60_000);

  it("drills down to a game's time series with its events, at 1, 10 or 60 s", { timeout: 120_000 }, async () => {
    const page = await consolePage(browser);
    await signIn(page, endpoints.api, clientKey);
    await page.locator(`section[data-det-group="${ids.a}"]`).getByRole('link', { name: `Opening ${STAMP}` }).click();
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent(), WAIT).toBe(`Opening ${STAMP}: ${names.a}`);
    await page.locator('.uplot canvas').first().waitFor();
    expect(await page.getByRole('table', { name: `Opening ${STAMP}: events` }).locator('tbody tr').allTextContents()).toEqual([`0:30Goal ${STAMP}`, `1:15Goal ${STAMP}`]);
    await expectAccessible(page);
    await screenshot(page, 'game');
    // a narrower window redraws the charts to fit it
    const chartWidth = () => page.locator('.uplot').first().evaluate((el) => el.getBoundingClientRect().width);
    const wide = await chartWidth();
    await page.setViewportSize({ width: 700, height: 900 });
    await expect.poll(chartWidth, WAIT).toBeLessThan(700);
    expect(wide).toBeGreaterThan(1000);
    await page.setViewportSize({ width: 1280, height: 900 });
    await expect.poll(chartWidth, WAIT).toBe(wide);

    await page.getByLabel('60 s').check();
    await expect.poll(() => page.locator('figure.series figcaption').first().textContent(), WAIT).toContain('per 60 s bucket');
    const api = await asClient(`/v1/videos/${ids.v1}/metrics?detGroup=${ids.a}&resolution=60`);
    await page.getByText('The 2 buckets of Opening, main camera').click();
    const rows = await page.getByRole('table', { name: 'Opening, main camera: per 60 s' }).locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(rows.map((r) => Number(r[2]))).toEqual(api.buckets.map((b: Json) => b.detections));
    expect(rows.map((r) => r[0])).toEqual(api.buckets.map((b: Json) => `${Math.floor(b.start / 60)}:${String(b.start % 60).padStart(2, '0')}`));
    await page.context().close();

    // under the console's Content-Security-Policy (the pages above bypass it for axe-core): uPlot, its stylesheet
    // and the charts load with nothing refused
    const strict = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    const refused: string[] = [];
    const errors: string[] = [];
    strict.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) refused.push(m.text());
      else if (m.type() === 'error') errors.push(m.text());
    });
    strict.on('pageerror', (e) => errors.push(e.message));
    // signed in as the sign-in page leaves it (the key in sessionStorage), straight onto the game's page
    await strict.addInitScript((key) => sessionStorage.setItem('framewise.apiKey', key), clientKey);
    await strict.goto(`${endpoints.api}/#/game?id=${ids.g1}&detGroup=${ids.a}&season=${ids.season}&resolution=10`);
    await strict.locator('.uplot canvas').first().waitFor({ timeout: 60_000 }).catch(async (err: Error) => {
      throw new Error(`${err.message}\nrefused: ${refused.join(' | ')}\nerrors: ${errors.join(' | ')}\npage: ${(await strict.locator('main').textContent())?.slice(0, 500)}`);
    });
    // uPlot's stylesheet applied (its .u-wrap is positioned by it)
    expect(await strict.locator('.u-wrap').first().evaluate((el) => (globalThis as Json).getComputedStyle(el).position)).toBe('relative');
    expect(refused).toEqual([]);
    await strict.context().close();
  });

  it("an operator reads the same view by picking the client", async () => {
    const page = await consolePage(browser);
    await signIn(page, endpoints.api, adminKey);
    await page.goto(`${endpoints.api}/#/season?client=${ids.client}&season=${ids.season}`);
    await expect.poll(() => page.locator('section.det-group').count(), WAIT).toBe(2);
    expectSameNumbers(await shown(page), await asClient(`/v1/seasons/${ids.season}/metrics?resolution=video`));
    expect(await page.getByLabel('Client').inputValue()).toBe(ids.client);
    await expectAccessible(page);
    await screenshot(page, 'season-operator');
    await page.context().close();
  }, 60_000);

  it('shows the error of a season the client may not see, and of a game opened without its season', async () => {
    const page = await consolePage(browser);
    await signIn(page, endpoints.api, clientKey);
    const other = (await fx.season(`Not granted ${STAMP}`)).seasonId;
    await page.goto(`${endpoints.api}/#/season?season=${other}`);
    await expect.poll(() => page.getByRole('alert').textContent(), WAIT).toContain('Not found');
    expect(await page.locator('section.det-group').count()).toBe(0);
    await page.getByRole('button', { name: 'Try again' }).waitFor();
    await page.goto(`${endpoints.api}/#/game?id=${ids.g1}`);
    await expect.poll(() => page.getByRole('alert').textContent(), WAIT).toContain('Open a game from the season page.');
    await expectAccessible(page);
    await page.context().close();
  }, 60_000);

  it('renders a season of 40 games × 10 det_groups in under 1 s after the data arrives', async () => {
    const page = await consolePage(browser);
    await signIn(page, endpoints.api, clientKey);
    await page.locator('section.det-group').first().waitFor();
    // a string, so the page's own module loader imports the page module (not the test runner's)
    const figures: Json = await page.evaluate(`(async () => {
      const { renderSeason } = await import('/pages/season.js');
      const totals = (k) => ({ frames: 27000, visibleFrames: 9000 + k, exposureSeconds: 1800 + k / 5, detections: 20000 + k, sumEffectiveness: 12.5 + k / 100, meanArea: 0.02, meanEffectiveness: 0.0004 });
      const buckets = 540; // a 90-minute game at 10 s
      const columns = () => {
        const c = { start: [], frames: [], visibleFrames: [], exposureSeconds: [], detections: [], meanArea: [], maxArea: [], meanEffectiveness: [], sumEffectiveness: [] };
        for (let i = 0; i < buckets; i++) {
          c.start.push(i * 10); c.frames.push(50); c.visibleFrames.push(i % 50); c.exposureSeconds.push((i % 50) / 5);
          c.detections.push(i % 70); c.meanArea.push(0.01); c.maxArea.push(0.03); c.meanEffectiveness.push(0.001); c.sumEffectiveness.push(0.05);
        }
        return c;
      };
      const detGroups = Array.from({ length: 10 }, (_, d) => ({ id: 'dg-' + d, name: 'Brand ' + d, totals: totals(d) }));
      const games = Array.from({ length: 40 }, (_, g) => ({
        id: 'game-' + g, title: 'Game ' + (g + 1), startsAt: new Date(Date.UTC(2026, 0, 1 + g * 7)).toISOString(),
        detGroups: detGroups.map((d, n) => ({ id: d.id, totals: totals(g * 10 + n), videos: [{ videoId: 'v-' + g, frameRate: 5, buckets: columns() }] })),
      }));
      const main = document.getElementById('main');
      const result = {};
      const timed = async (resolution) => {
        const metrics = { seasonId: 's', clientId: 'c', resolution, detGroups, games };
        const t0 = performance.now();
        main.replaceChildren(renderSeason(metrics, { gameHref: (g, d) => '#/game?id=' + g + '&detGroup=' + d }));
        main.getBoundingClientRect();
        await new Promise((r) => requestAnimationFrame(() => setTimeout(r)));
        return { ms: performance.now() - t0, bars: main.querySelectorAll('svg.bars rect').length, rows: main.querySelectorAll('table.per-game tbody tr').length };
      };
      for (const resolution of ['video', '10']) result[resolution] = await timed(resolution);
      // for the record: the same with every section laid out and painted, none skipped as off-screen
      const sheet = new CSSStyleSheet();
      sheet.replaceSync('.det-group { content-visibility: visible !important; }');
      document.adoptedStyleSheets = [sheet];
      result.fullLayout = await timed('10');
      document.adoptedStyleSheets = [];
      return result;
    })()`);
    console.log(`season page, 40 games × 10 det_groups: per game ${figures.video.ms.toFixed(0)} ms, at 10 s ${figures['10'].ms.toFixed(0)} ms `
      + `(render, layout and paint; ${figures.fullLayout.ms.toFixed(0)} ms at 10 s with every section laid out)`);
    for (const r of ['video', '10']) {
      expect(figures[r].bars).toBe(40 * 10 * 3);
      expect(figures[r].rows).toBe(40 * 10);
      expect(figures[r].ms).toBeLessThan(1000);
    }
    await page.context().close();
  }, 60_000);
});
