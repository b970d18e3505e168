// materialize-ingest-annotations (Task of ingest-annotations): missing supervoxel ids from the volume, then the
// roots valid at the run's time. Runs again (continuing: true) until it reports complete.
import { logger } from '../lib/logger.ts';
import { taskHandler } from '../lib/task.ts';
import { finishStep, startStep } from '../jobs/store.ts';
import { ingestAnnotations, invocationDeadline, SegmentationTaskInput } from './segmentation.ts';

export const handler = taskHandler(SegmentationTaskInput, async ({ jobId, datastack, continuing, pageRows, batchRows }, context) => {
  logger.appendKeys({ jobId, datastack });
  if (!continuing) await startStep(jobId, 'ingest');
  const summary = await ingestAnnotations({ jobId, datastack, deadline: invocationDeadline(context.getRemainingTimeInMillis()), pageRows, batchRows });
  if (summary.complete) await finishStep(jobId, 'ingest');
  logger.info(summary.complete ? 'annotations ingested' : 'annotations ingested in part, continuing', { ...summary });
  return summary;
});
