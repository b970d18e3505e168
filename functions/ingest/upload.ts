// ingest-upload: an S3 notification of an uploaded video becomes a queued job and a video-ingest run.
import type { S3Event, SQSRecord } from 'aws-lambda';
import { logger } from '../lib/logger.ts';
import { sqsHandler } from '../lib/sqs.ts';
import { ingestJobId } from '../jobs/job.ts';
import { createAndStartJob } from '../jobs/workflow.ts';
import { markUploaded, videoExists, videoIdFromKey } from './videos.ts';

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
    // An object for a video the catalog does not know fails the record: after 3 receives it rests in the DLQ.
    if (!(await videoExists(videoId))) throw new Error(`no video ${videoId} for uploaded object ${key}`);
    const jobId = ingestJobId(videoId, key, r.s3.object.eTag ?? '', r.s3.object.sequencer ?? '');
    logger.appendKeys({ jobId });
    // A redelivered notification finds its run started; the video is marked uploaded only before the start.
    const { job, started } = await createAndStartJob({ jobId, kind: 'video-ingest', videoId, input: { bucket: r.s3.bucket.name, key } }, () =>
      markUploaded(videoId, key, r.s3.object.size ?? 0),
    );
    if (started) logger.info('video ingest started', { executionArn: job.executionArn });
  }
}

export const handler = sqsHandler(handleRecord);
