// What every step of the slide-image workflow starts from: its image, dicing under this job, and the source
// bytes on local disk (Lambda's ephemeral storage), removed when the step is done.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { s3 } from '../lib/aws.ts';
import { config } from '../lib/config.ts';
import { TaskError } from '../lib/errors.ts';
import { checksumMismatch, digester, type HeldObject } from './checksum.ts';
import { recordVerified, requireImage, type SlideImageRecord } from './store.ts';
import { DEFAULT_PYRAMID_SETTINGS, type PyramidObject, type PyramidSettings } from './pyramid.ts';

/** The pyramid's settings, with the region threshold the deployment sets. */
export const pyramidSettings = (): PyramidSettings => ({
  ...DEFAULT_PYRAMID_SETTINGS,
  maxPixelsPerRegion: config.slideMaxPixelsPerRegion() ?? DEFAULT_PYRAMID_SETTINGS.maxPixelsPerRegion,
});

/** Where a region's split-level pixels wait for the overview (expired by the bucket's lifecycle, not read after). */
export const splitLevelKey = (imageId: string, region: number): string => `slides/work/${imageId}/${region}.v`;

/** How many regions of the image have left their split-level pixels for the overview: its regions done. */
export async function regionsDone(imageId: string): Promise<number> {
  const page = await s3().send(new ListObjectsV2Command({ Bucket: config.mediaBucket(), Prefix: `slides/work/${imageId}/` }));
  return page.KeyCount ?? 0;
}

/**
 * The image a step of this job works on: dicing under it, or ready under it when a run of this job got that far and
 * died before the job's outcome was recorded (the resumed run passes through every step again, with nothing to do).
 */
export async function imageOfJob(imageId: string, jobId: string): Promise<SlideImageRecord> {
  const image = await requireImage(imageId);
  if (image.jobId !== jobId || (image.state !== 'dicing' && image.state !== 'ready')) {
    throw new TaskError('StaleImage', `image ${imageId} is ${image.state} under job ${image.jobId ?? 'none'}, not dicing under ${jobId}`);
  }
  return image;
}

/**
 * Runs `work` with the image's source at a local path and an empty output folder beside it; both removed after. An
 * image whose upload was too large for complete to check is checked here, as it is downloaded, before any work.
 */
export async function withSource<T>(image: SlideImageRecord, work: (path: string, outDir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'slide-'));
  try {
    const path = join(dir, 'source');
    const held = await download(image.s3Key, path, `the source of image ${image.id}`, { digest: !image.verified });
    if (!image.verified) await verify(image, held!);
    await mkdir(join(dir, 'out'));
    return await work(path, join(dir, 'out'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function verify(image: SlideImageRecord, held: HeldObject): Promise<void> {
  const mismatch = checksumMismatch(image, held);
  if (mismatch) throw new TaskError(mismatch.code, `${mismatch.message}; the image is not processed`);
  await recordVerified(image.id, image.jobId!, held.md5);
}

/**
 * The object at `key` into the local file `to`; `what` names it when it is gone. With `digest`, its size, sha256 and
 * md5 as it passed.
 */
export async function download(key: string, to: string, what: string, options: { digest?: boolean } = {}): Promise<HeldObject | undefined> {
  let out;
  try {
    out = await s3().send(new GetObjectCommand({ Bucket: config.mediaBucket(), Key: key }));
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchKey') throw new TaskError('SourceMissing', `${what} (${key}) is gone`);
    throw err;
  }
  if (!options.digest) {
    await pipeline(out.Body as Readable, createWriteStream(to));
    return undefined;
  }
  const digest = digester();
  await pipeline(digest.tap(out.Body as Readable), createWriteStream(to));
  return digest.held();
}

/** Uploads the objects under `prefix`, `atOnce` at a time; `onProgress` hears how many are up. */
export async function publishObjects(prefix: string, objects: AsyncIterable<PyramidObject>, onProgress?: (done: number) => Promise<void>, atOnce = 16): Promise<number> {
  const inFlight = new Set<Promise<void>>();
  let done = 0;
  for await (const o of objects) {
    const put = s3()
      .send(new PutObjectCommand({ Bucket: config.mediaBucket(), Key: `${prefix}${o.key}`, Body: createReadStream(o.file), ContentLength: o.bytes, ContentType: o.contentType }))
      .then(async () => {
        done += 1;
        if (onProgress && done % 200 === 0) await onProgress(done);
      });
    inFlight.add(put);
    void put.finally(() => inFlight.delete(put)).catch(() => undefined);
    if (inFlight.size >= atOnce) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return done;
}
