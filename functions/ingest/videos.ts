// What the ingest records about a video besides its lifecycle (that is the catalog's: catalog/video-lifecycle.ts).
import { query, transaction } from '../lib/pg.ts';

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
