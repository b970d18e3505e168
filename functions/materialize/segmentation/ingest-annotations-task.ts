// materialize-ingest-annotations (Task of ingest-annotations and of the complete workflow): missing supervoxel ids
// from the volume, then the roots valid at the run's time. Runs again (continuing: true) until it reports complete.
import { logger } from '../../lib/logger.ts';
import { stepTask } from '../../jobs/step-task.ts';
import { ingestAnnotations, invocationDeadline, SegmentationTaskInput } from './refresh.ts';
import { refreshStep, unlessNoSource } from './step.ts';

export const handler = stepTask(SegmentationTaskInput, refreshStep('ingest'), async (input, context) => {
  const { jobId, datastack, pageRows, batchRows } = input;
  const summary = await unlessNoSource(input, () =>
    ingestAnnotations({ jobId, datastack, deadline: invocationDeadline(context.getRemainingTimeInMillis()), pageRows, batchRows }),
  );
  logger.info(summary.complete ? 'annotations ingested' : 'annotations ingested in part, continuing', { ...summary });
  return summary;
});
