// What annotation-api does with uploads and processContent requests: content goes straight to S3 through the
// catalog's presigned single or multipart upload (by key), and a request for an upload whose content is whole is
// checked (frame rate against the video's, by ffprobe over a presigned URL: cheap, it reads only the headers)
// before its job starts, so that bad input is a 4xx and changes nothing.
import { randomUUID } from 'node:crypto';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { completeMultipart, presignPlan, resumePlan, type UploadPlan } from '../lib/presigned-upload.ts';
import { probeVideo } from '../ingest/ffprobe.ts';
import { headObject } from '../ingest/arrival.ts';
import { NotAVideoError } from '../ingest/probe-result.ts';
import { annotationContentJobId } from '../jobs/job.ts';
import { getJob } from '../jobs/store.ts';
import { createAndStartJob } from '../jobs/workflow.ts';
import { s3 } from '../lib/aws.ts';
import { config } from '../lib/config.ts';
import { AppError, conflict } from '../lib/errors.ts';
import { logger } from '../lib/logger.ts';
import { assertFrameRate, assertRequestAllowed, type ProcessContentInput } from './content.ts';
import {
  beginRequest,
  contentKey,
  countTasks,
  createUpload,
  markUploaded,
  recordProbe,
  requireProject,
  requireUpload,
  type AnnotationContentUpload,
  type AnnotationTask,
  type ContentProbe,
  type ContentType,
} from './store.ts';

const MIME: Readonly<Record<string, string>> = {
  mp4: 'video/mp4', mov: 'video/quicktime', mkv: 'video/x-matroska', webm: 'video/webm', avi: 'video/x-msvideo',
  zip: 'application/zip', jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png',
};
const mimeOf = (fileName: string): string => MIME[fileName.split('.').pop()?.toLowerCase() ?? ''] ?? 'application/octet-stream';

export async function startContentUpload(
  projectId: string,
  input: { fileName: string; sizeBytes: number; contentType: ContentType },
): Promise<{ upload: AnnotationContentUpload; plan: UploadPlan }> {
  await requireProject(projectId);
  const uploadId = randomUUID();
  const plan = await presignPlan(contentKey(uploadId, input.fileName), mimeOf(input.fileName), input.sizeBytes);
  const upload = await createUpload({ ...input, projectId, uploadId, ...(plan.method === 'multipart' && { multipartUploadId: plan.uploadId }) });
  return { upload, plan };
}

export async function resumeContentUpload(uploadId: string, input: { uploadId: string }): Promise<UploadPlan> {
  const upload = await requireUpload(uploadId);
  if (upload.uploadState !== 'uploading') throw conflict(`the content of upload ${uploadId} is uploaded already`);
  assertMultipart(upload, input.uploadId);
  return resumePlan(upload.key, upload.sizeBytes, input.uploadId);
}

/**
 * The content is whole: a multipart upload is completed (its parts must add up to the declared size); a single PUT
 * is checked in storage. Completing an upload already complete answers it as it is.
 */
export async function completeContentUpload(
  uploadId: string,
  input: { uploadId?: string; parts?: readonly { partNumber: number; etag: string }[] },
): Promise<AnnotationContentUpload> {
  const upload = await requireUpload(uploadId);
  if (upload.uploadState === 'uploaded') return upload;
  if (upload.multipartUploadId) {
    if (!input.uploadId || !input.parts) throw new AppError(400, 'BadRequest', 'a multipart upload is completed with its uploadId and parts');
    assertMultipart(upload, input.uploadId);
    await completeMultipart(upload.key, upload.sizeBytes, { uploadId: input.uploadId, parts: input.parts });
  } else if (!(await isWhole(upload))) {
    throw new AppError(409, 'UploadInProgress', `the content of upload ${uploadId} is not in storage yet: PUT it to the presigned URL first`);
  }
  await markUploaded(uploadId);
  return requireUpload(uploadId);
}

/** The multipart upload named is this content's. */
function assertMultipart(upload: AnnotationContentUpload, multipartUploadId: string): void {
  if (upload.multipartUploadId !== multipartUploadId) {
    throw new AppError(404, 'NoSuchUpload', `${multipartUploadId} is not the multipart upload of upload ${upload.uploadId}`, { uploadId: multipartUploadId });
  }
}

async function isWhole(upload: AnnotationContentUpload): Promise<boolean> {
  const stored = await headObject(config.mediaBucket(), upload.key);
  return stored !== undefined && stored.size === upload.sizeBytes;
}

/** Whether the upload's content is all in storage (a PUT upload is found there even if never completed through the API). */
async function uploaded(upload: AnnotationContentUpload): Promise<boolean> {
  if (upload.uploadState === 'uploaded') return true;
  if (upload.multipartUploadId || !(await isWhole(upload))) return false;
  await markUploaded(upload.uploadId);
  return true;
}

/** A request of the upload is running while its job is queued or working. */
async function running(upload: AnnotationContentUpload): Promise<boolean> {
  if (upload.status !== 0 || !upload.jobId) return false;
  const job = await getJob(upload.jobId);
  return job !== undefined && (job.state === 'queued' || job.state === 'working');
}

const presignedGet = (key: string, expiresIn = config.presignedUrlSeconds()): Promise<string> =>
  getSignedUrl(s3(), new GetObjectCommand({ Bucket: config.mediaBucket(), Key: key }), { expiresIn });

/** The video's probe: once per upload, kept on its document. Not a video is a 400. */
async function probeOf(upload: AnnotationContentUpload): Promise<ContentProbe> {
  if (upload.probe?.exactFrameRate) return upload.probe;
  let probe: ContentProbe;
  try {
    const p = await probeVideo(await presignedGet(upload.key, 900));
    probe = {
      frameRate: p.frameRate, exactFrameRate: p.exactFrameRate, width: p.width, height: p.height,
      streamDurationSeconds: p.streamDurationSeconds, streamStartSeconds: p.streamStartSeconds, fileStartSeconds: p.fileStartSeconds,
    };
  } catch (err) {
    if (err instanceof NotAVideoError) throw new AppError(400, 'NotAVideo', err.message, { uploadId: upload.uploadId, fileName: upload.fileName });
    throw err;
  }
  await recordProbe(upload.uploadId, probe);
  return probe;
}

/** Checks the request, records it on the upload and starts its job; answers the upload as recorded. */
export async function processContent(input: ProcessContentInput): Promise<AnnotationContentUpload> {
  await requireProject(input.projectId);
  const upload = await requireUpload(input.uploadId);
  const state = { uploaded: await uploaded(upload), running: await running(upload), taskCount: await countTasks(upload.uploadId) };
  assertRequestAllowed(upload, input, state);
  if (upload.contentType === 1 && input.requestType !== 2) assertFrameRate(input.frameRate, await probeOf(upload));

  const request = { frameRate: input.frameRate, forceWrite: input.forceWrite, autoAnnoVersion: input.autoAnnoVersion, requestType: input.requestType };
  const jobId = annotationContentJobId(upload.uploadId, upload.requests + 1);
  const recorded = await beginRequest(upload, request, jobId);
  if (!recorded) throw conflict(`another request for upload ${upload.uploadId} came in meanwhile; try again`);
  await createAndStartJob({ jobId, kind: 'annotation-content', input: { uploadId: upload.uploadId, projectId: upload.projectId } });
  logger.info('annotation content processing started', { uploadId: upload.uploadId, jobId, ...request });
  return recorded;
}

/** A task with presigned URLs of its video and manifest. */
export async function taskWithUrls(task: AnnotationTask): Promise<AnnotationTask & { videoUrl: string; manifestUrl: string; expiresIn: number }> {
  const expiresIn = config.presignedUrlSeconds();
  const [videoUrl, manifestUrl] = await Promise.all([presignedGet(task.videoKey, expiresIn), presignedGet(task.manifestKey, expiresIn)]);
  return { ...task, videoUrl, manifestUrl, expiresIn };
}
