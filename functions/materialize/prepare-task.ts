// materialize-prepare (first Task of bulk-upload): ledger and staging tables, the chunk plan.
import { z } from 'zod';
import { logger } from '../lib/logger.ts';
import { taskHandler } from '../lib/task.ts';
import { finishStep, startStep } from '../jobs/store.ts';
import { DATASTACK, MappingText, prepareUpload } from './bulk.ts';

const Input = z.object({
  jobId: z.string().min(1),
  datastack: z.string().regex(DATASTACK),
  uploadId: z.string().min(1),
  bucket: z.string().min(1),
  prefix: z.string().min(1),
  table: z.string().min(1),
  schema: z.string().min(1),
  columnMapping: MappingText,
  chunkRows: z.coerce.number().int().min(1),
});

export const handler = taskHandler(Input, async ({ jobId, uploadId, chunkRows, ...req }) => {
  logger.appendKeys({ jobId, datastack: req.datastack, table: req.table });
  await startStep(jobId, 'prepare');
  const prepared = await prepareUpload(req, uploadId, chunkRows);
  await finishStep(jobId, 'prepare');
  await startStep(jobId, 'load', prepared.chunks.length);
  logger.info('bulk upload prepared', { chunks: prepared.chunks.length, files: prepared.files.length });
  return prepared;
});
