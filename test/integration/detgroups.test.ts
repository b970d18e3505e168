// detgroups-api on the shared local cloud: a det_group per set of detectables; granting brings its detectables
// to the client, revoking takes away those no other det_group of the client uses; a det_group no client holds
// any more is deleted with its metric documents; replacing is a new det_group for the client; and a new
// det_group is computed, in a 'det-group' job, for every video ingested before it existed.
//
// The cloud is shared with other test files, which ingest the same sample game: here its logos carry this
// file's stamp, so that our det_groups apply to our video only and theirs never to ours.
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient, ObjectId } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { drawSampleGame, SAMPLE_LOGOS, sampleLocalizations, type SampleGame } from '../../cli/sample-game.ts';
import { uploadFile, type UploadPlan } from '../../cli/upload.ts';
import { documentId } from '../../functions/lib/document-id.ts';
import { apiClient, eventually } from '../support/api.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const endpoints = inject('endpoints');
const admin = apiClient();
const STAMP = String(Date.now());
const n = (name: string) => `${name} ${STAMP}`;
const work = mkdtempSync(join(tmpdir(), 'framewise-detgroups-'));
const mongo = new MongoClient(endpoints.mongodb);
const metricsDb = () => mongo.db('framewise');
const pool = new pg.Pool({ connectionString: endpoints.postgres, max: 2 });
afterAll(async () => {
  await mongo.close();
  await pool.end();
});

// Nike is on screen from 0 s, Adidas from 2 s, Puma from 4 s (so never in these 4 s).
const LOGOS = SAMPLE_LOGOS.map((l) => ({ ...l, label: n(l.label) }));
const GAME: SampleGame = { seconds: 4, width: 160, height: 120, fps: 25, logos: LOGOS };
const FPS = 5;

let analyst: ReturnType<typeof apiClient>;
const d: Record<string, string> = {}; // detectables: nike, adidas, puma (in the video), a, b, c, e (in no video)
const clients: Record<string, string> = {}; // A, B
let videoId: string;
let ingestMs = 0;

const sorted = (ids: readonly string[]) => [...ids].sort();
const detectablesOf = async (clientId: string): Promise<string[]> =>
  sorted((await admin('GET', `/v1/clients/${clientId}/detectables`)).body.items.map((i: Json) => i.detectableId));
const detGroupsOf = async (clientId: string): Promise<string[]> =>
  sorted((await admin('GET', `/v1/clients/${clientId}/det-groups`)).body.items.map((i: Json) => i.detGroupId));
const status = async (detGroupId: string): Promise<number> => (await admin('GET', `/v1/det-groups/${detGroupId}`)).status;

/** POST /v1/det-groups, expecting a new det_group. */
async function newDetGroup(name: string, detectableIds: string[]): Promise<string> {
  const res = await admin('POST', '/v1/det-groups', { name, detectableIds });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

/** Every det_group, grant and client detectable of this file, with its updated_at: equal = nothing changed. */
async function snapshot(): Promise<unknown> {
  const { rows } = await pool.query(
    `WITH dets AS (SELECT id FROM detectable WHERE name ILIKE $1),
          mine AS (SELECT id FROM client WHERE name ILIKE $1),
          groups AS (SELECT id FROM det_group WHERE name ILIKE $1
                     UNION SELECT det_group_id FROM det_group_detectable WHERE detectable_id IN (SELECT id FROM dets))
     SELECT (SELECT json_agg(t ORDER BY t.id) FROM (SELECT id, name, updated_at FROM det_group WHERE id IN (SELECT id FROM groups)) t) AS det_groups,
            (SELECT json_agg(t ORDER BY t.det_group_id, t.detectable_id) FROM det_group_detectable t WHERE det_group_id IN (SELECT id FROM groups)) AS members,
            (SELECT json_agg(t ORDER BY t.client_id, t.det_group_id) FROM client_det_group t
              WHERE client_id IN (SELECT id FROM mine) OR det_group_id IN (SELECT id FROM groups)) AS grants,
            (SELECT json_agg(t ORDER BY t.client_id, t.detectable_id) FROM client_detectable t WHERE client_id IN (SELECT id FROM mine)) AS client_detectables,
            (SELECT json_agg(t ORDER BY t.id) FROM (SELECT id, updated_at FROM client WHERE id IN (SELECT id FROM mine)) t) AS clients`,
    [`%${STAMP}%`],
  );
  return rows[0];
}

async function expectNoChange(what: () => Promise<unknown>): Promise<void> {
  const before = await snapshot();
  await what();
  expect(await snapshot()).toEqual(before);
}

/** The ended 'det-group' job of a det_group, from GET /v1/jobs (every page). */
async function detGroupJob(detGroupId: string): Promise<Json> {
  return eventually(async () => {
    let cursor: string | undefined;
    do {
      const res = await admin('GET', `/v1/jobs?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status).toBe(200);
      const job = res.body.jobs.find((j: Json) => j.kind === 'det-group' && j.detGroupId === detGroupId);
      if (job) return job.state === 'succeeded' || job.state === 'failed' ? job : undefined;
      cursor = res.body.cursor;
    } while (cursor);
    return undefined;
  }, `the det-group job of ${detGroupId}`);
}

/** Metric documents of a det_group: frame series and rollups. */
const documentsOf = async (detGroupId: string) => ({
  series: await metricsDb().collection('frame_series').countDocuments({ detGroupId }),
  rollups: await metricsDb().collection('rollups').countDocuments({ detGroupId }),
});

/** Metric documents for a det_group on a made-up video, with the ids the analytics store would give them. */
async function plantDocuments(detGroupId: string): Promise<void> {
  const video = crypto.randomUUID();
  const id = (...parts: string[]) => ObjectId.createFromHexString(documentId(...parts));
  await metricsDb().collection('frame_series').insertOne({ _id: id(video, detGroupId), videoId: video, detGroupId, frameRate: FPS, columns: {} });
  for (const resolution of ['video', '1']) {
    await metricsDb().collection('rollups').insertOne({ _id: id(video, detGroupId, resolution), videoId: video, detGroupId, resolution, frameRate: FPS, buckets: [] });
  }
}

async function ingestSampleGame(): Promise<Json> {
  const videoFile = join(work, 'game.mp4');
  const locFile = join(work, 'loc.json');
  await drawSampleGame(videoFile, GAME);
  writeFileSync(locFile, JSON.stringify(sampleLocalizations(GAME)));
  const labelMapping = Object.fromEntries(LOGOS.map((l) => [String(l.classIndex), l.label]));
  const loc = await analyst<UploadPlan>('POST', `/v1/videos/${videoId}/localizations/upload`, { sizeBytes: statSync(locFile).size, labelMapping });
  expect(loc.status).toBe(200);
  await uploadFile(loc.body, locFile);
  const plan = await analyst<UploadPlan>('POST', `/v1/videos/${videoId}/upload`, {
    filename: 'game.mp4', contentType: 'video/mp4', sizeBytes: statSync(videoFile).size, frameRate: FPS, threshold: 0.5,
  });
  expect(plan.status).toBe(200);
  const parts = await uploadFile(plan.body, videoFile);
  if (plan.body.method === 'multipart') await analyst('POST', `/v1/videos/${videoId}/upload/complete`, { uploadId: plan.body.uploadId, parts });
  return eventually(async () => {
    const job = (await analyst('GET', `/v1/jobs?videoId=${videoId}&limit=10`)).body.jobs[0];
    return job && (job.state === 'succeeded' || job.state === 'failed') ? job : undefined;
  }, `the ingest of video ${videoId}`, 120_000);
}

beforeAll(async () => {
  analyst = apiClient((await admin('POST', '/v1/api-keys', { name: n('detgroups analyst'), role: 'analyst' })).body.key);
  const detectables: [string, string][] = [
    ['nike', LOGOS[0]!.label], ['adidas', LOGOS[1]!.label], ['puma', LOGOS[2]!.label],
    ['a', n('Brand A')], ['b', n('Brand B')], ['c', n('Brand C')], ['e', n('Brand E')],
  ];
  for (const [key, name] of detectables) {
    const res = await admin('POST', '/v1/detectables', { name });
    expect(res.status).toBe(201);
    d[key] = res.body.id;
  }
  const org = await admin('POST', '/v1/organizations', { name: n('Det groups org') });
  for (const c of ['A', 'B']) clients[c] = (await admin('POST', '/v1/clients', { organizationId: org.body.id, name: n(`Client ${c}`) })).body.id;
  const sport = await admin('POST', '/v1/sports', { name: n('Det groups sport') });
  const league = await admin('POST', '/v1/leagues', { sportId: sport.body.id, name: 'League' });
  const season = await admin('POST', '/v1/seasons', { leagueId: league.body.id, name: '2026' });
  const game = await analyst('POST', '/v1/games', { seasonId: season.body.id, title: 'A v B', startsAt: '2026-11-21T15:00:00Z' });
  videoId = (await analyst('POST', '/v1/videos', { gameId: game.body.id, title: 'sample game' })).body.id;

  // The video is ingested before any det_group of ours exists.
  const started = Date.now();
  const job = await ingestSampleGame();
  ingestMs = Date.now() - started;
  expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
}, 180_000);

describe('detgroups-api', () => {
  const g: Record<string, string> = {}; // det_groups by their detectables

  it('creates one det_group per set of detectables and computes it in a det-group job', async () => {
    const res = await admin('POST', '/v1/det-groups', { name: n('A and B'), detectableIds: [d.b, d.a] });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.any(String), name: n('A and B'), detectableIds: sorted([d.a!, d.b!]), jobRequested: true });
    g.ab = res.body.id;
    // the catalog serves it like any det_group
    expect((await admin('GET', `/v1/det-groups/${g.ab}`)).body).toMatchObject({ id: g.ab, organizationId: null, detectableIds: sorted([d.a!, d.b!]) });

    await expectNoChange(async () => {
      // the same set, in another order, with a repeat, under another name: the det_group exists
      const again = await admin('POST', '/v1/det-groups', { name: n('B and A'), detectableIds: [d.a, d.b, d.a] });
      expect(again.status).toBe(409);
      expect(again.body.error).toMatchObject({ code: 'Conflict', details: { detGroupId: g.ab } });
      for (const body of [
        { name: n('none'), detectableIds: [] },
        { name: n('bad id'), detectableIds: ['nope'] },
        { name: '', detectableIds: [d.c] },
        { name: n('extra'), detectableIds: [d.c], released: true },
      ]) {
        const bad = await admin('POST', '/v1/det-groups', body);
        expect(bad.status, JSON.stringify(body)).toBe(400);
        expect(bad.body.error.code).toBe('ValidationFailed');
      }
      expect((await analyst('POST', '/v1/det-groups', { name: n('analyst'), detectableIds: [d.c] })).status).toBe(403);
    });
    g.a = await newDetGroup(n('A'), [d.a!]); // a subset is another set

    const job = await detGroupJob(g.ab!);
    expect(job).toMatchObject({ kind: 'det-group', detGroupId: g.ab, state: 'succeeded', input: { detGroupId: g.ab } });
    expect(job.jobId).toMatch(new RegExp(`^detgroup-${g.ab}-`));
    expect(job.error).toBeUndefined();
    expect(job.steps.videos.state).toBe('succeeded');
    expect(job.steps.compute).toMatchObject({ state: 'succeeded', total: 0 }); // no video shows Brand A
    expect(job.executionArn).toMatch(/:execution:framewise-det-group:/);
  });

  it('grants a det_group to a client together with its detectables, idempotently', async () => {
    const { A, B } = clients as { A: string; B: string };
    const put = await admin('PUT', `/v1/clients/${A}/det-groups/${g.ab}`);
    expect(put).toMatchObject({ status: 200, body: { clientId: A, detGroupId: g.ab } });
    expect(await detGroupsOf(A)).toEqual([g.ab]);
    expect(await detectablesOf(A)).toEqual(sorted([d.a!, d.b!]));
    await expectNoChange(async () => expect((await admin('PUT', `/v1/clients/${A}/det-groups/${g.ab}`)).status).toBe(200));

    // by id
    const byId = await admin('POST', `/v1/clients/${A}/det-groups`, { detGroupId: g.a });
    expect(byId).toMatchObject({ status: 201, body: { clientId: A, detGroupId: g.a, created: false, jobRequested: false } });
    expect(await detGroupsOf(A)).toEqual(sorted([g.a!, g.ab!]));
    expect(await detectablesOf(A)).toEqual(sorted([d.a!, d.b!]));

    // by detectables: the det_group with exactly that set ...
    const existing = await admin('POST', `/v1/clients/${B}/det-groups`, { name: n('whatever'), detectableIds: [d.b, d.a] });
    expect(existing).toMatchObject({ status: 201, body: { clientId: B, detGroupId: g.ab, created: false, jobRequested: false } });
    expect((await admin('GET', `/v1/det-groups/${g.ab}`)).body.name).toBe(n('A and B')); // not renamed
    // ... or a new one, which is computed
    const fresh = await admin('POST', `/v1/clients/${B}/det-groups`, { name: n('B and C'), detectableIds: [d.c, d.b] });
    expect(fresh).toMatchObject({ status: 201, body: { clientId: B, created: true, jobRequested: true } });
    g.bc = fresh.body.detGroupId;
    expect((await admin('GET', `/v1/det-groups/${g.bc}`)).body).toMatchObject({ name: n('B and C'), detectableIds: sorted([d.b!, d.c!]) });
    expect(await detGroupsOf(B)).toEqual(sorted([g.ab!, g.bc!]));
    expect(await detectablesOf(B)).toEqual(sorted([d.a!, d.b!, d.c!]));
    expect((await detGroupJob(g.bc!)).state).toBe('succeeded');
  });

  it('revokes a det_group: the client keeps the detectables its other det_groups use; the det_group stays while a client holds it', async () => {
    const { A, B } = clients as { A: string; B: string };
    // B holds {a, b} and {b, c}: without {a, b} it keeps b and c
    const fromB = await admin('DELETE', `/v1/clients/${B}/det-groups/${g.ab}`);
    expect(fromB).toMatchObject({ status: 200, body: { clientId: B, detGroupId: g.ab, deleted: false } });
    expect(await detGroupsOf(B)).toEqual([g.bc]);
    expect(await detectablesOf(B)).toEqual(sorted([d.b!, d.c!]));
    expect(await detectablesOf(A)).toEqual(sorted([d.a!, d.b!])); // A's are A's
    expect(await status(g.ab!)).toBe(200); // A holds it

    // A holds {a, b} and {a}: without {a, b} it keeps a; nobody holds {a, b} any more, so it goes
    const fromA = await admin('DELETE', `/v1/clients/${A}/det-groups/${g.ab}`);
    expect(fromA).toMatchObject({ status: 200, body: { clientId: A, detGroupId: g.ab, deleted: true } });
    expect(await detGroupsOf(A)).toEqual([g.a]);
    expect(await detectablesOf(A)).toEqual([d.a]);
    expect(await status(g.ab!)).toBe(404);

    // a detectable granted on its own, and not in the det_group, stays with the client
    expect((await admin('PUT', `/v1/clients/${B}/detectables/${d.e}`)).status).toBe(200);
    const bc = await admin('DELETE', `/v1/clients/${B}/det-groups/${g.bc}`);
    expect(bc.body).toMatchObject({ deleted: true });
    expect(await detGroupsOf(B)).toEqual([]);
    expect(await detectablesOf(B)).toEqual([d.e]);
    expect(await status(g.bc!)).toBe(404);
  });

  it('deletes a det_group no client holds any more together with its metric documents, and nothing else', async () => {
    const { B } = clients as { B: string };
    const ce = (await admin('POST', `/v1/clients/${B}/det-groups`, { name: n('C and E'), detectableIds: [d.c, d.e] })).body.detGroupId as string;
    const be = await newDetGroup(n('B and E'), [d.b!, d.e!]);
    for (const id of [ce, be, g.a!]) await plantDocuments(id);
    expect(await documentsOf(ce)).toEqual({ series: 1, rollups: 2 });

    // granted: not deleted
    await expectNoChange(async () => {
      const refused = await admin('DELETE', `/v1/det-groups/${ce}`);
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('Conflict');
    });
    expect(await documentsOf(ce)).toEqual({ series: 1, rollups: 2 });

    // revoked from the last client that held it: gone, with its documents
    expect((await admin('DELETE', `/v1/clients/${B}/det-groups/${ce}`)).body).toMatchObject({ deleted: true });
    expect(await status(ce)).toBe(404);
    expect(await documentsOf(ce)).toEqual({ series: 0, rollups: 0 });
    expect(await detectablesOf(B)).toEqual([]);

    // held by nobody: deleted directly, with its documents
    expect((await admin('DELETE', `/v1/det-groups/${be}`)).status).toBe(204);
    expect(await status(be)).toBe(404);
    expect(await documentsOf(be)).toEqual({ series: 0, rollups: 0 });
    expect((await admin('DELETE', `/v1/det-groups/${be}`)).status).toBe(404);

    // other det_groups' documents stay
    expect(await documentsOf(g.a!)).toEqual({ series: 1, rollups: 2 });
    for (const c of ['frame_series', 'rollups']) await metricsDb().collection(c).deleteMany({ detGroupId: g.a });
  });

  it('replaces a det_group of a client: the det_group with the new detectables is granted, the old one revoked', async () => {
    const { A, B } = clients as { A: string; B: string };
    expect((await admin('PUT', `/v1/clients/${B}/det-groups/${g.a}`)).status).toBe(200); // A and B hold {a}
    const replaced = await admin('POST', `/v1/clients/${A}/det-groups/${g.a}/replace`, { detectableIds: [d.c, d.a] });
    expect(replaced).toMatchObject({ status: 200, body: { clientId: A, replaced: g.a, created: true, oldDeleted: false } });
    g.ac = replaced.body.detGroupId;
    expect((await admin('GET', `/v1/det-groups/${g.ac}`)).body).toMatchObject({ name: n('A'), detectableIds: sorted([d.a!, d.c!]) }); // the old name
    expect(await detGroupsOf(A)).toEqual([g.ac]);
    expect(await detectablesOf(A)).toEqual(sorted([d.a!, d.c!]));
    expect(await status(g.a!)).toBe(200); // B still holds it
    expect((await detGroupJob(g.ac!)).state).toBe('succeeded');

    // the same set again is no replacement
    await expectNoChange(async () => {
      const same = await admin('POST', `/v1/clients/${A}/det-groups/${g.ac}/replace`, { name: n('Same'), detectableIds: [d.a, d.c] });
      expect(same.status).toBe(409);
      expect(same.body.error.code).toBe('Conflict');
    });

    // to a set that has a det_group already: that one, under its own name; the old one, held by nobody now, goes
    const toExisting = await admin('POST', `/v1/clients/${B}/det-groups/${g.a}/replace`, { name: n('Renamed?'), detectableIds: [d.a, d.c] });
    expect(toExisting).toMatchObject({ status: 200, body: { clientId: B, detGroupId: g.ac, replaced: g.a, created: false, oldDeleted: true } });
    expect((await admin('GET', `/v1/det-groups/${g.ac}`)).body.name).toBe(n('A'));
    expect(await status(g.a!)).toBe(404);
    expect(await detGroupsOf(B)).toEqual([g.ac]);
    expect(await detectablesOf(B)).toEqual(sorted([d.a!, d.c!]));

    // with a new name
    const renamed = await admin('POST', `/v1/clients/${B}/det-groups/${g.ac}/replace`, { name: n('A, B and C'), detectableIds: [d.a, d.b, d.c] });
    expect(renamed).toMatchObject({ status: 200, body: { created: true, oldDeleted: false } });
    g.abc = renamed.body.detGroupId;
    expect((await admin('GET', `/v1/det-groups/${g.abc}`)).body).toMatchObject({ name: n('A, B and C'), detectableIds: sorted([d.a!, d.b!, d.c!]) });
    expect(await detectablesOf(B)).toEqual(sorted([d.a!, d.b!, d.c!]));
    expect(await detGroupsOf(A)).toEqual([g.ac]); // A's unchanged
  });

  it('answers 404 for an unknown client, det_group or detectable, changing nothing', async () => {
    const { A, B } = clients as { A: string; B: string };
    const nobody = crypto.randomUUID();
    const nothing = crypto.randomUUID();
    const unknownDetectable = crypto.randomUUID();
    // sets no det_group has: a request that ends in 404 must not create a det_group for them, nor grant one
    const newSets = { forNobody: [d.b, d.e], replaceForNobody: [d.c, d.e], replaceNotHeld: [d.a, d.b, d.e] };
    // A holds {a, c}; B holds {a, b, c}
    await expectNoChange(async () => {
      const cases: [string, string, unknown, RegExp][] = [
        ['PUT', `/v1/clients/${nobody}/det-groups/${g.ac}`, undefined, /^client /],
        ['PUT', `/v1/clients/${A}/det-groups/${nothing}`, undefined, /^det_group /],
        ['POST', `/v1/clients/${nobody}/det-groups`, { detGroupId: g.ac }, /^client /],
        ['POST', `/v1/clients/${A}/det-groups`, { detGroupId: nothing }, /^det_group /],
        ['POST', `/v1/clients/${A}/det-groups`, { name: n('ghost'), detectableIds: [d.b, unknownDetectable] }, /^detectable /],
        ['POST', `/v1/clients/${nobody}/det-groups`, { name: n('for nobody'), detectableIds: newSets.forNobody }, /^client /],
        ['DELETE', `/v1/clients/${nobody}/det-groups/${g.ac}`, undefined, /^client /],
        ['DELETE', `/v1/clients/${A}/det-groups/${nothing}`, undefined, /det_group/],
        ['DELETE', `/v1/clients/${A}/det-groups/${g.abc}`, undefined, /det_group/], // B's, not A's
        ['POST', `/v1/clients/${nobody}/det-groups/${g.ac}/replace`, { detectableIds: newSets.replaceForNobody }, /^client /],
        ['POST', `/v1/clients/${A}/det-groups/${nothing}/replace`, { detectableIds: newSets.replaceForNobody }, /^det_group /],
        ['POST', `/v1/clients/${A}/det-groups/${g.abc}/replace`, { detectableIds: newSets.replaceNotHeld }, /det_group/], // B's, not A's
        ['POST', `/v1/clients/${A}/det-groups/${g.ac}/replace`, { detectableIds: [unknownDetectable] }, /^detectable /],
        ['DELETE', `/v1/det-groups/${nothing}`, undefined, /^det_group /],
        ['POST', '/v1/det-groups', { name: n('ghost'), detectableIds: [unknownDetectable, d.a] }, /^detectable /],
      ];
      for (const [method, path, body, message] of cases) {
        const res = await admin(method, path, body);
        expect(res.status, `${method} ${path} ${JSON.stringify(res.body)}`).toBe(404);
        expect(res.body.error.code).toBe('NotFound');
        expect(res.body.error.message, `${method} ${path}`).toMatch(message);
      }
    });
    expect(await detGroupsOf(A)).toEqual([g.ac]);
    expect(await detGroupsOf(B)).toEqual([g.abc]);
  });

  it('answers 409 for a set that has a det_group, deleting a granted det_group and a replacement by the same set', async () => {
    const { B } = clients as { B: string };
    await expectNoChange(async () => {
      const dup = await admin('POST', '/v1/det-groups', { name: n('dup'), detectableIds: [d.c, d.b, d.a] });
      expect(dup.status).toBe(409);
      expect(dup.body.error.details).toEqual({ detGroupId: g.abc });
      expect((await admin('DELETE', `/v1/det-groups/${g.abc}`)).status).toBe(409);
      expect((await admin('DELETE', `/v1/det-groups/${g.ac}`)).status).toBe(409);
      expect((await admin('POST', `/v1/clients/${B}/det-groups/${g.abc}/replace`, { detectableIds: [d.a, d.b, d.c] })).status).toBe(409);
    });
  });

  it('computes a new det_group for a video ingested before it existed, and its metrics go with it', async () => {
    const { A } = clients as { A: string };
    expect(await metricsDb().collection('rollups').countDocuments({ videoId })).toBe(0); // no det_group of ours at ingest
    const created = await admin('POST', `/v1/clients/${A}/det-groups`, { name: n('Nike and Adidas'), detectableIds: [d.adidas, d.nike] });
    expect(created).toMatchObject({ status: 201, body: { created: true, jobRequested: true } });
    const na = created.body.detGroupId as string;
    const puma = await newDetGroup(n('Nike and Puma'), [d.nike!, d.puma!]); // Puma is not in these 4 s

    const job = await detGroupJob(na);
    expect(job.state, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.steps.compute).toMatchObject({ state: 'succeeded', total: 1, done: 1 });
    const metrics = await admin('GET', `/v1/videos/${videoId}/metrics?detGroup=${na}&resolution=video`);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatchObject({ videoId, detGroupId: na, resolution: 'video', frameRate: FPS });
    // 20 frames at 5 fps. Every 7th source frame scores 0.3 (below the threshold); extracted frame k is source
    // frame 5k, so frames 0, 7 and 14 show nothing. Nike is in the other 17, Adidas (from 2 s) in 9 of them.
    expect(metrics.body.buckets).toEqual([expect.objectContaining({ start: 0, frames: 20, visibleFrames: 17, detections: 26 })]);
    expect((await admin('GET', `/v1/videos/${videoId}/metrics?detGroup=${na}&resolution=1`)).body.buckets).toHaveLength(4);
    expect(await documentsOf(na)).toEqual({ series: 1, rollups: 4 });

    const none = await detGroupJob(puma);
    expect(none.state).toBe('succeeded');
    expect(none.steps.compute).toMatchObject({ state: 'succeeded', total: 0 });
    expect((await admin('GET', `/v1/videos/${videoId}/metrics?detGroup=${puma}&resolution=video`)).status).toBe(404);

    // the last client lets it go: the det_group and its metrics are deleted
    expect((await admin('DELETE', `/v1/clients/${A}/det-groups/${na}`)).body).toMatchObject({ deleted: true });
    expect(await documentsOf(na)).toEqual({ series: 0, rollups: 0 });
    expect((await admin('GET', `/v1/videos/${videoId}/metrics?detGroup=${na}&resolution=video`)).status).toBe(404);
    expect(await detectablesOf(A)).toEqual(sorted([d.a!, d.c!]));
  });

  afterAll(() => console.log(`detgroups: sample game ingested in ${ingestMs} ms`));
});
