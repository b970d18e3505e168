// slides-sync (every 5 minutes): reconciles the slide store with S3 and the jobs. Objects copied under slides/inbox/
// that no image has are registered (session `inbox`) and diced; images dicing under a job that never started, or
// whose job ended without telling the image, are restarted or failed; uploads open longer than the configured age
// are aborted; ready images whose pyramid is gone are missing. Every change is a conditional write (an insert that
// does nothing on conflict, an update from the state it leaves), so two runs at once change no more than one.
import { randomUUID } from 'node:crypto';
import { basename } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { slideImageJobId } from '../jobs/job.ts';
import { getJob } from '../jobs/store.ts';
import { mediaObjectExists, s3 } from '../lib/aws.ts';
import { config } from '../lib/config.ts';
import { logger } from '../lib/logger.ts';
import { taskHandler } from '../lib/task.ts';
import { startImageJob } from './images.ts';
import { PYRAMID_FILES } from './pyramid.ts';
import { abortMultipart } from './uploads.ts';
import {
  createImage, ensureSession, failImage, imagesIn, INBOX_SESSION, knownKeys, markChecked, moveImage, pyramidPrefix, readyToCheck, requireImage, type SlideImageRecord,
} from './store.ts';

export const INBOX_PREFIX = 'slides/inbox/';

export interface SyncOptions {
  /** An image dicing this long without its job moving is looked at. */
  readonly graceSeconds: number;
  /** An upload open this long is abandoned. */
  readonly uploadMaxAgeSeconds: number;
}

export interface SyncReport {
  registered: string[];
  restarted: string[];
  failed: string[];
  aborted: string[];
  missing: string[];
}

export async function syncSlides(options: SyncOptions): Promise<SyncReport> {
  const report: SyncReport = { registered: [], restarted: [], failed: [], aborted: [], missing: [] };
  await registerInbox(report);
  await reconcileDicing(options.graceSeconds, report);
  await abortAbandonedUploads(options.uploadMaxAgeSeconds, report);
  await markMissing(report);
  logger.info('slides synced', { ...Object.fromEntries(Object.entries(report).map(([k, v]) => [k, v.length])) });
  return report;
}

async function registerInbox(report: SyncReport): Promise<void> {
  let token: string | undefined;
  do {
    const page = await s3().send(new ListObjectsV2Command({ Bucket: config.mediaBucket(), Prefix: INBOX_PREFIX, ContinuationToken: token }));
    const objects = (page.Contents ?? []).filter((o) => o.Key && !o.Key.endsWith('/') && (o.Size ?? 0) > 0);
    const known = await knownKeys(objects.map((o) => o.Key!));
    for (const o of objects.filter((x) => !known.has(x.Key!))) {
      const session = await ensureSession(INBOX_SESSION);
      const id = randomUUID();
      // straight into dicing under its job: a run that dies before starting the job leaves it to reconcileDicing
      const jobId = slideImageJobId(id, 1);
      const created = await createImage({ id, sessionId: session.id, filename: basename(o.Key!), sizeBytes: o.Size!, s3Key: o.Key!, jobId }, 'dicing');
      // another run registered it first: that run dices it
      if (!created) continue;
      await startImageJob(await requireImage(id));
      report.registered.push(id);
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

async function reconcileDicing(graceSeconds: number, report: SyncReport): Promise<void> {
  for (const image of await imagesIn('dicing', graceSeconds)) {
    const job = image.jobId ? await getJob(image.jobId) : undefined;
    if (!job) {
      // moved to dicing by a process that died before it started the job
      await startImageJob(image);
      report.restarted.push(image.id);
    } else if (job.state === 'failed' || job.state === 'succeeded') {
      // the job ended, and the image never heard: its failure path did not run, or finishing did not record
      const error = job.error ?? { code: 'NoOutcome', message: `job ${job.jobId} ${job.state} without the image being ${job.state === 'succeeded' ? 'ready' : 'failed'}` };
      if (await failImage(image.id, job.jobId, error)) report.failed.push(image.id);
    }
    // a job still queued or working is the jobs sweeper's: it resumes runs that ended without an outcome
  }
}

async function abortAbandonedUploads(maxAgeSeconds: number, report: SyncReport): Promise<void> {
  for (const image of await imagesIn('uploading', maxAgeSeconds)) {
    const failed = await moveImage(image.id, 'uploading', 'failed', {
      error: { code: 'UploadAbandoned', message: `the upload was not completed within ${maxAgeSeconds} s` },
      uploadId: null,
    });
    // only the run that moved it aborts the upload (the row keeps no upload id afterwards)
    if (!failed) continue;
    await abortMultipart(image);
    report.aborted.push(image.id);
  }
}

/** Ready images looked at per run (two HEADs each), the longest unchecked first: a large store is covered over runs. */
const CHECKS_PER_RUN = 2000;

async function markMissing(report: SyncReport): Promise<void> {
  const complete: string[] = [];
  for (const image of await readyToCheck(CHECKS_PER_RUN)) {
    if (await isComplete(image)) {
      complete.push(image.id);
      continue;
    }
    const moved = await moveImage(image.id, 'ready', 'missing', { error: { code: 'ObjectsMissing', message: 'the image\'s pyramid or source is gone from S3' } });
    if (moved) report.missing.push(image.id);
  }
  await markChecked(complete);
}

const isComplete = async (image: SlideImageRecord): Promise<boolean> =>
  (await mediaObjectExists(`${pyramidPrefix(image.id)}${PYRAMID_FILES.dzi}`)) && (await mediaObjectExists(image.s3Key));

const Input = z.object({ graceSeconds: z.number().int().min(0).default(600), uploadMaxAgeSeconds: z.number().int().min(60).default(7 * 86_400) });

export const handler = taskHandler(Input, (input) => syncSlides(input));
