// The ingest context's view of the catalog's video table (its moves are the catalog's: catalog/video-lifecycle.ts).
import { query, transaction } from '../lib/pg.ts';
import { notFound } from '../lib/errors.ts';

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

/** The detectables found in the video's localizations, replacing what an earlier ingest found. */
export async function setVideoDetectables(videoId: string, detectableIds: readonly string[]): Promise<void> {
  await transaction(async (c) => {
    await c.query('DELETE FROM video_detectable WHERE video_id = $1', [videoId]);
    if (detectableIds.length > 0) {
      await c.query('INSERT INTO video_detectable (video_id, detectable_id) SELECT $1, unnest($2::uuid[])', [videoId, detectableIds]);
    }
  });
}
