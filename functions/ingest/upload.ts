// ingest-upload: an S3 notification of an uploaded video becomes a queued job and a video-ingest run; one of a
// restored video starts the re-run that waited for it (restore.ts).
import type { S3Event, SQSRecord } from 'aws-lambda';
import { logger } from '../lib/logger.ts';
import { sqsHandler } from '../lib/sqs.ts';
import { arrivalJobId, headObject, startIngestOf } from './arrival.ts';
import { videoIdFromKey } from '../catalog/video-lifecycle.ts';
import { videoExists } from './videos.ts';
import { startRestoredRuns } from './restore.ts';

const decodeKey = (key: string): string => decodeURIComponent(key.replace(/\+/g, ' '));

async function handleRecord(record: SQSRecord): Promise<void> {
  const event = JSON.parse(record.body) as S3Event & { Event?: string };
  if (event.Event === 's3:TestEvent') return; // S3 sends one when notifications are configured
  for (const r of event.Records ?? []) {
    const key = decodeKey(r.s3.object.key);
    const videoId = videoIdFromKey(key);
    if (!videoId) {
      logger.warn('object under videos/ is not a video upload; ignored', { key });
      continue;
    }
    logger.appendKeys({ videoId });
    if (r.eventName.startsWith('ObjectRestore:')) {
      const started = await startRestoredRuns(videoId, r.s3.bucket.name, key);
      if (started.length > 0) logger.info('video re-run started: its source was restored', { jobIds: started });
      else logger.info('restore completed with no re-run waiting for it; dropped', { key, eventName: r.eventName });
      continue;
    }
    // An object for a video the catalog does not know fails the record: after 3 receives it rests in the DLQ.
    if (!(await videoExists(videoId))) throw new Error(`no video ${videoId} for uploaded object ${key}`);
    // The job is named by the object as it is now (as the recovery paths name it); a notification of an object
    // since replaced or removed has nothing left to ingest: the newer object has its own.
    const object = await headObject(r.s3.bucket.name, key);
    if (!object || object.etag !== (r.s3.object.eTag ?? '').replace(/"/g, '')) {
      logger.warn('notified object is no longer in storage as notified; ignored', { key, eTag: r.s3.object.eTag });
      continue;
    }
    logger.appendKeys({ jobId: arrivalJobId(videoId, object) });
    // A redelivered notification finds its run started; the video is marked uploaded only before the start.
    const arrival = await startIngestOf(videoId, object);
    if (arrival.outcome === 'started') logger.info('video ingest started', { jobId: arrival.job.jobId, executionArn: arrival.job.executionArn });
  }
}

export const handler = sqsHandler(handleRecord);
