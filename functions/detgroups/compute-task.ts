// detgroups-compute (Task inside the Map of det-group): one det_group's metrics for one video.
import { z } from 'zod';
import { logger } from '../lib/logger.ts';
import { taskHandler } from '../lib/task.ts';
import { applicableDetGroups, computeVideoMetrics } from '../analytics/compute-video.ts';
import { finishPart, startPart } from '../jobs/store.ts';
import { getIngestVideo } from '../ingest/videos.ts';
import { touchDetGroup } from './store.ts';

const Input = z.object({ jobId: z.string().min(1), detGroupId: z.uuid(), videoId: z.uuid() });

export const handler = taskHandler(Input, async ({ jobId, detGroupId, videoId }) => {
  logger.appendKeys({ jobId, detGroupId, videoId });
  // A resumed run skips the videos an earlier run computed.
  if ((await startPart(jobId, 'compute', videoId))?.done) return { videoId, computed: true };
  // Still applies? The video may have been re-ingested with other localizations since the list was made.
  const detGroups = await applicableDetGroups(videoId, [detGroupId]);
  const computed = await computeVideoMetrics(await getIngestVideo(videoId), detGroups);
  // New metrics of a det_group change what its clients see: touching it (and so them) moves their cache keys.
  if (computed.length > 0) await touchDetGroup(detGroupId);
  await finishPart(jobId, 'compute', videoId);
  return { videoId, computed: computed.length > 0 };
});
