// The materialize API's response schemas (documentation of what its routes answer, in the OpenAPI document).
import { z } from '../lib/zod.ts';
import { VERSION_CADENCES, VERSION_STATES } from './versions.ts';

export const VersionView = z
  .object({
    version: z.number().int(),
    state: z.enum(VERSION_STATES),
    cadence: z.enum(VERSION_CADENCES),
    createdAt: z.string(),
    validAt: z.string().nullable().openapi({ description: 'The snapshot the version holds' }),
    expiresAt: z.string().nullable(),
    expiredAt: z.string().nullable(),
    tables: z.record(z.string(), z.number().int()).openapi({ description: 'Rows of each frozen table' }),
    schema: z.string(),
    jobId: z.string(),
    error: z.string().optional(),
  })
  .openapi('DatastackVersion');

export const VersionPage = z
  .object({ versions: z.array(VersionView), nextCursor: z.string().nullable() })
  .openapi('DatastackVersionPage');

const Vec3 = z.tuple([z.number(), z.number(), z.number()]);
export const SegmentationSourceView = z
  .looseObject({
    datastack: z.string(),
    bucket: z.string(),
    volumePrefix: z.string(),
    scaleKey: z.string(),
    positionUnitNm: Vec3,
    resolutionNm: Vec3,
    fillMissing: z.boolean(),
    rootsRefreshedAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('SegmentationSource', { description: 'PUT also answers the scale chosen and every scale of the volume' });

export const RootTableLoadView = z
  .object({
    bucket: z.string(), key: z.string(), etag: z.string(), rows: z.number().int(),
    inserted: z.number().int(), updated: z.number().int(), unchanged: z.number().int(),
  })
  .openapi('RootTableLoad');

/** Response headers of a version table page. */
export const PAGE_HEADERS = {
  'x-datastack-version': 'The version read (what `latest` was)',
  'x-page-rows': 'Rows in this page',
  'next-cursor': 'Pass as cursor for the next page (absent on the last page)',
  link: '`<…>; rel="next"`: the next page, relative to the API root',
};
