// slides-finish (Task of slide-image): thumbnail and preview from the source, the metadata on the image, ready.
import { z } from 'zod';
import { stepTask } from '../jobs/step-task.ts';
import { TaskError } from '../lib/errors.ts';
import { logger } from '../lib/logger.ts';
import { DEFAULT_PYRAMID_SETTINGS, finish, pyramidObjects } from './pyramid.ts';
import { inspectSlideImage } from './slide-image.ts';
import { imageOfJob, publishObjects, withSource } from './source.ts';
import { completeImage, pyramidPrefix, requireImage } from './store.ts';

const Input = z.object({ jobId: z.string().min(1), imageId: z.uuid() });

export const handler = stepTask(Input, { step: 'finish', subject: ({ imageId }) => ({ imageId }) }, async ({ jobId, imageId }) => {
  const done = await requireImage(imageId);
  // a retry after this step finished (its answer lost): the image is ready under this job already
  if (done.state === 'ready' && done.jobId === jobId) {
    return { imageId, width: done.width, height: done.height, levels: done.levels, tileSize: done.tileSize, format: done.format, bytes: done.bytes };
  }
  const image = await imageOfJob(imageId, jobId);
  const settings = DEFAULT_PYRAMID_SETTINGS;
  const metadata = await withSource(image, async (path, outDir) => {
    const source = await inspectSlideImage(path, image.filename, settings.maxInputPixels);
    const m = await finish(path, image.filename, outDir, source, settings);
    await publishObjects(pyramidPrefix(imageId), pyramidObjects(outDir));
    return m;
  });
  const ready = await completeImage(imageId, jobId, metadata);
  if (!ready) throw new TaskError('StaleImage', `image ${imageId} moved on while it was finished`);
  logger.info('slide ready', { ...metadata });
  return { imageId, ...metadata };
});
