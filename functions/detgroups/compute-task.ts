// detgroups-compute (Task inside the Map of det-group): one det_group's metrics for one video.
import { z } from 'zod';
import { logger } from '../lib/logger.ts';
import { taskHandler } from '../lib/task.ts';
import { applicableDetGroups, computeVideoMetrics } from '../analytics/compute-video.ts';
import { finishStep } from '../jobs/store.ts';
import { getIngestVideo } from '../ingest/videos.ts';

const Input = z.object({ jobId: z.string().min(1), detGroupId: z.uuid(), videoId: z.uuid() });

export const handler = taskHandler(Input, async ({ jobId, detGroupId, videoId }) => {
  logger.appendKeys({ jobId, detGroupId, videoId });
  // Still applies? The video may have been re-ingested with other localizations since the list was made.
  const detGroups = await applicableDetGroups(videoId, [detGroupId]);
  const computed = await computeVideoMetrics(await getIngestVideo(videoId), detGroups);
  await finishStep(jobId, 'compute', 1);
  return { videoId, computed: computed.length > 0 };
});
