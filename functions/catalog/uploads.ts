// A video's uploads: its source (the arrival of the object starts the ingest) and its detector's localizations,
// presigned by key as every upload is (lib/presigned-upload.ts), recorded on the video through its lifecycle.
import { conflict, notFound } from '../lib/errors.ts';
import { abandon, completeMultipart, noSuchUpload, presignPlan, resumePlan, type UploadPlan } from '../lib/presigned-upload.ts';
import { stores } from './stores.ts';
import { localizationsKey, recordLocalizationsUpload, recordUploadStart, UPLOADABLE_STATUSES, videoSourceKey } from './video-lifecycle.ts';
import type { Row } from './repository.ts';

async function loadUploadable(videoId: string): Promise<Row> {
  const video = await stores.videos.get(videoId);
  if (!video) throw notFound('video', videoId);
  if (!(UPLOADABLE_STATUSES as readonly string[]).includes(video.status as string)) {
    throw conflict(`video ${videoId} is ${String(video.status)}: its upload is finished`, { status: video.status });
  }
  return video;
}

/**
 * The open multipart upload of a video's source again, with fresh part URLs and the parts S3 already holds: for a
 * client that resumes after an interruption, or whose URLs expired.
 */
export async function resumeUpload(videoId: string, input: { uploadId: string }): Promise<UploadPlan> {
  const video = await loadUploadable(videoId);
  const key = videoSourceKey(videoId);
  if (video.status !== 'uploading' || video.s3Key !== key) throw noSuchUpload(key, input.uploadId);
  return resumePlan(key, Number(video.sizeBytes), input.uploadId);
}

export async function startUpload(
  videoId: string,
  input: { filename: string; contentType: string; sizeBytes: number; frameRate?: number; threshold?: number },
): Promise<UploadPlan> {
  await loadUploadable(videoId);
  const plan = await presignPlan(videoSourceKey(videoId), input.contentType, input.sizeBytes);
  // Record the upload only if the video is still uploadable (it may have moved on meanwhile).
  const updated = await recordUploadStart(videoId, input);
  if (!updated) {
    await abandon(plan);
    await loadUploadable(videoId); // throws the 404 / 409 that now applies
    throw conflict(`video ${videoId} changed during the request; try again`);
  }
  return plan;
}

/**
 * The detector's localizations (and its label map) for a video. Upload them before the video: the video's
 * arrival starts the ingest, which reads them. Replacing them later takes effect at the next ingest.
 */
export async function startLocalizationsUpload(
  videoId: string,
  input: { sizeBytes: number; labelMapping?: Record<string, string> },
): Promise<UploadPlan> {
  if (!(await stores.videos.get(videoId))) throw notFound('video', videoId);
  const plan = await presignPlan(localizationsKey(videoId), 'application/json', input.sizeBytes);
  await recordLocalizationsUpload(videoId, input.labelMapping);
  return plan;
}

/** Completes a multipart upload begun by startUpload; S3 then announces the object and ingest begins. */
export async function completeUpload(
  videoId: string,
  input: { uploadId: string; parts: readonly { partNumber: number; etag: string }[] },
): Promise<Row> {
  const video = await stores.videos.get(videoId);
  if (!video) throw notFound('video', videoId);
  if (video.status !== 'uploading' || !video.s3Key) {
    throw conflict(`video ${videoId} has no upload in progress (status ${String(video.status)})`, { status: video.status });
  }
  await completeMultipart(video.s3Key as string, Number(video.sizeBytes), input);
  return (await stores.videos.get(videoId))!;
}

export async function completeLocalizationsUpload(
  videoId: string,
  input: { uploadId: string; parts: readonly { partNumber: number; etag: string }[] },
): Promise<Row> {
  const video = await stores.videos.get(videoId);
  if (!video) throw notFound('video', videoId);
  if (!video.localizationsKey) throw conflict(`video ${videoId} has no localizations upload in progress`);
  await completeMultipart(video.localizationsKey as string, undefined, input);
  return video;
}
