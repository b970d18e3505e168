// Direct-to-S3 video uploads: the API presigns, the client sends the bytes to S3, S3's notification starts
// the ingest. Small files: one presigned PUT. Large files: a multipart upload with one presigned URL per part,
// completed through the API.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { s3 } from '../lib/aws.ts';
import { config } from '../lib/config.ts';
import { query } from '../lib/pg.ts';
import { AppError, badRequest, conflict, notFound } from '../lib/errors.ts';
import { MAX_PARTS } from './schemas.ts';
import { stores } from './stores.ts';
import type { Row } from './repository.ts';

/** Statuses from which an upload may (re)start; after 'uploaded' the object is in and ingest owns the video. */
export const UPLOADABLE_STATUSES = ['created', 'uploading', 'failed'] as const;

export const videoSourceKey = (videoId: string): string => `videos/${videoId}/source`;

export type UploadMode = { method: 'PUT' } | { method: 'multipart'; partSize: number; partCount: number };

const MiB = 1024 * 1024;

/** PUT below the threshold; otherwise parts of `partBytes`, grown (in whole MiB) if S3's 10,000-part limit needs it. */
export function planUpload(sizeBytes: number, thresholdBytes: number, partBytes: number): UploadMode {
  if (sizeBytes < thresholdBytes) return { method: 'PUT' };
  let partSize = partBytes;
  if (Math.ceil(sizeBytes / partSize) > MAX_PARTS) partSize = Math.ceil(sizeBytes / MAX_PARTS / MiB) * MiB;
  return { method: 'multipart', partSize, partCount: Math.ceil(sizeBytes / partSize) };
}

const presignOptions = (expiresIn: number, signContentType: boolean) => ({
  expiresIn,
  ...(signContentType ? { signableHeaders: new Set(['content-type']) } : {}),
});

export type UploadPlan =
  | { method: 'PUT'; url: string; key: string; headers: { 'content-type': string }; expiresIn: number }
  | {
      method: 'multipart';
      uploadId: string;
      key: string;
      partSize: number;
      parts: { partNumber: number; url: string }[];
      expiresIn: number;
    };

async function loadUploadable(videoId: string): Promise<Row> {
  const video = await stores.videos.get(videoId);
  if (!video) throw notFound('video', videoId);
  if (!(UPLOADABLE_STATUSES as readonly string[]).includes(video.status as string)) {
    throw conflict(`video ${videoId} is ${String(video.status)}: its upload is finished`, { status: video.status });
  }
  return video;
}

export const localizationsKey = (videoId: string): string => `localizations/${videoId}/localizations.json`;

/** A presigned PUT, or a multipart upload with a presigned URL per part, for `key`. */
async function presignPlan(key: string, contentType: string, sizeBytes: number): Promise<UploadPlan> {
  const bucket = config.mediaBucket();
  const expiresIn = config.presignedUrlSeconds();
  const mode = planUpload(sizeBytes, config.multipartThresholdBytes(), config.multipartPartBytes());
  if (mode.method === 'PUT') {
    const url = await getSignedUrl(
      s3(),
      new PutObjectCommand({ Bucket: bucket, Key: key, ContentType: contentType }),
      presignOptions(expiresIn, true),
    );
    return { method: 'PUT', url, key, headers: { 'content-type': contentType }, expiresIn };
  }
  const created = await s3().send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: contentType }));
  const uploadId = created.UploadId!;
  const parts = await Promise.all(
    Array.from({ length: mode.partCount }, async (_, i) => ({
      partNumber: i + 1,
      url: await getSignedUrl(
        s3(),
        new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: i + 1 }),
        presignOptions(expiresIn, false),
      ),
    })),
  );
  return { method: 'multipart', uploadId, key, partSize: mode.partSize, parts, expiresIn };
}

async function abandon(plan: UploadPlan): Promise<void> {
  if (plan.method !== 'multipart') return;
  await s3()
    .send(new AbortMultipartUploadCommand({ Bucket: config.mediaBucket(), Key: plan.key, UploadId: plan.uploadId }))
    .catch(() => undefined);
}

export async function startUpload(
  videoId: string,
  input: { filename: string; contentType: string; sizeBytes: number; frameRate?: number; threshold?: number },
): Promise<UploadPlan> {
  await loadUploadable(videoId);
  const plan = await presignPlan(videoSourceKey(videoId), input.contentType, input.sizeBytes);
  // Record the upload only if the video is still uploadable (it may have moved on meanwhile).
  const updated = await query(
    `UPDATE video SET status = 'uploading', s3_key = $2, content_type = $3, size_bytes = $4,
            ingest_frame_rate = COALESCE($6, ingest_frame_rate), ingest_threshold = COALESCE($7, ingest_threshold)
      WHERE id = $1 AND status = ANY ($5::text[]) RETURNING id`,
    [videoId, plan.key, input.contentType, input.sizeBytes, UPLOADABLE_STATUSES, input.frameRate ?? null, input.threshold ?? null],
  );
  if (!updated.length) {
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
  await query('UPDATE video SET localizations_key = $2, label_mapping = $3 WHERE id = $1', [
    videoId,
    plan.key,
    input.labelMapping ? JSON.stringify(input.labelMapping) : null,
  ]);
  return plan;
}

const S3_CLIENT_ERRORS: Readonly<Record<string, number>> = {
  NoSuchUpload: 404,
  InvalidPart: 400,
  InvalidPartOrder: 400,
  EntityTooSmall: 400,
  MalformedXML: 400,
};

async function completeMultipart(key: string, input: { uploadId: string; parts: readonly { partNumber: number; etag: string }[] }): Promise<void> {
  const parts = [...input.parts].sort((a, b) => a.partNumber - b.partNumber);
  try {
    await s3().send(
      new CompleteMultipartUploadCommand({
        Bucket: config.mediaBucket(),
        Key: key,
        UploadId: input.uploadId,
        MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
      }),
    );
  } catch (err) {
    const name = (err as { name?: string }).name ?? '';
    const status = S3_CLIENT_ERRORS[name];
    if (status === 404) throw new AppError(404, 'NotFound', `upload ${input.uploadId} does not exist for ${key}`, { s3Error: name });
    if (status) throw badRequest((err as Error).message || name, { s3Error: name });
    throw err;
  }
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
  await completeMultipart(video.s3Key as string, input);
  return (await stores.videos.get(videoId))!;
}

export async function completeLocalizationsUpload(
  videoId: string,
  input: { uploadId: string; parts: readonly { partNumber: number; etag: string }[] },
): Promise<Row> {
  const video = await stores.videos.get(videoId);
  if (!video) throw notFound('video', videoId);
  if (!video.localizationsKey) throw conflict(`video ${videoId} has no localizations upload in progress`);
  await completeMultipart(video.localizationsKey as string, input);
  return video;
}
