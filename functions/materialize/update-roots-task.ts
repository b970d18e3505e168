// materialize-update-roots (Task of update-roots and of the complete workflow): expired root ids replaced by the
// roots valid at the run's time. Runs again (continuing: true) until it reports complete.
import { z } from 'zod';
import { logger } from '../lib/logger.ts';
import { taskHandler } from '../lib/task.ts';
import { invocationDeadline, SegmentationTaskInput, updateRoots } from './segmentation.ts';
import { runSegmentationStep } from './segmentation-step.ts';

const Input = SegmentationTaskInput.extend({
  /** Job inputs are strings: 'true' replaces every expired root, not only those expired since the last refresh. */
  full: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
});

export const handler = taskHandler(Input, async (input, context) => {
  const { jobId, datastack, full, batchRows } = input;
  logger.appendKeys({ jobId, datastack });
  const summary = await runSegmentationStep('update', input, () =>
    updateRoots({ jobId, datastack, full, deadline: invocationDeadline(context.getRemainingTimeInMillis()), batchRows }),
  );
  logger.info(summary.complete ? 'roots updated' : 'roots updated in part, continuing', { ...summary });
  return summary;
});
