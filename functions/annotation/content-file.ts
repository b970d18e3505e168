// The uploaded content as the task functions read it: a video through a presigned URL (ffmpeg and ffprobe read only
// what they need, with range requests), images as a local copy.
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { s3 } from '../lib/aws.ts';
import { config } from '../lib/config.ts';
import { TaskError } from '../lib/errors.ts';

export const contentUrl = (key: string): Promise<string> =>
  getSignedUrl(s3(), new GetObjectCommand({ Bucket: config.mediaBucket(), Key: key }), { expiresIn: 3600 });

/** Copies the object at `key` into `dir`; returns the file's path. */
export async function downloadContent(key: string, dir: string): Promise<string> {
  const file = join(dir, 'content');
  try {
    const out = await s3().send(new GetObjectCommand({ Bucket: config.mediaBucket(), Key: key }));
    await pipeline(out.Body as Readable, createWriteStream(file));
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchKey') throw new TaskError('UploadMissing', `the uploaded content ${key} does not exist (deleted since?)`);
    throw err;
  }
  return file;
}
