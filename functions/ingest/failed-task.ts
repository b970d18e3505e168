// ingest-failed (Task on the failure path of video-ingest): the video's ingest failed, so the video says so, and
// the frames the run stored go: nobody reads a failed run's frames (a requeued job extracts them all again).
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { listObjects, s3 } from '../lib/aws.ts';
import { config } from '../lib/config.ts';
import { framePacksPrefix } from '../lib/frame-images.ts';
import { logger } from '../lib/logger.ts';
import { taskHandler } from '../lib/task.ts';
import { markFailed } from '../catalog/video-lifecycle.ts';

const Input = z.object({ jobId: z.string().min(1), videoId: z.uuid() });

/** Deletes every frame pack of one run of a video; returns how many there were. */
async function deleteRunFrames(videoId: string, run: string): Promise<number> {
  const bucket = config.mediaBucket();
  const packs = await listObjects(bucket, framePacksPrefix(videoId, run));
  // one DELETE per pack: a run has a handful, and DELETE requests cost nothing
  for (const pack of packs) await s3().send(new DeleteObjectCommand({ Bucket: bucket, Key: pack.key }));
  return packs.length;
}

export const handler = taskHandler(Input, async ({ jobId, videoId }) => {
  logger.appendKeys({ jobId, videoId });
  await markFailed(videoId);
  const framePacks = await deleteRunFrames(videoId, jobId);
  logger.info('video ingest failed', { framePacksDeleted: framePacks });
  return { videoId, status: 'failed' };
});
