// detgroups-videos (Task of det-group): the videos the det_group is computed for.
import { z } from 'zod';
import { logger } from '../lib/logger.ts';
import { stepTask } from '../jobs/step-task.ts';
import { getDetGroup, videosFor } from './store.ts';

const Input = z.object({ jobId: z.string().min(1), detGroupId: z.uuid() });

const steps = {
  step: 'videos',
  subject: ({ detGroupId }: { detGroupId: string }) => ({ detGroupId }),
  next: ({ videos }: { videos: readonly unknown[] }) => ({ step: 'compute', parts: videos.length }) as const,
} as const;

export const handler = stepTask(Input, steps, async ({ detGroupId }) => {
  await getDetGroup(detGroupId); // a det_group deleted since the request fails the job with NotFound
  const videos = await videosFor(detGroupId);
  logger.info('videos to compute', { videos: videos.length });
  return { videos };
});
