// slides-pyramid (Task of slide-image): every tile is in place, so the descriptors are published (image.dzi,
// iiif/info.json) and the image gets its size and levels.
import { CopyObjectCommand } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { stepTask } from '../jobs/step-task.ts';
import { s3 } from '../lib/aws.ts';
import { config } from '../lib/config.ts';
import { TaskError } from '../lib/errors.ts';
import { STAGED } from './dice-step.ts';
import { contentTypeOf, DEFAULT_PYRAMID_SETTINGS, deepZoomLevels, PYRAMID_FILES } from './pyramid.ts';
import { imageOfJob } from './source.ts';
import { pyramidPrefix, recordLevels } from './store.ts';

const Input = z.object({ jobId: z.string().min(1), imageId: z.uuid(), diced: z.object({ width: z.number().int(), height: z.number().int() }) });

// after: an image diced in one pass passes the regions step (it is done, with nothing to do); a split one finished it already
export const handler = stepTask(Input, { step: 'pyramid', after: 'regions', subject: ({ imageId }) => ({ imageId }) }, async ({ jobId, imageId, diced }) => {
  const image = await imageOfJob(imageId, jobId);
  if (image.state === 'ready') return { imageId, levels: image.levels! };
  const prefix = pyramidPrefix(imageId);
  for (const file of [PYRAMID_FILES.dzi, PYRAMID_FILES.iiifInfo]) {
    try {
      await s3().send(
        new CopyObjectCommand({
          Bucket: config.mediaBucket(), CopySource: `${config.mediaBucket()}/${prefix}${STAGED}${file}`, Key: `${prefix}${file}`,
          ContentType: contentTypeOf(file), MetadataDirective: 'REPLACE',
        }),
      );
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchKey') throw new TaskError('SourceMissing', `the diced ${file} of image ${imageId} is gone; dice again`);
      throw err;
    }
  }
  const levels = deepZoomLevels(diced.width, diced.height);
  await recordLevels(imageId, jobId, { width: diced.width, height: diced.height, levels, tileSize: DEFAULT_PYRAMID_SETTINGS.tileSize });
  return { imageId, levels };
});
