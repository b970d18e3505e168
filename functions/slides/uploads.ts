// Slide uploads: straight to S3 by presigned multipart (or one PUT for a small file), resumable by listing the parts
// S3 holds; and the older Content-Range chunk protocol, each chunk one part of the same kind of multipart upload.
// An upload is complete only when its whole object's checksum matches what the client declared: until then nothing
// processes it, and a mismatch fails the image.
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { s3 } from '../lib/aws.ts';
import { config } from '../lib/config.ts';
import { AppError, conflict, notFound } from '../lib/errors.ts';
import { logger } from '../lib/logger.ts';
import { completeMultipart, presignPlan, resumePlan, type UploadPlan } from '../lib/presigned-upload.ts';
import { checksumMismatch, digester, type HeldObject } from './checksum.ts';
import { startPyramid } from './images.ts';
import { contentTypeOf } from './pyramid.ts';
import {
  createImage, ensureSession, INBOX_SESSION, moveImage, recordChunk, recordProgress, requireImage, requireSession, uploadKey, type SlideImageRecord,
} from './store.ts';

/** A chunk of the older protocol is one multipart part: S3 takes parts of at least 5 MiB but the last. */
export const CHUNK_BYTES = 5 * 1024 * 1024;

const sourceContentType = contentTypeOf;

export interface NewUpload {
  filename: string;
  sizeBytes: number;
  sha256?: string;
  sessionId: string;
}

export async function startUpload(input: NewUpload): Promise<{ image: SlideImageRecord; plan: UploadPlan }> {
  await requireSession(input.sessionId);
  const id = randomUUID();
  const key = uploadKey(id, input.filename);
  const plan = await presignPlan(key, sourceContentType(input.filename), input.sizeBytes);
  await createImage({
    id, sessionId: input.sessionId, filename: input.filename, sizeBytes: input.sizeBytes, sha256: input.sha256 ?? null, s3Key: key,
    uploadId: plan.method === 'multipart' ? plan.uploadId : null,
  });
  logger.info('slide upload started', { imageId: id, method: plan.method, sizeBytes: input.sizeBytes });
  return { image: await requireImage(id), plan };
}

/** An upload as it stands: while it is open, the parts S3 holds and fresh URLs (or a fresh PUT URL). */
export async function uploadStatus(id: string): Promise<{ image: SlideImageRecord; plan?: UploadPlan }> {
  const image = await requireImage(id);
  if (image.state !== 'uploading' || image.chunked) return { image };
  if (!image.uploadId) return { image, plan: await presignPlan(image.s3Key, sourceContentType(image.filename), image.sizeBytes) };
  const plan = await resumePlan(image.s3Key, image.sizeBytes, image.uploadId);
  // what S3 holds is the upload's progress (its first tenth; the workflow's steps make the rest)
  const held = plan.method === 'multipart' ? plan.uploaded.reduce((sum, p) => sum + p.size, 0) : 0;
  const progress = Math.floor((held / image.sizeBytes) * 10);
  if (progress > image.progress) await recordProgress(id, 'uploading', progress);
  return { image: { ...image, progress: Math.max(progress, image.progress) }, plan };
}

const requireUploading = (image: SlideImageRecord): void => {
  if (image.state !== 'uploading') {
    throw new AppError(409, 'UploadNotOpen', `image ${image.id} is ${image.state}, not uploading`, { state: image.state });
  }
};

/**
 * Completes the upload (the parts given, or every part S3 holds), then checks the whole object against the declared
 * size and checksums, and starts the pyramid. A mismatch fails the image: a 400, and nothing processes it.
 */
export async function completeUpload(id: string, parts?: readonly { partNumber: number; etag: string }[]): Promise<SlideImageRecord> {
  const image = await requireImage(id);
  requireUploading(image);
  if (image.chunked) throw conflict(`image ${id} is uploaded in chunks (PUT /v1/slides/chunked); its last chunk completes it`);
  if (image.uploadId) {
    try {
      const held = parts ? undefined : await resumePlan(image.s3Key, image.sizeBytes, image.uploadId);
      const given = parts ?? (held?.method === 'multipart' ? held.uploaded : []);
      await completeMultipart(image.s3Key, image.sizeBytes, { uploadId: image.uploadId, parts: given });
    } catch (err) {
      // a complete whose answer was lost: S3 assembled the object already, so it is checked as any other
      if (!(err instanceof AppError && err.status === 404 && (await objectSize(image.s3Key)) !== undefined)) throw err;
    }
  }
  return verifyAndStart(image, {});
}

export async function abortUpload(id: string): Promise<void> {
  const image = await requireImage(id);
  requireUploading(image);
  await abortMultipart(image);
  await moveImage(id, 'uploading', 'failed', { error: { code: 'UploadAborted', message: 'the upload was aborted' }, uploadId: null });
}

export async function abortMultipart(image: SlideImageRecord): Promise<void> {
  if (!image.uploadId) return;
  await s3()
    .send(new AbortMultipartUploadCommand({ Bucket: config.mediaBucket(), Key: image.s3Key, UploadId: image.uploadId }))
    .catch((err: { name?: string }) => {
      if (err.name !== 'NoSuchUpload') throw err;
    });
}

async function objectSize(key: string): Promise<number | undefined> {
  try {
    return (await s3().send(new HeadObjectCommand({ Bucket: config.mediaBucket(), Key: key }))).ContentLength;
  } catch (err) {
    if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
    throw err;
  }
}

/** The object read back in one stream: its size, sha256 and md5 (size -1 when there is none). */
async function readBack(key: string): Promise<HeldObject> {
  let out;
  try {
    out = await s3().send(new GetObjectCommand({ Bucket: config.mediaBucket(), Key: key }));
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchKey') return { size: -1, sha256: '', md5: '' };
    throw err;
  }
  const digest = digester();
  for await (const chunk of digest.tap(out.Body as Readable)) void chunk;
  return digest.held();
}

/**
 * Checks the assembled object against the upload, then starts the pyramid. Up to checkInApiMaxBytes it is read back
 * here; a larger one only has its size checked here, and its checksum by the workflow's first read of it, before it
 * is diced (a mismatch fails the image there, with the same error).
 */
async function verifyAndStart(image: SlideImageRecord, declared: { md5?: string }): Promise<SlideImageRecord> {
  const wanted = { sizeBytes: image.sizeBytes, sha256: image.sha256, md5: declared.md5 };
  const readHere = image.sizeBytes <= config.checkInApiMaxBytes();
  const held = readHere ? await readBack(image.s3Key) : { size: (await objectSize(image.s3Key)) ?? -1, sha256: '', md5: '' };
  const mismatch = checksumMismatch(readHere ? wanted : { sizeBytes: wanted.sizeBytes }, held);
  if (mismatch) {
    if (held.size < 0 && !image.chunked && !image.uploadId) {
      // a single PUT that has not arrived yet: the upload stays open
      throw new AppError(400, 'SizeMismatch', mismatch.message, { declaredBytes: image.sizeBytes });
    }
    await moveImage(image.id, 'uploading', 'failed', { error: mismatch, uploadId: null });
    throw new AppError(400, mismatch.code, `${mismatch.message}; the image is failed and will not be processed`, { imageId: image.id });
  }
  const dicing = await startPyramid(image, 'uploading', readHere ? { md5: held.md5, verified: true } : { md5: declared.md5 });
  if (!dicing) throw conflict(`image ${image.id} was completed meanwhile`);
  return dicing;
}

// ---- the chunk protocol ----

export interface Chunk {
  readonly start: number;
  readonly end: number;
  readonly total: number;
}

/** `bytes a-b/total`, as the older clients send it; anything else is a 400. Pure. */
export function parseContentRange(header: string | undefined): Chunk {
  const m = /^bytes (\d+)-(\d+)\/(\d+)$/.exec((header ?? '').trim());
  if (!m) throw new AppError(400, 'BadContentRange', 'a chunk needs Content-Range: bytes <first>-<last>/<total>', { contentRange: header ?? null });
  const [start, end, total] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (end < start || end >= total) throw new AppError(400, 'BadContentRange', `bytes ${start}-${end} are not within a file of ${total} bytes`, { contentRange: header });
  return { start, end, total };
}

/** The chunk's part: chunks are CHUNK_BYTES each, at multiples of it, the last one shorter. Pure. */
export function chunkPart(chunk: Chunk): number {
  const length = chunk.end - chunk.start + 1;
  const last = chunk.end === chunk.total - 1;
  if (chunk.start % CHUNK_BYTES !== 0 || (length !== CHUNK_BYTES && !last) || length > CHUNK_BYTES) {
    throw new AppError(400, 'BadChunk', `chunks are ${CHUNK_BYTES} bytes each (the last may be shorter) and start at multiples of it; bytes ${chunk.start}-${chunk.end} are not one`, {
      chunkBytes: CHUNK_BYTES, start: chunk.start, end: chunk.end,
    });
  }
  return chunk.start / CHUNK_BYTES + 1;
}

export interface ChunkInput {
  readonly contentRange?: string;
  readonly fileId?: string;
  readonly filename?: string;
  readonly sessionId?: string;
  readonly md5?: string;
  readonly body: Buffer;
}

export interface ChunkReceived {
  fileId: string;
  receivedBytes: number;
  complete: boolean;
  image: SlideImageRecord;
}

export async function receiveChunk(input: ChunkInput): Promise<ChunkReceived> {
  const chunk = parseContentRange(input.contentRange);
  const partNumber = chunkPart(chunk);
  const length = chunk.end - chunk.start + 1;
  if (input.body.length !== length) {
    throw new AppError(400, 'BadChunk', `Content-Range names ${length} bytes; the body has ${input.body.length}`, { contentRange: input.contentRange });
  }
  let image: SlideImageRecord;
  if (chunk.start === 0 && !input.fileId) {
    if (chunk.total > config.maxUploadBytes()) throw new AppError(400, 'UploadTooLarge', `an upload may be at most ${config.maxUploadBytes()} bytes`, { sizeBytes: chunk.total });
    const session = input.sessionId ? await requireSession(input.sessionId) : await ensureSession(INBOX_SESSION);
    const filename = input.filename ?? 'upload';
    const id = randomUUID();
    const key = uploadKey(id, filename);
    const created = await s3().send(new CreateMultipartUploadCommand({ Bucket: config.mediaBucket(), Key: key, ContentType: sourceContentType(filename) }));
    await createImage({ id, sessionId: session.id, filename, sizeBytes: chunk.total, s3Key: key, uploadId: created.UploadId!, chunked: true });
    image = await requireImage(id);
  } else {
    if (!input.fileId) throw new AppError(400, 'MissingFileId', 'a chunk after the first names its file: the fileId the first chunk answered (query fileId or header x-file-id)');
    if (!/^[0-9a-f-]{36}$/i.test(input.fileId)) throw notFound('slide upload', input.fileId);
    image = await requireImage(input.fileId);
    if (!image.chunked) throw conflict(`image ${image.id} is not uploaded in chunks`);
    requireUploading(image);
    if (chunk.total !== image.sizeBytes) throw new AppError(400, 'BadContentRange', `file ${image.id} has ${image.sizeBytes} bytes, not ${chunk.total}`, { sizeBytes: image.sizeBytes });
    if (chunk.start + length <= image.receivedBytes) {
      // a chunk sent again (its answer was lost): S3 has it already
      return { fileId: image.id, receivedBytes: image.receivedBytes, complete: false, image };
    }
    if (chunk.start !== image.receivedBytes) {
      throw new AppError(409, 'ChunkOutOfOrder', `file ${image.id} has its first ${image.receivedBytes} bytes; the next chunk starts there, not at ${chunk.start}`, {
        receivedBytes: image.receivedBytes,
      });
    }
  }
  const part = await s3().send(
    new UploadPartCommand({ Bucket: config.mediaBucket(), Key: image.s3Key, UploadId: image.uploadId!, PartNumber: partNumber, Body: input.body, ContentLength: length }),
  );
  const progress = Math.floor(((chunk.end + 1) / chunk.total) * 100 * 0.1);
  const recorded = await recordChunk(image.id, chunk.start, chunk.end + 1, { partNumber, etag: part.ETag! }, progress);
  if (!recorded) throw conflict(`another chunk of file ${image.id} arrived meanwhile; ask GET /v1/slides/images/${image.id} where to go on`);
  image = await requireImage(image.id);
  if (chunk.end + 1 < chunk.total) return { fileId: image.id, receivedBytes: image.receivedBytes, complete: false, image };
  try {
    await s3().send(
      new CompleteMultipartUploadCommand({
        Bucket: config.mediaBucket(), Key: image.s3Key, UploadId: image.uploadId!,
        MultipartUpload: { Parts: image.chunkParts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
      }),
    );
  } catch (err) {
    throw new AppError(400, 'BadChunk', `the chunks could not be assembled (${(err as Error).message})`, { s3Error: (err as { name?: string }).name });
  }
  const started = await verifyAndStart(image, { md5: input.md5 });
  return { fileId: started.id, receivedBytes: started.receivedBytes, complete: true, image: started };
}
