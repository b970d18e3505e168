// A source video in Deep Archive (the media bucket's lifecycle moves it there a day after its upload) cannot be read
// until S3 restores a copy of it, which takes hours. A re-run of its ingest asks for the restore and waits, queued
// without a run; it starts when the restore completes: on S3's ObjectRestore:Completed notification, or, if that is
// lost, at the periodic recovery sweep, which also asks again for a restore whose copy expired before its run.
import { HeadObjectCommand, RestoreObjectCommand } from '@aws-sdk/client-s3';
import { s3 } from '../lib/aws.ts';
import { logger } from '../lib/logger.ts';
import type { Job } from '../jobs/job.ts';
import { listJobs, moveJob } from '../jobs/store.ts';
import { startWaitingJob } from '../jobs/workflow.ts';

/** Standard: within 12 hours from Deep Archive (3 to 5 from Glacier); Bulk: within 48 hours (5 to 12), at an eighth of the price. */
export const RESTORE_TIERS = ['Standard', 'Bulk'] as const;
export type RestoreTier = (typeof RESTORE_TIERS)[number];
/** The restored copy is kept this long (billed as STANDARD meanwhile): a re-run reads it within minutes of the restore. */
export const RESTORED_DAYS = 3;

/** Classes whose objects are read only through a restored copy. */
const ARCHIVED_CLASSES = new Set(['GLACIER', 'DEEP_ARCHIVE']);

/** `readable`: a GET reads it; `restoring`: a restore is under way; `archived`: no readable copy and none coming. */
export type SourceState = 'readable' | 'restoring' | 'archived';

/** What S3's HEAD says (`x-amz-storage-class`, `x-amz-restore`) of whether the object can be read now. */
export function sourceState(storageClass: string | undefined, restore: string | undefined): SourceState {
  if (!storageClass || !ARCHIVED_CLASSES.has(storageClass)) return 'readable';
  if (!restore) return 'archived';
  return /ongoing-request="false"/.test(restore) ? 'readable' : 'restoring';
}

/** The source's state, or undefined when there is no such object. */
export async function headSource(bucket: string, key: string): Promise<{ state: SourceState; storageClass: string } | undefined> {
  try {
    const h = await s3().send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { state: sourceState(h.StorageClass, h.Restore), storageClass: h.StorageClass ?? 'STANDARD' };
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return undefined;
    throw err;
  }
}

/** Asks S3 for a readable copy of the archived source; one asked already (RestoreAlreadyInProgress) is waited for. */
export async function requestRestore(bucket: string, key: string, tier: RestoreTier): Promise<void> {
  try {
    await s3().send(new RestoreObjectCommand({ Bucket: bucket, Key: key, RestoreRequest: { Days: RESTORED_DAYS, GlacierJobParameters: { Tier: tier } } }));
    logger.info('restore of the source video requested', { bucket, key, tier, days: RESTORED_DAYS });
  } catch (err) {
    if ((err as { name?: string }).name !== 'RestoreAlreadyInProgress') throw err;
  }
}

const waitingRun = (j: Job): boolean => j.kind === 'video-ingest' && j.state === 'queued' && j.waitsFor === 'source-restore';

/**
 * Starts the video's re-runs that wait for the restore of `key`, once its copy is readable (a notification of an
 * earlier restore whose copy has expired starts nothing). Returns the jobs started.
 */
export async function startRestoredRuns(videoId: string, bucket: string, key: string): Promise<string[]> {
  const waiting = (await listJobs({ videoId, limit: 20 })).jobs.filter((j) => waitingRun(j) && j.input.bucket === bucket && j.input.key === key);
  if (waiting.length === 0) return [];
  const source = await headSource(bucket, key);
  if (source?.state !== 'readable') {
    logger.warn('restore notified but the source video is not readable; its re-run waits on', { key, state: source?.state ?? 'missing' });
    return [];
  }
  const started: string[] = [];
  for (const j of waiting) if (await startWaitingJob(j.jobId)) started.push(j.jobId);
  return started;
}

export interface RestoreSweep {
  readonly waiting: number;
  /** Re-runs started: their source was readable again. */
  readonly started: string[];
  /** Re-runs whose restore was asked again (its copy expired unread, or the restore was never made). */
  readonly restoresAsked: string[];
}

/**
 * Every re-run waiting for a restore: started when its source is readable (the notification was lost), its restore
 * asked again when there is neither a copy nor a restore under way, failed when its source is gone.
 */
export async function sweepWaitingRuns(): Promise<RestoreSweep> {
  const result = { waiting: 0, started: [] as string[], restoresAsked: [] as string[] };
  let cursor: string | undefined;
  do {
    const page = await listJobs({ state: 'queued', kind: 'video-ingest', limit: 100, cursor });
    cursor = page.cursor;
    for (const job of page.jobs.filter(waitingRun)) {
      result.waiting++;
      const { bucket, key } = job.input as { bucket: string; key: string };
      const source = await headSource(bucket, key);
      if (!source) {
        await moveJob(job.jobId, 'failed', { error: { code: 'SourceMissing', message: `the source video ${key} is no longer in storage` } });
        logger.error('re-run failed: its source video is gone', { jobId: job.jobId, videoId: job.videoId, key });
      } else if (source.state === 'readable') {
        if (await startWaitingJob(job.jobId)) {
          result.started.push(job.jobId);
          logger.warn('re-run started by the sweep: its source was restored without a notification taken', { jobId: job.jobId, videoId: job.videoId });
        }
      } else if (source.state === 'archived') {
        await requestRestore(bucket, key, (job.input.restoreTier as RestoreTier | undefined) ?? 'Standard');
        result.restoresAsked.push(job.jobId);
      }
    }
  } while (cursor);
  return result;
}
