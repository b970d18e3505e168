// slides-dice (Task of slide-image): the source read once into its Deep Zoom and IIIF tiles, uploaded under
// slides/{imageId}/. The two descriptors wait under staged/ for the pyramid step, so no viewer finds a descriptor
// whose tiles are not all there yet. An image over the region threshold is not diced here: the answer is its region
// plan, which the workflow's Map dices side by side (dice-region-step.ts, dice-overview-step.ts).
import { z } from 'zod';
import { stepTask } from '../jobs/step-task.ts';
import { logger } from '../lib/logger.ts';
import { dice, PYRAMID_FILES, pyramidObjects, type PyramidObject } from './pyramid.ts';
import { planRegions, splitsExactly } from './regions.ts';
import { inspectSlideImage } from './slide-image.ts';
import { imageOfJob, publishObjects, pyramidSettings, withSource } from './source.ts';
import { pyramidPrefix, recordProgress } from './store.ts';

const Input = z.object({ jobId: z.string().min(1), imageId: z.uuid() });

/** Where the descriptors wait until every tile is published. */
export const STAGED = 'staged/';
const DESCRIPTORS = new Set<string>([PYRAMID_FILES.dzi, PYRAMID_FILES.iiifInfo]);

/** The pyramid files under `outDir` to publish, the descriptors under staged/. */
export async function* stagedObjects(outDir: string): AsyncGenerator<PyramidObject> {
  for await (const o of pyramidObjects(outDir)) yield DESCRIPTORS.has(o.key) ? { ...o, key: `${STAGED}${o.key}` } : o;
}

const next = (diced: { plan: { split: boolean; regions?: readonly unknown[] } }) =>
  diced.plan.split ? ({ step: 'regions', parts: diced.plan.regions!.length } as const) : undefined;

export const handler = stepTask(Input, { step: 'dice', subject: ({ imageId }) => ({ imageId }), next }, async ({ jobId, imageId }) => {
  const image = await imageOfJob(imageId, jobId);
  // a run of this job that got past finish (its outcome lost): nothing to dice, and no regions
  if (image.state === 'ready') {
    const [width, height] = [image.width!, image.height!];
    return { imageId, objects: 0, width, height, format: image.format!, plan: { split: false, width, height } as const };
  }
  const settings = pyramidSettings();
  return withSource(image, async (path, outDir) => {
    const source = await inspectSlideImage(path, image.filename, settings.maxInputPixels);
    const { width, height, format } = source;
    const plan = splitsExactly(source) ? planRegions(width, height, settings.tileSize, settings.maxPixelsPerRegion) : ({ split: false, width, height } as const);
    if (plan.split) {
      logger.info('slide split into regions', { width, height, format, regions: plan.regions.length, splitLevel: plan.splitLevel });
      await recordProgress(imageId, 'dicing', 10);
      return { imageId, objects: 0, width, height, format, plan };
    }
    await dice(path, image.filename, outDir, 'https://iiif.invalid', settings);
    const objects = await publishObjects(pyramidPrefix(imageId), stagedObjects(outDir), (done) => recordProgress(imageId, 'dicing', Math.min(70, 10 + Math.floor(done / 100))));
    await recordProgress(imageId, 'dicing', 70);
    logger.info('slide diced', { objects, width, height, format });
    return { imageId, objects, width, height, format, plan };
  });
});
