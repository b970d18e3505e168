// annotation-failed (Task on the failure path of annotation-content): the upload's processing failed, so the
// upload says so (status 2) with the error the workflow caught.
import { z } from 'zod';
import { jobErrorFromCatch } from '../jobs/job.ts';
import { logger } from '../lib/logger.ts';
import { taskHandler } from '../lib/task.ts';
import { failProcessing } from './store.ts';

const Input = z.object({
  jobId: z.string().min(1),
  uploadId: z.uuid(),
  error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});

export const handler = taskHandler(Input, async ({ jobId, uploadId, error }) => {
  logger.appendKeys({ jobId, uploadId });
  const jobError = jobErrorFromCatch(error);
  await failProcessing(uploadId, jobId, jobError);
  logger.info('annotation content processing failed', { ...jobError });
  return { uploadId, status: 2 };
});
