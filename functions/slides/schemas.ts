// The slides API's request and response schemas (zod, documented in the OpenAPI document).
import { UploadPlan } from '../lib/upload-schemas.ts';
import { z } from '../lib/zod.ts';
import { IMAGE_STATES } from './store.ts';

export const Id = z.uuid();
export const IdParams = z.object({ id: Id });

const Filename = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9._ -]+$/, 'a plain file name: letters, digits, dot, dash, underscore, space')
  .refine((n) => n !== '.' && n !== '..', 'a plain file name');

export const NewSession = z.strictObject({ name: z.string().trim().min(1).max(200) }).openapi('NewSlideSession');
export const Session = z.object({ id: Id, name: z.string(), createdAt: z.string() }).openapi('SlideSession');
export const SessionList = z.object({ sessions: z.array(Session) }).openapi('SlideSessionList');

const ImageError = z.object({ code: z.string(), message: z.string() });

export const Image = z
  .object({
    id: Id,
    sessionId: Id,
    filename: z.string(),
    sizeBytes: z.number().int(),
    sha256: z.string().nullable(),
    md5: z.string().nullable(),
    state: z.enum(IMAGE_STATES).openapi({ description: 'uploading, dicing (its job builds the pyramid), ready, failed (see error), missing (its objects are gone)' }),
    progress: z.number().int().openapi({ description: '0 to 100' }),
    jobId: z.string().nullable(),
    width: z.number().int().nullable(),
    height: z.number().int().nullable(),
    levels: z.number().int().nullable().openapi({ description: 'Deep Zoom levels, from 1 × 1 to full size' }),
    tileSize: z.number().int().nullable(),
    format: z.string().nullable().openapi({ description: 'The source format (jpeg, png, tiff, ...); tiles are JPEG' }),
    bytes: z.number().int().nullable(),
    receivedBytes: z.number().int().openapi({ description: 'Chunk protocol: bytes received in order' }),
    error: ImageError.nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('SlideImage');

export const IMAGE_PAGE_DEFAULT = 100;
export const IMAGE_PAGE_MAX = 1000;

const NextCursor = Id.nullable().openapi({ description: 'Pass as cursor for the next page; null on the last page' });

export const SessionWithImages = Session.extend({
  images: z.array(Image).openapi({ description: `The session's first ${IMAGE_PAGE_DEFAULT} images; GET /v1/slides/images?sessionId= pages the rest` }),
  nextCursor: NextCursor,
}).openapi('SlideSessionWithImages');
export const ImageList = z.object({ images: z.array(Image), nextCursor: NextCursor }).openapi('SlideImageList');
export const ImageListQuery = z.strictObject({
  sessionId: Id.optional(),
  state: z.enum(IMAGE_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(IMAGE_PAGE_MAX).optional().openapi({ description: `Page size (default ${IMAGE_PAGE_DEFAULT})` }),
  cursor: z.string().optional().openapi({ description: 'The nextCursor of the previous page' }),
});

export const NewUpload = z
  .strictObject({
    filename: Filename,
    sizeBytes: z.number().int().min(1),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'hex sha256').optional().openapi({ description: "The whole file's sha256: checked at complete" }),
    sessionId: Id,
  })
  .openapi('NewSlideUpload');

export const UploadStarted = z.object({ image: Image, plan: UploadPlan }).openapi('SlideUploadStarted', {
  description: 'PUT the file to plan.url, or each part to its URL; then POST …/complete',
});
export const UploadState = z.object({ image: Image, plan: UploadPlan.optional() }).openapi('SlideUploadState', {
  description: 'While the upload is open: the parts S3 holds (plan.uploaded) and fresh URLs for every part',
});

export const CompleteUpload = z
  .strictObject({
    parts: z
      .array(z.strictObject({ partNumber: z.number().int().min(1).max(10_000), etag: z.string().min(1).max(256) }))
      .min(1)
      .max(10_000)
      .optional()
      .openapi({ description: 'The parts and their ETags; without them, every part S3 holds' }),
  })
  .openapi('CompleteSlideUpload');

export const ChunkQuery = z.object({
  fileId: Id.optional().openapi({ description: 'The id the first chunk answered (or header x-file-id); absent on the first chunk' }),
  filename: Filename.optional().openapi({ description: 'First chunk: the file name' }),
  sessionId: Id.optional().openapi({ description: 'First chunk: the session (default: the inbox session)' }),
  md5: z.string().regex(/^[0-9a-f]{32}$/, 'hex md5').optional().openapi({ description: "Last chunk: the whole file's md5, checked once it is assembled" }),
});
// fileId is checked by the domain, so that a malformed one is the same clear 404 as an unknown one
export const ChunkQueryLoose = ChunkQuery.extend({ fileId: z.string().max(100).optional() });

export const ChunkReceived = z
  .object({ fileId: Id, receivedBytes: z.number().int(), complete: z.boolean(), image: Image })
  .openapi('SlideChunkReceived');

export const TileParams = z.object({ id: Id, level: z.coerce.number().int().min(0).max(40), tile: z.string().regex(/^\d{1,6}_\d{1,6}\.jpg$/, '{col}_{row}.jpg') });
export const IiifTileParams = z.object({
  id: Id,
  region: z.string().regex(/^(full|\d{1,6},\d{1,6},\d{1,6},\d{1,6})$/, 'full or x,y,w,h'),
  size: z.string().regex(/^(max|\d{1,6},\d{0,6}|\d{0,6},\d{1,6})$/, 'max or w,h'),
  rotation: z.literal('0'),
  quality: z.literal('default.jpg'),
});
