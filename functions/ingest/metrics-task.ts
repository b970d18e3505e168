// ingest-metrics (last Task of video-ingest before the outcome): computes every det_group that applies to the
// video and replaces the video's metric documents.
import { z } from 'zod';
import { logger } from '../lib/logger.ts';
import { taskHandler } from '../lib/task.ts';
import { applicableDetGroups, computeVideoMetrics } from '../analytics/compute-video.ts';
import { deleteVideoResultsExcept } from '../analytics/store.ts';
import { finishStep, startStep } from '../jobs/store.ts';
import { getIngestVideo, markIngested, markMetricsReady } from './videos.ts';

const Input = z.object({ jobId: z.string().min(1), videoId: z.uuid(), frameCount: z.number().int().min(0) });

export const handler = taskHandler(Input, async ({ jobId, videoId, frameCount }) => {
  logger.appendKeys({ jobId, videoId });
  await finishStep(jobId, 'frames');
  await startStep(jobId, 'metrics');
  await markMetricsReady(videoId, frameCount);
  // Read after the mark above is committed: see markMetricsReady.
  const detGroups = await applicableDetGroups(videoId);
  const computed = await computeVideoMetrics(await getIngestVideo(videoId), detGroups);
  // Documents of det_groups that no longer apply go; the set is read again so that a det_group created since
  // (and computed for this video by its own job) keeps its documents.
  await deleteVideoResultsExcept(videoId, (await applicableDetGroups(videoId)).map((g) => g.detGroupId));
  await markIngested(videoId);
  await finishStep(jobId, 'metrics');
  logger.info('video metrics computed', { detGroups: computed.length });
  return { detGroups: computed };
});
