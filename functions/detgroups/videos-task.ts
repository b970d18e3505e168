// detgroups-videos (Task of det-group): the videos the det_group is computed for.
import { z } from 'zod';
import { logger } from '../lib/logger.ts';
import { taskHandler } from '../lib/task.ts';
import { finishStep, startStep } from '../jobs/store.ts';
import { getDetGroup, videosFor } from './store.ts';

const Input = z.object({ jobId: z.string().min(1), detGroupId: z.uuid() });

export const handler = taskHandler(Input, async ({ jobId, detGroupId }) => {
  logger.appendKeys({ jobId, detGroupId });
  await startStep(jobId, 'videos');
  await getDetGroup(detGroupId); // a det_group deleted since the request fails the job with NotFound
  const videos = await videosFor(detGroupId);
  await finishStep(jobId, 'videos');
  await startStep(jobId, 'compute', videos.length);
  logger.info('videos to compute', { videos: videos.length });
  return { videos };
});
