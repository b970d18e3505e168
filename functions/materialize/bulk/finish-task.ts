// materialize-finish (after the Map of bulk-upload): reload missing chunks, verify row counts, index and publish.
import { z } from 'zod';
import { logger } from '../../lib/logger.ts';
import { stepTask } from '../../jobs/step-task.ts';
import { ChunkSchema, finishUpload, UploadFileSchema, UploadTaskInput } from './upload.ts';

const Input = UploadTaskInput.extend({ files: z.array(UploadFileSchema), chunks: z.array(ChunkSchema) });

const steps = { step: 'finish', after: 'load', subject: ({ datastack, table }: { datastack: string; table: string }) => ({ datastack, table }) } as const;

export const handler = stepTask(Input, steps, async ({ jobId: _jobId, ...input }) => {
  const finished = await finishUpload(input);
  logger.info('bulk upload finished', { ...finished });
  return finished;
});
