// Releasing a video's results to clients: only a video whose last ingest succeeded is released; its run is then
// pinned, and clients keep seeing it until an admin releases a newer run.
import { conflict, notFound } from '../lib/errors.ts';
import { query } from '../lib/pg.ts';
import { pinReleasedRun } from '../catalog/video-lifecycle.ts';
import { keptRuns, removeUnkeptRuns, videoRuns } from './runs.ts';

/**
 * Releases the video's last completed run to clients; the run they saw before is then read by nobody and goes.
 * Releasing the run already released changes nothing.
 */
export async function releaseVideo(videoId: string): Promise<{ videoId: string; releasedAt: string }> {
  const before = await videoRuns(videoId);
  if (!before) throw notFound('video', videoId);
  const pinnedAt = await pinReleasedRun(videoId);
  if (pinnedAt) await removeUnkeptRuns(videoId, keptRuns(before));
  const rows = await query<{ status: string; released_at: Date | null }>('SELECT status, released_at FROM video WHERE id = $1', [videoId]);
  const video = rows[0];
  if (!video) throw notFound('video', videoId);
  if (!pinnedAt && video.status !== 'ingested') {
    throw conflict(`video ${videoId} is ${video.status}: only a video whose last ingest succeeded can be released`, { status: video.status });
  }
  return { videoId, releasedAt: (pinnedAt ?? video.released_at)!.toISOString() };
}
