// slides-dice (Task of slide-image): the source read once into its Deep Zoom and IIIF tiles, uploaded under
// slides/{imageId}/. The two descriptors wait under staged/ for the pyramid step, so no viewer finds a descriptor
// whose tiles are not all there yet.
import { z } from 'zod';
import { stepTask } from '../jobs/step-task.ts';
import { logger } from '../lib/logger.ts';
import { DEFAULT_PYRAMID_SETTINGS, dice, PYRAMID_FILES, pyramidObjects, type PyramidObject } from './pyramid.ts';
import { inspectSlideImage } from './slide-image.ts';
import { imageOfJob, publishObjects, withSource } from './source.ts';
import { pyramidPrefix, recordProgress } from './store.ts';

const Input = z.object({ jobId: z.string().min(1), imageId: z.uuid() });

/** Where the descriptors wait until every tile is published. */
export const STAGED = 'staged/';
const DESCRIPTORS = new Set<string>([PYRAMID_FILES.dzi, PYRAMID_FILES.iiifInfo]);

export const handler = stepTask(Input, { step: 'dice', subject: ({ imageId }) => ({ imageId }) }, async ({ jobId, imageId }) => {
  const image = await imageOfJob(imageId, jobId);
  if (image.state === 'ready') return { imageId, objects: 0, width: image.width!, height: image.height!, format: image.format! };
  const settings = DEFAULT_PYRAMID_SETTINGS;
  return withSource(image, async (path, outDir) => {
    const source = await inspectSlideImage(path, image.filename, settings.maxInputPixels);
    await dice(path, image.filename, outDir, 'https://iiif.invalid', settings);
    async function* staged(): AsyncGenerator<PyramidObject> {
      for await (const o of pyramidObjects(outDir)) yield DESCRIPTORS.has(o.key) ? { ...o, key: `${STAGED}${o.key}` } : o;
    }
    const objects = await publishObjects(pyramidPrefix(imageId), staged(), (done) => recordProgress(imageId, 'dicing', Math.min(70, 10 + Math.floor(done / 100))));
    await recordProgress(imageId, 'dicing', 70);
    logger.info('slide diced', { objects, width: source.width, height: source.height, format: source.format });
    return { imageId, objects, width: source.width, height: source.height, format: source.format };
  });
});
