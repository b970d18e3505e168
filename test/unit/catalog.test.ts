// Catalog, pure parts: route set, OpenAPI coverage, roles, schemas, the snake/camel mapping, error mapping,
// upload planning. No I/O: nothing here reaches PostgreSQL or S3.
import { describe, expect, it } from 'vitest';
import { findFunction } from '../../infra/topology.ts';
import { AppError } from '../../functions/lib/errors.ts';
import type { HttpRequest } from '../../functions/lib/http.ts';
import { catalogRoutes, routes } from '../../functions/catalog/routes.ts';
import { buildOpenApiDocument } from '../../functions/lib/openapi.ts';
import { ident, toCamel, toSnake } from '../../functions/lib/sql-names.ts';
import { decodeRow, encodeValues, selectExpression } from '../../functions/catalog/repository.ts';
import { fromPgError, parseKeyDetail } from '../../functions/lib/dberrors.ts';
import * as tables from '../../functions/catalog/tables.ts';
import * as s from '../../functions/catalog/schemas.ts';
import { MAX_PARTS, PARTS_PER_UPLOAD, planUpload } from '../../functions/lib/presigned-upload.ts';
import { videoSourceKey } from '../../functions/catalog/video-lifecycle.ts';

const topologyRoutes = (): string[] => {
  const trigger = findFunction('catalog-api').triggers.find((t) => t.kind === 'http');
  if (trigger?.kind !== 'http') throw new Error('catalog-api has no http trigger');
  return [...trigger.routes];
};

describe('catalog routes', () => {
  it('serve exactly the route keys the topology gives catalog-api', () => {
    expect(new Set(Object.keys(routes))).toEqual(new Set(topologyRoutes()));
    expect(Object.keys(routes)).toHaveLength(topologyRoutes().length);
  });

  it('give the roles of the access matrix (admin is implicit everywhere)', () => {
    const roles = (key: string) => {
      const r = routes[key]!.roles;
      return r === 'public' ? 'public' : [...r].sort().join(',');
    };
    expect(roles('GET /v1/me')).toBe('analyst,client');
    for (const key of ['POST /v1/api-keys', 'GET /v1/api-keys', 'DELETE /v1/api-keys/{id}']) expect(roles(key)).toBe('');
    // a client key reads only seasons and det-groups (scoped to its grants)
    const clientRoutes = Object.keys(routes).filter((k) => roles(k).split(',').includes('client'));
    expect(clientRoutes.sort()).toEqual(
      ['GET /v1/det-groups', 'GET /v1/det-groups/{id}', 'GET /v1/me', 'GET /v1/seasons', 'GET /v1/seasons/{id}'].sort(),
    );
    // analysts read everything but api keys
    for (const key of Object.keys(routes)) {
      if (key.startsWith('GET ') && !key.includes('api-keys')) {
        expect(roles(key).split(','), key).toContain('analyst');
      }
    }
    // analysts write games, game teams, events, videos and uploads; admins write the rest
    const analystWrites = Object.keys(routes).filter((k) => !k.startsWith('GET ') && roles(k).split(',').includes('analyst'));
    for (const key of analystWrites) expect(key, key).toMatch(/^\w+ \/v1\/(games|events|videos)(\/|$)/);
    expect(analystWrites).toHaveLength(3 * 3 + 2 + 5); // POST/PATCH/DELETE of games, events, videos; PUT/DELETE game teams; 5 upload routes (video and localizations, start and complete; video resume)
    for (const entity of ['organizations', 'clients', 'detectables', 'sports', 'event-types', 'leagues', 'teams', 'seasons']) {
      for (const op of ['POST', 'PATCH', 'DELETE']) {
        expect(roles(`${op} /v1/${entity}${op === 'POST' ? '' : '/{id}'}`)).toBe('');
      }
    }
    // det_groups are created, deleted, granted and revoked by detgroups-api; the catalog only renames them
    expect(roles('PATCH /v1/det-groups/{id}')).toBe('');
    for (const key of ['POST /v1/det-groups', 'DELETE /v1/det-groups/{id}', 'PUT /v1/clients/{id}/det-groups/{detGroupId}']) {
      expect(routes[key], key).toBeUndefined();
    }
    for (const rel of ['detectables/{detectableId}', 'seasons/{seasonId}']) {
      expect(roles(`PUT /v1/clients/{id}/${rel}`)).toBe('');
      expect(roles(`DELETE /v1/clients/{id}/${rel}`)).toBe('');
    }
  });

  it('reject a bad request before touching any store (400, ValidationFailed)', async () => {
    const req = (over: Partial<HttpRequest>): HttpRequest => ({
      routeKey: '', params: {}, query: {}, headers: {}, body: undefined,
      principal: { keyId: 'k', role: 'admin', clientId: null }, ...over,
    });
    const fail = async (key: string, over: Partial<HttpRequest>) => {
      const err = await routes[key]!.handle(req(over)).then(() => undefined, (e: unknown) => e);
      expect(err, key).toBeInstanceOf(AppError);
      return err as AppError;
    };
    const e1 = await fail('POST /v1/event-types', { body: { sportId: crypto.randomUUID(), name: 'Goal', weight: 0.5, windowSeconds: 0 } });
    expect(e1.status).toBe(400);
    expect((e1.details as { path: string }[]).map((d) => d.path).sort()).toEqual(['weight', 'windowSeconds']);
    expect((await fail('GET /v1/seasons/{id}', { params: { id: 'not-a-uuid' } })).status).toBe(400);
    expect((await fail('GET /v1/games', { query: { limit: '0' } })).status).toBe(400);
    expect((await fail('GET /v1/games', { query: { colour: 'red' } })).status).toBe(400);
    expect((await fail('POST /v1/sports', { body: undefined })).status).toBe(400);
    expect((await fail('PUT /v1/games/{id}/teams/{teamId}', {
      params: { id: crypto.randomUUID(), teamId: crypto.randomUUID() }, body: { side: 'middle' },
    })).status).toBe(400);
  });
});

describe('catalog OpenAPI document', () => {
  const doc = buildOpenApiDocument(catalogRoutes);

  it('documents every topology route with its method, parameters and responses', () => {
    for (const key of topologyRoutes()) {
      const [method, path] = key.split(' ') as [string, string];
      const op = doc.paths?.[path]?.[method.toLowerCase() as 'get'];
      expect(op, key).toBeDefined();
      const pathParams = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      const documented = (op!.parameters ?? []).filter((p) => 'in' in p && p.in === 'path').map((p) => ('name' in p ? p.name : ''));
      expect(documented.sort(), key).toEqual(pathParams.sort());
      const statuses = Object.keys(op!.responses ?? {});
      expect(statuses.some((st) => st.startsWith('2')), key).toBe(true);
      if (key === 'GET /v1/openapi.json') {
        expect(op!.security).toEqual([]);
      } else {
        expect(op!.security, key).toEqual([{ bearerAuth: [] }]);
        expect(statuses, key).toEqual(expect.arrayContaining(['401', '403']));
      }
      if (['POST', 'PATCH'].includes(method) && !key.endsWith('/api-keys/{id}')) expect(op!.requestBody, key).toBeDefined();
    }
  });

  it('has the bearer scheme, the error schema and the entity schemas', () => {
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.components?.securitySchemes?.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components?.schemas?.Error).toBeDefined();
    for (const name of ['Season', 'SeasonCreate', 'SeasonPatch', 'SeasonPage', 'DetGroup', 'Video', 'UploadPlan', 'ApiKeyCreated']) {
      expect(doc.components?.schemas?.[name], name).toBeDefined();
    }
    const eventType = doc.components!.schemas!.EventTypeCreate as { properties: Record<string, { minimum?: number; exclusiveMinimum?: number }> };
    expect(eventType.properties.weight!.minimum).toBe(1);
    expect(eventType.properties.windowSeconds!.exclusiveMinimum).toBe(0);
    const notFound = (doc.paths!['/v1/seasons/{id}']!.get!.responses as Record<string, { content: unknown }>)['404']!;
    expect(JSON.stringify(notFound.content)).toContain('#/components/schemas/Error');
  });
});

describe('catalog schemas', () => {
  const id = () => crypto.randomUUID();
  const ok = (schema: { safeParse: (v: unknown) => { success: boolean } }, v: unknown) => schema.safeParse(v).success;

  it('event types: weight >= 1, windowSeconds > 0, weight optional', () => {
    const base = { sportId: id(), name: 'Goal', windowSeconds: 10 };
    expect(ok(s.EventTypeCreate, base)).toBe(true);
    expect(ok(s.EventTypeCreate, { ...base, weight: 1 })).toBe(true);
    expect(ok(s.EventTypeCreate, { ...base, weight: 0.999 })).toBe(false);
    expect(ok(s.EventTypeCreate, { ...base, windowSeconds: 0 })).toBe(false);
    expect(ok(s.EventTypeCreate, { ...base, windowSeconds: -1 })).toBe(false);
    expect(ok(s.EventTypeCreate, { ...base, windowSeconds: '10' })).toBe(false);
    expect(ok(s.EventTypePatch, {})).toBe(true);
    expect(ok(s.EventTypePatch, { weight: 0 })).toBe(false);
  });

  it('events: time >= 0 seconds', () => {
    expect(ok(s.EventCreate, { gameId: id(), eventTypeId: id(), time: 0 })).toBe(true);
    expect(ok(s.EventCreate, { gameId: id(), eventTypeId: id(), time: 12.5 })).toBe(true);
    expect(ok(s.EventCreate, { gameId: id(), eventTypeId: id(), time: -0.1 })).toBe(false);
  });

  it('are strict, trim names and reject blank ones', () => {
    expect(ok(s.SportCreate, { name: 'Football', extra: 1 })).toBe(false);
    expect(ok(s.SportPatch, { nme: 'typo' })).toBe(false);
    expect(ok(s.SportCreate, { name: '   ' })).toBe(false);
    expect(s.SportCreate.parse({ name: '  Football ' })).toEqual({ name: 'Football' });
    expect(ok(s.SportCreate, {})).toBe(false);
  });

  it('seasons: optional ISO dates, not ending before they start (create)', () => {
    const base = { leagueId: id(), name: '2025/26', startsOn: '2025-08-01', endsOn: '2026-05-31' };
    expect(ok(s.SeasonCreate, base)).toBe(true);
    expect(ok(s.SeasonCreate, { ...base, endsOn: '2025-07-31' })).toBe(false);
    expect(ok(s.SeasonCreate, { ...base, startsOn: '01.08.2025' })).toBe(false);
    expect(ok(s.SeasonPatch, { endsOn: '2026-06-01' })).toBe(true);
    expect(ok(s.SeasonCreate, { leagueId: base.leagueId, name: 'undated' })).toBe(true);
    expect(ok(s.SeasonCreate, { ...base, endsOn: null })).toBe(true);
  });

  it('teams need a league or a sport; games need an ISO timestamp', () => {
    expect(ok(s.TeamCreate, { name: 'Reds', leagueId: id() })).toBe(true);
    expect(ok(s.TeamCreate, { name: 'Reds', sportId: id() })).toBe(true);
    expect(ok(s.TeamCreate, { name: 'Reds' })).toBe(false);
    expect(ok(s.TeamCreate, { name: 'Reds', leagueId: null, sportId: null })).toBe(false);
    expect(ok(s.GameCreate, { seasonId: id(), title: 'A v B', startsAt: '2025-09-01T19:00:00+02:00' })).toBe(true);
    expect(ok(s.GameCreate, { seasonId: id(), title: 'A v B', startsAt: '2025-09-01' })).toBe(false);
  });

  it('det groups: detectableIds are uuids without repeats', () => {
    const d = id();
    expect(ok(s.DetGroupCreate, { name: 'Drinks', detectableIds: [d, id()] })).toBe(true);
    expect(ok(s.DetGroupCreate, { name: 'Drinks', detectableIds: [d, d] })).toBe(false);
    expect(ok(s.DetGroupCreate, { name: 'Drinks', detectableIds: ['x'] })).toBe(false);
    expect(ok(s.DetGroupPatch, { organizationId: null })).toBe(true);
  });

  it('videos: a patch neither releases (POST /v1/videos/{id}/release does) nor sets the status', () => {
    expect(ok(s.VideoCreate, { gameId: id() })).toBe(true);
    expect(ok(s.VideoPatch, { title: 'x' })).toBe(true);
    expect(ok(s.VideoPatch, { releasedAt: '2025-01-01T00:00:00Z' })).toBe(false);
    expect(ok(s.VideoPatch, { status: 'probed' })).toBe(false);
  });

  it('api keys: clientId exactly for client keys', () => {
    expect(ok(s.ApiKeyCreate, { name: 'ops', role: 'admin' })).toBe(true);
    expect(ok(s.ApiKeyCreate, { name: 'c', role: 'client', clientId: id() })).toBe(true);
    expect(ok(s.ApiKeyCreate, { name: 'c', role: 'client' })).toBe(false);
    expect(ok(s.ApiKeyCreate, { name: 'a', role: 'analyst', clientId: id() })).toBe(false);
    expect(ok(s.ApiKeyCreate, { name: 'r', role: 'root' })).toBe(false);
  });

  it('uploads: video/* or octet-stream, 1 byte .. 5 TiB (what S3 stores), whole bytes', () => {
    const base = { filename: 'match.mp4', contentType: 'video/mp4', sizeBytes: 1 };
    expect(ok(s.UploadStart, base)).toBe(true);
    expect(ok(s.UploadStart, { ...base, contentType: 'application/octet-stream' })).toBe(true);
    expect(ok(s.UploadStart, { ...base, contentType: 'video/x-matroska' })).toBe(true);
    expect(ok(s.UploadStart, { ...base, contentType: 'image/png' })).toBe(false);
    expect(ok(s.UploadStart, { ...base, contentType: 'video/' })).toBe(false);
    expect(ok(s.UploadStart, { ...base, contentType: 'video/mp4\r\nx-evil: 1' })).toBe(false);
    expect(ok(s.UploadStart, { ...base, sizeBytes: 0 })).toBe(false);
    expect(ok(s.UploadStart, { ...base, sizeBytes: 1.5 })).toBe(false);
    expect(ok(s.UploadStart, { ...base, sizeBytes: 5 * 1024 ** 4 })).toBe(true);
    expect(ok(s.UploadStart, { ...base, sizeBytes: 5 * 1024 ** 4 + 1 })).toBe(false);
    expect(ok(s.UploadStart, { ...base, filename: '' })).toBe(false);
    const part = { partNumber: 1, etag: '"abc"' };
    expect(ok(s.UploadComplete, { uploadId: 'u', parts: [part] })).toBe(true);
    expect(ok(s.UploadComplete, { uploadId: 'u', parts: [] })).toBe(false);
    expect(ok(s.UploadComplete, { uploadId: 'u', parts: [part, part] })).toBe(false);
    expect(ok(s.UploadComplete, { uploadId: 'u', parts: [{ partNumber: 0, etag: 'x' }] })).toBe(false);
  });

  it('list queries: limit coerced from the query string and bounded, cursor left to the route, filters declared', () => {
    const q = s.listQuery({ seasonId: s.Id.optional() });
    expect(q.parse({ limit: '25' })).toEqual({ limit: 25 });
    expect(ok(q, { limit: '0' })).toBe(false);
    expect(ok(q, { limit: String(s.PAGE_LIMIT_MAX + 1) })).toBe(false);
    expect(ok(q, { limit: 'ten' })).toBe(false);
    // the route refuses a cursor that is not an id as InvalidCursor, as every list of the API does
    expect(ok(q, { cursor: 'abc' })).toBe(true);
    expect(ok(q, { seasonId: id() })).toBe(true);
    expect(ok(q, { gameId: id() })).toBe(false);
  });
});

describe('snake_case ↔ camelCase', () => {
  it('maps names both ways', () => {
    for (const [snake, camel] of [
      ['window_seconds', 'windowSeconds'], ['organization_id', 'organizationId'], ['s3_key', 's3Key'],
      ['name', 'name'], ['detectable_ids', 'detectableIds'], ['created_at', 'createdAt'],
    ]) {
      expect(toCamel(snake!)).toBe(camel);
      expect(toSnake(camel!)).toBe(snake);
    }
  });

  it('every column of every table survives the round trip', () => {
    for (const def of Object.values(tables)) {
      if (!('columns' in def)) continue;
      for (const column of Object.keys(def.columns)) expect(toSnake(toCamel(column))).toBe(column);
    }
  });

  it('decodes rows to camelCase and encodes only known columns', () => {
    const row = decodeRow(
      { id: 'i', window_seconds: 2.5, sport_id: null, created_at: new Date('2025-01-01T00:00:00Z'), updated_at: '2025-01-01T00:00:00.000001Z' },
      { id: 'uuid', window_seconds: 'numeric', sport_id: 'uuid', created_at: 'timestamptz', updated_at: 'timestamptz' },
    );
    expect(row).toEqual({ id: 'i', windowSeconds: 2.5, sportId: null, createdAt: '2025-01-01T00:00:00.000Z', updatedAt: '2025-01-01T00:00:00.000001Z' });
    expect(encodeValues(tables.eventTypeTable, { windowSeconds: 3, weight: undefined, name: 'Goal' })).toEqual([
      ['window_seconds', 3],
      ['name', 'Goal'],
    ]);
    expect(() => encodeValues(tables.eventTypeTable, { colour: 'red' })).toThrow(/no column colour/);
  });

  it('quotes identifiers and casts numbers, dates and timestamps in SELECTs', () => {
    expect(ident('time')).toBe('"time"');
    expect(() => ident('x; DROP TABLE y')).toThrow();
    expect(selectExpression('t."weight"', 'numeric')).toBe('(t."weight")::float8');
    expect(selectExpression('t."starts_on"', 'date')).toContain('YYYY-MM-DD');
    expect(selectExpression('t."updated_at"', 'timestamptz')).toContain('.US');
    expect(selectExpression('t."name"', 'text')).toBe('t."name"');
  });
});

describe('PostgreSQL errors → API errors', () => {
  const pgError = (fields: Record<string, string>) => Object.assign(new Error('db'), { severity: 'ERROR', ...fields });

  it('a missing reference is a 400 naming the field', () => {
    const err = fromPgError(pgError({
      code: '23503', table: 'client', constraint: 'client_organization_id_fkey',
      detail: 'Key (organization_id)=(2a3f0000-0000-4000-8000-000000000000) is not present in table "organization".',
    }))!;
    expect(err.status).toBe(400);
    expect(err.code).toBe('InvalidReference');
    expect(err.details).toMatchObject({ fields: ['organizationId'], value: '2a3f0000-0000-4000-8000-000000000000', references: 'organization' });
  });

  it('deleting a referenced row is a 409', () => {
    const err = fromPgError(pgError({
      code: '23503', table: 'organization', constraint: 'client_organization_id_fkey',
      detail: 'Key (id)=(2a3f0000-0000-4000-8000-000000000000) is still referenced from table "client".',
    }))!;
    expect(err.status).toBe(409);
    expect(err.details).toMatchObject({ referencedBy: 'client' });
  });

  it('a unique violation is a 409, a check violation a 400, other errors pass through', () => {
    const dup = fromPgError(pgError({ code: '23505', table: 'detectable', constraint: 'detectable_name_key', detail: 'Key (lower(name))=(acme) already exists.' }))!;
    expect([dup.status, dup.details]).toEqual([409, { constraint: 'detectable_name_key', fields: ['name'], value: 'acme' }]);
    expect(fromPgError(pgError({ code: '23514', constraint: 'event_type_weight_check' }))!.status).toBe(400);
    expect(fromPgError(pgError({ code: '57014' }))).toBeUndefined();
    expect(fromPgError(new Error('plain'))).toBeUndefined();
    expect(parseKeyDetail('Key (game_id, side)=(g, home) already exists.')).toEqual({ fields: ['gameId', 'side'], value: 'g, home' });
  });
});

describe('upload planning', () => {
  const MiB = 1024 * 1024;
  it('uses one PUT below the threshold and multipart from it on', () => {
    expect(planUpload(64 * MiB - 1, 64 * MiB, 16 * MiB)).toEqual({ method: 'PUT' });
    expect(planUpload(64 * MiB, 64 * MiB, 16 * MiB)).toEqual({ method: 'multipart', partSize: 16 * MiB, partCount: 4 });
    expect(planUpload(64 * MiB + 1, 64 * MiB, 16 * MiB)).toEqual({ method: 'multipart', partSize: 16 * MiB, partCount: 5 });
  });

  it('grows the part size, in whole MiB, to at most a hundred parts (S3 allows 10,000)', () => {
    expect(planUpload(800 * MiB, 8 * MiB, 8 * MiB)).toEqual({ method: 'multipart', partSize: 8 * MiB, partCount: 100 });
    expect(planUpload(800 * MiB + 1, 8 * MiB, 8 * MiB)).toEqual({ method: 'multipart', partSize: 9 * MiB, partCount: 89 });
    // A game-hour's source: 2.9 GB in 28 MiB parts, not 346 parts of 8 MiB.
    expect(planUpload(2.9e9, 8 * MiB, 8 * MiB)).toEqual({ method: 'multipart', partSize: 28 * MiB, partCount: 99 });
    const plan = planUpload(50 * 1024 * MiB, 64 * MiB, 5 * MiB);
    expect(plan.method).toBe('multipart');
    if (plan.method !== 'multipart') return;
    expect(plan.partCount).toBeLessThanOrEqual(PARTS_PER_UPLOAD);
    expect(PARTS_PER_UPLOAD).toBeLessThanOrEqual(MAX_PARTS);
    expect(plan.partSize % MiB).toBe(0);
    expect(plan.partSize * plan.partCount).toBeGreaterThanOrEqual(50 * 1024 * MiB);
  });

  it('puts the source under videos/{id}/source', () => {
    expect(videoSourceKey('abc')).toBe('videos/abc/source');
  });
});
