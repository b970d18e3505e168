// A video's life, owned here: its statuses, the S3 keys of its source and localizations, the one read of its state
// and every write that moves it on. The catalog starts its upload; ingest records the object's arrival, its probe, its metrics and its
// outcome; a release pins the run clients see. Those contexts call these functions: none writes a video's status
// or parses its keys itself.
import { notFound } from '../lib/errors.ts';
import { query } from '../lib/pg.ts';

export const VIDEO_STATUSES = ['created', 'uploading', 'uploaded', 'probed', 'ingested', 'failed'] as const;
export type VideoStatus = (typeof VIDEO_STATUSES)[number];

/** Statuses from which an upload may (re)start; after 'uploaded' the object is in and ingest owns the video. */
export const UPLOADABLE_STATUSES = ['created', 'uploading', 'failed'] as const satisfies readonly VideoStatus[];

// ---- its objects in the media bucket ----

/** Where a video's uploaded source lives. */
export const videoSourceKey = (videoId: string): string => `videos/${videoId}/source`;
/** Where a video's localizations (the detector's boxes per frame) live. */
export const localizationsKey = (videoId: string): string => `localizations/${videoId}/localizations.json`;

/** The video whose source this key is; anything else under videos/ is not an upload. */
export function videoIdFromKey(key: string): string | undefined {
  return /^videos\/([0-9a-f-]{36})\/source$/.exec(key)?.[1];
}

// ---- its state ----

/** A video as the pipeline reads it: where its objects are, how it is ingested, and how far. */
export interface VideoState {
  readonly id: string;
  readonly gameId: string;
  readonly status: string;
  readonly s3Key: string | null;
  readonly localizationsKey: string | null;
  /** class index -> label */
  readonly labelMapping: Record<string, string> | null;
  readonly ingestFrameRate: number;
  readonly ingestThreshold: number;
  readonly durationSeconds: number | null;
  readonly frameCount: number | null;
  /** The ingest run whose frames and localizations are in place (null: one from before runs were named). */
  readonly metricsRun: string | null;
}

export async function getVideoState(videoId: string): Promise<VideoState> {
  const rows = await query<{
    id: string; game_id: string; status: string; s3_key: string | null; localizations_key: string | null;
    label_mapping: Record<string, string> | null; ingest_frame_rate: string; ingest_threshold: string;
    duration_seconds: string | null; frame_count: number | null; metrics_run: string | null;
  }>(
    `SELECT id, game_id, status, s3_key, localizations_key, label_mapping, ingest_frame_rate, ingest_threshold,
            duration_seconds, frame_count, metrics_run FROM video WHERE id = $1`,
    [videoId],
  );
  const r = rows[0];
  if (!r) throw notFound('video', videoId);
  return {
    id: r.id,
    gameId: r.game_id,
    status: r.status,
    s3Key: r.s3_key,
    localizationsKey: r.localizations_key,
    labelMapping: r.label_mapping,
    ingestFrameRate: Number(r.ingest_frame_rate),
    ingestThreshold: Number(r.ingest_threshold),
    durationSeconds: r.duration_seconds === null ? null : Number(r.duration_seconds),
    frameCount: r.frame_count,
    metricsRun: r.metrics_run,
  };
}

// ---- the moves ----

/**
 * created / uploading / failed → uploading: an upload of the source begins. False when the video moved on
 * meanwhile (it is not uploadable any more), and then nothing changed.
 */
export async function recordUploadStart(
  videoId: string,
  upload: { contentType: string; sizeBytes: number; frameRate?: number; threshold?: number },
): Promise<boolean> {
  const updated = await query(
    `UPDATE video SET status = 'uploading', s3_key = $2, content_type = $3, size_bytes = $4,
            ingest_frame_rate = COALESCE($6, ingest_frame_rate), ingest_threshold = COALESCE($7, ingest_threshold)
      WHERE id = $1 AND status = ANY ($5::text[]) RETURNING id`,
    [videoId, videoSourceKey(videoId), upload.contentType, upload.sizeBytes, UPLOADABLE_STATUSES, upload.frameRate ?? null, upload.threshold ?? null],
  );
  return updated.length > 0;
}

/** The localizations' upload begins (with the label map that names their classes); the next ingest reads them. */
export async function recordLocalizationsUpload(videoId: string, labelMapping: Record<string, string> | undefined): Promise<void> {
  await query('UPDATE video SET localizations_key = $2, label_mapping = $3 WHERE id = $1', [
    videoId,
    localizationsKey(videoId),
    labelMapping ? JSON.stringify(labelMapping) : null,
  ]);
}

/** → uploaded: the source object arrived (as S3 holds it now). */
export async function markUploaded(videoId: string, key: string, sizeBytes: number): Promise<void> {
  await query(`UPDATE video SET status = 'uploaded', s3_key = $2, size_bytes = $3 WHERE id = $1`, [videoId, key, sizeBytes]);
}

/** What probing the source found. */
export interface VideoMedia {
  readonly durationSeconds: number;
  readonly frameRate: number;
  readonly width: number;
  readonly height: number;
  readonly codec: string;
}

/** → probed. */
export async function recordProbe(videoId: string, media: VideoMedia): Promise<void> {
  await query(
    `UPDATE video SET status = 'probed', duration_seconds = $2, frame_rate = $3, width = $4, height = $5, codec = $6, probed_at = now()
     WHERE id = $1`,
    [videoId, media.durationSeconds, media.frameRate, media.width, media.height, media.codec],
  );
}

/**
 * Frames and localizations of `run` are in place. Committed before the ingest reads the det_groups, so that a
 * det_group created meanwhile is either read by this ingest or finds this video ready when its own job lists
 * videos (and computes it for this run).
 */
export async function markMetricsReady(videoId: string, frameCount: number, run: string): Promise<void> {
  await query('UPDATE video SET frame_count = $2, metrics_ready_at = now(), metrics_run = $3 WHERE id = $1', [videoId, frameCount, run]);
}

/** → failed: its ingest failed for good. */
export async function markFailed(videoId: string): Promise<void> {
  await query(`UPDATE video SET status = 'failed' WHERE id = $1`, [videoId]);
}

/**
 * → ingested: the run completed, and its results are the video's (what operators read, and what a release pins).
 * A run that a newer one has replaced in the meantime (its frames are in place) does not become the video's results.
 */
export async function markIngested(videoId: string, run: string): Promise<boolean> {
  const rows = await query(
    `UPDATE video SET status = 'ingested', ingested_at = now(), ingested_run = $2 WHERE id = $1 AND metrics_run = $2 RETURNING id`,
    [videoId, run],
  );
  return rows.length > 0;
}

/** A video waits for release when its last ingest succeeded and clients do not see that run (never released, or re-run since). */
const WAITS_FOR_RELEASE = `status = 'ingested' AND (released_at IS NULL OR released_run IS DISTINCT FROM ingested_run)`;

/** Of these videos, the ones waiting for release. */
export async function unreleasedVideos(videoIds: readonly string[]): Promise<Set<string>> {
  if (videoIds.length === 0) return new Set();
  const rows = await query<{ id: string }>(`SELECT id FROM video WHERE id = ANY ($1::uuid[]) AND ${WAITS_FOR_RELEASE}`, [videoIds]);
  return new Set(rows.map((r) => r.id));
}

/**
 * Pins the video's last completed run as the one clients see. Undefined when nothing waited for release (the run
 * is released already, or none completed): then nothing changed.
 */
export async function pinReleasedRun(videoId: string): Promise<Date | undefined> {
  const pinned = await query<{ released_at: Date }>(
    `UPDATE video SET released_run = ingested_run, released_at = now() WHERE id = $1 AND ${WAITS_FOR_RELEASE} RETURNING released_at`,
    [videoId],
  );
  return pinned[0]?.released_at;
}
