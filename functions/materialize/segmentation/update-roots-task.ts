// materialize-update-roots (Task of update-roots and of the complete workflow): expired root ids replaced by the
// roots valid at the run's time. Runs again (continuing: true) until it reports complete.
import { z } from 'zod';
import { logger } from '../../lib/logger.ts';
import { stepTask } from '../../jobs/step-task.ts';
import { invocationDeadline, SegmentationTaskInput, updateRoots } from './refresh.ts';
import { refreshStep, unlessNoSource } from './step.ts';

const Input = SegmentationTaskInput.extend({
  /** Job inputs are strings: 'true' replaces every expired root, not only those expired since the last refresh. */
  full: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
});

export const handler = stepTask(Input, refreshStep('update'), async (input, context) => {
  const { jobId, datastack, full, batchRows } = input;
  const summary = await unlessNoSource(input, () =>
    updateRoots({ jobId, datastack, full, deadline: invocationDeadline(context.getRemainingTimeInMillis()), batchRows }),
  );
  logger.info(summary.complete ? 'roots updated' : 'roots updated in part, continuing', { ...summary });
  return summary;
});
