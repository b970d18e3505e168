// materialize-ingest-annotations (Task of ingest-annotations and of the complete workflow): missing supervoxel ids
// from the volume, then the roots valid at the run's time. Runs again (continuing: true) until it reports complete.
import { logger } from '../lib/logger.ts';
import { taskHandler } from '../lib/task.ts';
import { ingestAnnotations, invocationDeadline, SegmentationTaskInput } from './segmentation.ts';
import { runSegmentationStep } from './segmentation-step.ts';

export const handler = taskHandler(SegmentationTaskInput, async (input, context) => {
  const { jobId, datastack, pageRows, batchRows } = input;
  logger.appendKeys({ jobId, datastack });
  const summary = await runSegmentationStep('ingest', input, () =>
    ingestAnnotations({ jobId, datastack, deadline: invocationDeadline(context.getRemainingTimeInMillis()), pageRows, batchRows }),
  );
  logger.info(summary.complete ? 'annotations ingested' : 'annotations ingested in part, continuing', { ...summary });
  return summary;
});
