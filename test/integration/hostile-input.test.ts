// Every route of the topology, called as an admin with hostile input: NUL characters and lone surrogates in
// every path parameter, query parameter and body field, 3,000-character ids, garbage cursors, undecodable
// percent-encoding, bodies that are not JSON or are sent as something else, huge numbers, arrays where objects
// are expected and deeply nested JSON. Nothing may answer 5xx, and every 4xx is the API's error JSON.
// Bodies are derived from the OpenAPI document where a route is documented, so every field is reached.
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { httpRoutes } from '../../infra/topology.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const endpoints = inject('endpoints');
const adminKey = inject('adminApiKey');
const STAMP = `hostile ${Date.now()}`;

interface Probe {
  readonly route: string;
  readonly what: string;
  readonly method: string;
  /** Already encoded, as sent. */
  readonly path: string;
  readonly query?: string;
  readonly body?: string;
  readonly contentType?: string | null;
  /** The status the probe must get, when any 4xx would not do. */
  readonly expect?: number;
}

async function send(p: Probe): Promise<{ status: number; text: string }> {
  const contentType = p.contentType === undefined ? (p.body === undefined ? undefined : 'application/json') : p.contentType;
  const res = await fetch(`${endpoints.api}${p.path}${p.query ? `?${p.query}` : ''}`, {
    method: p.method,
    headers: { authorization: `Bearer ${adminKey}`, ...(contentType && { 'content-type': contentType }) },
    body: p.body,
  });
  return { status: res.status, text: await res.text() };
}

function decodes(path: string): boolean {
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}

/** What is wrong with an answer to a probe, or undefined when it is a clean refusal or a success. */
function problemWith(p: Probe, status: number, text: string): string | undefined {
  if (status >= 500) return `${status} ${text.slice(0, 300)}`;
  if (p.expect !== undefined && status !== p.expect) return `${status} instead of ${p.expect}: ${text.slice(0, 200)}`;
  if (status < 400) return undefined;
  // API Gateway's own answer before any function: a path that does not decode.
  if (status === 400 && text === '{"message":"Bad Request"}' && !decodes(p.path)) return undefined;
  let body: Json;
  try {
    body = JSON.parse(text);
  } catch {
    return `${status} with a body that is not JSON: ${text.slice(0, 200)}`;
  }
  const e = body?.error;
  if (!e || typeof e.code !== 'string' || typeof e.message !== 'string' || !('details' in e)) return `${status} without the error shape: ${text.slice(0, 200)}`;
  return undefined;
}

/** Runs `work` over `items`, `width` at a time. */
async function pool<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

// ---- hostile values ----

const NUL = 'a\u0000b';
const LONG = 'x'.repeat(3000);
/** Far beyond any field, and 20 times what S3 allows in a key. */
const LONGER = 'x'.repeat(20_000);
const HUGE_NUMBERS = ['1e308', '-1e308', '99999999999999999999', '9007199254740993', '1e400', '-0.0000001', '2147483648'];
const PARAM_VALUES: Record<string, string> = {
  nul: encodeURIComponent(NUL),
  surrogate: '%ED%A0%80', // the UTF-8 bytes of a lone surrogate, which do not decode
  long: LONG,
  badPercent: '%ZZ',
  dotdot: '..%2F..',
  random: randomUUID(),
  negative: '-1',
  huge: '99999999999999999999',
  float: '1e400',
};
const QUERY_VALUES: Record<string, string> = {
  nul: encodeURIComponent(NUL),
  surrogate: 'a%ED%A0%80b',
  long: LONG,
  garbage: 'garbage',
  forged: Buffer.from(JSON.stringify({ foo: 1 })).toString('base64url'),
  forgedKey: Buffer.from(JSON.stringify({ jobId: LONG })).toString('base64url'),
  huge: '99999999999999999999',
  float: '1e400',
  negative: '-1',
  badPercent: '%ZZ',
  list: 'a,b,,c',
};
/** Query parameters the API reads somewhere. */
const QUERY_NAMES = ['cursor', 'limit', 'state', 'videoId', 'detGroup', 'resolution', 'from', 'to', 'client', 'format', 'rootIds'];

// ---- bodies from the OpenAPI document ----

type Schema = Json;

function resolve(doc: Json, schema: Schema): Schema {
  let s = schema;
  while (s?.$ref) s = doc.components.schemas[s.$ref.replace('#/components/schemas/', '')];
  return s ?? {};
}

/** A value the schema accepts (roughly: enough to get past the first checks and reach the field under test). */
function sample(doc: Json, schema: Schema, depth = 0): unknown {
  const s = resolve(doc, schema);
  if (depth > 6) return null;
  if (s.enum) return s.enum[0];
  if ('const' in s) return s.const;
  if (s.anyOf ?? s.oneOf) return sample(doc, (s.anyOf ?? s.oneOf)[0], depth + 1);
  if (s.allOf) return Object.assign({}, ...s.allOf.map((x: Schema) => sample(doc, x, depth + 1)));
  const type = Array.isArray(s.type) ? s.type.find((t: string) => t !== 'null') : s.type;
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(s.properties ?? {})) out[k] = sample(doc, v, depth + 1);
      return out;
    }
    case 'array':
      return s.prefixItems ? s.prefixItems.map((x: Schema) => sample(doc, x, depth + 1)) : [sample(doc, s.items ?? {}, depth + 1)];
    case 'integer':
      return Math.max(1, s.minimum ?? 1);
    case 'number':
      return Math.max(1, s.minimum ?? 1);
    case 'boolean':
      return true;
    case 'string':
      if (s.format === 'uuid') return randomUUID();
      if (s.format === 'date') return '2025-08-01';
      if (s.format === 'date-time') return '2025-09-01T19:00:00Z';
      return `${STAMP} ${randomUUID().slice(0, 8)}`;
    default:
      return 'x';
  }
}

/** Every leaf of a JSON value with its path. */
function leaves(value: unknown, path: (string | number)[] = []): { path: (string | number)[]; value: unknown }[] {
  if (Array.isArray(value)) return value.length ? value.flatMap((v, i) => leaves(v, [...path, i])) : [{ path, value }];
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    return entries.length ? entries.flatMap(([k, v]) => leaves(v, [...path, k])) : [{ path, value }];
  }
  return [{ path, value }];
}

/** The JSON text of `value` with the leaf at `path` replaced by the raw JSON text `raw`. */
function withLeaf(value: unknown, path: (string | number)[], raw: string): string {
  const marker = `@@${randomUUID()}@@`;
  const copy = structuredClone(value) as Json;
  if (path.length === 0) return raw;
  let at = copy;
  for (const k of path.slice(0, -1)) at = at[k];
  at[path.at(-1)!] = marker;
  return JSON.stringify(copy).replace(JSON.stringify(marker), raw);
}

/** Sample bodies of the routes the OpenAPI document does not describe (every field each reads). */
const UNDOCUMENTED_BODIES: Record<string, unknown> = {
  'POST /v1/videos/{id}/ingest': { force: true },
  'POST /v1/cache/touch-seasons': { teamId: randomUUID(), eventTypeId: randomUUID(), leagueId: randomUUID(), sportId: randomUUID() },
  'POST /v1/det-groups': { name: STAMP, detectableIds: [randomUUID()], organizationId: randomUUID() },
  'POST /v1/clients/{id}/det-groups': { name: STAMP, detectableIds: [randomUUID()], organizationId: randomUUID() },
  'POST /v1/clients/{id}/det-groups/{detGroupId}/replace': { name: STAMP, detectableIds: [randomUUID()] },
  'POST /v1/materialize/{datastack}/bulk-upload': {
    bucket: 'framewise-media', prefix: `materialize/hostile/${randomUUID()}/`, table: 'synapses', schema: 'synapse',
    columnMapping: { id: 'id', sv_ids_ordered: ['pre_pt_supervoxel_id', 'post_pt_supervoxel_id'] }, chunkRows: 1000,
  },
  'POST /v1/materialize/{datastack}/versions': { expiresInDays: 5 },
  'PUT /v1/materialize/{datastack}/segmentation': { bucket: 'framewise-media', prefix: `materialize/hostile/${randomUUID()}`, scale: 's0', positionUnitNm: [4, 4, 40], fillMissing: true },
  'POST /v1/materialize/{datastack}/supervoxel-roots': { bucket: 'framewise-media', key: `materialize/hostile/${randomUUID()}.npy` },
  'POST /v1/materialize/{datastack}/update-roots': { full: true },
  'POST /v1/materialize/{datastack}/ingest-annotations': {},
  'POST /v1/materialize/{datastack}/complete-workflow': {},
};

function deeplyNested(levels: number): string {
  return `${'{"a":['.repeat(levels)}1${']}'.repeat(levels)}`;
}

// ---- the walk ----

let openapi: Json;
/** Rows of this file, by collection path: probes name them so that hostile input reaches past "not found". */
const rows: Record<string, string> = {};
/** The collection a path parameter or a body field names. */
const COLLECTION_OF: Record<string, string> = {
  organizationId: 'organizations', clientId: 'clients', detectableId: 'detectables', detectableIds: 'detectables',
  sportId: 'sports', eventTypeId: 'event-types', leagueId: 'leagues', teamId: 'teams', seasonId: 'seasons',
  gameId: 'games', videoId: 'videos',
};

async function create(collection: string, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${endpoints.api}/v1/${collection}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const created = (await res.json()) as Json;
  expect(res.status, `${collection} ${JSON.stringify(created)}`).toBe(201);
  rows[collection] = created.id;
}

beforeAll(async () => {
  const res = await fetch(`${endpoints.api}/v1/openapi.json`);
  expect(res.status).toBe(200);
  openapi = await res.json();
  await create('organizations', { name: STAMP });
  await create('clients', { organizationId: rows.organizations, name: STAMP });
  await create('detectables', { name: STAMP });
  await create('sports', { name: STAMP });
  await create('event-types', { sportId: rows.sports, name: 'Goal', windowSeconds: 15 });
  await create('leagues', { sportId: rows.sports, name: STAMP });
  await create('teams', { name: STAMP, leagueId: rows.leagues });
  await create('seasons', { leagueId: rows.leagues, name: STAMP, startsOn: '2025-08-01', endsOn: '2026-05-31' });
  await create('games', { seasonId: rows.seasons, startsAt: '2025-08-16T16:30:00Z', title: STAMP });
  await create('events', { gameId: rows.games, eventTypeId: rows['event-types'], time: 12 });
  await create('videos', { gameId: rows.games, title: STAMP });
});

/** A row of this file for a path parameter (`{id}` names the collection before it), or a random id. */
function rowFor(path: string, name: string): string {
  const collection = name === 'id' ? /^\/v1\/([\w-]+)\/\{id\}/.exec(path)?.[1] : COLLECTION_OF[name];
  return (collection && rows[collection]) ?? randomUUID();
}

/** The sample body with this file's rows in the fields that name one. */
function withRows(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => withRows(v, key));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withRows(v, k)]));
  const collection = COLLECTION_OF[key];
  return collection && rows[collection] ? rows[collection] : value;
}

function probesFor(route: { method: string; path: string }): Probe[] {
  const key = `${route.method} ${route.path}`;
  const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  const op = openapi.paths?.[route.path]?.[route.method.toLowerCase()];
  // A DELETE names no row of this file: the probes of the other routes need them.
  const fill = (values: Record<string, string>) =>
    route.path.replace(/\{(\w+)\}/g, (_, n: string) => values[n] ?? (route.method === 'DELETE' ? randomUUID() : rowFor(route.path, n)));
  const validPath = fill({ datastack: 'hostile_ds', version: '1', table: 'synapses' });
  const probes: Probe[] = [];

  for (const name of names) {
    for (const [what, value] of Object.entries(PARAM_VALUES)) {
      probes.push({
        route: key, what: `path ${name}=${what}`, method: route.method, path: fill({ datastack: 'hostile_ds', version: '1', table: 'synapses', [name]: value }),
        // an id is checked for its form and length before it is looked up anywhere
        ...(what === 'long' && { expect: 400 }),
      });
    }
  }

  // A route reads the query parameters it documents; an undocumented one, any the API reads somewhere. Other
  // methods read none: two probes show that they ignore or refuse one.
  const documented = (op?.parameters ?? []).filter((p: Json) => p.in === 'query').map((p: Json) => p.name as string);
  const queryNames = route.method !== 'GET' ? ['cursor'] : op ? [...documented, 'cursor'] : QUERY_NAMES;
  for (const name of new Set(queryNames)) {
    const values = route.method === 'GET' ? Object.entries(QUERY_VALUES) : Object.entries(QUERY_VALUES).filter(([what]) => what === 'nul' || what === 'long');
    for (const [what, value] of values) {
      probes.push({ route: key, what: `query ${name}=${what}`, method: route.method, path: validPath, query: `${encodeURIComponent(name)}=${value}` });
    }
  }

  const bodySchema = op?.requestBody?.content?.['application/json']?.schema;
  const base = withRows(bodySchema ? sample(openapi, bodySchema) : UNDOCUMENTED_BODIES[key]);
  if (route.method !== 'GET' && route.method !== 'DELETE') {
    const valid = JSON.stringify(base ?? {});
    const raw = (what: string, body: string, contentType?: string | null): Probe => ({ route: key, what, method: route.method, path: validPath, body, contentType });
    probes.push(
      raw('body text/plain', valid, 'text/plain'),
      raw('body octet-stream', valid, 'application/octet-stream'),
      raw('body form', valid, 'application/x-www-form-urlencoded'),
      raw('body without content-type', valid, null),
      raw('body not JSON', '{"a":', 'application/json'),
      raw('body array', '[]'),
      raw('body string', '"x"'),
      raw('body null', 'null'),
      raw('body number', '1e400'),
      raw('body NUL key', JSON.stringify({ [NUL]: 1 })),
      raw('body deeply nested', deeplyNested(10_000)),
      raw('body __proto__', '{"__proto__":{"admin":true}}'),
    );
    for (const leaf of leaves(base ?? {})) {
      const at = leaf.path.join('.') || '(root)';
      const variants: Record<string, string> = {
        nul: JSON.stringify(NUL),
        surrogate: '"a\\ud800b"',
        long: JSON.stringify(LONGER),
        array: '[]',
        object: '{}',
        nested: deeplyNested(50),
        ...Object.fromEntries(HUGE_NUMBERS.map((n) => [`number ${n}`, n])),
      };
      for (const [what, text] of Object.entries(variants)) probes.push(raw(`body ${at}=${what}`, withLeaf(base, leaf.path, text)));
    }
  }
  return probes;
}

describe('every route refuses hostile input with a 4xx in the error shape', () => {
  it('answers no 5xx on any route, for any hostile path, query or body', async () => {
    const routes = httpRoutes();
    expect(routes.length).toBeGreaterThan(100);
    const probes = routes.flatMap(probesFor);
    const problems: string[] = [];
    const started = Date.now();
    await pool(probes, 8, async (p) => {
      const { status, text } = await send(p);
      const problem = problemWith(p, status, text);
      if (problem) problems.push(`${p.route} [${p.what}]: ${problem}`);
    });
    console.log(`${probes.length} hostile requests over ${routes.length} routes in ${Date.now() - started} ms`);
    expect(problems).toEqual([]);
  });
});
