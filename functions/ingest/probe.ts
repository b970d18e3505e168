// ingest-probe (Task of video-ingest): ffprobe the upload and store what it says on the video.
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { z } from 'zod';
import { s3 } from '../lib/aws.ts';
import { TaskError } from '../lib/errors.ts';
import { logger } from '../lib/logger.ts';
import { stepTask } from '../jobs/step-task.ts';
import { probeVideo } from './ffprobe.ts';
import { headObject } from './arrival.ts';
import { recordProbe } from '../catalog/video-lifecycle.ts';


const Input = z.object({ jobId: z.string().min(1), videoId: z.uuid(), bucket: z.string().min(3), key: z.string().min(1) });

export const handler = stepTask(Input, { step: 'probe', subject: ({ videoId }) => ({ videoId }) }, async ({ videoId, bucket, key }) => {
  if (!(await headObject(bucket, key))) throw new TaskError('UploadMissing', `the uploaded object s3://${bucket}/${key} does not exist (deleted since?)`);
  const url = await getSignedUrl(s3(), new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 900 });
  const probe = await probeVideo(url);
  await recordProbe(videoId, probe);
  logger.info('video probed', { ...probe });
  return probe;
});
