// A slide image's pyramid: started as a job of the slide-image workflow once its upload is complete (or the
// reconciler found it), and served by short-lived redirects to the objects under slides/{imageId}/.
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { slideImageJobId } from '../jobs/job.ts';
import { createAndStartJob } from '../jobs/workflow.ts';
import { s3 } from '../lib/aws.ts';
import { config } from '../lib/config.ts';
import { AppError } from '../lib/errors.ts';
import { logger } from '../lib/logger.ts';
import { fileUrl } from './file-url.ts';
import { PYRAMID_FILES, rebaseIiifInfo, type IiifInfo } from './pyramid.ts';
import { moveImage, pyramidPrefix, requireImage, type ImageState, type SlideImageRecord } from './store.ts';

/** The run after the image's last job (`slide-{id}-{n}`): 1 for its first. Pure. */
export const nextRun = (image: Pick<SlideImageRecord, 'jobId'>): number => Number(/-(\d+)$/.exec(image.jobId ?? '')?.[1] ?? 0) + 1;

/**
 * Moves the image from `from` to dicing under a new job, then starts the job: a process that dies in between leaves
 * an image dicing under a job that does not exist, which the reconciler starts.
 */
export async function startPyramid(image: SlideImageRecord, from: ImageState, fields: { md5?: string; verified?: true } = {}): Promise<SlideImageRecord | undefined> {
  const jobId = slideImageJobId(image.id, nextRun(image));
  const dicing = await moveImage(image.id, from, 'dicing', { jobId, progress: 10, error: null, uploadId: null, ...fields });
  if (!dicing) return undefined;
  await startImageJob(dicing);
  return dicing;
}

export async function startImageJob(image: SlideImageRecord): Promise<void> {
  await createAndStartJob({ jobId: image.jobId!, kind: 'slide-image', input: { imageId: image.id } });
  logger.info('slide pyramid started', { imageId: image.id, jobId: image.jobId });
}

/** What a viewer may ask for, as keys under the image's folder. */
export const imageFile = {
  dzi: PYRAMID_FILES.dzi,
  thumbnail: PYRAMID_FILES.thumbnail,
  preview: PYRAMID_FILES.preview,
  deepZoomTile: (level: number, tile: string) => `${PYRAMID_FILES.dziTiles}/${level}/${tile}`,
  iiif: (region: string, size: string, rotation: string, quality: string) => `iiif/${region}/${size}/${rotation}/${quality}`,
} as const;

async function readyImage(id: string): Promise<SlideImageRecord> {
  const image = await requireImage(id);
  if (image.state !== 'ready') {
    throw new AppError(409, 'ImageNotReady', `image ${id} is ${image.state}; its pyramid is served once it is ready`, { state: image.state, progress: image.progress });
  }
  return image;
}

/** A short-lived URL of one of a ready image's files (file-url.ts: CloudFront signed in AWS, presigned S3 locally). */
export async function imageFileUrl(id: string, file: string): Promise<{ url: string; expiresIn: number }> {
  await readyImage(id);
  return fileUrl(`${pyramidPrefix(id)}${file}`);
}

/** The image's IIIF info.json with its id at `serviceUrl`, where this API serves its tiles. */
export async function iiifInfo(id: string, serviceUrl: string): Promise<IiifInfo> {
  await readyImage(id);
  const out = await s3().send(new GetObjectCommand({ Bucket: config.mediaBucket(), Key: `${pyramidPrefix(id)}${PYRAMID_FILES.iiifInfo}` }));
  return rebaseIiifInfo(JSON.parse(await out.Body!.transformToString()) as IiifInfo, serviceUrl);
}
