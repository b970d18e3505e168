// slides-failed (Task on the failure path of slide-image): the image is failed with the error the workflow caught.
import { z } from 'zod';
import { jobErrorFromCatch } from '../jobs/job.ts';
import { logger } from '../lib/logger.ts';
import { taskHandler } from '../lib/task.ts';
import { failImage } from './store.ts';

const Input = z.object({
  jobId: z.string().min(1),
  imageId: z.uuid(),
  error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});

export const handler = taskHandler(Input, async ({ jobId, imageId, error }) => {
  logger.appendKeys({ jobId, imageId });
  const jobError = jobErrorFromCatch(error);
  const failed = await failImage(imageId, jobId, jobError);
  logger.info('slide pyramid failed', { ...jobError, recorded: Boolean(failed) });
  return { imageId, state: 'failed' };
});
