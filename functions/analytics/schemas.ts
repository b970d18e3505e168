// The analytics API's response schemas (documentation of what the routes answer; the cached routes send JSON
// text assembled from cached parts, in exactly these shapes).
import { z } from '../lib/zod.ts';

const BucketFields = {
  start: z.number().openapi({ description: 'Seconds from the start of the video' }),
  frames: z.number().int(),
  visibleFrames: z.number().int().openapi({ description: 'Frames with at least one detection of the det_group' }),
  exposureSeconds: z.number().openapi({ description: 'visibleFrames / frame rate' }),
  detections: z.number().int(),
  meanArea: z.number(),
  maxArea: z.number(),
  meanEffectiveness: z.number(),
  sumEffectiveness: z.number(),
};

export const VideoMetrics = z
  .object({ videoId: z.uuid(), detGroupId: z.uuid(), resolution: z.string(), frameRate: z.number(), buckets: z.array(z.object(BucketFields)) })
  .openapi('VideoMetrics');

export const FrameSeries = z
  .object({
    videoId: z.uuid(),
    detGroupId: z.uuid(),
    frameRate: z.number(),
    frames: z.array(z.object({
      frame: z.number().int(), time: z.number(), count: z.number().int(), area: z.number(), score: z.number(),
      centrality: z.number(), eventWeight: z.number(), effectiveness: z.number(),
    })),
  })
  .openapi('FrameSeries');

const Legend = z.object({ label: z.string(), color: z.string().openapi({ description: 'The colour of its boxes, #rrggbb' }) });

export const BestFrames = z
  .object({
    videoId: z.uuid(),
    detGroupId: z.uuid(),
    frameRate: z.number(),
    width: z.number().int().openapi({ description: 'The frame width the boxes are given in (pixels)' }),
    height: z.number().int(),
    legend: z.array(Legend).openapi({ description: "The det_group's detectables with their box colours" }),
    frames: z.array(z.object({
      frame: z.number().int(), time: z.number(), effectiveness: z.number(), count: z.number().int(), area: z.number(), score: z.number(),
      detections: z.array(z.object({
        label: z.string(), score: z.number(), color: z.string(),
        box: z.tuple([z.number(), z.number(), z.number(), z.number()]).openapi({ description: '[x, y, w, h] in pixels, origin top left' }),
      })),
      image: z.string().openapi({ description: 'The path of the frame drawn with these boxes (a redirect to a JPEG)' }),
    })),
  })
  .openapi('BestFrames');

export const SeasonMeta = z
  .looseObject({ season: z.looseObject({ id: z.uuid() }), games: z.array(z.looseObject({ id: z.uuid() })) })
  .openapi('SeasonMeta', { description: 'The season with its league, teams and event types, and its games with their videos and events' });

const Totals = z.object({
  frames: z.number().int(), visibleFrames: z.number().int(), exposureSeconds: z.number(), detections: z.number().int(),
  sumEffectiveness: z.number(), meanArea: z.number(), meanEffectiveness: z.number(),
});
/** A video's buckets as columns (one array per field), values rounded for charts. */
const VideoColumns = z.object({ videoId: z.uuid(), frameRate: z.number(), buckets: z.object(Object.fromEntries(Object.keys(BucketFields).map((k) => [k, z.array(z.number())]))) });

export const Metrics = z
  .object({
    seasonId: z.uuid(),
    gameId: z.uuid().optional(),
    clientId: z.uuid(),
    resolution: z.string(),
    detGroups: z.array(z.object({ id: z.uuid(), name: z.string(), totals: Totals })),
    games: z.array(z.object({
      id: z.uuid(), title: z.string(), startsAt: z.string(),
      detGroups: z.array(z.object({ id: z.uuid(), totals: Totals, videos: z.array(VideoColumns) })),
    })),
  })
  .openapi('Metrics', { description: "Season (or one game's) metrics as a client sees them: released videos of its det_groups" });

/** A det_group's one bucket over a whole video. */
export const WholeVideoTotals = z.object(BucketFields).openapi('WholeVideoTotals');

export const VideoReview = z
  .object({
    videoId: z.uuid(),
    status: z.string(),
    releasedAt: z.string().nullable().openapi({ description: 'When a run of the video was last released to clients' }),
    runReleased: z.boolean().openapi({ description: 'Clients already see the run shown here' }),
    detGroups: z.array(
      z.object({
        detGroupId: z.uuid(),
        name: z.string(),
        releasedAt: z.string().nullable().openapi({ description: 'When the det_group was released to its clients' }),
        totals: WholeVideoTotals,
      }),
    ),
  })
  .openapi('VideoReview');

export const VideoRelease = z.object({ videoId: z.uuid(), releasedAt: z.string() }).openapi('VideoRelease');

export const Touched = z.object({ touched: z.number().int(), seasonIds: z.array(z.uuid()) }).openapi('TouchedSeasons');

/** Response headers of a cached metrics build, besides etag / x-cache. */
export const BUILD_HEADERS = {
  'x-cache-sections-built': 'Game sections built for this response (a miss builds only what changed)',
  'x-cache-sections-cached': 'Game sections taken from the cache',
  'x-cache-fragments-built': 'Video fragments built',
  'x-cache-fragments-cached': 'Video fragments taken from the cache',
  'x-cache-transcoded': 'When the cached encoding was converted for this client: `built` or `cached`',
};
