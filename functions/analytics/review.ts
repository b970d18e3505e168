// What an operator looks at before releasing a video: for each det_group with results in the video's last completed
// ingest, its totals over the whole video, and what clients see now (the video's and each det_group's release).
import { notFound } from '../lib/errors.ts';
import { query } from '../lib/pg.ts';
import type { Bucket } from './rollup.ts';
import { videoRuns } from './runs.ts';
import { readVideoTotals } from './store.ts';

export interface DetGroupReview {
  readonly detGroupId: string;
  readonly name: string;
  /** When the det_group was released to its clients; null while it is not. */
  readonly releasedAt: string | null;
  /** The det_group's one bucket over the whole video. */
  readonly totals: Bucket;
}

export interface VideoReview {
  readonly videoId: string;
  readonly status: string;
  /** When a run of this video was last released to clients; null if never. */
  readonly releasedAt: string | null;
  /** True when clients already see the run shown here. */
  readonly runReleased: boolean;
  /** By name; empty while no ingest of the video has completed. */
  readonly detGroups: DetGroupReview[];
}

export async function reviewVideo(videoId: string): Promise<VideoReview> {
  const runs = await videoRuns(videoId);
  const rows = await query<{ status: string; released_at: Date | null }>('SELECT status, released_at FROM video WHERE id = $1', [videoId]);
  const video = rows[0];
  if (!runs || !video) throw notFound('video', videoId);
  const base = { videoId, status: video.status, releasedAt: video.released_at?.toISOString() ?? null };
  if (runs.ingested === undefined) return { ...base, runReleased: false, detGroups: [] };
  const totals = await readVideoTotals(videoId, runs.ingested);
  const groups = await query<{ id: string; name: string; released_at: Date | null }>(
    'SELECT id, name, released_at FROM det_group WHERE id = ANY($1::uuid[]) ORDER BY name, id',
    [[...totals.keys()]],
  );
  return {
    ...base,
    runReleased: runs.released !== undefined && runs.released === runs.ingested,
    // a det_group deleted since its results were computed has no row, and clients can no longer see it
    detGroups: groups.map((g) => ({ detGroupId: g.id, name: g.name, releasedAt: g.released_at?.toISOString() ?? null, totals: totals.get(g.id)! })),
  };
}
