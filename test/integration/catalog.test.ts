// The catalog API over HTTP on the shared local cloud, as its users call it: the catalog function (catalog-api)
// and the det_group writes it hands to detgroups-api, with real PostgreSQL, S3 and the ingest behind them.
// Direct SQL only checks what the API cannot show (updated_at of the touch rules, stored key hashes) or plays
// another part of the system (an ingest writing a video row). The cloud is shared with other test files:
// every name carries this file's stamp, and "changing nothing" is checked on the rows this file owns.
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { hashApiKey } from '../../functions/lib/auth.ts';
import * as s from '../../functions/catalog/schemas.ts';
import { eventually } from '../support/api.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
interface Res { status: number; body: Json }

const endpoints = inject('endpoints');
const adminKey = inject('adminApiKey');
const STAMP = String(Date.now());
/** A name unique to this run of this file. */
const n = (name: string) => `${name} ${STAMP}`;

const pool = new pg.Pool({ connectionString: endpoints.postgres, max: 2 });
const query = async <T extends pg.QueryResultRow = Json>(text: string, values: unknown[] = []): Promise<T[]> => (await pool.query<T>(text, values)).rows;
const s3 = new S3Client({ endpoint: endpoints.s3, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 't', secretAccessKey: 't' } });
const BUCKET = 'framewise-media';

afterAll(async () => {
  s3.destroy();
  await pool.end();
});

/**
 * Calls a route over HTTP: `call('GET /v1/seasons/{id}', { params: { id } })`. `key` undefined is the admin's
 * key, null sends no Authorization header; a string body is sent as it is, anything else as JSON.
 */
async function call(
  routeKey: string,
  opts: { key?: string | null; params?: Record<string, string>; query?: Record<string, string>; body?: unknown } = {},
): Promise<Res> {
  const [method, pattern] = routeKey.split(' ') as [string, string];
  const path = pattern.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = opts.params?.[name];
    if (value === undefined) throw new Error(`call: no value for {${name}} in ${routeKey}`);
    return encodeURIComponent(value);
  });
  const qs = new URLSearchParams(opts.query ?? {}).toString();
  const key = opts.key === undefined ? adminKey : opts.key;
  const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  const res = await fetch(`${endpoints.api}${path}${qs ? `?${qs}` : ''}`, {
    method,
    headers: { ...(key && { authorization: `Bearer ${key}` }), ...(body !== undefined && { 'content-type': 'application/json' }) },
    body,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const created = async (routeKey: string, body: unknown, key?: string): Promise<Json> => {
  const res = await call(routeKey, { body, key });
  expect(res.status, `${routeKey} ${JSON.stringify(res.body)}`).toBe(201);
  return res.body;
};

/**
 * Row counts and newest updated_at of every catalog table, over the rows this file owns: those named with
 * its stamp and those that hang off them. Equal before and after = nothing of ours changed.
 */
async function snapshot(): Promise<Record<string, string>> {
  const mine: Record<string, string> = {
    organization: 'name ILIKE $1',
    client: 'name ILIKE $1 OR organization_id IN (SELECT id FROM orgs)',
    detectable: 'name ILIKE $1',
    client_detectable: 'client_id IN (SELECT id FROM clients) OR detectable_id IN (SELECT id FROM dets)',
    det_group: 'id IN (SELECT id FROM groups)',
    det_group_detectable: 'det_group_id IN (SELECT id FROM groups) OR detectable_id IN (SELECT id FROM dets)',
    client_det_group: 'client_id IN (SELECT id FROM clients) OR det_group_id IN (SELECT id FROM groups)',
    sport: 'id IN (SELECT id FROM sports)',
    event_type: 'name ILIKE $1 OR sport_id IN (SELECT id FROM sports)',
    league: 'name ILIKE $1 OR sport_id IN (SELECT id FROM sports)',
    team: 'name ILIKE $1 OR sport_id IN (SELECT id FROM sports) OR league_id IN (SELECT id FROM leagues)',
    season: 'id IN (SELECT id FROM seasons)',
    client_season: 'client_id IN (SELECT id FROM clients) OR season_id IN (SELECT id FROM seasons)',
    game: 'id IN (SELECT id FROM games)',
    game_team: 'game_id IN (SELECT id FROM games)',
    event: 'game_id IN (SELECT id FROM games)',
    video: 'game_id IN (SELECT id FROM games)',
    api_keys: 'name ILIKE $1 OR client_id IN (SELECT id FROM clients)',
  };
  const cols = Object.entries(mine).map(
    ([t, where]) => `(SELECT count(*) || '@' || coalesce(max(updated_at)::text, '-') FROM ${t} WHERE ${where}) AS ${t}`,
  );
  const rows = await query<Record<string, string>>(
    `WITH orgs AS (SELECT id FROM organization WHERE name ILIKE $1),
          clients AS (SELECT id FROM client WHERE name ILIKE $1 OR organization_id IN (SELECT id FROM orgs)),
          dets AS (SELECT id FROM detectable WHERE name ILIKE $1),
          groups AS (SELECT id FROM det_group WHERE name ILIKE $1 OR organization_id IN (SELECT id FROM orgs)
                     UNION SELECT det_group_id FROM det_group_detectable WHERE detectable_id IN (SELECT id FROM dets)),
          sports AS (SELECT id FROM sport WHERE name ILIKE $1),
          leagues AS (SELECT id FROM league WHERE sport_id IN (SELECT id FROM sports)),
          seasons AS (SELECT id FROM season WHERE name ILIKE $1 OR league_id IN (SELECT id FROM leagues)),
          games AS (SELECT id FROM game WHERE title ILIKE $1 OR season_id IN (SELECT id FROM seasons))
     SELECT ${cols.join(', ')}`,
    [`%${STAMP}%`],
  );
  return rows[0]!;
}

async function expectNoChange(what: () => Promise<unknown>): Promise<void> {
  const before = await snapshot();
  await what();
  expect(await snapshot()).toEqual(before);
}

type Touchable = 'season' | 'client' | 'det_group';
const stamp = async (table: Touchable, id: string): Promise<string> =>
  (await query<{ t: string }>(`SELECT updated_at::text AS t FROM ${table} WHERE id = $1`, [id]))[0]!.t;
const tick = () => new Promise((r) => setTimeout(r, 2));

/** Asserts that `action` moves (or keeps) the updated_at of the given row. */
async function expectTouch(table: Touchable, id: string, touched: boolean, action: () => Promise<unknown>) {
  const before = await stamp(table, id);
  await tick();
  await action();
  const after = await stamp(table, id);
  if (touched) expect(after > before, `${table} ${id} should be touched`).toBe(true);
  else expect(after, `${table} ${id} should not be touched`).toBe(before);
}

const objectSize = async (key: string): Promise<number | undefined> => {
  try {
    return (await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).ContentLength;
  } catch (err) {
    if ((err as { name?: string }).name === 'NotFound') return undefined;
    throw err;
  }
};

beforeAll(async () => {
  // the admin key of the local cloud works
  expect((await call('GET /v1/me')).status).toBe(200);
});

describe('catalog API over HTTP', () => {
  // the catalog built up by the tests below
  const ids: Record<string, string> = {};

  it('serves the OpenAPI document without a key', async () => {
    const res = await call('GET /v1/openapi.json', { key: null });
    expect(res.status).toBe(200);
    const doc = res.body;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.paths['/v1/seasons/{id}'].get).toBeDefined();
    // the whole API: det_group writes (detgroups-api), jobs, metrics and materialization are documented too
    expect(doc.paths['/v1/det-groups/{id}'].patch).toBeDefined();
    expect(doc.paths['/v1/det-groups'].post.summary).toMatch(/compute/);
    for (const path of ['/v1/jobs', '/v1/seasons/{id}/metrics', '/v1/materialize/{datastack}/versions']) expect(doc.paths[path]?.get, path).toBeDefined();
    expect(doc.components.schemas.DetGroupPatch.properties.detectableIds).toBeUndefined();
    expect(doc.components.schemas.VideoPatch.properties.releasedAt).toBeUndefined();
  });

  it('wants a valid key everywhere else (401) and tells a key who it is', async () => {
    expect((await call('GET /v1/sports', { key: null })).status).toBe(401);
    const bad = await call('GET /v1/sports', { key: 'fw_not-a-real-key' });
    expect(bad.status).toBe(401);
    expect(bad.body.error).toMatchObject({ code: 'Unauthorized' });
    expect((await call('POST /v1/det-groups', { key: null, body: { name: n('x'), detectableIds: [crypto.randomUUID()] } })).status).toBe(401);
    const me = await call('GET /v1/me');
    expect(me.body).toMatchObject({ role: 'admin', clientId: null });
  });

  it('creates, reads, lists, updates every entity (responses match the documented schemas)', async () => {
    type Case = [string, () => unknown, () => unknown, (() => Record<string, string>) | undefined, { parse: (v: unknown) => unknown }];
    const cases: Case[] = [
      ['organizations', () => ({ name: n('Acme Media') }), () => ({ name: n('Acme Media Group') }), undefined, s.Organization],
      ['clients', () => ({ organizationId: ids.organizations, name: n('Acme Drinks') }), () => ({ name: n('Acme Beverages') }), () => ({ organizationId: ids.organizations! }), s.Client],
      ['detectables', () => ({ name: n('Fizz Cola'), description: 'red logo' }), () => ({ description: null }), undefined, s.Detectable],
      ['det-groups', () => ({ name: n('Soft drinks'), organizationId: ids.organizations, detectableIds: [ids.detectables] }), () => ({ name: n('Drinks') }), () => ({ organizationId: ids.organizations! }), s.DetGroup],
      ['sports', () => ({ name: n('Football') }), () => ({ name: n('Association football') }), undefined, s.Sport],
      ['event-types', () => ({ sportId: ids.sports, name: 'Goal', windowSeconds: 15 }), () => ({ weight: 2.5 }), () => ({ sportId: ids.sports! }), s.EventType],
      ['leagues', () => ({ sportId: ids.sports, name: 'Premier' }), () => ({ name: 'Premier League' }), () => ({ sportId: ids.sports! }), s.League],
      ['teams', () => ({ name: n('Reds'), leagueId: ids.leagues }), () => ({ sportId: ids.sports }), () => ({ leagueId: ids.leagues! }), s.Team],
      ['seasons', () => ({ leagueId: ids.leagues, name: '2025/26', startsOn: '2025-08-01', endsOn: '2026-05-31' }), () => ({ endsOn: '2026-06-07' }), () => ({ leagueId: ids.leagues! }), s.Season],
      ['games', () => ({ seasonId: ids.seasons, startsAt: '2025-08-16T16:30:00+01:00', title: 'Reds v Blues' }), () => ({ title: 'Reds vs Blues' }), () => ({ seasonId: ids.seasons! }), s.Game],
      ['events', () => ({ gameId: ids.games, eventTypeId: ids['event-types'], time: 1234.5 }), () => ({ time: 1240 }), () => ({ gameId: ids.games! }), s.Event],
      ['videos', () => ({ gameId: ids.games, title: 'Full match' }), () => ({ title: 'Full match (HD)' }), () => ({ gameId: ids.games! }), s.Video],
    ];
    // timestamps come back normalized to UTC (checked below), everything else as sent
    const comparable = (body: unknown) => Object.fromEntries(Object.entries(body as object).filter(([k]) => k !== 'startsAt'));
    for (const [path, createBody, patchBody, filter, schema] of cases) {
      const res = await call(`POST /v1/${path}`, { body: createBody() });
      expect(res.status, `${path} ${JSON.stringify(res.body)}`).toBe(201);
      // detgroups-api creates det_groups: it answers with the det_group and whether its computation was requested
      const made = path === 'det-groups' ? (await call('GET /v1/det-groups/{id}', { params: { id: res.body.id } })).body : res.body;
      if (path === 'det-groups') expect(res.body).toEqual({ id: made.id, name: made.name, detectableIds: made.detectableIds, jobRequested: true });
      schema.parse(made);
      expect(made).toMatchObject(comparable(createBody()));
      ids[path] = made.id;

      const got = await call(`GET /v1/${path}/{id}`, { params: { id: made.id } });
      expect(got).toEqual({ status: 200, body: made });

      const list = await call(`GET /v1/${path}`, { query: { limit: '500', ...filter?.() } });
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
    expect(video).toMatchObject({
      status: 'created', s3Key: null, sizeBytes: null, releasedAt: null,
      // the ingest's columns (migration 0002): the defaults until an upload or an ingest sets them
      ingestFrameRate: 5, ingestThreshold: 0.5, localizationsKey: null, frameCount: null, ingestedAt: null,
    });
  });

  it('answers 404 for an unknown id and 400 for a malformed one, changing nothing', async () => {
    const missing = crypto.randomUUID();
    await expectNoChange(async () => {
      for (const path of ['organizations', 'det-groups', 'seasons', 'videos']) {
        const got = await call(`GET /v1/${path}/{id}`, { params: { id: missing } });
        expect(got.status).toBe(404);
        expect(got.body.error).toMatchObject({ code: 'NotFound' });
        expect([400, 404]).toContain((await call(`PATCH /v1/${path}/{id}`, { params: { id: missing }, body: { name: 'x' } })).status);
        const deleted = await call(`DELETE /v1/${path}/{id}`, { params: { id: missing } });
        expect(deleted.status, path).toBe(404);
        expect(deleted.body.error).toMatchObject({ code: 'NotFound' });
      }
      expect((await call('PATCH /v1/sports/{id}', { params: { id: missing }, body: { name: 'x' } })).status).toBe(404);
      expect((await call('GET /v1/sports/{id}', { params: { id: 'nope' } })).status).toBe(400);
      expect((await call('DELETE /v1/det-groups/{id}', { params: { id: 'nope' } })).status).toBe(400);
    });
  });

  it('rejects invalid bodies, missing references, duplicates and broken rules, changing nothing', async () => {
    await expectNoChange(async () => {
      const invalid = await call('POST /v1/event-types', { body: { sportId: ids.sports, name: 'Corner', weight: 0.5, windowSeconds: 0 } });
      expect(invalid.status).toBe(400);
      expect(invalid.body.error.code).toBe('ValidationFailed');
      expect(invalid.body.error.details.map((d: Json) => d.path).sort()).toEqual(['weight', 'windowSeconds']);

      const badRef = await call('POST /v1/clients', { body: { organizationId: crypto.randomUUID(), name: n('Ghost') } });
      expect(badRef.status).toBe(400);
      expect(badRef.body.error).toMatchObject({ code: 'InvalidReference', details: { fields: ['organizationId'], references: 'organization' } });

      const dup = await call('POST /v1/detectables', { body: { name: n('FIZZ COLA') } });
      expect(dup.status).toBe(409);
      expect(dup.body.error).toMatchObject({ code: 'Conflict', details: { constraint: 'detectable_name_key', fields: ['name'] } });
    });
    const other = await created('POST /v1/detectables', { name: n('Other brand') });
    await expectNoChange(async () => {
      const rename = await call('PATCH /v1/detectables/{id}', { params: { id: other.id }, body: { name: n('fizz cola') } });
      expect(rename.status).toBe(409);
      expect((await call('POST /v1/sports', { body: { name: n('association FOOTBALL') } })).status).toBe(409);
    });
    await expectNoChange(async () => {
      // PATCH checked by the database across old and new values
      const endsBeforeStart = await call('PATCH /v1/seasons/{id}', { params: { id: ids.seasons! }, body: { endsOn: '2020-01-01' } });
      expect(endsBeforeStart.status).toBe(400);
      expect(endsBeforeStart.body.error.details).toMatchObject({ constraint: 'season_dates_check' });
      const teamless = await call('PATCH /v1/teams/{id}', { params: { id: ids.teams! }, body: { leagueId: null, sportId: null } });
      expect(teamless.status).toBe(400);
      const movedToNowhere = await call('PATCH /v1/games/{id}', { params: { id: ids.games! }, body: { seasonId: crypto.randomUUID() } });
      expect(movedToNowhere.status).toBe(400);
      // a det_group's detectables are not patched (a different set is another det_group)
      const missingMember = crypto.randomUUID();
      const group = await call('PATCH /v1/det-groups/{id}', { params: { id: ids['det-groups']! }, body: { name: n('Renamed'), detectableIds: [ids.detectables] } });
      expect(group.status).toBe(400);
      expect(group.body.error.code).toBe('ValidationFailed');
      const orgless = await call('PATCH /v1/det-groups/{id}', { params: { id: ids['det-groups']! }, body: { organizationId: crypto.randomUUID() } });
      expect(orgless.status).toBe(400);
      expect(orgless.body.error.code).toBe('InvalidReference');
      const newGroup = await call('POST /v1/det-groups', { body: { name: n('Never'), detectableIds: [missingMember] } });
      expect(newGroup.status).toBe(404);
      expect(newGroup.body.error.message).toContain(missingMember);
      const noMembers = await call('POST /v1/det-groups', { body: { name: n('Never'), detectableIds: [] } });
      expect(noMembers.status).toBe(400);
      const ghostOrg = await call('POST /v1/det-groups', { body: { name: n('Never'), organizationId: crypto.randomUUID(), detectableIds: [other.id] } });
      expect(ghostOrg.status).toBe(400);
      expect(ghostOrg.body.error).toMatchObject({ code: 'InvalidReference', details: { fields: ['organizationId'] } });
      expect((await call('POST /v1/sports', { body: 'not json{' })).status).toBe(400);
    });
    expect((await call('DELETE /v1/detectables/{id}', { params: { id: other.id } })).status).toBe(204);
    const group = (await call('GET /v1/det-groups/{id}', { params: { id: ids['det-groups']! } })).body;
    expect(group).toMatchObject({ name: n('Drinks'), organizationId: ids.organizations, detectableIds: [ids.detectables] });
  });

  it('keeps a det_group’s detectables as a set: the same set again is a 409, another set another det_group', async () => {
    const a = await created('POST /v1/detectables', { name: n('Brand A') });
    const b = await created('POST /v1/detectables', { name: n('Brand B') });
    await expectNoChange(async () => {
      const same = await call('POST /v1/det-groups', { body: { name: n('Same again'), detectableIds: [ids.detectables] } });
      expect(same.status).toBe(409);
      expect(same.body.error).toMatchObject({ code: 'Conflict', details: { detGroupId: ids['det-groups'] } });
    });
    const abc = await created('POST /v1/det-groups', { name: n('Three brands'), detectableIds: [b.id, ids.detectables, a.id] });
    expect(abc.detectableIds).toEqual([a.id, b.id, ids.detectables].sort());
    await expectNoChange(async () => {
      // order and repetition do not make another set
      const reordered = await call('POST /v1/det-groups', { body: { name: n('Reordered'), detectableIds: [ids.detectables, a.id, b.id, a.id] } });
      expect(reordered.status).toBe(409);
      expect(reordered.body.error.details).toEqual({ detGroupId: abc.id });
    });
    // a detectable in a det_group cannot be deleted; one in none can
    const inUse = await call('DELETE /v1/detectables/{id}', { params: { id: a.id } });
    expect(inUse.status).toBe(409);
    expect(inUse.body.error.details).toMatchObject({ referencedBy: 'det_group_detectable' });
    expect((await call('DELETE /v1/det-groups/{id}', { params: { id: abc.id } })).status).toBe(204); // granted to no one
    expect((await call('GET /v1/det-groups/{id}', { params: { id: abc.id } })).status).toBe(404);
    expect((await call('DELETE /v1/detectables/{id}', { params: { id: a.id } })).status).toBe(204);
    ids.brandB = b.id;
  });

  it('pages lists by cursor', async () => {
    const made = [ids.sports!];
    for (let i = 0; i < 5; i++) made.push((await created('POST /v1/sports', { name: n(`Sport ${i}`) })).id);
    // other test files add sports meanwhile: ours must each come exactly once, in id order
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 1000; pages++) {
      const res = await call('GET /v1/sports', { query: { limit: '2', ...(cursor && { cursor }) } });
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((i: Json) => i.id));
      cursor = res.body.nextCursor ?? undefined;
      if (!cursor) break;
    }
    expect(cursor).toBeUndefined();
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...seen].sort());
    for (const id of made) expect(seen).toContain(id);
    const filtered = await call('GET /v1/games', { query: { seasonId: crypto.randomUUID() } });
    expect(filtered.body).toEqual({ items: [], nextCursor: null });
    expect((await call('GET /v1/sports', { query: { limit: '501' } })).status).toBe(400);
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
      // not granted: nothing to revoke
      expect((await call('DELETE /v1/clients/{id}/det-groups/{detGroupId}', { params: { id: client, detGroupId: ids['det-groups']! } })).status).toBe(404);
      const noGroup = await call('PUT /v1/clients/{id}/det-groups/{detGroupId}', { params: { id: client, detGroupId: crypto.randomUUID() } });
      expect(noGroup.status).toBe(404);
      expect(noGroup.body.error.message).toMatch(/^det_group /);
      const noClient = await call('PUT /v1/clients/{id}/det-groups/{detGroupId}', { params: { id: crypto.randomUUID(), detGroupId: ids['det-groups']! } });
      expect(noClient.status).toBe(404);
      expect(noClient.body.error.message).toMatch(/^client /);
    });
    const listed = await call('GET /v1/clients/{id}/detectables', { params: { id: client } });
    expect(listed.body.items).toEqual([put.body]);
    expect((await call('GET /v1/clients/{id}/det-groups', { params: { id: client } })).body.items).toEqual([]);

    // game teams carry a side; one team per side
    const blues = await created('POST /v1/teams', { name: n('Blues'), leagueId: ids.leagues });
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
    await touches(async () => {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        // the pending per-backend table counters: compare before and after the statement
        const seasonUpdates = async () =>
          Number((await c.query<{ n: string }>(`SELECT n_tup_upd AS n FROM pg_stat_xact_user_tables WHERE relname = 'season'`)).rows[0]!.n);
        const before = await seasonUpdates();
        await c.query(`INSERT INTO event (game_id, event_type_id, time) SELECT $1, $2, n FROM generate_series(1, 500) AS n`, [game, ids['event-types']]);
        expect(await seasonUpdates()).toBe(before + 1);
        await c.query('DELETE FROM event WHERE game_id = $1 AND time >= 1', [game]);
        expect(await seasonUpdates()).toBe(before + 2);
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK');
        throw err;
      } finally {
        c.release();
      }
    });

    // changes elsewhere leave the season alone
    await leaves(() => call('PATCH /v1/leagues/{id}', { params: { id: ids.leagues! }, body: { name: 'Premier League 2' } }));
    await leaves(() => call('PATCH /v1/event-types/{id}', { params: { id: ids['event-types']! }, body: { windowSeconds: 20 } }));
    await leaves(() => call('PUT /v1/clients/{id}/seasons/{seasonId}', { params: { id: ids.clients!, seasonId: season } })); // access is not content
    await leaves(() => created('POST /v1/games', { seasonId: other.id, startsAt: '2026-09-01T19:00:00Z', title: 'Next season' }));
    // a failed change is no change
    await leaves(() => call('POST /v1/events', { body: { gameId: game, eventTypeId: crypto.randomUUID(), time: 1 } }));
    ids.otherSeason = other.id;
  });

  it('touches a client when its detectables or det_groups change, or a det_group it has changes, and only then', async () => {
    const client = ids.clients!;
    const otherClient = await created('POST /v1/clients', { organizationId: ids.organizations, name: n('Other client') });
    const group = ids['det-groups']!;
    const ungranted = await created('POST /v1/det-groups', { name: n('Not granted'), detectableIds: [ids.brandB] });
    const touches = (action: () => Promise<unknown>) => expectTouch('client', client, true, action);
    const leaves = (action: () => Promise<unknown>) => expectTouch('client', client, false, action);
    const detectableLink = { id: client, detectableId: ids.brandB! };
    const grant = (clientId: string) => call('PUT /v1/clients/{id}/det-groups/{detGroupId}', { params: { id: clientId, detGroupId: group } });
    const revoke = (clientId: string) => call('DELETE /v1/clients/{id}/det-groups/{detGroupId}', { params: { id: clientId, detGroupId: group } });

    await touches(() => call('PUT /v1/clients/{id}/detectables/{detectableId}', { params: detectableLink }));
    await leaves(() => call('PUT /v1/clients/{id}/detectables/{detectableId}', { params: detectableLink })); // already there
    await touches(() => call('DELETE /v1/clients/{id}/detectables/{detectableId}', { params: detectableLink }));
    await touches(async () => expect(await grant(client)).toMatchObject({ status: 200, body: { clientId: client, detGroupId: group } }));
    await leaves(async () => expect((await grant(client)).status).toBe(200)); // already granted: no write
    await touches(() => call('PATCH /v1/det-groups/{id}', { params: { id: group }, body: { name: n('Soft drinks') } }));
    // membership changes (only the database makes them now) touch the det_group, and through it its clients
    await touches(() => expectTouch('det_group', group, true, () =>
      query('INSERT INTO det_group_detectable (det_group_id, detectable_id) VALUES ($1, $2)', [group, ids.brandB])));
    await touches(() => query('DELETE FROM det_group_detectable WHERE det_group_id = $1 AND detectable_id = $2', [group, ids.brandB]));

    await leaves(() => call('PATCH /v1/det-groups/{id}', { params: { id: ungranted.id }, body: { name: n('Still not granted') } }));
    await leaves(() => call('PUT /v1/clients/{id}/detectables/{detectableId}', { params: { id: otherClient.id, detectableId: ids.brandB! } }));
    await leaves(() => call('PATCH /v1/detectables/{id}', { params: { id: ids.brandB! }, body: { description: 'blue logo' } }));
    await leaves(() => call('PUT /v1/clients/{id}/seasons/{seasonId}', { params: { id: client, seasonId: ids.seasons! } }));
    // another client's grant and revoke of the same det_group are that client's changes
    await leaves(async () => expect((await grant(otherClient.id)).status).toBe(200));
    // revoking keeps the det_group while another client holds it
    await touches(async () => expect(await revoke(client)).toMatchObject({ status: 200, body: { clientId: client, detGroupId: group, deleted: false } }));
    await touches(async () => expect((await grant(client)).status).toBe(200));
    await leaves(async () => expect(await revoke(otherClient.id)).toMatchObject({ status: 200, body: { deleted: false } }));
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
      const granted = await call('DELETE /v1/det-groups/{id}', { params: { id: ids['det-groups']! } });
      expect(granted.status).toBe(409);
      expect(granted.body.error.code).toBe('Conflict');
      expect((await call('DELETE /v1/sports/{id}', { params: { id: ids.sports! } })).status).toBe(409);
      expect((await call('DELETE /v1/detectables/{id}', { params: { id: ids.detectables! } })).status).toBe(409);
    });
    // a game without videos goes, with its events and teams
    const game = await created('POST /v1/games', { seasonId: ids.seasons, startsAt: '2025-10-01T19:00:00Z', title: 'Short-lived' });
    await created('POST /v1/events', { gameId: game.id, eventTypeId: ids['event-types'], time: 3 });
    await call('PUT /v1/games/{id}/teams/{teamId}', { params: { id: game.id, teamId: ids.teams! }, body: { side: 'home' } });
    await expectTouch('season', ids.seasons!, true, async () =>
      expect((await call('DELETE /v1/games/{id}', { params: { id: game.id } })).status).toBe(204));
    expect(await query('SELECT 1 FROM event WHERE game_id = $1 UNION ALL SELECT 1 FROM game_team WHERE game_id = $1', [game.id])).toEqual([]);
    // a client goes with its grants and keys
    const doomed = await created('POST /v1/clients', { organizationId: ids.organizations, name: n('Doomed') });
    expect((await call('PUT /v1/clients/{id}/det-groups/{detGroupId}', { params: { id: doomed.id, detGroupId: ids['det-groups']! } })).status).toBe(200);
    expect((await call('PUT /v1/clients/{id}/seasons/{seasonId}', { params: { id: doomed.id, seasonId: ids.seasons! } })).status).toBe(200);
    const key = await created('POST /v1/api-keys', { name: n('doomed'), role: 'client', clientId: doomed.id });
    expect((await call('GET /v1/clients/{id}/detectables', { params: { id: doomed.id } })).body.items).toHaveLength(1); // with the det_group
    expect((await call('DELETE /v1/clients/{id}', { params: { id: doomed.id } })).status).toBe(204);
    expect((await call('GET /v1/me', { key: key.key })).status).toBe(401);
    expect(await query(
      'SELECT 1 FROM client_det_group WHERE client_id = $1 UNION ALL SELECT 1 FROM client_detectable WHERE client_id = $1 UNION ALL SELECT 1 FROM client_season WHERE client_id = $1',
      [doomed.id],
    )).toEqual([]);
    expect((await call('GET /v1/det-groups/{id}', { params: { id: ids['det-groups']! } })).status).toBe(200); // still held by ids.clients
  });

  it('creates, lists and revokes API keys; the key is shown once and stored only hashed', async () => {
    const made = await created('POST /v1/api-keys', { name: n('analyst one'), role: 'analyst' });
    s.ApiKeyCreated.parse(made);
    expect(made).toMatchObject({ name: n('analyst one'), role: 'analyst', clientId: null, keyPrefix: made.key.slice(0, 8) });
    const stored = await query<{ key_hash: string }>('SELECT key_hash FROM api_keys WHERE id = $1', [made.id]);
    expect(stored[0]!.key_hash).toBe(hashApiKey(made.key));
    expect(JSON.stringify(await query('SELECT * FROM api_keys'))).not.toContain(made.key);

    const listAll = async (filters: Record<string, string> = {}) => {
      const items: Json[] = [];
      let cursor: string | undefined;
      do {
        const page = await call('GET /v1/api-keys', { query: { ...filters, limit: '500', ...(cursor && { cursor }) } });
        expect(page.status).toBe(200);
        s.page(s.ApiKey, 'ApiKeyPageCheck').parse(page.body);
        items.push(...page.body.items);
        cursor = page.body.nextCursor ?? undefined;
      } while (cursor);
      return items;
    };
    const analystKeys = await listAll({ role: 'analyst' });
    expect(analystKeys.every((k) => k.role === 'analyst')).toBe(true);
    const listed = analystKeys.find((k) => k.id === made.id);
    expect(listed).toMatchObject({ keyPrefix: made.keyPrefix, revokedAt: null });
    expect(listed.key).toBeUndefined();
    expect(listed.keyHash).toBeUndefined();

    expect((await call('GET /v1/me', { key: made.key })).body).toMatchObject({ role: 'analyst', keyId: made.id });
    expect((await call('DELETE /v1/api-keys/{id}', { params: { id: made.id } })).status).toBe(204);
    expect((await call('GET /v1/me', { key: made.key })).status).toBe(401);
    expect((await call('DELETE /v1/api-keys/{id}', { params: { id: made.id } })).status).toBe(204); // idempotent
    expect((await call('DELETE /v1/api-keys/{id}', { params: { id: crypto.randomUUID() } })).status).toBe(404);
    const revoked = (await listAll()).find((k) => k.id === made.id);
    expect(revoked.revokedAt).not.toBeNull();

    await expectNoChange(async () => {
      expect((await call('POST /v1/api-keys', { body: { name: n('c'), role: 'client' } })).status).toBe(400);
      const ghost = await call('POST /v1/api-keys', { body: { name: n('c'), role: 'client', clientId: crypto.randomUUID() } });
      expect(ghost.status).toBe(400);
      expect(ghost.body.error.code).toBe('InvalidReference');
    });
  });

  it('gives each role its rights: analyst writes games, events, videos; a client reads only its grants', async () => {
    const analyst = (await created('POST /v1/api-keys', { name: n('analyst'), role: 'analyst' })).key as string;
    const clientKey = (await created('POST /v1/api-keys', { name: n('client'), role: 'client', clientId: ids.clients })).key as string;
    expect((await call('GET /v1/me', { key: clientKey })).body).toMatchObject({ role: 'client', clientId: ids.clients });

    // analyst
    await expectNoChange(async () => {
      for (const [route, opts] of [
        ['GET /v1/api-keys', {}],
        ['POST /v1/api-keys', { body: { name: n('x'), role: 'admin' } }],
        ['POST /v1/sports', { body: { name: n('Cricket') } }],
        ['PATCH /v1/seasons/{id}', { params: { id: ids.seasons }, body: { name: 'x' } }],
        ['DELETE /v1/organizations/{id}', { params: { id: ids.organizations } }],
        ['PUT /v1/clients/{id}/seasons/{seasonId}', { params: { id: ids.clients, seasonId: ids.otherSeason } }],
        ['POST /v1/det-groups', { body: { name: n('x'), detectableIds: [ids.brandB, ids.detectables] } }],
        ['DELETE /v1/det-groups/{id}', { params: { id: ids.ungrantedGroup } }],
        ['PATCH /v1/det-groups/{id}', { params: { id: ids.ungrantedGroup }, body: { name: 'x' } }],
        ['POST /v1/clients/{id}/det-groups', { params: { id: ids.clients }, body: { detGroupId: ids.ungrantedGroup } }],
        ['PUT /v1/clients/{id}/det-groups/{detGroupId}', { params: { id: ids.clients, detGroupId: ids.ungrantedGroup } }],
        ['DELETE /v1/clients/{id}/det-groups/{detGroupId}', { params: { id: ids.clients, detGroupId: ids['det-groups'] } }],
        ['POST /v1/videos/{id}/release', { params: { id: ids.videos } }],
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

    // releasing is the admin's, through its own route, and only of an ingested video
    const release = await created('POST /v1/videos', { gameId: ids.games, title: 'Release me' });
    await expectNoChange(async () => {
      const patched = await call('PATCH /v1/videos/{id}', { params: { id: release.id }, body: { releasedAt: '2025-09-01T00:00:00Z' } });
      expect(patched.status).toBe(400);
      expect(patched.body.error.code).toBe('ValidationFailed');
      const early = await call('POST /v1/videos/{id}/release', { params: { id: release.id } });
      expect(early.status).toBe(409);
      expect(early.body.error.details).toEqual({ status: 'created' });
      expect((await call('POST /v1/videos/{id}/release', { params: { id: crypto.randomUUID() } })).status).toBe(404);
    });
    await query(`UPDATE video SET status = 'ingested', ingested_at = now() WHERE id = $1`, [release.id]); // as the ingest would
    const released = await call('POST /v1/videos/{id}/release', { params: { id: release.id } });
    expect(released.status).toBe(200);
    expect(released.body).toMatchObject({ videoId: release.id, releasedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) });
    const shown = (await call('GET /v1/videos/{id}', { params: { id: release.id } })).body;
    expect(Date.parse(shown.releasedAt)).toBe(Date.parse(released.body.releasedAt));
    const again = await call('POST /v1/videos/{id}/release', { params: { id: release.id } }); // idempotent: the first release stands
    expect(again.body.releasedAt).toBe(released.body.releasedAt);

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
    expect((await call('GET /v1/det-groups/{id}', { params: { id: ids['det-groups']! }, key: clientKey })).body.detectableIds).toEqual([ids.detectables]);
    expect((await call('GET /v1/det-groups/{id}', { params: { id: ids.ungrantedGroup! }, key: clientKey })).status).toBe(404);
    // another client's key sees nothing of this one's
    const otherKey = (await created('POST /v1/api-keys', { name: n('other'), role: 'client', clientId: ids.otherClient })).key as string;
    expect((await call('GET /v1/seasons', { key: otherKey })).body.items).toEqual([]);
    expect((await call('GET /v1/det-groups', { key: otherKey })).body.items).toEqual([]);
    expect((await call('GET /v1/seasons/{id}', { params: { id: ids.seasons! }, key: otherKey })).status).toBe(404);
    // every other catalog route, and every det_group write, is forbidden to a client
    await expectNoChange(async () => {
      for (const [route, opts] of [
        ['GET /v1/games', {}],
        ['GET /v1/videos/{id}', { params: { id: ids.videos } }],
        ['GET /v1/organizations', {}],
        ['GET /v1/clients/{id}/seasons', { params: { id: ids.clients } }],
        ['POST /v1/seasons', { body: { leagueId: ids.leagues, name: 'x', startsOn: '2025-01-01', endsOn: '2025-02-01' } }],
        ['PATCH /v1/det-groups/{id}', { params: { id: ids['det-groups'] }, body: { name: 'mine' } }],
        ['POST /v1/det-groups', { body: { name: n('mine'), detectableIds: [ids.brandB, ids.detectables] } }],
        ['POST /v1/clients/{id}/det-groups', { params: { id: ids.clients }, body: { detGroupId: ids.ungrantedGroup } }],
        ['PUT /v1/clients/{id}/det-groups/{detGroupId}', { params: { id: ids.clients, detGroupId: ids.ungrantedGroup } }],
        ['POST /v1/clients/{id}/det-groups/{detGroupId}/replace', { params: { id: ids.clients, detGroupId: ids['det-groups'] }, body: { detectableIds: [ids.brandB] } }],
        ['DELETE /v1/seasons/{id}', { params: { id: ids.seasons } }],
        ['GET /v1/api-keys', {}],
        ['POST /v1/videos/{id}/upload', { params: { id: ids.videos }, body: { filename: 'a.mp4', contentType: 'video/mp4', sizeBytes: 10 } }],
        ['POST /v1/videos/{id}/release', { params: { id: release.id } }],
      ] as [string, Json][]) {
        expect((await call(route, { ...opts, key: clientKey })).status, route).toBe(403);
      }
    });
  });

  it('presigns a single PUT upload that S3 takes and the ingest picks up; validates the request; 404 / 409 where due', async () => {
    const video = await created('POST /v1/videos', { gameId: ids.games, title: 'Upload me' });
    const key = `videos/${video.id}/source`;
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
      expect(res.body).toMatchObject({ method: 'PUT', key, headers: { 'content-type': 'video/mp4' }, expiresIn: 3600 });
      const url = new URL(res.body.url);
      expect(url.pathname).toBe(`/${BUCKET}/${key}`);
      expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('content-length;content-type;host');
      expect(url.searchParams.get('X-Amz-Expires')).toBe('3600');
      expect([...url.searchParams.keys()].filter((k) => k.toLowerCase().includes('checksum'))).toEqual([]);
      const recorded = (await call('GET /v1/videos/{id}', { params: { id: video.id } })).body;
      expect(recorded).toMatchObject({ status: 'uploading', s3Key: key, contentType: 'video/mp4', sizeBytes: 1_000_000 });
      // and the URL takes the bytes
      expect(await objectSize(key)).toBeUndefined();
      const put = await fetch(res.body.url, { method: 'PUT', headers: res.body.headers, body: Buffer.alloc(1_000_000, 7) });
      expect(put.status).toBe(200);
      expect(await objectSize(key)).toBe(1_000_000);
    });
    // S3 announces the object; the ingest takes the video over (and, these bytes being no video, fails its job)
    const uploaded = await eventually(async () => {
      const v = (await call('GET /v1/videos/{id}', { params: { id: video.id } })).body;
      return v.status === 'uploaded' ? v : undefined;
    }, 'the ingest to take the upload');
    expect(uploaded).toMatchObject({ s3Key: key, contentType: 'video/mp4', sizeBytes: 1_000_000 });

    const done = await call('POST /v1/videos/{id}/upload', { params: { id: video.id }, body: { filename: 'again.mp4', contentType: 'video/mp4', sizeBytes: 10 } });
    expect(done.status).toBe(409);
    expect(done.body.error.details).toEqual({ status: 'uploaded' });
  });

  it('runs a multipart upload: a presigned URL per part, then complete with the ETags', async () => {
    // the test cloud's settings: multipart from 6 MiB, in parts of 5 MiB (S3's smallest)
    const MiB = 1024 * 1024;
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
    expect(await objectSize(res.body.key)).toBeUndefined(); // nothing until completed

    const wrongUpload = await call('POST /v1/videos/{id}/upload/complete', { params: { id: video.id }, body: { uploadId: 'no-such-upload', parts: etags } });
    expect(wrongUpload.status).toBe(404);
    const done = await call('POST /v1/videos/{id}/upload/complete', { params: { id: video.id }, body: { uploadId: res.body.uploadId, parts: [...etags].reverse() } });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    s.Video.parse(done.body);
    expect(done.body).toMatchObject({ id: video.id, sizeBytes: size, contentType: 'video/x-matroska' });
    expect(['uploading', 'uploaded']).toContain(done.body.status); // the ingest may have taken it already
    expect(await objectSize(res.body.key)).toBe(size);
    await eventually(async () => ((await call('GET /v1/videos/{id}', { params: { id: video.id } })).body.status === 'uploaded' ? true : undefined), 'the ingest to take the upload');
  });
});
