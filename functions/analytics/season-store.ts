// Catalog reads for the season and game endpoints: versions for cache keys, what a client may see, the season's metadata.
import { query } from '../lib/pg.ts';
import type { Run } from './store.ts';

/** updated_at as microseconds since the epoch, as text: the version part of cache keys (a Date would lose microseconds). */
const micros = (column: string) => `(extract(epoch from ${column}) * 1000000)::bigint::text`;

export interface Versions {
  readonly seasonId: string;
  readonly seasonVersion: string;
  readonly clientVersion: string | null;
  /** The season is granted to the client (true when no client is asked for). */
  readonly granted: boolean;
}

export async function seasonVersions(seasonId: string, clientId: string | null): Promise<Versions | undefined> {
  const rows = await query<{ season_version: string; client_version: string | null; granted: boolean }>(
    `SELECT ${micros('s.updated_at')} AS season_version,
            (SELECT ${micros('c.updated_at')} FROM client c WHERE c.id = $2) AS client_version,
            ($2::uuid IS NULL OR EXISTS (SELECT 1 FROM client_season cs WHERE cs.client_id = $2 AND cs.season_id = s.id)) AS granted
       FROM season s WHERE s.id = $1`,
    [seasonId, clientId],
  );
  const r = rows[0];
  return r && { seasonId, seasonVersion: r.season_version, clientVersion: r.client_version, granted: r.granted };
}

export async function gameSeason(gameId: string): Promise<string | undefined> {
  return (await query<{ season_id: string }>('SELECT season_id FROM game WHERE id = $1', [gameId]))[0]?.season_id;
}

export interface VisibleDetGroup {
  readonly id: string;
  readonly name: string;
  readonly version: string;
}

/** The det_groups a client sees: granted to it and released. */
export async function visibleDetGroups(clientId: string): Promise<VisibleDetGroup[]> {
  return query<VisibleDetGroup>(
    `SELECT dg.id, dg.name, ${micros('dg.updated_at')} AS version
       FROM client_det_group cdg JOIN det_group dg ON dg.id = cdg.det_group_id
      WHERE cdg.client_id = $1 AND dg.released_at IS NOT NULL
      ORDER BY lower(dg.name), dg.id`,
    [clientId],
  );
}

export interface VisibleVideo {
  readonly gameId: string;
  readonly title: string;
  readonly startsAt: string;
  readonly videoId: string;
  /** The run of the video's ingest released to clients. */
  readonly run: Run;
}

/** Released, ingested videos of a season (or of one game), with their games and released runs, in game order. */
export async function releasedVideos(seasonId: string, gameId: string | null): Promise<VisibleVideo[]> {
  const rows = await query<{ game_id: string; title: string; starts_at: Date; video_id: string; run: Run }>(
    `SELECT g.id AS game_id, g.title, g.starts_at, v.id AS video_id, v.released_run AS run
       FROM game g JOIN video v ON v.game_id = g.id
      WHERE g.season_id = $1 AND ($2::uuid IS NULL OR g.id = $2) AND v.ingested_at IS NOT NULL AND v.released_at IS NOT NULL
      ORDER BY g.starts_at, g.id, v.created_at, v.id`,
    [seasonId, gameId],
  );
  return rows.map((r) => ({ gameId: r.game_id, title: r.title, startsAt: r.starts_at.toISOString(), videoId: r.video_id, run: r.run }));
}

/** The season with its league and sport, games, game teams, events and videos (only released ones in the `released` view). */
export async function seasonMeta(seasonId: string, releasedOnly: boolean): Promise<unknown> {
  const [season] = await query<Record<string, unknown>>(
    `SELECT s.id, s.name, s.starts_on::text AS "startsOn", s.ends_on::text AS "endsOn",
            json_build_object('id', l.id, 'name', l.name) AS league, json_build_object('id', sp.id, 'name', sp.name) AS sport
       FROM season s JOIN league l ON l.id = s.league_id JOIN sport sp ON sp.id = l.sport_id WHERE s.id = $1`,
    [seasonId],
  );
  const games = await query<Record<string, unknown>>(
    `SELECT g.id, g.title, g.starts_at AS "startsAt",
            COALESCE((SELECT json_agg(json_build_object('teamId', t.id, 'name', t.name, 'side', gt.side) ORDER BY gt.side DESC)
                        FROM game_team gt JOIN team t ON t.id = gt.team_id WHERE gt.game_id = g.id), '[]') AS teams,
            COALESCE((SELECT json_agg(json_build_object('id', e.id, 'eventTypeId', et.id, 'type', et.name, 'weight', et.weight::float8,
                                                        'windowSeconds', et.window_seconds::float8, 'time', e.time::float8) ORDER BY e.time, e.id)
                        FROM event e JOIN event_type et ON et.id = e.event_type_id WHERE e.game_id = g.id), '[]') AS events,
            COALESCE((SELECT jsonb_agg(jsonb_build_object('id', v.id, 'title', v.title, 'durationSeconds', v.duration_seconds::float8,
                                                        'frameRate', v.ingest_frame_rate::float8, 'releasedAt', v.released_at)
                                      || CASE WHEN $2 THEN '{}'::jsonb ELSE jsonb_build_object('status', v.status) END
                                      ORDER BY v.created_at, v.id)
                        FROM video v WHERE v.game_id = g.id AND (NOT $2 OR (v.released_at IS NOT NULL AND v.ingested_at IS NOT NULL))), '[]') AS videos
       FROM game g WHERE g.season_id = $1 ORDER BY g.starts_at, g.id`,
    [seasonId, releasedOnly],
  );
  return { season, games };
}

/** Touches (updated_at = now()) every season that shows the team, event type, league or sport: their cached metadata is rebuilt. */
export async function touchSeasons(by: { teamId?: string; eventTypeId?: string; leagueId?: string; sportId?: string }): Promise<string[]> {
  const rows = await query<{ id: string }>(
    `UPDATE season s SET updated_at = now()
      WHERE s.id IN (
        SELECT g.season_id FROM game g JOIN game_team gt ON gt.game_id = g.id WHERE gt.team_id = $1
        UNION SELECT g.season_id FROM game g JOIN event e ON e.game_id = g.id WHERE e.event_type_id = $2
        UNION SELECT id FROM season WHERE league_id = $3
        UNION SELECT s2.id FROM season s2 JOIN league l ON l.id = s2.league_id WHERE l.sport_id = $4)
      RETURNING s.id`,
    [by.teamId ?? null, by.eventTypeId ?? null, by.leagueId ?? null, by.sportId ?? null],
  );
  return rows.map((r) => r.id).sort();
}
