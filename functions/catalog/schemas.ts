// The catalog's API schemas: the handlers validate with them and the OpenAPI document is generated from them.
// Per entity: a strict create schema, a strict patch schema (every field optional) and the response schema
// (camelCase, with id, createdAt and updatedAt). The database CHECKs repeat the rules as the last guard.
import { ROLES } from '../lib/auth.ts';
import { MAX_UPLOAD_BYTES } from '../lib/upload-schemas.ts';
import { z } from '../lib/zod.ts';
import { VIDEO_STATUSES } from './video-lifecycle.ts';

// ---- building blocks ----

export const Id = z.uuid().openapi({ example: '0b5f7a3e-2f0c-4c55-9b8e-4f1d2a9c7e11' });
export const Name = z.string().trim().min(1).max(200);
export const Timestamp = z.iso.datetime({ offset: true }).openapi({ example: '2025-03-01T18:30:00.000Z' });
export const DateOnly = z.iso.date().openapi({ example: '2025-08-01' });

const meta = { id: Id, createdAt: Timestamp, updatedAt: Timestamp };


export const IdParams = z.strictObject({ id: Id });

export const PAGE_LIMIT_DEFAULT = 100;
export const PAGE_LIMIT_MAX = 500;

/** `?limit=&cursor=` plus the entity's filters (each an id or a short string); unknown parameters are rejected. */
export function listQuery<F extends z.ZodRawShape>(filters: F) {
  return z.strictObject({
    limit: z.coerce.number().int().min(1).max(PAGE_LIMIT_MAX).optional()
      .openapi({ description: `Page size (default ${PAGE_LIMIT_DEFAULT})` }),
    // Checked by the route (pageCursor), so that a bad one is an InvalidCursor as everywhere in the API.
    cursor: z.string().optional().openapi({ description: 'The nextCursor of the previous page' }),
    ...filters,
  });
}

export type ListQuery = { limit?: number; cursor?: string } & Record<string, unknown>;

export function page<T extends z.ZodType>(item: T, name: string) {
  return z
    .object({ items: z.array(item), nextCursor: Id.nullable().openapi({ description: 'null on the last page' }) })
    .openapi(name);
}

// ---- entities ----

const organizationBase = z.strictObject({ name: Name });
export const OrganizationCreate = organizationBase.openapi('OrganizationCreate');
export const OrganizationPatch = organizationBase.partial().openapi('OrganizationPatch');
export const Organization = z.object({ ...meta, name: z.string() }).openapi('Organization');

const clientBase = z.strictObject({ organizationId: Id, name: Name });
export const ClientCreate = clientBase.openapi('ClientCreate');
export const ClientPatch = clientBase.partial().openapi('ClientPatch');
export const Client = z.object({ ...meta, organizationId: Id, name: z.string() }).openapi('Client');

const detectableBase = z.strictObject({
  name: Name.openapi({ description: 'Unique, case-insensitively', example: 'Acme Cola' }),
  description: z.string().max(2000).nullable().optional(),
});
export const DetectableCreate = detectableBase.openapi('DetectableCreate');
export const DetectablePatch = detectableBase.partial().openapi('DetectablePatch');
export const Detectable = z
  .object({ ...meta, name: z.string(), description: z.string().nullable() })
  .openapi('Detectable');

const DetectableIds = z
  .array(Id)
  .max(10_000)
  .refine((ids) => new Set(ids).size === ids.length, { message: 'detectableIds must not repeat an id' })
  .openapi({ description: 'Replaces the set of detectables in the group; every id must exist' });
const detGroupBase = z.strictObject({
  name: Name,
  organizationId: Id.nullable().optional().openapi({ description: 'null: a group shared by every organization' }),
  detectableIds: DetectableIds.optional(),
});
export const DetGroupCreate = detGroupBase.openapi('DetGroupCreate');
// A det_group's detectables do not change: a different set is a new det_group (POST /v1/clients/{id}/det-groups/{detGroupId}/replace).
export const DetGroupPatch = detGroupBase.omit({ detectableIds: true }).partial().openapi('DetGroupPatch');
export const DetGroup = z
  .object({ ...meta, name: z.string(), organizationId: Id.nullable(), detectableIds: z.array(Id) })
  .openapi('DetGroup');

const sportBase = z.strictObject({ name: Name });
export const SportCreate = sportBase.openapi('SportCreate');
export const SportPatch = sportBase.partial().openapi('SportPatch');
export const Sport = z.object({ ...meta, name: z.string() }).openapi('Sport');

const eventTypeBase = z.strictObject({
  sportId: Id,
  name: Name,
  weight: z.number().min(1).optional().openapi({ description: 'Exposure multiplier inside the window (default 1)' }),
  windowSeconds: z.number().positive().openapi({ description: 'Seconds around the event that its weight covers' }),
});
export const EventTypeCreate = eventTypeBase.openapi('EventTypeCreate');
export const EventTypePatch = eventTypeBase.partial().openapi('EventTypePatch');
export const EventType = z
  .object({ ...meta, sportId: Id, name: z.string(), weight: z.number(), windowSeconds: z.number() })
  .openapi('EventType');

const leagueBase = z.strictObject({ sportId: Id, name: Name });
export const LeagueCreate = leagueBase.openapi('LeagueCreate');
export const LeaguePatch = leagueBase.partial().openapi('LeaguePatch');
export const League = z.object({ ...meta, sportId: Id, name: z.string() }).openapi('League');

const teamBase = z.strictObject({ name: Name, leagueId: Id.nullable().optional(), sportId: Id.nullable().optional() });
export const TeamCreate = teamBase
  .refine((t) => t.leagueId != null || t.sportId != null, { message: 'a team needs a leagueId or a sportId', path: ['leagueId'] })
  .openapi('TeamCreate');
export const TeamPatch = teamBase.partial().openapi('TeamPatch');
export const Team = z
  .object({ ...meta, name: z.string(), leagueId: Id.nullable(), sportId: Id.nullable() })
  .openapi('Team');

const seasonBase = z.strictObject({
  leagueId: Id,
  name: Name,
  startsOn: DateOnly.nullable().optional(),
  endsOn: DateOnly.nullable().optional(),
});
export const SeasonCreate = seasonBase
  .refine((s) => !s.startsOn || !s.endsOn || s.endsOn >= s.startsOn, { message: 'endsOn must not be before startsOn', path: ['endsOn'] })
  .openapi('SeasonCreate');
export const SeasonPatch = seasonBase.partial().openapi('SeasonPatch');
export const Season = z
  .object({ ...meta, leagueId: Id, name: z.string(), startsOn: DateOnly.nullable(), endsOn: DateOnly.nullable() })
  .openapi('Season');

const gameBase = z.strictObject({ seasonId: Id, startsAt: Timestamp, title: Name });
export const GameCreate = gameBase.openapi('GameCreate');
export const GamePatch = gameBase.partial().openapi('GamePatch');
export const Game = z.object({ ...meta, seasonId: Id, startsAt: Timestamp, title: z.string() }).openapi('Game');

const eventBase = z.strictObject({
  gameId: Id,
  eventTypeId: Id,
  time: z.number().min(0).openapi({ description: 'Seconds from the start of the game video' }),
});
export const EventCreate = eventBase.openapi('EventCreate');
export const EventPatch = eventBase.partial().openapi('EventPatch');
export const Event = z.object({ ...meta, gameId: Id, eventTypeId: Id, time: z.number() }).openapi('Event');

export const VideoCreate = z.strictObject({ gameId: Id, title: Name.nullable().optional() }).openapi('VideoCreate');
export const VideoPatch = z
  .strictObject({
    gameId: Id,
    title: Name.nullable(),
  })
  .partial()
  .openapi('VideoPatch');
export const Video = z
  .object({
    ...meta,
    gameId: Id,
    title: z.string().nullable(),
    status: z.enum(VIDEO_STATUSES),
    s3Key: z.string().nullable(),
    contentType: z.string().nullable(),
    sizeBytes: z.number().int().nullable(),
    durationSeconds: z.number().nullable(),
    frameRate: z.number().nullable(),
    width: z.number().int().nullable(),
    height: z.number().int().nullable(),
    codec: z.string().nullable(),
    probedAt: Timestamp.nullable(),
    releasedAt: Timestamp.nullable(),
    ingestFrameRate: z.number().openapi({ description: 'Frames per second extracted at ingest' }),
    ingestThreshold: z.number().openapi({ description: 'Detections below this score are ignored' }),
    localizationsKey: z.string().nullable(),
    frameCount: z.number().int().nullable().openapi({ description: 'Frames extracted; frame n is at n / ingestFrameRate s' }),
    ingestedAt: Timestamp.nullable(),
  })
  .openapi('Video');

// ---- relations ----

const relationMeta = { createdAt: Timestamp, updatedAt: Timestamp };
export const ClientDetectable = z.object({ clientId: Id, detectableId: Id, ...relationMeta }).openapi('ClientDetectable');
export const ClientDetGroup = z.object({ clientId: Id, detGroupId: Id, ...relationMeta }).openapi('ClientDetGroup');
export const ClientSeason = z.object({ clientId: Id, seasonId: Id, ...relationMeta }).openapi('ClientSeason');
export const GameTeamPut = z.strictObject({ side: z.enum(['home', 'away']) }).openapi('GameTeamPut');
export const GameTeam = z
  .object({ gameId: Id, teamId: Id, side: z.enum(['home', 'away']), ...relationMeta })
  .openapi('GameTeam');

export const items = <T extends z.ZodType>(item: T, name: string) => z.object({ items: z.array(item) }).openapi(name);

// ---- access ----

export const Me = z
  .object({ keyId: Id, role: z.enum(ROLES), clientId: Id.nullable() })
  .openapi('Me');

export const ApiKeyCreate = z
  .strictObject({ name: Name, role: z.enum(ROLES), clientId: Id.optional() })
  .refine((k) => (k.role === 'client') === (k.clientId !== undefined), {
    message: 'clientId is required for a client key and not allowed for other roles',
    path: ['clientId'],
  })
  .openapi('ApiKeyCreate');
export const ApiKey = z
  .object({
    id: Id,
    name: z.string(),
    role: z.enum(ROLES),
    clientId: Id.nullable(),
    keyPrefix: z.string().openapi({ description: 'The first 8 characters of the key, for recognising it' }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    revokedAt: Timestamp.nullable(),
  })
  .openapi('ApiKey');
export const ApiKeyCreated = z
  .object({
    id: Id,
    name: z.string(),
    role: z.enum(ROLES),
    clientId: Id.nullable(),
    key: z.string().openapi({ description: 'The key itself: shown only in this response, stored only as a hash' }),
    keyPrefix: z.string(),
    createdAt: Timestamp,
  })
  .openapi('ApiKeyCreated');

// ---- uploads ----

export const UploadStart = z
  .strictObject({
    filename: z.string().trim().min(1).max(1024),
    contentType: z
      .string()
      .max(255)
      .regex(/^(video\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*|application\/octet-stream)$/, {
        message: 'contentType must be video/* or application/octet-stream',
      })
      .openapi({ example: 'video/mp4' }),
    sizeBytes: z.number().int().positive().max(MAX_UPLOAD_BYTES).openapi({ description: 'Exactly the bytes that will be sent (S3 refuses any other length); at most the configured maximum, 50 GiB by default' }),
    frameRate: z.number().positive().max(60).optional().openapi({ description: 'Frames per second to extract (default 5)' }),
    threshold: z.number().min(0).max(1).optional().openapi({ description: 'Minimum detection score (default 0.5)' }),
  })
  .openapi('UploadStart');

export const LocalizationsUploadStart = z
  .strictObject({
    sizeBytes: z.number().int().positive().max(MAX_UPLOAD_BYTES),
    labelMapping: z
      .record(z.string().regex(/^\d+$/), z.string().trim().min(1).max(200))
      .optional()
      .openapi({ description: "The detector's label map, class index -> label, for detections given by class" }),
  })
  .openapi('LocalizationsUploadStart');

export { MAX_UPLOAD_BYTES, UploadComplete, UploadPlan, UploadResume } from '../lib/upload-schemas.ts';
