// The release queue: what has been computed and waits for an admin to release it to clients. Only what was
// computed completely is released: a video whose last ingest succeeded (its run is pinned: clients keep seeing
// it until an admin releases a newer run), a det_group whose results exist for every video it applies to.
import { conflict, notFound } from '../lib/errors.ts';
import { query } from '../lib/pg.ts';
import { detGroupAppliesSql } from '../catalog/det-group-videos.ts';
import { pinReleasedRun } from '../catalog/video-lifecycle.ts';
import { keptRuns, removeUnkeptRuns, videoRuns } from '../analytics/runs.ts';
import { incompleteResults, type ResultsKey, type Run } from '../analytics/store.ts';

/** Of these det_groups, the ones not yet released. */
export async function unreleasedDetGroups(detGroupIds: readonly string[]): Promise<Set<string>> {
  if (detGroupIds.length === 0) return new Set();
  const rows = await query<{ id: string }>(`SELECT id FROM det_group WHERE id = ANY ($1::uuid[]) AND released_at IS NULL`, [detGroupIds]);
  return new Set(rows.map((r) => r.id));
}

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

/** What a det_group's results are for: the run operators read, and (when another) the run clients read. */
interface NeededResults extends ResultsKey {
  readonly readers: 'operators' | 'clients';
}

/** The results a det_group must have before it is released: for each ingested video it applies to, of each run someone reads. */
async function resultsToRelease(detGroupId: string): Promise<NeededResults[]> {
  const rows = await query<{ id: string; ingested_run: Run; released: boolean; released_run: Run }>(
    `SELECT v.id, v.ingested_run, v.released_at IS NOT NULL AS released, v.released_run
       FROM video v
      WHERE v.ingested_at IS NOT NULL
        AND ${detGroupAppliesSql('$1')}
      ORDER BY v.id`,
    [detGroupId],
  );
  return rows.flatMap((r): NeededResults[] => [
    { videoId: r.id, run: r.ingested_run, detGroupId, readers: 'operators' },
    ...(r.released && r.released_run !== r.ingested_run ? [{ videoId: r.id, run: r.released_run, detGroupId, readers: 'clients' as const }] : []),
  ]);
}

const listed = (ids: readonly string[]) => `${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''}`;

/**
 * Releases a det_group to the clients that hold it, once it is computed completely: its results exist for every
 * video it applies to, in the run operators read and in the run clients read (else 409 naming those videos, and
 * nothing changes). Releasing it again changes nothing.
 */
export async function releaseDetGroup(detGroupId: string): Promise<{ detGroupId: string; releasedAt: string }> {
  const rows = await query<{ released_at: Date | null }>('SELECT released_at FROM det_group WHERE id = $1', [detGroupId]);
  if (!rows[0]) throw notFound('det_group', detGroupId);
  if (rows[0].released_at) return { detGroupId, releasedAt: rows[0].released_at.toISOString() };
  const needed = await resultsToRelease(detGroupId);
  const missing = new Set(await incompleteResults(needed));
  const notComputed = needed.filter((n) => missing.has(n) && n.readers === 'operators').map((n) => n.videoId);
  const olderRun = needed.filter((n) => missing.has(n) && n.readers === 'clients').map((n) => n.videoId);
  if (notComputed.length > 0 || olderRun.length > 0) {
    const reasons = [
      ...(notComputed.length > 0
        ? [`its results are missing for ${notComputed.length} video(s) it applies to (${listed(notComputed)}): release it once its det-group job has succeeded (requeue it if it failed)`]
        : []),
      ...(olderRun.length > 0
        ? [`${olderRun.length} released video(s) (${listed(olderRun)}) show clients an earlier run without it: release their new results first`]
        : []),
    ];
    throw conflict(`det_group ${detGroupId} is not computed completely: ${reasons.join('; ')}`, { notComputed, releasedRunWithout: olderRun });
  }
  const out = await query<{ released_at: Date }>(
    'UPDATE det_group SET released_at = COALESCE(released_at, now()) WHERE id = $1 RETURNING released_at',
    [detGroupId],
  );
  if (!out[0]) throw notFound('det_group', detGroupId);
  return { detGroupId, releasedAt: out[0].released_at.toISOString() };
}
