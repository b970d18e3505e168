// materialize-update-roots (Task of update-roots): expired root ids replaced by the roots valid at the run's time.
// Runs again (continuing: true) until it reports complete.
import { z } from 'zod';
import { logger } from '../lib/logger.ts';
import { taskHandler } from '../lib/task.ts';
import { finishStep, startStep } from '../jobs/store.ts';
import { invocationDeadline, SegmentationTaskInput, updateRoots } from './segmentation.ts';

const Input = SegmentationTaskInput.extend({
  /** Job inputs are strings: 'true' replaces every expired root, not only those expired since the last refresh. */
  full: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
});

export const handler = taskHandler(Input, async ({ jobId, datastack, continuing, full, batchRows }, context) => {
  logger.appendKeys({ jobId, datastack });
  if (!continuing) await startStep(jobId, 'update');
  const summary = await updateRoots({ jobId, datastack, full, deadline: invocationDeadline(context.getRemainingTimeInMillis()), batchRows });
  if (summary.complete) await finishStep(jobId, 'update');
  logger.info(summary.complete ? 'roots updated' : 'roots updated in part, continuing', { ...summary });
  return summary;
});
