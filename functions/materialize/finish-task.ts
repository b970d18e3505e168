// materialize-finish (after the Map of bulk-upload): reload missing chunks, verify row counts, index and publish.
import { z } from 'zod';
import { logger } from '../lib/logger.ts';
import { taskHandler } from '../lib/task.ts';
import { finishStep, startStep } from '../jobs/store.ts';
import { ChunkSchema, finishUpload, UploadFileSchema, UploadTaskInput } from './bulk.ts';

const Input = UploadTaskInput.extend({ files: z.array(UploadFileSchema), chunks: z.array(ChunkSchema) });

export const handler = taskHandler(Input, async ({ jobId, ...input }) => {
  logger.appendKeys({ jobId, datastack: input.datastack, table: input.table });
  await finishStep(jobId, 'load');
  await startStep(jobId, 'finish');
  const finished = await finishUpload(input);
  await finishStep(jobId, 'finish');
  logger.info('bulk upload finished', { ...finished });
  return finished;
});
