// Bad input that reached the stores answers a clear 4xx and changes nothing: NUL characters in text, cursors
// that are not the API's, over-long ids and S3 keys, undecodable paths, bodies that are not sent as JSON; and
// what the local cloud writes under its folder is its user's only.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fromPgError } from '../../functions/lib/dberrors.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
interface Res { status: number; body: Json; text: string }

const endpoints = inject('endpoints');
const adminKey = inject('adminApiKey');
const cloudDir = inject('cloudDir');
const STAMP = `bad-input ${Date.now()}`;
const NUL = 'a\u0000b';
const aws = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };

const db = new pg.Pool({ connectionString: endpoints.postgres, max: 2 });
const s3 = new S3Client({ ...aws, endpoint: endpoints.s3, forcePathStyle: true });
const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({ ...aws, endpoint: endpoints.dynamodb }));
afterAll(async () => {
  s3.destroy();
  dynamo.destroy();
  await db.end();
});

/** A request as a client sends it: `body` as JSON unless it is a string; `contentType` null sends none. */
async function call(method: string, path: string, opts: { key?: string | null; body?: unknown; contentType?: string | null } = {}): Promise<Res> {
  const key = opts.key === undefined ? adminKey : opts.key;
  const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  const contentType = opts.contentType === undefined ? (body === undefined ? undefined : 'application/json') : opts.contentType;
  const res = await fetch(`${endpoints.api}${path}`, {
    method,
    headers: { ...(key && { authorization: `Bearer ${key}` }), ...(contentType && { 'content-type': contentType }) },
    // fetch labels a string text/plain: bytes go without a type
    body: body !== undefined && contentType === null ? new TextEncoder().encode(body) : body,
  });
  const text = await res.text();
  let parsed: Json;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, text };
}

async function created(path: string, body: unknown, key?: string): Promise<Json> {
  const res = await call('POST', path, { body, key });
  expect(res.status, `${path} ${res.text}`).toBe(201);
  return res.body;
}

const count = async (sql: string, values: unknown[]): Promise<number> => Number((await db.query(sql, values)).rows[0].n);

const ids: Record<string, string> = {};
let analystKey: string;

beforeAll(async () => {
  ids.organization = (await created('/v1/organizations', { name: STAMP })).id;
  ids.sport = (await created('/v1/sports', { name: STAMP })).id;
  ids.league = (await created('/v1/leagues', { sportId: ids.sport, name: STAMP })).id;
  ids.season = (await created('/v1/seasons', { leagueId: ids.league, name: STAMP, startsOn: '2025-08-01', endsOn: '2026-05-31' })).id;
  ids.game = (await created('/v1/games', { seasonId: ids.season, startsAt: '2025-09-01T19:00:00Z', title: STAMP })).id;
  ids.detectable = (await created('/v1/detectables', { name: STAMP })).id;
  analystKey = (await created('/v1/api-keys', { name: STAMP, role: 'analyst' })).key;
});

describe('NUL characters and malformed text', () => {
  const refusesText = (res: Res) => {
    expect(res.status, res.text).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'InvalidText' });
  };

  it('refuses a NUL in a body field of every writing route named, and writes nothing', async () => {
    refusesText(await call('POST', '/v1/sports', { body: { name: `${STAMP} ${NUL}` } }));
    refusesText(await call('POST', '/v1/detectables', { body: { name: `${STAMP} ${NUL}` } }));
    refusesText(await call('POST', '/v1/detectables', { body: { name: `${STAMP} clean`, description: NUL } }));
    refusesText(await call('PATCH', `/v1/seasons/${ids.season}`, { body: { name: NUL } }));
    refusesText(await call('POST', '/v1/det-groups', { body: { name: NUL, detectableIds: [ids.detectable] } }));
    refusesText(await call('POST', '/v1/videos', { key: analystKey, body: { gameId: ids.game, title: NUL } }));
    refusesText(await call('POST', '/v1/api-keys', { body: { name: NUL, role: 'analyst' } }));
    // in a key of an object, and deep in an array
    refusesText(await call('POST', '/v1/sports', { body: { [NUL]: 'x', name: STAMP } }));
    refusesText(await call('POST', '/v1/det-groups', { body: { name: STAMP, detectableIds: [ids.detectable, NUL] } }));
    // a lone surrogate cannot be stored either
    refusesText(await call('POST', '/v1/sports', { body: `{"name":"${STAMP} \\ud800"}` }));

    expect(await count(`SELECT count(*) AS n FROM sport WHERE name LIKE $1`, [`${STAMP}%`])).toBe(1);
    expect(await count(`SELECT count(*) AS n FROM detectable WHERE name LIKE $1`, [`${STAMP}%`])).toBe(1);
    expect((await db.query('SELECT name FROM season WHERE id = $1', [ids.season])).rows[0].name).toBe(STAMP);
    expect(await count(`SELECT count(*) AS n FROM det_group_detectable WHERE detectable_id = $1`, [ids.detectable])).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM video WHERE game_id = $1`, [ids.game])).toBe(0);
    expect(await count(`SELECT count(*) AS n FROM api_keys WHERE name LIKE $1`, [`${STAMP}%`])).toBe(1);
  });

  it('refuses a NUL in a path parameter or a query parameter', async () => {
    refusesText(await call('GET', '/v1/sports/a%00b'));
    refusesText(await call('GET', '/v1/jobs/ingest-a%00b'));
    refusesText(await call('GET', `/v1/sports?name=a%00b`));
    refusesText(await call('GET', `/v1/jobs?cursor=%00`));
  });

  it('refuses JSON nested deeper than any request of the API', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const res = await call('POST', '/v1/sports', { body: `{"name":${deep}}` });
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.code).toBe('TooDeep');
  });

  it('maps what PostgreSQL refuses in text (22021, 22P05) to a 400, should such text ever reach it', async () => {
    const refusal = async (sql: string, values: unknown[]) => db.query(sql, values).then(() => undefined, (err: unknown) => err);
    const nulInText = await refusal('SELECT $1::text AS t', [NUL]);
    expect((nulInText as { code: string }).code).toBe('22021');
    expect(fromPgError(nulInText)).toMatchObject({ status: 400, details: { sqlstate: '22021' } });
    const nulInJson = await refusal('SELECT $1::jsonb AS j', ['{"a":"\\u0000"}']);
    expect((nulInJson as { code: string }).code).toBe('22P05');
    expect(fromPgError(nulInJson)).toMatchObject({ status: 400, details: { sqlstate: '22P05' } });
  });
});

describe('cursors are opaque: only the API makes them, for one query', () => {
  const videoId = crypto.randomUUID();
  const jobIds = [0, 1, 2].map((i) => `ingest-${videoId}-${String(i).padStart(16, '0')}`);
  const base64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const refusesCursor = (res: Res) => {
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.code).toBe('InvalidCursor');
  };

  beforeAll(async () => {
    // Three failed runs of one video, as the workflow records them.
    for (const [i, jobId] of jobIds.entries()) {
      const at = new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
      await dynamo.send(new PutCommand({
        TableName: 'framewise-jobs',
        Item: {
          jobId, kind: 'video-ingest', state: 'failed', videoId, input: { bucket: 'framewise-media', key: `videos/${videoId}/source` },
          attempts: 3, requeues: 0, steps: {}, error: { code: 'Probe', message: 'not a video' }, createdAt: at, updatedAt: at,
        },
      }));
    }
  });

  it('pages a video\'s jobs with the cursors it hands out', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const res = await call('GET', `/v1/jobs?videoId=${videoId}&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status, res.text).toBe(200);
      seen.push(...res.body.jobs.map((j: Json) => j.jobId));
      cursor = res.body.cursor;
    } while (cursor);
    expect(seen.sort()).toEqual(jobIds);
  });

  it('answers 400 InvalidCursor to garbage, forged cursors and cursors of another query', async () => {
    refusesCursor(await call('GET', '/v1/jobs?cursor=garbage'));
    refusesCursor(await call('GET', '/v1/jobs?state=failed&cursor=eyJmb28iOjF9'));
    refusesCursor(await call('GET', `/v1/jobs?state=failed&cursor=${base64url({ jobId: 'x', state: 'failed', updatedAt: 1 })}`));
    refusesCursor(await call('GET', `/v1/jobs?state=failed&cursor=${base64url({ jobId: 'x'.repeat(3000), state: 'failed', updatedAt: '2026-01-01T00:00:00.000Z' })}`));
    refusesCursor(await call('GET', `/v1/jobs?state=releasable&cursor=${base64url([1, 2])}`));
    refusesCursor(await call('GET', `/v1/jobs?cursor=${'A'.repeat(3000)}`));

    const first = await call('GET', `/v1/jobs?videoId=${videoId}&limit=1`);
    const cursor = first.body.cursor as string;
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect((await call('GET', `/v1/jobs?videoId=${videoId}&limit=1&cursor=${cursor}`)).status).toBe(200);
    refusesCursor(await call('GET', `/v1/jobs?videoId=${crypto.randomUUID()}&cursor=${cursor}`));
    refusesCursor(await call('GET', `/v1/jobs?state=failed&cursor=${cursor}`));
    refusesCursor(await call('GET', `/v1/jobs?cursor=${cursor}`));

    const failed = await call('GET', '/v1/jobs?state=failed&limit=1');
    expect(failed.body.cursor).toBeDefined();
    expect((await call('GET', `/v1/jobs?state=failed&limit=1&cursor=${failed.body.cursor}`)).status).toBe(200);
    refusesCursor(await call('GET', `/v1/jobs?state=succeeded&cursor=${failed.body.cursor}`));
  });

  it('answers InvalidCursor on the catalog lists and the versions list too', async () => {
    refusesCursor(await call('GET', '/v1/sports?cursor=garbage'));
    refusesCursor(await call('GET', '/v1/api-keys?cursor=garbage'));
    refusesCursor(await call('GET', '/v1/materialize/bad_input_ds/versions?cursor=garbage'));
    expect((await call('GET', `/v1/sports?limit=1&cursor=${ids.sport}`)).status).toBe(200);
  });
});

describe('ids and S3 keys are checked for their form and length first', () => {
  it('answers 400 to a 3,000-character job id, 404 to a well-formed unknown one', async () => {
    const long = 'j'.repeat(3000);
    for (const [method, path] of [['GET', `/v1/jobs/${long}`], ['POST', `/v1/jobs/${long}/requeue`], ['GET', '/v1/jobs/Not%20a%20job']]) {
      const res = await call(method!, path!);
      expect(res.status, `${method} ${path!.slice(0, 40)} ${res.text}`).toBe(400);
      expect(res.body.error.code).toBe('ValidationFailed');
    }
    expect((await call('GET', `/v1/jobs/ingest-${crypto.randomUUID()}-0000000000000000`)).status).toBe(404);
  });

  it('refuses an S3 prefix or key over 1,024 bytes of UTF-8 before reading anything', async () => {
    const datastack = `bad_input_${Date.now()}`;
    // a registered segmentation source, so that a root file's key is what is checked
    const volume = `materialize/bad-input/${Date.now()}/volume`;
    const info = {
      '@type': 'neuroglancer_multiscale_volume', type: 'segmentation', data_type: 'uint64', num_channels: 1,
      scales: [{ key: '8_8_40', size: [8, 8, 8], resolution: [8, 8, 40], voxel_offset: [0, 0, 0], chunk_sizes: [[4, 4, 4]], encoding: 'raw' }],
    };
    await s3.send(new PutObjectCommand({ Bucket: 'framewise-media', Key: `${volume}/info`, Body: JSON.stringify(info) }));
    const source = await call('PUT', `/v1/materialize/${datastack}/segmentation`, { body: { bucket: 'framewise-media', prefix: volume } });
    expect(source.status, source.text).toBe(200);

    const tooLong = (res: Res, field: string) => {
      expect(res.status, res.text.slice(0, 300)).toBe(400);
      expect(res.body.error.code).toBe('ValidationFailed');
      expect(res.body.error.details.map((d: Json) => d.path)).toContain(field);
    };
    const long = 'k'.repeat(20_000);
    tooLong(await call('POST', `/v1/materialize/${datastack}/supervoxel-roots`, { body: { bucket: 'framewise-media', key: long } }), 'key');
    tooLong(await call('POST', `/v1/materialize/${datastack}/bulk-upload`, {
      body: { bucket: 'framewise-media', prefix: long, table: 'synapses', schema: 'synapse', columnMapping: { id: 'id' } },
    }), 'prefix');
    tooLong(await call('PUT', `/v1/materialize/${datastack}/segmentation`, { body: { bucket: 'framewise-media', prefix: long } }), 'prefix');
    // bytes, not characters: materialize/ and 507 two-byte characters are 1,026 bytes
    tooLong(await call('POST', `/v1/materialize/${datastack}/supervoxel-roots`, { body: { bucket: 'framewise-media', key: `materialize/${'é'.repeat(507)}` } }), 'key');
    const fits = await call('POST', `/v1/materialize/${datastack}/supervoxel-roots`, { body: { bucket: 'framewise-media', key: `materialize/${'é'.repeat(506)}` } });
    expect(fits.body.error.code, fits.text.slice(0, 300)).toBe('InvalidRootTable');

    // nothing changed: the source is the one registered
    expect((await call('GET', `/v1/materialize/${datastack}/segmentation`)).body).toMatchObject({ volumePrefix: volume });
  });
});

describe('the local API answers as API Gateway does', () => {
  it('answers 400 to a path whose percent-encoding does not decode, key or no key', async () => {
    for (const key of [null, adminKey]) {
      const res = await call('GET', '/v1/sports/%ZZ', { key });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ message: 'Bad Request' });
    }
    expect((await call('GET', '/v1/jobs/%E0%A4%A', { key: null })).status).toBe(400);
  });

  it('answers 413 to a body over 10 MB, before any function, and takes one of 10 MB', async () => {
    const name = `${STAMP} big`;
    const over = await call('POST', '/v1/sports', { body: JSON.stringify({ name, pad: 'x'.repeat(10 * 1024 * 1024) }) });
    expect(over.status).toBe(413);
    expect(over.body).toEqual({ message: 'Request Entity Too Large' });
    const under = await call('POST', '/v1/sports', { body: JSON.stringify({ name, pad: 'x'.repeat(10 * 1024 * 1024 - 100) }) });
    expect(under.status, under.text.slice(0, 200)).toBe(400);
    expect(under.body.error.code).toBe('ValidationFailed');
    expect(await count('SELECT count(*) AS n FROM sport WHERE name = $1', [name])).toBe(0);
  });
});

describe('request bodies are JSON', () => {
  it('answers 415 to a body sent as text/plain, octet-stream, a form or with no type, and creates nothing', async () => {
    const name = `${STAMP} typed`;
    for (const contentType of ['text/plain', 'text/plain;charset=UTF-8', 'application/octet-stream', 'application/x-www-form-urlencoded', null]) {
      const res = await call('POST', '/v1/sports', { body: JSON.stringify({ name }), contentType });
      expect(res.status, `${contentType}: ${res.text}`).toBe(415);
      expect(res.body.error).toMatchObject({ code: 'UnsupportedMediaType', details: { contentType } });
    }
    expect(await count('SELECT count(*) AS n FROM sport WHERE name = $1', [name])).toBe(0);
    // JSON with a charset, or a +json type, is JSON
    expect((await call('POST', '/v1/sports', { body: JSON.stringify({ name }), contentType: 'application/json; charset=utf-8' })).status).toBe(201);
    const patched = await call('PATCH', `/v1/sports/${ids.sport}`, { body: JSON.stringify({ name: STAMP }), contentType: 'application/merge-patch+json' });
    expect(patched.status, patched.text).toBe(200);
  });
});

describe('the OpenAPI document', () => {
  it('is public, as the README says', async () => {
    const res = await call('GET', '/v1/openapi.json', { key: null });
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
  });
});

describe('the local cloud\'s files', () => {
  it('are its user\'s only: endpoints and credentials 0600, and every other file 0600 or in a 0700 folder', () => {
    const mode = (path: string) => statSync(path).mode & 0o777;
    expect(mode(join(cloudDir, 'endpoints.json')).toString(8)).toBe('600');
    expect(mode(join(cloudDir, 'credentials.json')).toString(8)).toBe('600');
    expect(mode(join(cloudDir, 'stepfunctions', 'state.json')).toString(8)).toBe('600');
    const exposed: string[] = [];
    // PostgreSQL's programs, linked from the npm package as root (infra/local/postgres.ts), are public and hold nothing.
    const programs = join(cloudDir, 'postgres', 'install');
    const walk = (dir: string, shielded: boolean) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (path === programs) continue;
        if (entry.isDirectory()) walk(path, shielded || (mode(path) & 0o077) === 0);
        else if (entry.isFile() && !shielded && (mode(path) & 0o077) !== 0) exposed.push(`${path} ${mode(path).toString(8)}`);
      }
    };
    walk(cloudDir, false);
    expect(exposed).toEqual([]);
  });
});
