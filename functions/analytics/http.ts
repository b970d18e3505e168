// analytics-api: a video's metrics for one det_group, as rollups, as the frame series or as its best frames drawn
// with their boxes; a season's metadata, and season and game metrics per client, served from the cache (see README
// "Analytics cache"); an admin releases a video's results to clients.
import { z } from '../lib/zod.ts';
import type { Principal } from '../lib/auth.ts';
import { httpHandler } from '../lib/http.ts';
import { defineRoute, Reply, routeTable } from '../lib/route.ts';
import { badRequest, notFound } from '../lib/errors.ts';
import { readableResults } from './access.ts';
import { BEST_FRAMES_DEFAULT, BEST_FRAMES_MAX } from './best-frames.ts';
import { bestFrames, renderedFrame } from './best-frames-store.ts';
import { gameMetricsKey, seasonMetaKey, seasonMetricsKey } from './cache-keys.ts';
import { serveCached, type Built } from './cached-response.ts';
import { releaseVideo } from './release.ts';
import { reviewVideo } from './review.ts';
import { RESOLUTIONS, type Resolution } from './rollup.ts';
import { buildMetrics } from './season-metrics.ts';
import { gameSeason, seasonMeta, seasonVersions, touchSeasons, type Versions } from './season-store.ts';
import { BestFrames, BUILD_HEADERS, FrameSeries, Metrics, SeasonMeta, Touched, VideoMetrics, VideoRelease, VideoReview } from './schemas.ts';
import { readFrames, readRollup } from './store.ts';

const Params = z.object({ id: z.uuid() });
const MetricsQuery = z.object({
  detGroup: z.uuid(),
  resolution: z.enum(RESOLUTIONS.map(String) as [string, ...string[]]).default('video'),
});
const FramesQuery = z.object({
  detGroup: z.uuid(),
  from: z.coerce.number().min(0).optional(),
  to: z.coerce.number().min(0).optional(),
});
const BestFramesQuery = z.object({
  detGroup: z.uuid(),
  limit: z.coerce.number().int().min(1).max(BEST_FRAMES_MAX).default(BEST_FRAMES_DEFAULT),
});
const FrameImageParams = Params.extend({ file: z.string().regex(/^\d{1,9}\.jpg$/, '{frame}.jpg, the frame number') });
const FrameImageQuery = z.object({ detGroup: z.uuid() });

const toResolution = (r: string): Resolution => (r === 'video' ? 'video' : (Number(r) as Resolution));

const ViewQuery = z.object({ client: z.uuid().optional() });
const SeasonMetricsQuery = ViewQuery.extend({
  resolution: z.enum(RESOLUTIONS.map(String) as [string, ...string[]]).default('video'),
});
const TouchBody = z
  .object({ teamId: z.uuid().optional(), eventTypeId: z.uuid().optional(), leagueId: z.uuid().optional(), sportId: z.uuid().optional() })
  .strict()
  .refine((b) => Object.values(b).some(Boolean), { message: 'name at least one of teamId, eventTypeId, leagueId, sportId' });

/** Whose view: a client key always its own client (a `client` parameter is ignored); an operator the `client` it names, or none. */
const viewerOf = (principal: Principal, client: string | undefined): string | null =>
  principal.role === 'client' ? principal.clientId : (client ?? null);

/** The season's versions for the viewer; a season the viewer may not see is not found, as if it did not exist. */
async function visibleSeason(seasonId: string, clientId: string | null, what = `season`, id = seasonId): Promise<Versions & { clientVersion: string | null }> {
  const v = await seasonVersions(seasonId, clientId);
  if (!v || !v.granted || (clientId !== null && v.clientVersion === null)) throw notFound(what, id);
  return v;
}

function metricsViewer(principal: Principal, client: string | undefined): string {
  const clientId = viewerOf(principal, client);
  if (!clientId) throw badRequest('An operator key reads season and game metrics as a client sees them: pass ?client=<clientId>');
  return clientId;
}

/** Season or game metrics built on a cache miss, with what the build did as headers. */
async function buildCachedMetrics(q: Parameters<typeof buildMetrics>[0]): Promise<Built> {
  const b = await buildMetrics(q);
  return {
    gzip: b.gzip,
    hash: b.hash,
    headers: {
      'x-cache-sections-built': String(b.sectionsBuilt),
      'x-cache-sections-cached': String(b.sectionsCached),
      'x-cache-fragments-built': String(b.fragmentsBuilt),
      'x-cache-fragments-cached': String(b.fragmentsCached),
    },
  };
}

export const analyticsRoutes = [
  defineRoute({
    key: 'GET /v1/videos/{id}/metrics', tag: 'metrics', roles: ['analyst', 'client'],
    summary: "A video's rollup for one det_group at a resolution (seconds per bucket, or the whole video)",
    description: 'A client key reads only released results of its det_groups (others: 404).',
    params: Params, query: MetricsQuery, response: VideoMetrics,
    handle: async ({ params: { id }, query: q, principal }) => {
      const rollup = await readRollup(await readableResults(principal, id, q.detGroup), toResolution(q.resolution));
      if (!rollup) throw notFound(`metrics of video ${id} for det_group`, q.detGroup);
      return { videoId: id, detGroupId: q.detGroup, resolution: q.resolution, frameRate: rollup.frameRate, buckets: rollup.buckets };
    },
  }),
  defineRoute({
    key: 'GET /v1/videos/{id}/frames', tag: 'metrics', roles: ['analyst', 'client'],
    summary: "A video's frame metrics for one det_group, optionally between two times (seconds)",
    description: 'A client key reads only released results of its det_groups (others: 404).',
    params: Params, query: FramesQuery, response: FrameSeries,
    handle: async ({ params: { id }, query: q, principal }) => {
      const series = await readFrames(await readableResults(principal, id, q.detGroup), q.from, q.to);
      if (!series) throw notFound(`frames of video ${id} for det_group`, q.detGroup);
      return { videoId: id, detGroupId: q.detGroup, frameRate: series.frameRate, frames: series.frames };
    },
  }),
  defineRoute({
    key: 'GET /v1/videos/{id}/best-frames', tag: 'metrics', roles: ['analyst', 'client'],
    summary: "A det_group's frames with the highest effectiveness in a video, with their detections and where each is drawn",
    description:
      'Highest effectiveness first (equal: earlier frame first); frames with effectiveness 0 are left out. Each detection is one the metrics ' +
      "counted, with its detectable's colour. A client key reads only released results of its det_groups (others: 404); 409 while the " +
      "video's stored frames belong to a re-run that waits for release.",
    params: Params, query: BestFramesQuery, response: BestFrames, errors: [404, 409],
    handle: ({ params: { id }, query: q, principal }) => bestFrames(principal, id, q.detGroup, q.limit),
  }),
  defineRoute({
    key: 'GET /v1/videos/{id}/best-frames/{file}', tag: 'metrics', roles: ['analyst', 'client'],
    summary: 'A frame of the video ({frame}.jpg) with the boxes of the det_group drawn on it (a redirect to a JPEG)',
    description: 'Drawn on first request and kept; `x-cache` says hit or miss. Access as `GET /v1/videos/{id}/best-frames`.',
    params: FrameImageParams, query: FrameImageQuery, status: 302, errors: [404, 409],
    headers: { location: 'A presigned URL of the JPEG, valid for a few minutes', 'x-cache': '`hit` (drawn before) or `miss` (drawn now)' },
    handle: async ({ params: { id, file }, query: q, principal }) => {
      const { url, cache } = await renderedFrame(principal, id, q.detGroup, Number.parseInt(file, 10));
      // not kept by browsers: the next request after a release must be redirected to the new results' drawing
      return new Reply({ status: 302, headers: { location: url, 'cache-control': 'no-store', 'x-cache': cache } });
    },
  }),
  defineRoute({
    key: 'GET /v1/seasons/{id}/meta', tag: 'metrics', roles: ['analyst', 'client'],
    summary: 'A season with its games, teams, events and videos, as the viewer may see them (cached)',
    description: 'A client key sees released videos only; an operator sees every video, or what `client` sees.',
    params: Params, query: ViewQuery, response: SeasonMeta, cached: true,
    handle: async ({ params: { id }, query, principal, headers }) => {
      const clientId = viewerOf(principal, query.client);
      const v = await visibleSeason(id, clientId);
      const view = clientId ? 'released' : 'all';
      return serveCached(headers, seasonMetaKey(id, v.seasonVersion, view), async () => ({ json: JSON.stringify(await seasonMeta(id, view === 'released')) }));
    },
  }),
  defineRoute({
    key: 'GET /v1/seasons/{id}/metrics', tag: 'metrics', roles: ['analyst', 'client'],
    summary: "A season's metrics as a client sees them, per game and det_group (cached)",
    description: 'An operator key passes `client`.',
    params: Params, query: SeasonMetricsQuery, response: Metrics, cached: true, headers: BUILD_HEADERS,
    handle: async ({ params: { id }, query: q, principal, headers }) => {
      const clientId = metricsViewer(principal, q.client);
      const v = await visibleSeason(id, clientId);
      const resolution = toResolution(q.resolution);
      const key = seasonMetricsKey({ seasonId: id, seasonVersion: v.seasonVersion, clientId, clientVersion: v.clientVersion!, resolution });
      return serveCached(headers, key, () => buildCachedMetrics({ seasonId: id, gameId: null, clientId, resolution }));
    },
  }),
  defineRoute({
    key: 'GET /v1/games/{id}/metrics', tag: 'metrics', roles: ['analyst', 'client'],
    summary: "A game's metrics as a client sees them (cached)",
    description: 'An operator key passes `client`.',
    params: Params, query: SeasonMetricsQuery, response: Metrics, cached: true, headers: BUILD_HEADERS,
    handle: async ({ params: { id }, query: q, principal, headers }) => {
      const clientId = metricsViewer(principal, q.client);
      const seasonId = await gameSeason(id);
      if (!seasonId) throw notFound('game', id);
      const v = await visibleSeason(seasonId, clientId, 'game', id);
      const resolution = toResolution(q.resolution);
      const key = gameMetricsKey({ gameId: id, seasonVersion: v.seasonVersion, clientId, clientVersion: v.clientVersion!, resolution });
      return serveCached(headers, key, () => buildCachedMetrics({ seasonId, gameId: id, clientId, resolution }));
    },
  }),
  // Team, event type, league and sport rows appear in season metadata but do not touch seasons (one team is in
  // many seasons): after changing one, an admin touches the seasons that show it.
  defineRoute({
    key: 'POST /v1/cache/touch-seasons', tag: 'metrics', roles: [],
    summary: 'Mark the seasons that show a team, event type, league or sport as changed (their cached responses are rebuilt)',
    body: TouchBody, response: Touched, status: 200, errors: [],
    handle: async ({ body }) => {
      const seasonIds = await touchSeasons(body);
      return { touched: seasonIds.length, seasonIds };
    },
  }),
  defineRoute({
    key: 'GET /v1/videos/{id}/review', tag: 'jobs', roles: ['analyst'],
    summary: "What releasing a video would show clients: each det_group's totals in its last completed ingest",
    description: 'No det_groups while no ingest of the video has completed.',
    params: Params, response: VideoReview,
    handle: ({ params }) => reviewVideo(params.id),
  }),
  defineRoute({
    key: 'POST /v1/videos/{id}/release', tag: 'jobs', roles: [],
    summary: "Release a video's results to the clients of its det_groups",
    params: Params, response: VideoRelease, status: 200,
    handle: ({ params }) => releaseVideo(params.id),
  }),
];

export const routes = routeTable(analyticsRoutes);
export const handler = httpHandler(routes);
