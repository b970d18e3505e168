// A det_group's release state: whether its clients see its results. The release queue (GET /v1/jobs?state=releasable)
// reads it; a det_group's release (detgroups) sets it once the det_group is computed completely.
import { query } from '../lib/pg.ts';

/** Of these det_groups, the ones not yet released. */
export async function unreleasedDetGroups(detGroupIds: readonly string[]): Promise<Set<string>> {
  if (detGroupIds.length === 0) return new Set();
  const rows = await query<{ id: string }>(`SELECT id FROM det_group WHERE id = ANY ($1::uuid[]) AND released_at IS NULL`, [detGroupIds]);
  return new Set(rows.map((r) => r.id));
}

/** When the det_group was released: null when it was not; undefined when there is no such det_group. */
export async function detGroupReleasedAt(detGroupId: string): Promise<Date | null | undefined> {
  const rows = await query<{ released_at: Date | null }>('SELECT released_at FROM det_group WHERE id = $1', [detGroupId]);
  return rows[0] ? rows[0].released_at : undefined;
}

/** Releases the det_group (a second release keeps the first time); undefined when there is no such det_group. */
export async function markDetGroupReleased(detGroupId: string): Promise<Date | undefined> {
  const rows = await query<{ released_at: Date }>(
    'UPDATE det_group SET released_at = COALESCE(released_at, now()) WHERE id = $1 RETURNING released_at',
    [detGroupId],
  );
  return rows[0]?.released_at;
}
