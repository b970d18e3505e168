// Every route of the catalog-api function: thin handlers over the stores. The route keys are exactly the
// topology's CATALOG_ROUTES (a unit test holds the two sets equal).
import { z } from 'zod';
import type { Principal, Role } from '../lib/auth.ts';
import { AppError, forbidden, invalidCursor, notFound } from '../lib/errors.ts';
import type { Routes } from '../lib/http.ts';
import { createApiKey, listApiKeys, revokeApiKey } from './apikeys.ts';
import { isPgError } from '../lib/dberrors.ts';
import { defineRoute, routeTable, type DefinedRoute } from '../lib/route.ts';
import type { ClientScope, RelationRepository } from './repository.ts';
import * as s from './schemas.ts';
import { relations, stores, type EntityStore } from './stores.ts';
import { completeLocalizationsUpload, completeUpload, resumeUpload, startLocalizationsUpload, startUpload } from './uploads.ts';

// ---- entities ----

interface EntityRoutes {
  /** URL segment, e.g. det-groups */
  readonly path: string;
  /** Singular name for summaries and tags, e.g. det-group */
  readonly label: string;
  readonly tag: string;
  readonly store: EntityStore;
  readonly create: z.ZodType;
  readonly patch: z.ZodObject;
  readonly response: z.ZodObject;
  /** Query filters of the list route (camelCase column → schema). */
  readonly filters: z.ZodRawShape;
  /** Roles (besides admin) that may read, and that may create / update / delete. */
  readonly readRoles: readonly Role[];
  readonly writeRoles: readonly Role[];
  /** For entities a client key may read: the grant table that says which rows. */
  readonly clientGrant?: { readonly table: string; readonly column: string };
  /** Writes another function serves, because they do more than change rows. */
  readonly servedElsewhere?: readonly ('create' | 'delete')[];
}

const pascal = (name: string): string => name.split('-').map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('');

const READ: readonly Role[] = ['analyst'];
const ADMIN: readonly Role[] = [];
const ANALYST: readonly Role[] = ['analyst'];

const entities: readonly EntityRoutes[] = [
  {
    path: 'organizations', label: 'organization', tag: 'organizations', store: stores.organizations,
    create: s.OrganizationCreate, patch: s.OrganizationPatch, response: s.Organization,
    filters: {}, readRoles: READ, writeRoles: ADMIN,
  },
  {
    path: 'clients', label: 'client', tag: 'clients', store: stores.clients,
    create: s.ClientCreate, patch: s.ClientPatch, response: s.Client,
    filters: { organizationId: s.Id.optional() }, readRoles: READ, writeRoles: ADMIN,
  },
  {
    path: 'detectables', label: 'detectable', tag: 'detectables', store: stores.detectables,
    create: s.DetectableCreate, patch: s.DetectablePatch, response: s.Detectable,
    filters: {}, readRoles: READ, writeRoles: ADMIN,
  },
  {
    path: 'det-groups', label: 'det-group', tag: 'det-groups', store: stores.detGroups,
    create: s.DetGroupCreate, patch: s.DetGroupPatch, response: s.DetGroup,
    filters: { organizationId: s.Id.optional() }, readRoles: ['analyst', 'client'], writeRoles: ADMIN,
    clientGrant: { table: 'client_det_group', column: 'det_group_id' },
    // detgroups-api: a new det_group is computed for every ingested video; a deleted one takes its metrics along.
    servedElsewhere: ['create', 'delete'],
  },
  {
    path: 'sports', label: 'sport', tag: 'sports', store: stores.sports,
    create: s.SportCreate, patch: s.SportPatch, response: s.Sport,
    filters: {}, readRoles: READ, writeRoles: ADMIN,
  },
  {
    path: 'event-types', label: 'event-type', tag: 'event-types', store: stores.eventTypes,
    create: s.EventTypeCreate, patch: s.EventTypePatch, response: s.EventType,
    filters: { sportId: s.Id.optional() }, readRoles: READ, writeRoles: ADMIN,
  },
  {
    path: 'leagues', label: 'league', tag: 'leagues', store: stores.leagues,
    create: s.LeagueCreate, patch: s.LeaguePatch, response: s.League,
    filters: { sportId: s.Id.optional() }, readRoles: READ, writeRoles: ADMIN,
  },
  {
    path: 'teams', label: 'team', tag: 'teams', store: stores.teams,
    create: s.TeamCreate, patch: s.TeamPatch, response: s.Team,
    filters: { leagueId: s.Id.optional(), sportId: s.Id.optional() }, readRoles: READ, writeRoles: ADMIN,
  },
  {
    path: 'seasons', label: 'season', tag: 'seasons', store: stores.seasons,
    create: s.SeasonCreate, patch: s.SeasonPatch, response: s.Season,
    filters: { leagueId: s.Id.optional() }, readRoles: ['analyst', 'client'], writeRoles: ADMIN,
    clientGrant: { table: 'client_season', column: 'season_id' },
  },
  {
    path: 'games', label: 'game', tag: 'games', store: stores.games,
    create: s.GameCreate, patch: s.GamePatch, response: s.Game,
    filters: { seasonId: s.Id.optional() }, readRoles: READ, writeRoles: ANALYST,
  },
  {
    path: 'events', label: 'event', tag: 'events', store: stores.events,
    create: s.EventCreate, patch: s.EventPatch, response: s.Event,
    filters: { gameId: s.Id.optional(), eventTypeId: s.Id.optional() }, readRoles: READ, writeRoles: ANALYST,
  },
  {
    path: 'videos', label: 'video', tag: 'videos', store: stores.videos,
    create: s.VideoCreate, patch: s.VideoPatch, response: s.Video,
    filters: { gameId: s.Id.optional(), status: z.enum(s.VIDEO_STATUSES).optional() }, readRoles: READ, writeRoles: ANALYST,
  },
];

/** For a client key: the grant that limits what it reads. A client may only reach routes that have one. */
function scopeFor(e: EntityRoutes, principal: Principal): ClientScope | undefined {
  if (principal.role !== 'client') return undefined;
  if (!e.clientGrant || !principal.clientId) throw forbidden();
  return { ...e.clientGrant, clientId: principal.clientId };
}

/** A list's cursor is the id the previous page ended with. */
function pageCursor(cursor: string | undefined): string | undefined {
  if (cursor !== undefined && !s.Id.safeParse(cursor).success) throw invalidCursor();
  return cursor;
}

function entityRoutes(e: EntityRoutes): DefinedRoute[] {
  const base = `/v1/${e.path}`;
  const clientNote = e.clientGrant ? 'A client key sees only what is granted to its client (others: 404).' : undefined;
  const all = [
    defineRoute({
      key: `GET ${base}`, tag: e.tag, roles: e.readRoles,
      summary: `List ${e.path}`,
      description: [clientNote, 'Pages in id order: pass nextCursor as cursor.'].filter(Boolean).join(' '),
      query: s.listQuery(e.filters),
      response: s.page(e.response, `${pascal(e.label)}Page`),
      handle: ({ query, principal }) => {
        const { limit, cursor, ...filters } = query as s.ListQuery;
        return e.store.list({ limit: limit ?? s.PAGE_LIMIT_DEFAULT, cursor: pageCursor(cursor), filters, scope: scopeFor(e, principal) });
      },
    }),
    defineRoute({
      key: `POST ${base}`, tag: e.tag, roles: e.writeRoles,
      summary: `Create a ${e.label}`,
      body: e.create, response: e.response,
      handle: ({ body }) => e.store.create(body as Record<string, unknown>),
    }),
    defineRoute({
      key: `GET ${base}/{id}`, tag: e.tag, roles: e.readRoles,
      summary: `Get a ${e.label}`, description: clientNote,
      params: s.IdParams, response: e.response,
      handle: async ({ params, principal }) => {
        const row = await e.store.get(params.id, scopeFor(e, principal));
        if (!row) throw notFound(e.label, params.id);
        return row;
      },
    }),
    defineRoute({
      key: `PATCH ${base}/{id}`, tag: e.tag, roles: e.writeRoles,
      summary: `Update a ${e.label}`, description: `Only the given fields change.`,
      params: s.IdParams, body: e.patch, response: e.response,
      handle: async ({ params, body }) => {
        const row = await e.store.update(params.id, body);
        if (!row) throw notFound(e.label, params.id);
        return row;
      },
    }),
    defineRoute({
      key: `DELETE ${base}/{id}`, tag: e.tag, roles: e.writeRoles,
      summary: `Delete a ${e.label}`,
      description: `409 while other rows still reference it.`,
      params: s.IdParams,
      handle: async ({ params }) => {
        if (!(await e.store.delete(params.id))) throw notFound(e.label, params.id);
      },
    }),
  ];
  const elsewhere = new Set((e.servedElsewhere ?? []).map((op) => (op === 'create' ? `POST ${base}` : `DELETE ${base}/{id}`)));
  return all.filter((r) => !elsewhere.has(r.doc.key));
}

// ---- relations ----

interface RelationRoutes {
  readonly owner: string; // URL segment of the owner, e.g. clients
  readonly segment: string; // e.g. detectables
  readonly param: string; // e.g. detectableId
  readonly tag: string;
  readonly repo: RelationRepository;
  readonly response: z.ZodObject;
  readonly body?: z.ZodObject;
  readonly readRoles: readonly Role[];
  readonly writeRoles: readonly Role[];
  /** PUT and DELETE are another function's, because they do more than link rows. */
  readonly writesServedElsewhere?: boolean;
}

const relationDefs: readonly RelationRoutes[] = [
  {
    owner: 'clients', segment: 'detectables', param: 'detectableId', tag: 'access', repo: relations.clientDetectables,
    response: s.ClientDetectable, readRoles: READ, writeRoles: ADMIN,
  },
  {
    owner: 'clients', segment: 'det-groups', param: 'detGroupId', tag: 'access', repo: relations.clientDetGroups,
    response: s.ClientDetGroup, readRoles: READ, writeRoles: ADMIN,
    // detgroups-api: granting adds the det_group's detectables to the client, revoking removes them.
    writesServedElsewhere: true,
  },
  {
    owner: 'clients', segment: 'seasons', param: 'seasonId', tag: 'access', repo: relations.clientSeasons,
    response: s.ClientSeason, readRoles: READ, writeRoles: ADMIN,
  },
  {
    owner: 'games', segment: 'teams', param: 'teamId', tag: 'games', repo: relations.gameTeams,
    response: s.GameTeam, body: s.GameTeamPut, readRoles: READ, writeRoles: ANALYST,
  },
];

function relationRoutes(r: RelationRoutes): DefinedRoute[] {
  const base = `/v1/${r.owner}/{id}/${r.segment}`;
  const { owner, target } = r.repo.def;
  const pairParams = z.strictObject({ id: s.Id, [r.param]: s.Id });
  const ids = (params: Record<string, string>) => ({ ownerId: params.id!, targetId: params[r.param]! });
  const all = [
    defineRoute({
      key: `GET ${base}`, tag: r.tag, roles: r.readRoles,
      summary: `List the ${r.segment} of a ${owner.label}`,
      params: s.IdParams,
      response: s.items(r.response, `${pascal(owner.label)}${pascal(r.segment)}List`),
      handle: async ({ params }) => {
        if (!(await r.repo.ownerExists(params.id))) throw notFound(owner.label, params.id);
        return { items: await r.repo.list(params.id) };
      },
    }),
    defineRoute({
      key: `PUT ${base}/{${r.param}}`, tag: r.tag, roles: r.writeRoles,
      summary: `Link a ${target.label} to a ${owner.label}`,
      description: `Idempotent: repeating it changes nothing.`,
      params: pairParams, body: r.body, response: r.response, status: 200,
      handle: async ({ params, body }) => {
        const { ownerId, targetId } = ids(params);
        try {
          return await r.repo.put(ownerId, targetId, (body ?? {}) as Record<string, unknown>);
        } catch (err) {
          // a missing owner or target is a missing path resource: 404, naming which one
          if (isPgError(err) && err.code === '23503') {
            const missingOwner = (err.detail ?? '').includes(`"${owner.table}"`);
            throw missingOwner ? notFound(owner.label, ownerId) : notFound(target.label, targetId);
          }
          throw err;
        }
      },
    }),
    defineRoute({
      key: `DELETE ${base}/{${r.param}}`, tag: r.tag, roles: r.writeRoles,
      summary: `Unlink a ${target.label} from a ${owner.label}`,
      params: pairParams,
      handle: async ({ params }) => {
        const { ownerId, targetId } = ids(params);
        if (await r.repo.remove(ownerId, targetId)) return;
        if (!(await r.repo.ownerExists(ownerId))) throw notFound(owner.label, ownerId);
        throw new AppError(404, 'NotFound', `${owner.label} ${ownerId} has no ${target.label} ${targetId}`);
      },
    }),
  ];
  return r.writesServedElsewhere ? all.filter((route) => route.doc.key.startsWith('GET ')) : all;
}

// ---- access, uploads, document ----

const accessRoutes: DefinedRoute[] = [
  defineRoute({
    key: 'GET /v1/me', tag: 'access', roles: ['analyst', 'client'],
    summary: 'Who am I: the role and client of the calling key', description: 'Any valid key.',
    response: s.Me,
    handle: async ({ principal }) => ({ keyId: principal.keyId, role: principal.role, clientId: principal.clientId }),
  }),
  defineRoute({
    key: 'POST /v1/api-keys', tag: 'access', roles: ADMIN,
    summary: 'Create an API key',
    description: `The response is the only time the key itself is shown; only its hash is stored.`,
    body: s.ApiKeyCreate, response: s.ApiKeyCreated,
    handle: ({ body }) => createApiKey(body),
  }),
  defineRoute({
    key: 'GET /v1/api-keys', tag: 'access', roles: ADMIN,
    summary: 'List API keys (without the keys)',
    query: s.listQuery({ clientId: s.Id.optional(), role: z.enum(['admin', 'analyst', 'client']).optional() }),
    response: s.page(s.ApiKey, 'ApiKeyPage'),
    handle: ({ query: { limit, cursor, ...filters } }) => listApiKeys({ limit: limit ?? s.PAGE_LIMIT_DEFAULT, cursor: pageCursor(cursor), filters }),
  }),
  defineRoute({
    key: 'DELETE /v1/api-keys/{id}', tag: 'access', roles: ADMIN,
    summary: 'Revoke an API key', description: `The key stops working at once.`,
    params: s.IdParams,
    handle: ({ params }) => revokeApiKey(params.id),
  }),
];

const uploadRoutes: DefinedRoute[] = [
  defineRoute({
    key: 'POST /v1/videos/{id}/upload', tag: 'videos', roles: ANALYST,
    summary: "Start the upload of a video's source file",
    description:
      `Below the multipart threshold: one presigned PUT (send the returned headers). ` +
      'Above: a multipart upload with a presigned URL per part; then POST .../upload/complete with the ETags.',
    params: s.IdParams, body: s.UploadStart, response: s.UploadPlan, status: 200,
    handle: ({ params, body }) => startUpload(params.id, body),
  }),
  defineRoute({
    key: 'POST /v1/videos/{id}/upload/resume', tag: 'videos', roles: ANALYST,
    summary: 'Continue an open multipart upload',
    description:
      `Fresh presigned URLs for every part of the upload (for a client that was interrupted, ` +
      "or whose URLs expired) and the parts S3 already holds, with their ETags and sizes: send only the others.",
    params: s.IdParams, body: s.UploadResume, response: s.UploadPlan, status: 200,
    handle: ({ params, body }) => resumeUpload(params.id, body),
  }),
  defineRoute({
    key: 'POST /v1/videos/{id}/upload/complete', tag: 'videos', roles: ANALYST,
    summary: 'Complete a multipart upload',
    description: `The parts must be every part of the declared size: otherwise a 400 SizeMismatch and no object.`,
    params: s.IdParams, body: s.UploadComplete, response: s.Video, status: 200,
    handle: ({ params, body }) => completeUpload(params.id, body),
  }),
  defineRoute({
    key: 'POST /v1/videos/{id}/localizations/upload', tag: 'videos', roles: ANALYST,
    summary: "Start the upload of a video's localizations (the detector's output)",
    description:
      `Upload them before the video: its arrival starts the ingest, which reads them. ` +
      'The same plan as a video upload: one presigned PUT or a multipart upload.',
    params: s.IdParams, body: s.LocalizationsUploadStart, response: s.UploadPlan, status: 200,
    handle: ({ params, body }) => startLocalizationsUpload(params.id, body),
  }),
  defineRoute({
    key: 'POST /v1/videos/{id}/localizations/upload/complete', tag: 'videos', roles: ANALYST,
    summary: 'Complete a multipart localizations upload',
    params: s.IdParams, body: s.UploadComplete, response: s.Video, status: 200,
    handle: ({ params, body }) => completeLocalizationsUpload(params.id, body),
  }),
];

export const catalogRoutes: readonly DefinedRoute[] = [
  ...accessRoutes,
  ...entities.flatMap(entityRoutes),
  ...relationDefs.flatMap(relationRoutes),
  ...uploadRoutes,
];

export const routes: Routes = routeTable(catalogRoutes);
