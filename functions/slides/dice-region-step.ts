// slides-dice-region (Task in slide-image's Map, one per region of an image over the region threshold): the region's
// read rectangle decoded from the source, its tiles from full size down to the split level uploaded under
// slides/{imageId}/ with their whole-image names, its split-level pixels under slides/work/ for the overview.
import { rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { partTask } from '../jobs/step-task.ts';
import { logger } from '../lib/logger.ts';
import { pyramidObjects } from './pyramid.ts';
import type { SplitPlan } from './regions.ts';
import { diceRegion, readRegion } from './split-pyramid.ts';
import { imageOfJob, publishObjects, pyramidSettings, regionsDone, splitLevelKey, withSource } from './source.ts';
import { pyramidPrefix, recordProgress } from './store.ts';

const whole = z.number().int().nonnegative();
const Rect = z.object({ x: whole, y: whole, width: whole.positive(), height: whole.positive() });
export const Region = Rect.extend({ index: whole, read: Rect });
/** A region plan as the dice step answered it (regions.ts). */
export const SplitPlanInput = z.object({
  split: z.literal(true),
  width: whole.positive(),
  height: whole.positive(),
  tileSize: whole.positive(),
  splitLevel: whole,
  shrinks: whole.positive(),
  regions: z.array(Region).min(2),
}) satisfies z.ZodType<SplitPlan>;

const Input = z.object({ jobId: z.string().min(1), imageId: z.uuid(), plan: SplitPlanInput, region: Region });

export const handler = partTask(
  Input,
  {
    step: 'regions',
    part: ({ region }) => String(region.index),
    subject: ({ imageId, region }) => ({ imageId, region: region.index }),
    done: ({ imageId, region }) => ({ imageId, region: region.index, objects: 0 }),
  },
  async ({ jobId, imageId, plan, region }) => {
    const image = await imageOfJob(imageId, jobId);
    const settings = pyramidSettings();
    return withSource(image, async (path, outDir) => {
      const work = dirname(outDir);
      const regionFile = join(work, 'region.v');
      const splitFile = join(work, 'split-level.v');
      await readRegion(path, image.filename, region, regionFile, settings);
      await rm(path);
      await diceRegion(regionFile, image.filename, outDir, splitFile, plan, region, settings);
      await rm(regionFile);
      const objects = await publishObjects(pyramidPrefix(imageId), pyramidObjects(outDir));
      await publishObjects('', split(splitLevelKey(imageId, region.index), splitFile));
      // dicing runs from 10 to 70 %: the regions' share as they finish, in any order
      await recordProgress(imageId, 'dicing', Math.min(70, 10 + Math.floor((60 * (await regionsDone(imageId))) / plan.regions.length)));
      logger.info('slide region diced', { region: region.index, objects });
      return { imageId, region: region.index, objects };
    });
  },
);

async function* split(key: string, file: string) {
  yield { key, file, bytes: (await stat(file)).size, contentType: 'application/octet-stream' };
}
