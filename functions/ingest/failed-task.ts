// ingest-failed (Task on the failure path of video-ingest): the video's ingest failed, so the video says so.
import { z } from 'zod';
import { logger } from '../lib/logger.ts';
import { taskHandler } from '../lib/task.ts';
import { markFailed } from '../catalog/video-lifecycle.ts';

const Input = z.object({ jobId: z.string().min(1), videoId: z.uuid() });

export const handler = taskHandler(Input, async ({ jobId, videoId }) => {
  logger.appendKeys({ jobId, videoId });
  await markFailed(videoId);
  logger.info('video ingest failed');
  return { videoId, status: 'failed' };
});
