// The wire shapes of a direct-to-S3 upload (lib/presigned-upload.ts), as every context's upload routes answer and
// take them.
import { MAX_PARTS } from './presigned-upload.ts';
import { z } from './zod.ts';

/** The largest object S3 stores; the configured maximum (MAX_UPLOAD_BYTES) is checked when an upload starts. */
export const MAX_UPLOAD_BYTES = 5 * 1024 ** 4;

export const UploadPlan = z
  .discriminatedUnion('method', [
    z.object({
      method: z.literal('PUT'),
      url: z.url(),
      key: z.string(),
      sizeBytes: z.number().int().openapi({ description: 'Send exactly this many bytes: the URL signs the length' }),
      headers: z.object({ 'content-type': z.string() }).openapi({ description: 'Send exactly these headers with the PUT' }),
      expiresIn: z.number().int(),
    }),
    z.object({
      method: z.literal('multipart'),
      uploadId: z.string(),
      key: z.string(),
      sizeBytes: z.number().int().openapi({ description: "The declared size: each part's URL signs its length" }),
      partSize: z.number().int().openapi({ description: 'Every part but the last has exactly this size' }),
      parts: z.array(z.object({ partNumber: z.number().int().min(1), url: z.url() })),
      uploaded: z
        .array(z.object({ partNumber: z.number().int().min(1), etag: z.string(), size: z.number().int() }))
        .openapi({ description: 'Parts S3 already holds (a resumed upload); empty for a new one' }),
      expiresIn: z.number().int(),
    }),
  ])
  .openapi('UploadPlan');

export const UploadResume = z.strictObject({ uploadId: z.string().min(1).max(1024) }).openapi('UploadResume');

export const UploadComplete = z
  .strictObject({
    uploadId: z.string().min(1).max(1024),
    parts: z
      .array(z.strictObject({ partNumber: z.number().int().min(1).max(MAX_PARTS), etag: z.string().min(1).max(256) }))
      .min(1)
      .max(MAX_PARTS)
      .refine((ps) => new Set(ps.map((p) => p.partNumber)).size === ps.length, { message: 'partNumber must not repeat' }),
  })
  .openapi('UploadComplete');
