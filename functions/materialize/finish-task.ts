// materialize-finish (after the Map of bulk-upload): verify row counts, reload missing chunks, rebuild indexes.
import { z } from 'zod';
import { logger } from '../lib/logger.ts';
import { taskHandler } from '../lib/task.ts';
import { finishStep, startStep } from '../jobs/store.ts';
import { ChunkSchema, DATASTACK, finishUpload, MappingText, UploadFileSchema } from './bulk.ts';

const Input = z.object({
  jobId: z.string().min(1),
  datastack: z.string().regex(DATASTACK),
  uploadId: z.string().min(1),
  bucket: z.string().min(1),
  table: z.string().min(1),
  schema: z.string().min(1),
  columnMapping: MappingText,
  files: z.array(UploadFileSchema),
  chunks: z.array(ChunkSchema),
});

export const handler = taskHandler(Input, async ({ jobId, ...input }) => {
  logger.appendKeys({ jobId, datastack: input.datastack, table: input.table });
  await finishStep(jobId, 'load');
  await startStep(jobId, 'finish');
  const finished = await finishUpload(input);
  await finishStep(jobId, 'finish');
  logger.info('bulk upload finished', { ...finished });
  return finished;
});
