// The release queue: what has been computed and waits for an admin to release it to clients.
import { conflict, notFound } from '../lib/errors.ts';
import { query } from '../lib/pg.ts';

/** Of these videos, the ones ingested and not yet released. */
export async function unreleasedVideos(videoIds: readonly string[]): Promise<Set<string>> {
  if (videoIds.length === 0) return new Set();
  const rows = await query<{ id: string }>(
    `SELECT id FROM video WHERE id = ANY ($1::uuid[]) AND status = 'ingested' AND released_at IS NULL`,
    [videoIds],
  );
  return new Set(rows.map((r) => r.id));
}

/** Of these det_groups, the ones not yet released. */
export async function unreleasedDetGroups(detGroupIds: readonly string[]): Promise<Set<string>> {
  if (detGroupIds.length === 0) return new Set();
  const rows = await query<{ id: string }>(`SELECT id FROM det_group WHERE id = ANY ($1::uuid[]) AND released_at IS NULL`, [detGroupIds]);
  return new Set(rows.map((r) => r.id));
}

export async function releaseVideo(videoId: string): Promise<{ videoId: string; releasedAt: string }> {
  const rows = await query<{ status: string; released_at: Date | null }>('SELECT status, released_at FROM video WHERE id = $1', [videoId]);
  const video = rows[0];
  if (!video) throw notFound('video', videoId);
  if (video.status !== 'ingested') throw conflict(`video ${videoId} is ${video.status}: only an ingested video can be released`, { status: video.status });
  const out = await query<{ released_at: Date }>(
    'UPDATE video SET released_at = COALESCE(released_at, now()) WHERE id = $1 RETURNING released_at',
    [videoId],
  );
  return { videoId, releasedAt: out[0]!.released_at.toISOString() };
}

export async function releaseDetGroup(detGroupId: string): Promise<{ detGroupId: string; releasedAt: string }> {
  const out = await query<{ released_at: Date }>(
    'UPDATE det_group SET released_at = COALESCE(released_at, now()) WHERE id = $1 RETURNING released_at',
    [detGroupId],
  );
  if (!out[0]) throw notFound('det_group', detGroupId);
  return { detGroupId, releasedAt: out[0].released_at.toISOString() };
}
