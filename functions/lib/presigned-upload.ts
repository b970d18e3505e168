// Direct-to-S3 uploads by object key: the API presigns, the client sends the bytes to S3. Small files: one presigned
// PUT. Large files: a multipart upload with one presigned URL per part (each signed with its length), resumable (the
// parts S3 holds are listed, the URLs presigned again), completed through the API only when the parts add up to the
// declared size. Each context's uploads (a video's source, annotation content, slides) follow these rules.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { s3 } from './aws.ts';
import { config } from './config.ts';
import { AppError, badRequest } from './errors.ts';

/** S3 allows at most 10,000 parts per multipart upload. */
export const MAX_PARTS = 10_000;

export type UploadMode = { method: 'PUT' } | { method: 'multipart'; partSize: number; partCount: number };

const MiB = 1024 * 1024;

/**
 * At most this many parts in an upload, by growing the part size: each part is a request S3 bills ($0.005 per
 * 1,000), and a game-hour's source video (2.9 GB) in 8 MiB parts would be 350 of them. A failed part is sent again
 * whole, so resuming costs at most a hundredth of the file.
 */
export const PARTS_PER_UPLOAD = 100;

/** PUT below the threshold; otherwise parts of `partBytes`, grown (in whole MiB) to at most PARTS_PER_UPLOAD parts. */
export function planUpload(sizeBytes: number, thresholdBytes: number, partBytes: number): UploadMode {
  if (sizeBytes < thresholdBytes) return { method: 'PUT' };
  const partSize = Math.max(partBytes, Math.ceil(sizeBytes / PARTS_PER_UPLOAD / MiB) * MiB);
  return { method: 'multipart', partSize, partCount: Math.ceil(sizeBytes / partSize) };
}

// The length is signed, so S3 refuses a body of any other length; the content type of a single PUT too.
const presignOptions = (expiresIn: number, signContentType: boolean) => ({
  expiresIn,
  signableHeaders: new Set(signContentType ? ['content-length', 'content-type'] : ['content-length']),
});

export type UploadPlan =
  | { method: 'PUT'; url: string; key: string; sizeBytes: number; headers: { 'content-type': string }; expiresIn: number }
  | {
      method: 'multipart';
      uploadId: string;
      key: string;
      /** The declared size: the parts' signed lengths add up to it. */
      sizeBytes: number;
      partSize: number;
      parts: { partNumber: number; url: string }[];
      /** Parts S3 already holds (a resumed upload): send again only those missing or whose ETag differs. */
      uploaded: UploadedPart[];
      expiresIn: number;
    };

export interface UploadedPart {
  partNumber: number;
  etag: string;
  size: number;
}

/** Bytes of part `partNumber` (1-based) of an upload of `sizeBytes` in parts of `partSize`. Pure. */
export const partLength = (sizeBytes: number, partSize: number, partNumber: number): number =>
  Math.max(0, Math.min(partSize, sizeBytes - (partNumber - 1) * partSize));

/** The configured largest upload; a larger declared size is refused before anything is presigned. */
function assertUploadSize(sizeBytes: number): void {
  const max = config.maxUploadBytes();
  if (sizeBytes > max) {
    throw new AppError(400, 'UploadTooLarge', `an upload may be at most ${max} bytes; ${sizeBytes} were declared`, { sizeBytes, maxBytes: max });
  }
}

const modeOf = (sizeBytes: number): UploadMode => planUpload(sizeBytes, config.multipartThresholdBytes(), config.multipartPartBytes());

/** A presigned URL for every part of the multipart upload `uploadId`, each signed with its length. */
async function presignParts(key: string, uploadId: string, sizeBytes: number, mode: UploadMode & { method: 'multipart' }, expiresIn: number) {
  return Promise.all(
    Array.from({ length: mode.partCount }, async (_, i) => ({
      partNumber: i + 1,
      url: await getSignedUrl(
        s3(),
        new UploadPartCommand({
          Bucket: config.mediaBucket(), Key: key, UploadId: uploadId, PartNumber: i + 1,
          ContentLength: partLength(sizeBytes, mode.partSize, i + 1),
        }),
        presignOptions(expiresIn, false),
      ),
    })),
  );
}

/** A presigned PUT, or a multipart upload with a presigned URL per part, for `key`. */
export async function presignPlan(key: string, contentType: string, sizeBytes: number): Promise<UploadPlan> {
  assertUploadSize(sizeBytes);
  const bucket = config.mediaBucket();
  const expiresIn = config.presignedUrlSeconds();
  const mode = modeOf(sizeBytes);
  if (mode.method === 'PUT') {
    const url = await getSignedUrl(
      s3(),
      new PutObjectCommand({ Bucket: bucket, Key: key, ContentType: contentType, ContentLength: sizeBytes }),
      presignOptions(expiresIn, true),
    );
    return { method: 'PUT', url, key, sizeBytes, headers: { 'content-type': contentType }, expiresIn };
  }
  const created = await s3().send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: contentType }));
  const uploadId = created.UploadId!;
  const parts = await presignParts(key, uploadId, sizeBytes, mode, expiresIn);
  return { method: 'multipart', uploadId, key, sizeBytes, partSize: mode.partSize, parts, uploaded: [], expiresIn };
}

/** The parts S3 holds for an open multipart upload; a 404 NoSuchUpload when it is completed, aborted or unknown. */
async function listUploadedParts(key: string, uploadId: string): Promise<UploadedPart[]> {
  const parts: UploadedPart[] = [];
  let marker: string | undefined;
  try {
    do {
      const page = await s3().send(new ListPartsCommand({ Bucket: config.mediaBucket(), Key: key, UploadId: uploadId, PartNumberMarker: marker }));
      for (const p of page.Parts ?? []) parts.push({ partNumber: p.PartNumber!, etag: p.ETag!, size: p.Size! });
      marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
    } while (marker);
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchUpload') throw noSuchUpload(key, uploadId);
    throw err;
  }
  return parts;
}

export const noSuchUpload = (key: string, uploadId: string) =>
  new AppError(404, 'NoSuchUpload', `upload ${uploadId} of ${key} is not open (completed, aborted or unknown)`, { uploadId });

export async function abandon(plan: UploadPlan): Promise<void> {
  if (plan.method !== 'multipart') return;
  await s3()
    .send(new AbortMultipartUploadCommand({ Bucket: config.mediaBucket(), Key: plan.key, UploadId: plan.uploadId }))
    .catch(() => undefined);
}

/** The open multipart upload `uploadId` of `key` (declared as `sizeBytes`): fresh part URLs and the parts S3 holds. */
export async function resumePlan(key: string, sizeBytes: number, uploadId: string): Promise<UploadPlan> {
  const mode = modeOf(sizeBytes);
  if (mode.method !== 'multipart') throw noSuchUpload(key, uploadId);
  const uploaded = await listUploadedParts(key, uploadId);
  const expiresIn = config.presignedUrlSeconds();
  const parts = await presignParts(key, uploadId, sizeBytes, mode, expiresIn);
  return { method: 'multipart', uploadId, key, sizeBytes, partSize: mode.partSize, parts, uploaded, expiresIn };
}

const S3_CLIENT_ERRORS: Readonly<Record<string, number>> = {
  NoSuchUpload: 404,
  InvalidPart: 400,
  InvalidPartOrder: 400,
  EntityTooSmall: 400,
  MalformedXML: 400,
};

/**
 * Completes a multipart upload only if its parts are every part of the declared size (each of its signed length):
 * otherwise a 400 SizeMismatch, and the object does not come to exist. Without a declared size (localizations),
 * the parts must at least run from 1 without a gap.
 */
export async function completeMultipart(
  key: string,
  sizeBytes: number | undefined,
  input: { uploadId: string; parts: readonly { partNumber: number; etag: string }[] },
): Promise<void> {
  const parts = [...input.parts].sort((a, b) => a.partNumber - b.partNumber);
  const held = new Map((await listUploadedParts(key, input.uploadId)).map((p) => [p.partNumber, p]));
  const sent = parts.reduce((sum, p) => sum + (held.get(p.partNumber)?.size ?? 0), 0);
  const mode = sizeBytes === undefined ? undefined : modeOf(sizeBytes);
  const partCount = mode === undefined ? parts.length : mode.method === 'multipart' ? mode.partCount : 1;
  const gap = parts.some((p, i) => p.partNumber !== i + 1 || !held.has(p.partNumber));
  if (gap || parts.length !== partCount || (sizeBytes !== undefined && sent !== sizeBytes)) {
    const missing = Array.from({ length: partCount }, (_, i) => i + 1).filter((n) => !held.has(n));
    throw new AppError(
      400,
      'SizeMismatch',
      sizeBytes === undefined
        ? `the parts given must run from 1 without a gap, each uploaded; missing: ${missing.slice(0, 10).join(', ')}`
        : `the upload declared ${sizeBytes} bytes in ${partCount} parts; the parts given hold ${sent} bytes in ${parts.length}`,
      { declaredBytes: sizeBytes ?? null, partCount, sentBytes: sent, partsGiven: parts.length, missingParts: missing.slice(0, 100) },
    );
  }
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

