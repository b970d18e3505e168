// materialize-api, bulk uploads of `.npy` column files into a datastack's tables. The request is checked against
// every file's header (Range GETs of the header bytes only) before anything is written: any problem is a 400
// listing them all. A valid upload becomes a 'bulk-upload' job running the bulk-upload workflow.
import { defineRoute, Reply } from '../../lib/route.ts';
import { z } from '../../lib/zod.ts';
import { s3Key } from '../../lib/validate.ts';
import { AppError } from '../../lib/errors.ts';
import { logger } from '../../lib/logger.ts';
import { bulkUploadJobId } from '../../jobs/job.ts';
import { JobSchema } from '../../jobs/schemas.ts';
import { createAndStartJob } from '../../jobs/workflow.ts';
import { assertReadableInput, DatastackParams } from '../route-params.ts';
import { columnMappingSchema } from '../schemas.ts';
import { DEFAULT_CHUNK_ROWS } from './chunks.ts';
import { existingTableProblems, inspectUpload, normalizePrefix } from './upload.ts';

const Body = z.strictObject({
  bucket: z.string().min(1),
  prefix: s3Key().min(1),
  table: z.string().min(1),
  /** Checked with the mapping, so that an unknown schema is reported with every other problem. */
  schema: z.string().min(1),
  columnMapping: columnMappingSchema,
  chunkRows: z.number().int().min(1).max(1_000_000).default(DEFAULT_CHUNK_ROWS),
});

const invalidUpload = (problems: unknown[]) =>
  new AppError(400, 'InvalidUpload', `The upload cannot be loaded: ${problems.length} problem(s), nothing was written`, problems);

export const bulkRoutes = [
  defineRoute({
    key: 'POST /v1/materialize/{datastack}/bulk-upload', tag: 'materialize', roles: [],
    summary: 'Load .npy column files from S3 into a datastack table (a bulk-upload job)',
    description:
      "Every file's header is checked against the mapping first (ranged reads of the headers only): a 400 InvalidUpload lists every problem, " +
      'and nothing is written. The same upload again is the same job.',
    params: DatastackParams, body: Body, response: JobSchema, status: 202,
    handle: async ({ params: { datastack }, body }) => {
      assertReadableInput(body.bucket, 'prefix', body.prefix);
      const request = { datastack, bucket: body.bucket, prefix: normalizePrefix(body.prefix), table: body.table, schema: body.schema, columnMapping: body.columnMapping };
      const { result, uploadId } = await inspectUpload(request, body.chunkRows);
      if (!result.ok) throw invalidUpload(result.problems);
      const mismatch = await existingTableProblems(datastack, result.plan);
      if (mismatch.length > 0) throw invalidUpload(mismatch);

      const jobId = bulkUploadJobId(datastack, uploadId);
      // The same upload again is the same job; one whose run never started (a crash in between) starts now.
      const { job, started } = await createAndStartJob({
        jobId,
        kind: 'bulk-upload',
        input: { ...request, columnMapping: JSON.stringify(body.columnMapping), chunkRows: String(body.chunkRows), uploadId },
      });
      if (!started) return new Reply({ status: 200, body: job });
      logger.info('bulk upload started', { jobId, datastack, table: body.table, rows: result.plan.rows });
      return job;
    },
  }),
];
