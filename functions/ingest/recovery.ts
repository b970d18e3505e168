// Uploads whose object is in storage but whose arrival was never taken (S3's notification lost, or failed for
// good): a request to ingest such a video, and the periodic sweep, find the object and start its job.
import { config } from '../lib/config.ts';
import { AppError, conflict } from '../lib/errors.ts';
import { logger } from '../lib/logger.ts';
import { query } from '../lib/pg.ts';
import type { Job } from '../jobs/job.ts';
import { headObject, startIngestOf } from './arrival.ts';
import type { VideoState } from '../catalog/video-lifecycle.ts';

/** The job of a video still shown as uploading whose object is in storage; a 409 when there is nothing to ingest. */
export async function recoverUpload(video: Pick<VideoState, 'id' | 'status' | 's3Key'>): Promise<Job> {
  const object = video.s3Key ? await headObject(config.mediaBucket(), video.s3Key) : undefined;
  if (!object) throw conflict(`video ${video.id} has not been uploaded`, { status: video.status });
  const arrival = await startIngestOf(video.id, object);
  if (arrival.outcome === 'started') return arrival.job;
  if (arrival.outcome === 'size-mismatch') {
    throw new AppError(409, 'SizeMismatch', `the object in storage has ${object.size} bytes; the upload declared ${arrival.declaredBytes}`, {
      sizeBytes: object.size, declaredBytes: arrival.declaredBytes,
    });
  }
  // the object is an earlier upload's, already ingested by its own job: the new upload has not arrived
  throw conflict(`video ${video.id} has not been uploaded: the object in storage is an earlier upload's (job ${arrival.job.jobId})`, {
    status: video.status, jobId: arrival.job.jobId,
  });
}

export interface SweepResult {
  readonly checked: number;
  readonly started: string[];
}

/** Uploads older than this are left to S3's notification first. */
export const DEFAULT_GRACE_SECONDS = 120;
/** Videos looked at per sweep, newest change first; uploads abandoned longer than a week ago are not. */
const SWEEP_LIMIT = 200;

/**
 * Finds videos uploading or uploaded (unchanged for `graceSeconds`) whose object is in storage without a started
 * job, and starts it. Idempotent: the job is named by the object, as S3's notification names it.
 */
export async function sweepUploads(opts: { graceSeconds: number }): Promise<SweepResult> {
  const rows = await query<{ id: string; status: string; s3_key: string }>(
    `SELECT id, status, s3_key FROM video
      WHERE status IN ('uploading', 'uploaded') AND s3_key IS NOT NULL
        AND updated_at < now() - make_interval(secs => $1) AND updated_at > now() - interval '7 days'
      ORDER BY updated_at DESC LIMIT $2`,
    [opts.graceSeconds, SWEEP_LIMIT],
  );
  const started: string[] = [];
  for (const row of rows) {
    const object = await headObject(config.mediaBucket(), row.s3_key);
    if (!object) continue;
    const arrival = await startIngestOf(row.id, object);
    if (arrival.outcome === 'started') {
      started.push(arrival.job.jobId);
      logger.warn('upload recovered: its object had no job', { videoId: row.id, jobId: arrival.job.jobId, status: row.status });
    }
  }
  logger.info('swept uploads', { checked: rows.length, started });
  return { checked: rows.length, started };
}
