// The console's catalog page in Debian's chromium against the shared local cloud: a small catalog made through the
// API (a season with a game and its video; a client holding one of three det_groups) shows as the API lists it; an
// admin grants a det_group, revokes it, replaces one by another and grants a new one of detectables it picks through
// the page, and the API then lists the client's det_groups accordingly (revoking by keyboard, the confirmation taking
// the focus); a change the API refuses is said so and the list shows what is true; an analyst sees the same rows
// without any control that changes them.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { apiClient } from '../support/api.ts';
import { launchBrowser } from '../support/browser.ts';
import { consolePage, expectAccessible, screenshot, signIn } from '../support/console.ts';

const endpoints = inject('endpoints');
const adminKey = inject('adminApiKey');
const api = apiClient();
const WAIT = { timeout: 20_000 };
const STAMP = `${Date.now().toString(36)}${process.pid}`;
const n = (name: string) => `${name} ${STAMP}`;

let browser: Browser;
const ids = { client: '', season: '', game: '', video: '', delta: '' };
const groups: Record<'one' | 'two' | 'three', { id: string; name: string }> = {} as never;

async function created(method: string, path: string, body: unknown): Promise<string> {
  const res = await api(method, path, body);
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(201);
  return res.body.id;
}

const detGroupsOf = async (clientId: string): Promise<string[]> => {
  const res = await api('GET', `/v1/clients/${clientId}/det-groups`);
  expect(res.status).toBe(200);
  return res.body.items.map((i: { detGroupId: string }) => i.detGroupId).sort();
};

beforeAll(async () => {
  const launched = launchBrowser();
  const org = await created('POST', '/v1/organizations', { name: n('Catalog page org') });
  ids.client = await created('POST', '/v1/clients', { organizationId: org, name: n('Catalog page client') });
  const sport = await created('POST', '/v1/sports', { name: n('Catalog page sport') });
  const league = await created('POST', '/v1/leagues', { sportId: sport, name: n('Catalog league') });
  ids.season = await created('POST', '/v1/seasons', { leagueId: league, name: '2026' });
  ids.game = await created('POST', '/v1/games', { seasonId: ids.season, title: n('Home v Away'), startsAt: '2026-11-21T15:00:00Z' });
  ids.video = await created('POST', '/v1/videos', { gameId: ids.game, title: n('main camera') });
  for (const [key, logo] of [['one', 'Alpha'], ['two', 'Beta'], ['three', 'Gamma']] as const) {
    const detectable = await created('POST', '/v1/detectables', { name: n(logo) });
    const name = n(`${logo} group`);
    groups[key] = { id: await created('POST', '/v1/det-groups', { name, detectableIds: [detectable] }), name };
  }
  ids.delta = await created('POST', '/v1/detectables', { name: n('Delta') });
  expect((await api('POST', `/v1/clients/${ids.client}/det-groups`, { detGroupId: groups.one.id })).status).toBe(201);
  browser = await launched;
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

async function openCatalog(key: string, route = `#/catalog?season=${ids.season}&client=${ids.client}`): Promise<Page> {
  const page = await consolePage(browser);
  await signIn(page, endpoints.api, key);
  await page.goto(`${endpoints.api}/${route}`);
  return page;
}

/** The client's row of a det_group, by its id (its name is also among the options of other rows' forms). */
const heldRow = (page: Page, group: { id: string }) => page.locator('tbody tr').filter({ has: page.locator('code', { hasText: group.id }) });

describe('the catalog page', () => {
  it('shows the season, game, video and det_groups as the API lists them; an admin grants, revokes and replaces', async () => {
    // the season and the client are picked with the page's forms, which put them in the route
    const page = await openCatalog(adminKey, '#/catalog');
    await page.getByLabel('Season', { exact: true }).selectOption(ids.season);
    await page.getByRole('form', { name: 'Pick a season' }).getByRole('button', { name: 'Show' }).click();
    await expect.poll(() => page.url(), WAIT).toContain(`season=${ids.season}`);
    await page.getByLabel('Client', { exact: true }).selectOption(ids.client);
    await page.getByRole('form', { name: 'Pick a client' }).getByRole('button', { name: 'Show' }).click();
    await expect.poll(() => page.url(), WAIT).toContain(`client=${ids.client}`);
    expect(page.url()).toContain(`season=${ids.season}`);
    const video = (await api('GET', `/v1/videos/${ids.video}`)).body;
    const gameRow = page.getByRole('row').filter({ hasText: n('Home v Away') });
    await gameRow.waitFor(WAIT);
    expect(await gameRow.textContent()).toContain(`${n('main camera')} ${video.status}`);
    expect(await page.getByLabel('Season', { exact: true }).inputValue()).toBe(ids.season);
    expect(await page.getByLabel('Client', { exact: true }).inputValue()).toBe(ids.client);
    await heldRow(page, groups.one).waitFor(WAIT);
    expect(await heldRow(page, groups.one).textContent()).toContain(n('Alpha'));
    expect(await page.locator('tbody tr').filter({ has: page.locator('code') }).count()).toBe(1);
    await expectAccessible(page);
    await screenshot(page, 'catalog');

    // grant: the form offers the det_groups the client does not hold
    await page.getByLabel('Grant det_group').selectOption(groups.two.id);
    await page.getByRole('button', { name: 'Grant', exact: true }).click();
    await page.getByRole('status').filter({ hasText: `Granted ${groups.two.name}` }).waitFor(WAIT);
    expect(await detGroupsOf(ids.client)).toEqual([groups.one.id, groups.two.id].sort());
    await heldRow(page, groups.two).waitFor(WAIT);

    // revoke, once confirmed, by keyboard (the confirmation takes the focus): no other client holds it, so it is deleted
    await page.getByRole('button', { name: `Revoke ${groups.two.name}` }).focus();
    await page.keyboard.press('Enter');
    const confirm = page.getByRole('button', { name: `Confirm revoking ${groups.two.name}` });
    await expect.poll(() => confirm.evaluate((b) => b === (b.ownerDocument as { activeElement: unknown }).activeElement), WAIT).toBe(true);
    await page.keyboard.press('Enter');
    await page.getByRole('status').filter({ hasText: `Revoked ${groups.two.name}` }).waitFor(WAIT);
    expect(await detGroupsOf(ids.client)).toEqual([groups.one.id]);
    expect((await api('GET', `/v1/det-groups/${groups.two.id}`)).status).toBe(404);
    await expect.poll(() => heldRow(page, groups.two).count(), WAIT).toBe(0);

    // replace one by another
    await heldRow(page, groups.one).getByLabel('Replace by').selectOption(groups.three.id);
    await heldRow(page, groups.one).getByRole('button', { name: 'Replace', exact: true }).click();
    await page.getByRole('status').filter({ hasText: `Replaced ${groups.one.name} by ${groups.three.name}` }).waitFor(WAIT);
    expect(await detGroupsOf(ids.client)).toEqual([groups.three.id]);
    expect((await api('GET', `/v1/det-groups/${groups.one.id}`)).status).toBe(404); // no other client held it
    await heldRow(page, groups.three).waitFor(WAIT);
    await expect.poll(() => heldRow(page, groups.one).count(), WAIT).toBe(0);
    await expectAccessible(page);
    await screenshot(page, 'catalog-replaced');

    // a new det_group of detectables picked on the page, created and granted
    await page.getByLabel('New det_group', { exact: true }).fill(n('Delta and Beta'));
    await page.getByLabel('Of detectables').selectOption([{ label: n('Delta') }, { label: n('Beta') }]);
    await page.getByRole('button', { name: 'Create and grant' }).click();
    await page.getByRole('status').filter({ hasText: `Granted ${n('Delta and Beta')}` }).waitFor(WAIT);
    const grantedNow = await detGroupsOf(ids.client);
    expect(grantedNow).toHaveLength(2);
    const fresh = (await api('GET', `/v1/det-groups/${grantedNow.find((id) => id !== groups.three.id)}`)).body;
    expect(fresh.name).toBe(n('Delta and Beta'));
    expect(fresh.detectableIds).toContain(ids.delta);
    expect(fresh.detectableIds).toHaveLength(2);
    await heldRow(page, fresh).waitFor(WAIT);
    expect(await heldRow(page, fresh).textContent()).toContain(n('Beta'));
    // revoked again at once, so the rest of the test sees the client as before
    expect((await api('DELETE', `/v1/clients/${ids.client}/det-groups/${fresh.id}`)).status).toBe(200);

    // a change the API refuses (revoked meanwhile by someone else) says so, and the list shows what is now true
    expect((await api('DELETE', `/v1/clients/${ids.client}/det-groups/${groups.three.id}`)).status).toBe(200);
    await heldRow(page, groups.three).getByRole('button', { name: `Revoke ${groups.three.name}` }).click();
    await page.getByRole('button', { name: `Confirm revoking ${groups.three.name}` }).click();
    await page.getByRole('status').filter({ hasText: `Revoking ${groups.three.name} failed` }).waitFor(WAIT);
    expect(await page.getByRole('status').filter({ hasText: 'failed' }).textContent()).toMatch(/\(NotFound\)/);
    await expect.poll(() => heldRow(page, groups.three).count(), WAIT).toBe(0);
    expect(await page.getByText(`${n('Catalog page client')} holds no det_group.`).count()).toBe(1);
    await page.context().close();
  }, 60_000);

  it('an analyst sees the same rows and no control that changes them', async () => {
    const again = await created('POST', '/v1/det-groups', { name: n('Delta group'), detectableIds: [ids.delta] });
    expect((await api('PUT', `/v1/clients/${ids.client}/det-groups/${again}`)).status).toBe(200);
    const key = await api('POST', '/v1/api-keys', { name: n('catalog analyst'), role: 'analyst' });
    expect(key.status).toBe(201);
    const page = await openCatalog(key.body.key);
    const held = await detGroupsOf(ids.client);
    expect(held.length).toBeGreaterThan(0);
    for (const id of held) await heldRow(page, { id }).waitFor(WAIT);
    expect(await page.locator('tbody tr').filter({ has: page.locator('code') }).count()).toBe(held.length);
    await page.getByRole('row').filter({ hasText: n('Home v Away') }).waitFor(WAIT);
    // only the pickers' buttons, which change nothing
    expect(await page.locator('main button').allTextContents()).toEqual(['Show', 'Show']);
    expect(await page.getByLabel(/Grant|Replace/).count()).toBe(0);
    expect(await page.getByRole('columnheader', { name: 'Actions' }).count()).toBe(0);
    await expectAccessible(page);
    await page.context().close();
  }, 60_000);
});
