// slides-dice-overview (Task of slide-image after the regions' Map): the regions' split-level pixels joined and diced
// into the levels above the split level, with the whole image's descriptors staged as the dice step stages them.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { stepTask } from '../jobs/step-task.ts';
import { logger } from '../lib/logger.ts';
import { SplitPlanInput } from './dice-region-step.ts';
import { stagedObjects } from './dice-step.ts';
import { diceOverview } from './split-pyramid.ts';
import { download, imageOfJob, publishObjects, pyramidSettings, splitLevelKey } from './source.ts';
import { pyramidPrefix, recordProgress } from './store.ts';

const Input = z.object({
  jobId: z.string().min(1),
  imageId: z.uuid(),
  diced: z.object({ width: z.number().int(), height: z.number().int(), format: z.string(), plan: SplitPlanInput }),
});

export const handler = stepTask(Input, { step: 'regions', subject: ({ imageId }) => ({ imageId }) }, async ({ jobId, imageId, diced }) => {
  const image = await imageOfJob(imageId, jobId);
  const { plan } = diced;
  const dir = await mkdtemp(join(tmpdir(), 'slide-overview-'));
  try {
    const files = plan.regions.map((r) => join(dir, `${r.index}.v`));
    for (const r of plan.regions) await download(splitLevelKey(imageId, r.index), files[r.index]!, `region ${r.index}'s split level of image ${imageId}`);
    const outDir = join(dir, 'out');
    await mkdir(outDir);
    await diceOverview(files, image.filename, outDir, 'https://iiif.invalid', plan, pyramidSettings());
    const objects = await publishObjects(pyramidPrefix(imageId), stagedObjects(outDir));
    await recordProgress(imageId, 'dicing', 70);
    logger.info('slide overview diced', { objects, regions: plan.regions.length, splitLevel: plan.splitLevel });
    return { imageId, objects, width: diced.width, height: diced.height, format: diced.format };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
