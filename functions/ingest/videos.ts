// The ingest context's view of the catalog's video table.
import { query } from '../lib/pg.ts';
import type { VideoProbe } from './probe-result.ts';

/** Uploaded objects live at `videos/{videoId}/source`; anything else under videos/ is not an upload. */
export function videoIdFromKey(key: string): string | undefined {
  return /^videos\/([0-9a-f-]{36})\/source$/.exec(key)?.[1];
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
