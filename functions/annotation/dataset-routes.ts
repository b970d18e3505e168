// Training datasets over HTTP: a request makes the next immutable version of a named dataset, built by a job;
// a version shows its progress and, once built, a presigned URL of its zip. Spread into the annotation API's routes.
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createAndStartJob } from '../jobs/workflow.ts';
import { s3 } from '../lib/aws.ts';
import { config } from '../lib/config.ts';
import { badRequest, notFound } from '../lib/errors.ts';
import { logger } from '../lib/logger.ts';
import { defineRoute, type DefinedRoute } from '../lib/route.ts';
import { z } from '../lib/zod.ts';
import { createDatasetVersion, getDatasetVersion, listDatasetVersions, type DatasetDoc } from './annotation-store.ts';
import { datasetPrefix, FORMATS, SPLIT_NAMES, type DatasetRequest } from './dataset.ts';
import { getProject } from './store.ts';

const TAG = 'annotation';
const DatasetName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'a dataset name: a-z or 0-9 first, then a-z, 0-9, _ or -, at most 40 characters');

const Split = z
  .partialRecord(z.enum(SPLIT_NAMES), z.number().min(0).max(1))
  .refine((s) => Math.abs(Object.values(s).reduce((a, b) => a + (b ?? 0), 0) - 1) < 1e-9, 'the split fractions add up to 1')
  .openapi({ description: 'Fraction of the tasks in each split (train, val, test); default { train: 0.8, val: 0.2 }' });

const NewDataset = z
  .strictObject({
    name: DatasetName,
    projectIds: z.array(z.uuid()).min(1).max(100).refine((ids) => new Set(ids).size === ids.length, 'projectIds must not repeat'),
    auditStatus: z.array(z.number().int().min(0).max(5)).min(1).default([1, 5]).openapi({ description: 'Tasks with these audit statuses (default accepted and completed)' }),
    split: Split.default({ train: 0.8, val: 0.2 }),
    seed: z.union([z.string().max(100), z.number().int()]).default('0').transform(String).openapi({ description: 'Seeds the split by task (default "0")' }),
    formats: z.array(z.enum(FORMATS)).min(1).default(['yolo', 'coco']),
  })
  .openapi('NewDataset');

const DatasetVersion = z
  .object({
    name: z.string(),
    version: z.number().int(),
    state: z.enum(['queued', 'building', 'zipping', 'succeeded', 'failed']),
    jobId: z.string(),
    request: z.object({}).loose(),
    prefix: z.string(),
    itemsDone: z.number().int(),
    itemsTotal: z.number().int().nullable(),
    progress: z.number().int().openapi({ description: '0-100: items written, then 100 once the zip is in place' }),
    zipKey: z.string().nullable(),
    zipBytes: z.number().int().nullable(),
    zipUrl: z.string().optional().openapi({ description: 'A presigned GET of the whole version as a zip, once built' }),
    expiresIn: z.number().int().optional(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('DatasetVersion');

const VersionParams = z.object({ name: DatasetName, n: z.coerce.number().int().positive() });
const NameParams = z.object({ name: DatasetName });

function progressOf(d: DatasetDoc): number {
  if (d.state === 'succeeded') return 100;
  if (!d.itemsTotal) return 0;
  return Math.min(99, Math.floor((d.itemsDone / d.itemsTotal) * 99));
}

async function versionView(d: DatasetDoc, withUrl: boolean) {
  const view = {
    name: d.dataset,
    version: d.version,
    state: d.state,
    jobId: d.jobId,
    request: d.request,
    prefix: datasetPrefix(d.dataset, d.version),
    itemsDone: d.itemsDone,
    itemsTotal: d.itemsTotal,
    progress: progressOf(d),
    zipKey: d.zipKey,
    zipBytes: d.zipBytes,
    error: d.error,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
  if (!withUrl || d.state !== 'succeeded' || !d.zipKey) return view;
  const expiresIn = config.presignedUrlSeconds();
  const zipUrl = await getSignedUrl(s3(), new GetObjectCommand({ Bucket: config.mediaBucket(), Key: d.zipKey }), { expiresIn });
  return { ...view, zipUrl, expiresIn };
}

export const datasetRoutes: DefinedRoute[] = [
  defineRoute({
    key: 'POST /v1/annotation/datasets', tag: TAG, roles: ['analyst'],
    summary: 'Build the next version of a dataset from the annotated tasks of some projects',
    description:
      'Answers 202 with the new version; its job (jobId) builds `datasets/{name}/v{n}/` (images/{split}, labels/{split} YOLO, data.yaml, ' +
      'annotations/{split}.json COCO, manifest.json) and a zip of it. A built version never changes; each request makes the next one.',
    body: NewDataset, response: DatasetVersion, status: 202, errors: [404],
    handle: async ({ body }) => {
      for (const id of body.projectIds) if (!(await getProject(id))) throw notFound('annotation project', id);
      if (Object.values(body.split).every((f) => !f)) throw badRequest('the split puts the tasks nowhere');
      const request: DatasetRequest = body;
      const doc = await createDatasetVersion(request);
      await createAndStartJob({ jobId: doc.jobId, kind: 'annotation-dataset', input: { name: doc.dataset, version: String(doc.version) } });
      logger.info('dataset version requested', { name: doc.dataset, version: doc.version, jobId: doc.jobId });
      return versionView(doc, false);
    },
  }),
  defineRoute({
    key: 'GET /v1/annotation/datasets/{name}', tag: TAG, roles: ['analyst'],
    summary: "A dataset's versions, oldest first",
    params: NameParams, response: z.object({ name: z.string(), versions: z.array(DatasetVersion) }),
    handle: async ({ params }) => {
      const versions = await listDatasetVersions(params.name);
      if (versions.length === 0) throw notFound('dataset', params.name);
      return { name: params.name, versions: await Promise.all(versions.map((v) => versionView(v, false))) };
    },
  }),
  defineRoute({
    key: 'GET /v1/annotation/datasets/{name}/versions/{n}', tag: TAG, roles: ['analyst'],
    summary: "A dataset version's progress and, once built, a presigned URL of its zip",
    params: VersionParams, response: DatasetVersion,
    handle: async ({ params }) => {
      const doc = await getDatasetVersion(params.name, params.n);
      if (!doc) throw notFound('dataset version', `${params.name} v${params.n}`);
      return versionView(doc, true);
    },
  }),
];
