// What every step of the slide-image workflow starts from: its image, dicing under this job, and the source
// bytes on local disk (Lambda's ephemeral storage), removed when the step is done.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { s3 } from '../lib/aws.ts';
import { config } from '../lib/config.ts';
import { TaskError } from '../lib/errors.ts';
import { requireImage, type SlideImageRecord } from './store.ts';
import type { PyramidObject } from './pyramid.ts';

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

/** Runs `work` with the image's source at a local path and an empty output folder beside it; both removed after. */
export async function withSource<T>(image: SlideImageRecord, work: (path: string, outDir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'slide-'));
  try {
    const path = join(dir, 'source');
    let out;
    try {
      out = await s3().send(new GetObjectCommand({ Bucket: config.mediaBucket(), Key: image.s3Key }));
    } catch (err) {
      if ((err as { name?: string }).name === 'NoSuchKey') throw new TaskError('SourceMissing', `the source of image ${image.id} (${image.s3Key}) is gone`);
      throw err;
    }
    await pipeline(out.Body as Readable, createWriteStream(path));
    await mkdir(join(dir, 'out'));
    return await work(path, join(dir, 'out'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
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
