// Who may read a video's metrics for a det_group, and which run of the video's ingest they read. Nobody reads a
// video no ingest has completed (a failed one may have left some documents). Operators (admin, analyst) read
// the run that completed last; a client reads {video, det_group} only when both are released and the det_group
// and the video's season are granted to it, and then the run an admin released.
import type { Principal } from '../lib/auth.ts';
import { notFound } from '../lib/errors.ts';
import { query } from '../lib/pg.ts';
import type { ResultsKey, Run } from './store.ts';

export async function readableResults(principal: Principal, videoId: string, detGroupId: string): Promise<ResultsKey> {
  const client = principal.role === 'client';
  const rows = await query<{ visible: boolean; run: Run }>(
    `SELECT v.ingested_at IS NOT NULL AND ((NOT $3::boolean) OR (
              v.released_at IS NOT NULL AND dg.released_at IS NOT NULL
              AND EXISTS (SELECT 1 FROM client_det_group cdg WHERE cdg.client_id = $4 AND cdg.det_group_id = dg.id)
              AND EXISTS (SELECT 1 FROM client_season cs WHERE cs.client_id = $4 AND cs.season_id = g.season_id)
            )) AS visible,
            CASE WHEN $3::boolean THEN v.released_run ELSE v.ingested_run END AS run
       FROM video v JOIN game g ON g.id = v.game_id, det_group dg
      WHERE v.id = $1 AND dg.id = $2`,
    [videoId, detGroupId, client, principal.clientId],
  );
  // Not visible is not found: a client learns nothing about what it was not granted.
  if (!rows[0]?.visible) throw notFound(`metrics of video ${videoId} for det_group`, detGroupId);
  return { videoId, run: rows[0].run, detGroupId };
}
