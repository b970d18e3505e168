// Season meta, season and game metrics per client: isolation between two clients on every endpoint, the
// version-1 invalidation rules (and that unrelated changes do not invalidate), version-2 fragment builds,
// ETag / 304, br and gzip. Metrics documents are written straight into MongoDB (test/support/season-fixture.ts).
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BUCKET_COLUMNS, roundForChart, totalsOf } from '../../functions/analytics/assemble.ts';
import type { Bucket } from '../../functions/analytics/rollup.ts';
import { apiClient } from '../support/api.ts';
import { SeasonFixture } from '../support/season-fixture.ts';

const endpoints = inject('endpoints');
const admin = apiClient();
const mongo = new MongoClient(endpoints.mongodb);
let fx: SeasonFixture;
const stamp = Date.now();
const SECONDS = 20;

interface Got { status: number; headers: Headers; text: string; body: any } // eslint-disable-line @typescript-eslint/no-explicit-any
async function get(key: string, path: string, headers: Record<string, string> = {}): Promise<Got> {
  const res = await fetch(`${endpoints.api}${path}`, { headers: { authorization: `Bearer ${key}`, 'accept-encoding': 'br', ...headers } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text ? JSON.parse(text) : undefined };
}

const ids = {} as Record<'season' | 'otherSeason' | 'league' | 'sport' | 'g1' | 'g2' | 'g3' | 'otherGame' | 'v1' | 'v2' | 'v3' | 'hidden' | 'a' | 'b' | 'u' | 'c1' | 'c2' | 'team', string>;
let key1: string;
let key2: string;

beforeAll(async () => {
  fx = await SeasonFixture.connect(endpoints.postgres, mongo);
  const s = await fx.season(`Cache ${stamp}`);
  Object.assign(ids, { season: s.seasonId, league: s.leagueId, sport: s.sportId });
  ids.otherSeason = (await fx.season(`Cache other ${stamp}`)).seasonId;
  ids.g1 = await fx.game(ids.season, 'G1', new Date('2026-01-01T15:00:00Z'));
  ids.g2 = await fx.game(ids.season, 'G2', new Date('2026-01-08T15:00:00Z'));
  ids.g3 = await fx.game(ids.season, 'G3', new Date('2026-01-15T15:00:00Z'));
  ids.otherGame = await fx.game(ids.otherSeason, 'Other', new Date('2026-01-01T15:00:00Z'));
  ids.v1 = await fx.video(ids.g1, 'v1', { seconds: SECONDS });
  ids.v2 = await fx.video(ids.g2, 'v2', { seconds: SECONDS });
  ids.v3 = await fx.video(ids.g3, 'v3', { seconds: SECONDS });
  ids.hidden = await fx.video(ids.g1, 'unreleased', { seconds: SECONDS, released: false });
  const otherVideo = await fx.video(ids.otherGame, 'other', { seconds: SECONDS });
  ids.a = await fx.detGroup(`A ${stamp}`);
  ids.b = await fx.detGroup(`B ${stamp}`);
  ids.u = await fx.detGroup(`Unreleased ${stamp}`, false);
  let seed = 1;
  for (const v of [ids.v1, ids.v2, ids.v3, ids.hidden, otherVideo]) for (const dg of [ids.a, ids.b, ids.u]) await fx.metrics(v, dg, { seconds: SECONDS, seed: seed++ });
  ids.c1 = await fx.client(`Cache client 1 ${stamp}`);
  ids.c2 = await fx.client(`Cache client 2 ${stamp}`);
  await fx.grant(ids.c1, { seasonId: ids.season, detGroupId: ids.a });
  await fx.grant(ids.c1, { detGroupId: ids.u });
  await fx.grant(ids.c2, { seasonId: ids.season, detGroupId: ids.b });
  await fx.grant(ids.c2, { seasonId: ids.otherSeason });
  key1 = await fx.clientKey(ids.c1);
  key2 = await fx.clientKey(ids.c2);
  ids.team = (await admin('POST', '/v1/teams', { name: `Team ${stamp}`, leagueId: ids.league })).body.id;
});
afterAll(async () => {
  await fx?.close();
  await mongo.close();
});

const seasonMetrics = (key: string, res = '10', extra = '') => get(key, `/v1/seasons/${ids.season}/metrics?resolution=${res}${extra}`);

describe('isolation between two clients', () => {
  it('client 1 never receives det_group B, the unreleased det_group or video, or a season it was not granted', async () => {
    const forbidden1 = [ids.b, ids.u, ids.hidden, ids.otherSeason, ids.otherGame];
    const forbidden2 = [ids.a, ids.u, ids.hidden];
    const responses1 = [
      await get(key1, `/v1/seasons/${ids.season}/meta`),
      await seasonMetrics(key1),
      await seasonMetrics(key1, 'video', `&client=${ids.c2}`), // a client key cannot ask for another client's view
      await get(key1, `/v1/games/${ids.g1}/metrics?resolution=1`),
    ];
    for (const r of responses1) {
      expect(r.status).toBe(200);
      for (const id of forbidden1) expect(r.text).not.toContain(id);
    }
    expect(responses1[1]!.body.detGroups.map((d: { id: string }) => d.id)).toEqual([ids.a]);
    expect(responses1[2]!.body.clientId).toBe(ids.c1);
    for (const path of [`/v1/seasons/${ids.otherSeason}/meta`, `/v1/seasons/${ids.otherSeason}/metrics`, `/v1/games/${ids.otherGame}/metrics`]) {
      const r = await get(key1, path);
      expect(r.status, path).toBe(404);
      expect(r.text).not.toContain('detGroups');
    }
    const responses2 = [await get(key2, `/v1/seasons/${ids.season}/meta`), await seasonMetrics(key2), await get(key2, `/v1/games/${ids.g2}/metrics`)];
    for (const r of responses2) {
      expect(r.status).toBe(200);
      for (const id of forbidden2) expect(r.text).not.toContain(id);
    }
    expect(responses2[1]!.body.detGroups.map((d: { id: string }) => d.id)).toEqual([ids.b]);
    expect((await get(key2, `/v1/seasons/${ids.otherSeason}/meta`)).status).toBe(200);
    // The admin sees a client's view with ?client=, everything without; metrics need a client.
    const adminKey = inject('adminApiKey');
    const asC1 = await seasonMetrics(adminKey, '10', `&client=${ids.c1}`);
    expect(asC1.body.detGroups.map((d: { id: string }) => d.id)).toEqual([ids.a]);
    expect((await seasonMetrics(adminKey)).status).toBe(400);
    expect((await get(adminKey, `/v1/seasons/${ids.season}/meta`)).text).toContain(ids.hidden);
    expect((await get(adminKey, `/v1/seasons/${ids.season}/meta?client=${ids.c1}`)).text).not.toContain(ids.hidden);
  });

  it('season totals are the sums and frame-weighted means of the games', async () => {
    const r = await seasonMetrics(key1, '60');
    const [dg] = r.body.detGroups;
    type Entry = { id: string; videos: { videoId: string; buckets: Record<string, number[]> }[] };
    const perGame = (r.body.games as { id: string; detGroups: Entry[] }[]).flatMap((g) => g.detGroups.filter((d) => d.id === dg.id).map((entry) => ({ gameId: g.id, entry })));
    expect(perGame.map((g) => g.gameId)).toEqual([ids.g1, ids.g2, ids.g3]);
    expect(dg.totals.frames).toBe(3 * SECONDS * 5);
    // from the per-video rollups at full precision
    const videoIds = perGame.flatMap((g) => g.entry.videos.map((v) => v.videoId));
    const perVideo = await Promise.all(videoIds.map((v) => get(key1, `/v1/videos/${v}/metrics?detGroup=${dg.id}&resolution=60`)));
    const buckets: Bucket[] = perVideo.flatMap((r) => r.body.buckets);
    const expected = totalsOf(buckets);
    for (const [k, v] of Object.entries(expected)) expect(dg.totals[k], k).toBeCloseTo(v, 9);
    // the season response's columns are the same buckets, rounded
    const columns = perGame.flatMap((g) => g.entry.videos.map((v) => v.buckets));
    for (const c of BUCKET_COLUMNS) expect(columns.flatMap((col) => col[c]), c).toEqual(buckets.map((b) => roundForChart(b[c])));
  });
});

describe('version 1: keys from timestamps', () => {
  const path = () => `/v1/seasons/${ids.season}/metrics?resolution=60`;
  const state = async (key = key1, p = path()) => (await get(key, p)).headers.get('x-cache');

  it('a repeated request is a hit; unrelated changes do not invalidate', async () => {
    await state();
    expect(await state()).toBe('hit');
    await fx.db.query('UPDATE game SET title = $2 WHERE id = $1', [ids.otherGame, 'Other renamed']); // another season
    await fx.db.query('INSERT INTO client_det_group (client_id, det_group_id) VALUES ($1, $2)', [ids.c2, ids.u]); // another client
    await fx.db.query('UPDATE team SET name = $2 WHERE id = $1', [ids.team, `Team renamed ${stamp}`]);
    await fx.metrics(ids.v1, ids.b, { seconds: SECONDS, seed: 99 }); // a document alone changes no version
    expect(await state()).toBe('hit');
  });

  it('a change of the season\'s games, videos, events or game teams invalidates season meta and metrics', async () => {
    const meta = `/v1/seasons/${ids.season}/meta`;
    await state(key1, meta);
    expect(await state(key1, meta)).toBe('hit');
    const eventType = await admin('POST', '/v1/event-types', { sportId: ids.sport, name: `Goal ${stamp}`, weight: 2, windowSeconds: 1 });
    expect((await admin('POST', '/v1/events', { gameId: ids.g2, eventTypeId: eventType.body.id, time: 3 })).status).toBe(201);
    expect(await state(key1, meta)).toBe('miss');
    expect(await state()).toBe('miss');
    expect(await state()).toBe('hit');
    expect((await admin('PUT', `/v1/games/${ids.g1}/teams/${ids.team}`, { side: 'home' })).status).toBeLessThan(300);
    expect(await state(key1, meta)).toBe('miss');
    expect(await state()).toBe('miss');
    await fx.db.query('UPDATE game SET title = $2 WHERE id = $1', [ids.g3, 'G3 renamed']);
    expect(await state()).toBe('miss');
    await fx.db.query('UPDATE video SET title = $2 WHERE id = $1', [ids.hidden, 'still unreleased']);
    expect(await state()).toBe('miss');
    expect(await state()).toBe('hit');
  });

  it('a team rename does not touch the season: POST /v1/cache/touch-seasons does', async () => {
    const meta = `/v1/seasons/${ids.season}/meta`;
    await state(key1, meta);
    await fx.db.query('UPDATE team SET name = $2 WHERE id = $1', [ids.team, `Team again ${stamp}`]);
    expect(await state(key1, meta)).toBe('hit');
    expect((await apiClient(key1)('POST', '/v1/cache/touch-seasons', { teamId: ids.team })).status).toBe(403);
    expect((await admin('POST', '/v1/cache/touch-seasons', {})).status).toBe(400);
    const touched = await admin('POST', '/v1/cache/touch-seasons', { teamId: ids.team });
    expect(touched.body.seasonIds).toEqual([ids.season]);
    const r = await get(key1, meta);
    expect(r.headers.get('x-cache')).toBe('miss');
    expect(r.text).toContain(`Team again ${stamp}`);
    expect((await admin('POST', '/v1/cache/touch-seasons', { leagueId: ids.league })).body.seasonIds).toEqual([ids.season]);
  });

  it('granting a detectable or det_group, or changing a det_group the client holds, invalidates its metrics only', async () => {
    await state();
    await state(key2);
    expect(await state()).toBe('hit');
    const detectable = await admin('POST', '/v1/detectables', { name: `Cache detectable ${stamp}` });
    expect((await admin('PUT', `/v1/clients/${ids.c1}/detectables/${detectable.body.id}`)).status).toBeLessThan(300);
    expect(await state()).toBe('miss');
    expect(await state(key2)).toBe('hit');
    await fx.db.query('UPDATE det_group SET name = $2 WHERE id = $1', [ids.a, `A renamed ${stamp}`]);
    expect(await state()).toBe('miss');
    expect(await state(key2)).toBe('hit');
  });
});

describe('version 2: game sections of fragments per {video, det_group, resolution}', () => {
  it('releasing one new video builds only its game\'s section and its fragments; adding a det_group only that det_group\'s fragments', async () => {
    const game = `/v1/games/${ids.g3}/metrics?resolution=1`;
    await seasonMetrics(key1, '1');
    const v4 = await fx.video(ids.g3, 'v4', { seconds: SECONDS, released: false });
    await fx.metrics(v4, ids.a, { seconds: SECONDS, seed: 500 });
    expect((await admin('POST', `/v1/videos/${v4}/release`)).status).toBe(200);
    const afterRelease = await seasonMetrics(key1, '1');
    expect(afterRelease.headers.get('x-cache')).toBe('miss');
    expect(afterRelease.headers.get('x-cache-sections-built')).toBe('1'); // G3
    expect(afterRelease.headers.get('x-cache-sections-cached')).toBe('2'); // G1, G2
    expect(afterRelease.headers.get('x-cache-fragments-built')).toBe('1'); // v4 x A
    expect(afterRelease.headers.get('x-cache-fragments-cached')).toBe('1'); // v3 x A
    expect(afterRelease.text).toContain(v4);
    await get(key1, game);

    const d = await fx.detGroup(`D ${stamp}`);
    let seed = 700;
    for (const v of [ids.v1, ids.v2, ids.v3, v4]) await fx.metrics(v, d, { seconds: SECONDS, seed: seed++ });
    expect((await admin('PUT', `/v1/clients/${ids.c1}/det-groups/${d}`)).status).toBe(200);
    const afterGrant = await seasonMetrics(key1, '1');
    expect(afterGrant.headers.get('x-cache')).toBe('miss');
    expect(afterGrant.headers.get('x-cache-sections-built')).toBe('3'); // every game shows D now
    expect(afterGrant.headers.get('x-cache-fragments-built')).toBe('4'); // D x 4 videos
    expect(afterGrant.headers.get('x-cache-fragments-cached')).toBe('4'); // A x 4 videos
    expect(afterGrant.body.detGroups.map((g: { id: string }) => g.id).sort()).toEqual([ids.a, d].sort());
    // The game endpoint shares the season's section of the game: nothing is built, no fragment is read.
    const g = await get(key1, game);
    expect(g.headers.get('x-cache')).toBe('miss');
    expect(g.headers.get('x-cache-sections-built')).toBe('0');
    expect(g.headers.get('x-cache-sections-cached')).toBe('1');
    expect(g.headers.get('x-cache-fragments-built')).toBe('0');
    expect(g.body.games.map((x: { id: string }) => x.id)).toEqual([ids.g3]);
  });
});

describe('HTTP: ETag, 304, content coding', () => {
  it('answers If-None-Match with 304 and no body; br, gzip and identity carry the same payload', async () => {
    const br = await seasonMetrics(key1, 'video');
    expect(br.headers.get('content-encoding')).toBe('br');
    const etag = br.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]+-br"$/);
    const notModified = await get(key1, `/v1/seasons/${ids.season}/metrics?resolution=video`, { 'if-none-match': etag });
    expect(notModified.status).toBe(304);
    expect(notModified.text).toBe('');
    expect(notModified.headers.get('etag')).toBe(etag);
    const gzip = await get(key1, `/v1/seasons/${ids.season}/metrics?resolution=video`, { 'accept-encoding': 'gzip' });
    expect(gzip.headers.get('content-encoding')).toBe('gzip');
    expect(gzip.body).toEqual(br.body);
    const plain = await get(key1, `/v1/seasons/${ids.season}/metrics?resolution=video`, { 'accept-encoding': 'identity' });
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(plain.body).toEqual(br.body);
    expect(plain.headers.get('etag')).toBe(etag.replace('-br"', '"'));
    // Another client's ETag for the same season is not this client's payload.
    const other = await get(key2, `/v1/seasons/${ids.season}/metrics?resolution=video`, { 'if-none-match': etag });
    expect(other.status).toBe(200);
  });

  it('makes the brotli form of a gzip-stored response once, for clients that accept only br', async () => {
    const path = `/v1/games/${ids.g2}/metrics?resolution=10`;
    const gzip = await get(key2, path, { 'accept-encoding': 'gzip' });
    expect(gzip.headers.get('content-encoding')).toBe('gzip');
    expect(gzip.headers.get('x-cache-transcoded')).toBeNull();
    const first = await get(key2, path);
    expect(first.headers.get('content-encoding')).toBe('br');
    expect(first.headers.get('x-cache')).toBe('hit');
    expect(first.headers.get('x-cache-transcoded')).toBe('built');
    const second = await get(key2, path);
    expect(second.headers.get('x-cache-transcoded')).toBe('cached');
    expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(second.headers.get('etag')).toBe(gzip.headers.get('etag')!.replace('-gzip"', '-br"'));
    expect(first.body).toEqual(gzip.body);
    expect(second.body).toEqual(gzip.body);
    // Concurrent first requests: an instance compresses at most once (its concurrent requests share it), as many
    // instances as the burst reaches may each do so, all answer the same bytes, and afterwards every one is cached.
    const other = `/v1/games/${ids.g1}/metrics?resolution=10`;
    expect((await get(key2, other, { 'accept-encoding': 'gzip' })).status).toBe(200);
    const burst = await Promise.all(Array.from({ length: 6 }, () => get(key2, other)));
    const transcoded = burst.map((r) => r.headers.get('x-cache-transcoded'));
    expect(transcoded).toContain('built');
    expect(transcoded.every((t) => t === 'built' || t === 'cached')).toBe(true);
    expect(new Set(burst.map((r) => r.text)).size).toBe(1);
    expect((await get(key2, other)).headers.get('x-cache-transcoded')).toBe('cached');
  });
});
