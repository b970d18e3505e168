// The slides context's sessions and images in PostgreSQL (migrations/0008_slides.sql). Every move of an image from
// one state to the next is one conditional UPDATE on the state it leaves: of two writers (a step retried, two
// reconciler runs) one moves it, the other changes nothing.
import { randomUUID } from 'node:crypto';
import { invalidCursor, notFound } from '../lib/errors.ts';
import { query } from '../lib/pg.ts';
import { z } from '../lib/zod.ts';
import type { SlideMetadata } from './pyramid.ts';

export const IMAGE_STATES = ['uploading', 'dicing', 'ready', 'failed', 'missing'] as const;
export type ImageState = (typeof IMAGE_STATES)[number];

export interface SlideSession {
  id: string;
  name: string;
  createdAt: string;
}

export interface ImageError {
  code: string;
  message: string;
}

export interface SlideImageRecord {
  id: string;
  sessionId: string;
  filename: string;
  sizeBytes: number;
  sha256: string | null;
  md5: string | null;
  state: ImageState;
  progress: number;
  s3Key: string;
  uploadId: string | null;
  chunked: boolean;
  receivedBytes: number;
  chunkParts: { partNumber: number; etag: string }[];
  jobId: string | null;
  width: number | null;
  height: number | null;
  levels: number | null;
  tileSize: number | null;
  format: string | null;
  bytes: number | null;
  error: ImageError | null;
  /** The whole object matched what the upload declared (checked by complete, or by the workflow's first read). */
  verified: boolean;
  createdAt: string;
  updatedAt: string;
}

/** The session bulk copies under slides/inbox/ are registered in. */
export const INBOX_SESSION = 'inbox';

/** Where an upload's bytes go; the pyramid is published beside it under slides/{imageId}/. */
export const uploadKey = (imageId: string, filename: string): string => `slides/uploads/${imageId}/${filename}`;
export const pyramidPrefix = (imageId: string): string => `slides/${imageId}/`;

type Row = Record<string, unknown>;
const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v));
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

const sessionOf = (r: Row): SlideSession => ({ id: String(r.id), name: String(r.name), createdAt: iso(r.created_at) });

const imageOf = (r: Row): SlideImageRecord => ({
  id: String(r.id),
  sessionId: String(r.session_id),
  filename: String(r.filename),
  sizeBytes: Number(r.size_bytes),
  sha256: (r.sha256 as string | null) ?? null,
  md5: (r.md5 as string | null) ?? null,
  state: r.state as ImageState,
  progress: Number(r.progress),
  s3Key: String(r.s3_key),
  uploadId: (r.upload_id as string | null) ?? null,
  chunked: Boolean(r.chunked),
  receivedBytes: Number(r.received_bytes),
  chunkParts: (r.chunk_parts as SlideImageRecord['chunkParts']) ?? [],
  jobId: (r.job_id as string | null) ?? null,
  width: num(r.width),
  height: num(r.height),
  levels: num(r.levels),
  tileSize: num(r.tile_size),
  format: (r.format as string | null) ?? null,
  bytes: num(r.bytes),
  error: (r.error as ImageError | null) ?? null,
  verified: r.verified_at !== null && r.verified_at !== undefined,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});

export async function createSession(name: string): Promise<SlideSession> {
  const rows = await query('INSERT INTO slide_session (id, name) VALUES ($1, $2) RETURNING *', [randomUUID(), name]);
  return sessionOf(rows[0]!);
}

/** The session named `name`, created if there is none (the inbox's). */
export async function ensureSession(name: string): Promise<SlideSession> {
  await query('INSERT INTO slide_session (id, name) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [randomUUID(), name]);
  return sessionOf((await query('SELECT * FROM slide_session WHERE name = $1', [name]))[0]!);
}

export async function listSessions(): Promise<SlideSession[]> {
  return (await query('SELECT * FROM slide_session ORDER BY created_at, id')).map(sessionOf);
}

export async function requireSession(id: string): Promise<SlideSession> {
  const rows = await query('SELECT * FROM slide_session WHERE id = $1', [id]);
  if (!rows[0]) throw notFound('slide session', id);
  return sessionOf(rows[0]);
}

export interface ImagePage {
  images: SlideImageRecord[];
  /** The last image's id when more follow: the cursor of the next page. */
  nextCursor: string | null;
}

/**
 * Images in creation order, `limit` at a time after the image `cursor` (keyset: a page never repeats or skips an
 * image, however many arrive meanwhile). A cursor that is no image's id is an InvalidCursor.
 */
export async function listImages(opts: { sessionId?: string; state?: ImageState; limit: number; cursor?: string }): Promise<ImagePage> {
  const values: unknown[] = [];
  const where: string[] = [];
  if (opts.sessionId) where.push(`session_id = $${values.push(opts.sessionId)}`);
  if (opts.state) where.push(`state = $${values.push(opts.state)}`);
  if (opts.cursor) {
    if (!z.uuid().safeParse(opts.cursor).success) throw invalidCursor();
    if ((await query('SELECT 1 FROM slide_image WHERE id = $1', [opts.cursor])).length === 0) throw invalidCursor();
    // compared in SQL: created_at has microseconds, which a JavaScript Date would round away
    where.push(`(created_at, id) > (SELECT created_at, id FROM slide_image WHERE id = $${values.push(opts.cursor)})`);
  }
  const rows = await query(
    `SELECT * FROM slide_image ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id LIMIT $${values.push(opts.limit + 1)}`,
    values,
  );
  const images = rows.slice(0, opts.limit).map(imageOf);
  return { images, nextCursor: rows.length > opts.limit ? images.at(-1)!.id : null };
}

export async function getImage(id: string): Promise<SlideImageRecord | undefined> {
  const rows = await query('SELECT * FROM slide_image WHERE id = $1', [id]);
  return rows[0] ? imageOf(rows[0]) : undefined;
}

export async function requireImage(id: string): Promise<SlideImageRecord> {
  const image = await getImage(id);
  if (!image) throw notFound('slide image', id);
  return image;
}

export interface NewImage {
  id: string;
  sessionId: string;
  filename: string;
  sizeBytes: number;
  sha256?: string | null;
  s3Key: string;
  uploadId?: string | null;
  chunked?: boolean;
  /** An image registered straight into dicing (found in the inbox) names its job. */
  jobId?: string;
}

/** Records an image being uploaded; false when an image already has its object (the inbox registered it). */
export async function createImage(image: NewImage, state: ImageState = 'uploading'): Promise<boolean> {
  const rows = await query(
    `INSERT INTO slide_image (id, session_id, filename, size_bytes, sha256, s3_key, upload_id, chunked, state, job_id, progress)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (s3_key) DO NOTHING RETURNING id`,
    [
      image.id, image.sessionId, image.filename, image.sizeBytes, image.sha256 ?? null, image.s3Key, image.uploadId ?? null, image.chunked ?? false, state,
      image.jobId ?? null, state === 'dicing' ? 10 : 0,
    ],
  );
  return rows.length === 1;
}

/** Moves the image from `from` to `to` with `fields`; undefined when it was not in `from` (someone else moved it). */
export async function moveImage(
  id: string,
  from: ImageState | readonly ImageState[],
  to: ImageState,
  fields: { progress?: number; error?: ImageError | null; jobId?: string; uploadId?: string | null; md5?: string; verified?: true } = {},
): Promise<SlideImageRecord | undefined> {
  const rows = await query(
    `UPDATE slide_image SET state = $3, updated_at = now(),
       progress = COALESCE($4, progress),
       error = CASE WHEN $5::boolean THEN $6::jsonb ELSE error END,
       job_id = COALESCE($7, job_id),
       upload_id = CASE WHEN $8::boolean THEN $9 ELSE upload_id END,
       md5 = COALESCE($10, md5),
       verified_at = CASE WHEN $11::boolean THEN now() ELSE verified_at END
     WHERE id = $1 AND state = ANY($2::text[]) RETURNING *`,
    [
      id, typeof from === 'string' ? [from] : from, to, fields.progress ?? null,
      'error' in fields, fields.error ? JSON.stringify(fields.error) : null,
      fields.jobId ?? null, 'uploadId' in fields, fields.uploadId ?? null, fields.md5 ?? null, fields.verified === true,
    ],
  );
  return rows[0] ? imageOf(rows[0]) : undefined;
}

/** The source found to match its upload by the workflow's first read: its md5 recorded, never read for it again. */
export async function recordVerified(id: string, jobId: string, md5: string): Promise<void> {
  await query(`UPDATE slide_image SET md5 = $3, verified_at = now(), updated_at = now() WHERE id = $1 AND job_id = $2 AND state = 'dicing'`, [id, jobId, md5]);
}

/** Progress of an image in `state` (a step of its workflow, bytes of its upload); never backwards. */
export async function recordProgress(id: string, state: ImageState, progress: number): Promise<void> {
  await query('UPDATE slide_image SET progress = GREATEST(progress, $3), updated_at = now() WHERE id = $1 AND state = $2', [id, state, progress]);
}

/** A chunk received in order: the bytes so far and the part it made, only if no other chunk moved them meanwhile. */
export async function recordChunk(id: string, fromBytes: number, toBytes: number, part: { partNumber: number; etag: string }, progress: number): Promise<boolean> {
  const rows = await query(
    `UPDATE slide_image SET received_bytes = $3, chunk_parts = chunk_parts || $4::jsonb, progress = $5, updated_at = now()
     WHERE id = $1 AND state = 'uploading' AND chunked AND received_bytes = $2 RETURNING id`,
    [id, fromBytes, toBytes, JSON.stringify([part]), progress],
  );
  return rows.length === 1;
}

/** The pyramid's metadata, and the image ready. */
export async function completeImage(id: string, jobId: string, metadata: SlideMetadata): Promise<SlideImageRecord | undefined> {
  const rows = await query(
    `UPDATE slide_image SET state = 'ready', progress = 100, width = $3, height = $4, levels = $5, tile_size = $6, format = $7, bytes = $8,
       error = NULL, updated_at = now()
     WHERE id = $1 AND job_id = $2 AND state = 'dicing' RETURNING *`,
    [id, jobId, metadata.width, metadata.height, metadata.levels, metadata.tileSize, metadata.format, metadata.bytes],
  );
  return rows[0] ? imageOf(rows[0]) : undefined;
}

/** Levels and size known once the pyramid is published (before the thumbnails). */
export async function recordLevels(id: string, jobId: string, fields: { width: number; height: number; levels: number; tileSize: number }): Promise<void> {
  await query(
    `UPDATE slide_image SET width = $3, height = $4, levels = $5, tile_size = $6, progress = GREATEST(progress, 85), updated_at = now()
     WHERE id = $1 AND job_id = $2 AND state = 'dicing'`,
    [id, jobId, fields.width, fields.height, fields.levels, fields.tileSize],
  );
}

/** Images in `state` not updated for `olderThanSeconds`, oldest first. */
export async function imagesIn(state: ImageState, olderThanSeconds: number, limit = 500): Promise<SlideImageRecord[]> {
  const rows = await query(
    `SELECT * FROM slide_image WHERE state = $1 AND updated_at < now() - make_interval(secs => $2) ORDER BY updated_at LIMIT $3`,
    [state, olderThanSeconds, limit],
  );
  return rows.map(imageOf);
}

/** Which of these source keys some image already has. */
export async function knownKeys(keys: readonly string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await query<{ s3_key: string }>('SELECT s3_key FROM slide_image WHERE s3_key = ANY($1::text[])', [keys]);
  return new Set(rows.map((r) => r.s3_key));
}

/** The workflow of job `jobId` failed: the image says so, unless a newer run has it. */
export async function failImage(id: string, jobId: string, error: ImageError): Promise<SlideImageRecord | undefined> {
  const rows = await query(
    `UPDATE slide_image SET state = 'failed', error = $3::jsonb, updated_at = now() WHERE id = $1 AND job_id = $2 AND state = 'dicing' RETURNING *`,
    [id, jobId, JSON.stringify(error)],
  );
  return rows[0] ? imageOf(rows[0]) : undefined;
}

/** Ready images, the longest unchecked first. */
export async function readyToCheck(limit: number): Promise<SlideImageRecord[]> {
  const rows = await query(`SELECT * FROM slide_image WHERE state = 'ready' ORDER BY checked_at NULLS FIRST, id LIMIT $1`, [limit]);
  return rows.map(imageOf);
}

export async function markChecked(ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await query(`UPDATE slide_image SET checked_at = now() WHERE id = ANY($1::uuid[]) AND state = 'ready'`, [ids]);
}
