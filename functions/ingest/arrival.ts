// A video's uploaded object becomes its ingest job, whichever way its arrival is found: S3's notification, a
// request to ingest a video still shown as uploading, or the periodic recovery sweep. Every way names the job by
// the object (key, ETag, Last-Modified as a HEAD reports them), so the same object starts one job, never two.
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { s3 } from '../lib/aws.ts';
import { logger } from '../lib/logger.ts';
import { query } from '../lib/pg.ts';
import { ingestJobId, type Job } from '../jobs/job.ts';
import { getJob } from '../jobs/store.ts';
import { createAndStartJob } from '../jobs/workflow.ts';
import { markUploaded } from '../catalog/video-lifecycle.ts';

export interface StoredObject {
  readonly bucket: string;
  readonly key: string;
  readonly etag: string;
  readonly size: number;
  readonly lastModified: string;
}

/** The object as S3 has it now; undefined when there is none. */
export async function headObject(bucket: string, key: string): Promise<StoredObject | undefined> {
  try {
    const h = await s3().send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { bucket, key, etag: (h.ETag ?? '').replace(/"/g, ''), size: h.ContentLength ?? 0, lastModified: h.LastModified?.toISOString() ?? '' };
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return undefined;
    throw err;
  }
}

export const arrivalJobId = (videoId: string, o: StoredObject): string => ingestJobId(videoId, o.key, o.etag, o.lastModified);

export type Arrival =
  | { readonly outcome: 'started'; readonly job: Job }
  /** This object's job exists already (started by another way, or for an earlier upload of the same object). */
  | { readonly outcome: 'known'; readonly job: Job }
  /** The object's size is not what the upload declared: it is not ingested. */
  | { readonly outcome: 'size-mismatch'; readonly declaredBytes: number | null };

async function declaredSize(videoId: string): Promise<number | null | undefined> {
  const rows = await query<{ size_bytes: string | null }>('SELECT size_bytes FROM video WHERE id = $1', [videoId]);
  return rows[0] ? (rows[0].size_bytes === null ? null : Number(rows[0].size_bytes)) : undefined;
}

/**
 * Starts the ingest of `object` as the video's upload, unless its job exists already. The video is marked uploaded
 * just before the run starts. An object whose size differs from the declared size is refused (presigned URLs sign
 * each length, so only a writer outside the upload flow can make one).
 */
export async function startIngestOf(videoId: string, object: StoredObject): Promise<Arrival> {
  const jobId = arrivalJobId(videoId, object);
  const known = await getJob(jobId);
  if (known?.executionArn) return { outcome: 'known', job: known };
  const declared = await declaredSize(videoId);
  if (declared !== null && declared !== undefined && declared !== object.size) {
    logger.error('uploaded object does not have the declared size; not ingested', { videoId, key: object.key, size: object.size, declaredBytes: declared });
    return { outcome: 'size-mismatch', declaredBytes: declared };
  }
  const { job, started } = await createAndStartJob(
    { jobId, kind: 'video-ingest', videoId, input: { bucket: object.bucket, key: object.key } },
    () => markUploaded(videoId, object.key, object.size),
  );
  return started ? { outcome: 'started', job } : { outcome: 'known', job };
}
