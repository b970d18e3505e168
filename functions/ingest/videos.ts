// The ingest context's view of the catalog's video table.
import { query, transaction } from '../lib/pg.ts';
import { notFound } from '../lib/errors.ts';
import type { VideoProbe } from './probe-result.ts';

/** Uploaded objects live at `videos/{videoId}/source`; anything else under videos/ is not an upload. */
export function videoIdFromKey(key: string): string | undefined {
  return /^videos\/([0-9a-f-]{36})\/source$/.exec(key)?.[1];
}

export interface IngestVideo {
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

export async function getIngestVideo(videoId: string): Promise<IngestVideo> {
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

export async function videoExists(videoId: string): Promise<boolean> {
  return (await query('SELECT 1 FROM video WHERE id = $1', [videoId])).length > 0;
}

export async function markUploaded(videoId: string, key: string, sizeBytes: number): Promise<void> {
  await query(`UPDATE video SET status = 'uploaded', s3_key = $2, size_bytes = $3 WHERE id = $1`, [videoId, key, sizeBytes]);
}

export async function recordProbe(videoId: string, p: VideoProbe): Promise<void> {
  await query(
    `UPDATE video SET status = 'probed', duration_seconds = $2, frame_rate = $3, width = $4, height = $5, codec = $6, probed_at = now()
     WHERE id = $1`,
    [videoId, p.durationSeconds, p.frameRate, p.width, p.height, p.codec],
  );
}

/** The detectables found in the video's localizations, replacing what an earlier ingest found. */
export async function setVideoDetectables(videoId: string, detectableIds: readonly string[]): Promise<void> {
  await transaction(async (c) => {
    await c.query('DELETE FROM video_detectable WHERE video_id = $1', [videoId]);
    if (detectableIds.length > 0) {
      await c.query('INSERT INTO video_detectable (video_id, detectable_id) SELECT $1, unnest($2::uuid[])', [videoId, detectableIds]);
    }
  });
}

/**
 * Frames and localizations of `run` are in place. Committed before the ingest reads the det_groups, so that a
 * det_group created meanwhile is either read by this ingest or finds this video ready when its own job lists
 * videos (and computes it for this run).
 */
export async function markMetricsReady(videoId: string, frameCount: number, run: string): Promise<void> {
  await query('UPDATE video SET frame_count = $2, metrics_ready_at = now(), metrics_run = $3 WHERE id = $1', [videoId, frameCount, run]);
}

export async function markFailed(videoId: string): Promise<void> {
  await query(`UPDATE video SET status = 'failed' WHERE id = $1`, [videoId]);
}

/**
 * The run completed: its results are the video's (what operators read, and what a release pins). A run that a
 * newer one has replaced in the meantime (its frames are in place) does not become the video's results.
 */
export async function markIngested(videoId: string, run: string): Promise<boolean> {
  const rows = await query(
    `UPDATE video SET status = 'ingested', ingested_at = now(), ingested_run = $2 WHERE id = $1 AND metrics_run = $2 RETURNING id`,
    [videoId, run],
  );
  return rows.length > 0;
}
