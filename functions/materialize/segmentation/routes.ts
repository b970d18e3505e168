// materialize-api, segmentation refresh (admin only): register a datastack's segmentation source, load
// supervoxel → root files, and start the two refresh runs as jobs (follow them with GET /v1/jobs/{id}).
// Anything read from S3 is checked before anything is written; a problem is a 400 listing every problem found.
import { randomUUID } from 'node:crypto';
import { defineRoute } from '../../lib/route.ts';
import { z } from '../../lib/zod.ts';
import { s3Key } from '../../lib/validate.ts';
import { AppError, conflict, notFound } from '../../lib/errors.ts';
import { logger } from '../../lib/logger.ts';
import { segmentationJobId, type Job } from '../../jobs/job.ts';
import { JobSchema } from '../../jobs/schemas.ts';
import { listJobs } from '../../jobs/store.ts';
import { createAndStartJob } from '../../jobs/workflow.ts';
import { assertReadableInput, DatastackParams } from '../route-params.ts';
import type { RunKind } from './refresh.ts';
import { getSource, readVolumeScale, registerSource, type SegmentationSource } from './source.ts';
import { loadRootTable } from './supervoxel-roots.ts';

const Vec3 = z.tuple([z.number(), z.number(), z.number()]);
const SegmentationSourceView = z
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

const RootTableLoadView = z
  .object({
    bucket: z.string(), key: z.string(), etag: z.string(), rows: z.number().int(),
    inserted: z.number().int(), updated: z.number().int(), unchanged: z.number().int(),
  })
  .openapi('RootTableLoad');

const positiveNm = z.number().positive().finite();
const SourceBody = z.strictObject({
  bucket: z.string().min(1),
  /** The volume's folder ('' for the bucket's root): `info` is at <prefix>/info. */
  prefix: s3Key(),
  /** The key of the scale to read; the first scale of `info` by default. */
  scale: s3Key().min(1).optional(),
  /** nm per unit of the annotation positions, per axis; the scale's resolution by default (positions in voxels). */
  positionUnitNm: z.tuple([positiveNm, positiveNm, positiveNm]).optional(),
  /** Read chunks that do not exist as background (supervoxel 0) instead of failing the run. */
  fillMissing: z.boolean().default(false),
});
const RootFileBody = z.strictObject({ bucket: z.string().min(1), key: s3Key().min(1) });
const UpdateBody = z
  .strictObject({ /** Replace every expired root, not only those expired since the last refresh. */ full: z.boolean().default(false) })
  .default({ full: false });

async function sourceOrNotFound(datastack: string): Promise<SegmentationSource> {
  const source = await getSource(datastack);
  if (!source) throw notFound('segmentation source of datastack', datastack);
  return source;
}

/** A run of this kind for this datastack that has not ended, if any. */
async function activeRun(kind: RunKind, datastack: string): Promise<Job | undefined> {
  for (const state of ['queued', 'working'] as const) {
    let cursor: string | undefined;
    do {
      const page = await listJobs({ state, limit: 100, cursor });
      const found = page.jobs.find((j) => j.kind === kind && j.input.datastack === datastack);
      if (found) return found;
      cursor = page.cursor;
    } while (cursor);
  }
  return undefined;
}

async function startRun(kind: RunKind, datastack: string, input: Record<string, string> = {}): Promise<Job> {
  await sourceOrNotFound(datastack);
  const active = await activeRun(kind, datastack);
  if (active) throw conflict(`datastack ${datastack} has a ${kind} run in progress: job ${active.jobId}`, { jobId: active.jobId });
  const jobId = segmentationJobId(kind, datastack, randomUUID().slice(0, 8));
  const { job } = await createAndStartJob({ jobId, kind, input: { datastack, ...input } });
  logger.info('segmentation run started', { jobId, datastack, kind });
  return job;
}

export const segmentationRoutes = [
  defineRoute({
    key: 'PUT /v1/materialize/{datastack}/segmentation', tag: 'materialize', roles: [],
    summary: "Register (or replace) a datastack's segmentation source: a precomputed volume in S3",
    description: "The volume's `info` is read and checked first: a 400 InvalidSegmentation lists every problem, and nothing is stored.",
    params: DatastackParams, body: SourceBody, response: SegmentationSourceView,
    handle: async ({ params: { datastack }, body }) => {
      assertReadableInput(body.bucket, 'prefix', body.prefix);
      const resolved = await readVolumeScale(body.bucket, body.prefix, body.scale);
      if (!resolved.ok) {
        throw new AppError(400, 'InvalidSegmentation', `The volume cannot be used: ${resolved.problems.length} problem(s), nothing was stored`, resolved.problems);
      }
      const source = await registerSource({
        datastack,
        bucket: body.bucket,
        volumePrefix: body.prefix,
        scale: resolved.scale,
        positionUnitNm: body.positionUnitNm,
        fillMissing: body.fillMissing,
      });
      logger.info('segmentation source registered', { datastack, scale: resolved.scale.key });
      return { ...source, scale: resolved.scale, scales: resolved.scales };
    },
  }),
  defineRoute({
    key: 'GET /v1/materialize/{datastack}/segmentation', tag: 'materialize', roles: [],
    summary: "A datastack's segmentation source",
    params: DatastackParams, response: SegmentationSourceView,
    handle: ({ params }) => sourceOrNotFound(params.datastack),
  }),
  defineRoute({
    key: 'POST /v1/materialize/{datastack}/supervoxel-roots', tag: 'materialize', roles: [],
    summary: 'Load a supervoxel → root CSV from S3 into the datastack\'s root table',
    description: 'Every row is checked first: a 400 InvalidRootTable lists the problems, and nothing is loaded.',
    params: DatastackParams, body: RootFileBody, response: RootTableLoadView, status: 200,
    handle: async ({ params: { datastack }, body }) => {
      assertReadableInput(body.bucket, 'key', body.key);
      await sourceOrNotFound(datastack);
      const result = await loadRootTable(datastack, body.bucket, body.key);
      if (!result.ok) {
        throw new AppError(
          400,
          'InvalidRootTable',
          `s3://${body.bucket}/${body.key} cannot be loaded: ${result.count} problem(s)${result.count > result.problems.length ? ` (the first ${result.problems.length} listed)` : ''}, nothing was loaded`,
          result.problems,
        );
      }
      logger.info('supervoxel roots loaded', { datastack, ...result.load });
      return result.load;
    },
  }),
  defineRoute({
    key: 'POST /v1/materialize/{datastack}/ingest-annotations', tag: 'materialize', roles: [],
    summary: 'Start looking up the missing supervoxel ids and roots of a datastack (an ingest-annotations job)',
    params: DatastackParams, response: JobSchema, status: 202,
    handle: ({ params }) => startRun('ingest-annotations', params.datastack),
  }),
  defineRoute({
    key: 'POST /v1/materialize/{datastack}/update-roots', tag: 'materialize', roles: [],
    summary: "Start replacing a datastack's expired root ids (an update-roots job)",
    params: DatastackParams, body: UpdateBody, response: JobSchema, status: 202,
    handle: ({ params, body }) => startRun('update-roots', params.datastack, { full: String(body.full) }),
  }),
];
