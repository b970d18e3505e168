// GET /v1/docs renders the API reference in a real browser (Debian's chromium), from the local cloud's own
// OpenAPI document and assets: every operation of the topology is listed on the page.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { httpRoutes } from '../../infra/topology.ts';
import { launchBrowser } from '../support/browser.ts';

const api = inject('endpoints').api;
let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
}, 600_000);

afterAll(async () => {
  await browser?.close();
});

describe('the API reference page', () => {
  it('lists every route of the topology, with no request leaving the local cloud', async () => {
    const page = await browser.newPage();
    const elsewhere: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(api)) elsewhere.push(r.url());
    });
    const failed: string[] = [];
    page.on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
    });
    const res = await page.goto(`${api}/v1/docs`);
    expect(res?.status()).toBe(200);
    const operations = page.locator('.opblock-summary');
    await operations.first().waitFor({ timeout: 60_000 });
    const listed = await page.$$eval('.opblock-summary', (els) =>
      els.map((e) => `${e.querySelector('.opblock-summary-method')?.textContent?.trim()} ${e.querySelector('.opblock-summary-path')?.getAttribute('data-path')}`));
    expect(listed.sort()).toEqual(httpRoutes().map((r) => `${r.method} ${r.path}`).sort());
    expect(await page.title()).toBe('Framewise API reference');
    expect(elsewhere).toEqual([]);
    expect(failed).toEqual([]);
    await page.close();
  });

  it('serves its assets compressed and cacheable, and nothing it does not list', async () => {
    const js = await fetch(`${api}/v1/docs/swagger-ui-bundle.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(js.status).toBe(200);
    expect(js.headers.get('content-encoding')).toBe('gzip');
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect((await js.text()).length).toBeGreaterThan(100_000); // fetch decompresses
    expect((await fetch(`${api}/v1/docs/package.json`)).status).toBe(400);
    expect((await fetch(`${api}/v1/docs/..%2F..%2Fpackage.json`)).status).toBe(400);
  });
});
