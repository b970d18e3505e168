// Releasing a det_group to the clients that hold it: only once it is computed completely, its results existing
// for every video it applies to.
import { conflict, notFound } from '../lib/errors.ts';
import { query } from '../lib/pg.ts';
import { detGroupReleasedAt, markDetGroupReleased } from '../catalog/det-group-release.ts';
import { detGroupAppliesSql } from '../catalog/det-group-videos.ts';
import { NO_FRAMES, type Bucket } from '../analytics/rollup.ts';
import { incompleteResults, readRollups, type ResultsKey, type Run } from '../analytics/store.ts';

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
  const released = await detGroupReleasedAt(detGroupId);
  if (released === undefined) throw notFound('det_group', detGroupId);
  if (released) return { detGroupId, releasedAt: released.toISOString() };
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
  const releasedAt = await markDetGroupReleased(detGroupId);
  if (!releasedAt) throw notFound('det_group', detGroupId);
  return { detGroupId, releasedAt: releasedAt.toISOString() };
}

export interface DetGroupReview {
  readonly detGroupId: string;
  readonly name: string;
  /** When it was released to its clients; null while it is not. */
  readonly releasedAt: string | null;
  /** Each ingested video it applies to, by title: its whole-video totals in the run operators read, null while not computed. */
  readonly videos: { videoId: string; title: string | null; totals: Bucket | null }[];
}

/** What releasing a det_group would show its clients, video by video. */
export async function reviewDetGroup(detGroupId: string): Promise<DetGroupReview> {
  const groups = await query<{ name: string; released_at: Date | null }>('SELECT name, released_at FROM det_group WHERE id = $1', [detGroupId]);
  const group = groups[0];
  if (!group) throw notFound('det_group', detGroupId);
  const videos = await query<{ id: string; title: string | null; ingested_run: Run }>(
    `SELECT v.id, v.title, v.ingested_run FROM video v WHERE v.ingested_at IS NOT NULL AND ${detGroupAppliesSql('$1')} ORDER BY v.title, v.id`,
    [detGroupId],
  );
  const rollups = await readRollups(videos.map((v) => ({ videoId: v.id, run: v.ingested_run, detGroupId })), 'video');
  return {
    detGroupId,
    name: group.name,
    releasedAt: group.released_at?.toISOString() ?? null,
    videos: videos.map((v) => {
      const rollup = rollups.get(`${v.id}:${detGroupId}`);
      return { videoId: v.id, title: v.title, totals: rollup ? (rollup.buckets[0] ?? NO_FRAMES) : null };
    }),
  };
}
