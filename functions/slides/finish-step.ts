// slides-finish (Task of slide-image): thumbnail and preview from the source, the metadata on the image, ready.
import { z } from 'zod';
import { stepTask } from '../jobs/step-task.ts';
import { TaskError } from '../lib/errors.ts';
import { logger } from '../lib/logger.ts';
import { DEFAULT_PYRAMID_SETTINGS, finish, pyramidObjects } from './pyramid.ts';
import { inspectSlideImage } from './slide-image.ts';
import { imageOfJob, publishObjects, withSource } from './source.ts';
import { completeImage, pyramidPrefix } from './store.ts';

const Input = z.object({ jobId: z.string().min(1), imageId: z.uuid() });

export const handler = stepTask(Input, { step: 'finish', subject: ({ imageId }) => ({ imageId }) }, async ({ jobId, imageId }) => {
  const image = await imageOfJob(imageId, jobId);
  // a retry after this step finished (its answer lost), or a resumed run: the image is ready under this job already
  if (image.state === 'ready') {
    return { imageId, width: image.width, height: image.height, levels: image.levels, tileSize: image.tileSize, format: image.format, bytes: image.bytes };
  }
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
