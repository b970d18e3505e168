// Released metrics without ffmpeg: catalog rows written through SQL and metric documents straight into MongoDB,
// shaped as the ingest writes them (functions/analytics/store.ts). For tests and benches that need many games.
import type { MongoClient } from 'mongodb';
import pg from 'pg';
import { hashApiKey, newApiKey } from '../../functions/lib/auth.ts';
import { rollupId } from '../../functions/analytics/store.ts';
import { RESOLUTIONS, rollup, type Resolution } from '../../functions/analytics/rollup.ts';
import { seededRandom } from './random.ts';

/** The ingest run of every fixture video. */
export const FIXTURE_RUN = 'ingest-fixture';

export class SeasonFixture {
  constructor(
    readonly db: pg.Client,
    readonly mongo: MongoClient,
    readonly mongoDatabase = 'framewise',
  ) {}

  static async connect(postgresUrl: string, mongo: MongoClient): Promise<SeasonFixture> {
    const db = new pg.Client({ connectionString: postgresUrl });
    await db.connect();
    return new SeasonFixture(db, mongo);
  }

  close(): Promise<void> {
    return this.db.end();
  }

  private async one(sql: string, values: unknown[] = []): Promise<string> {
    return (await this.db.query<{ id: string }>(sql, values)).rows[0]!.id;
  }

  async season(name: string): Promise<{ sportId: string; leagueId: string; seasonId: string }> {
    const sportId = await this.one('INSERT INTO sport (name) VALUES ($1) RETURNING id', [`Sport ${name}`]);
    const leagueId = await this.one('INSERT INTO league (sport_id, name) VALUES ($1, $2) RETURNING id', [sportId, `League ${name}`]);
    const seasonId = await this.one('INSERT INTO season (league_id, name) VALUES ($1, $2) RETURNING id', [leagueId, name]);
    return { sportId, leagueId, seasonId };
  }

  game(seasonId: string, title: string, startsAt: Date): Promise<string> {
    return this.one('INSERT INTO game (season_id, title, starts_at) VALUES ($1, $2, $3) RETURNING id', [seasonId, title, startsAt]);
  }

  /** An ingested video (5 fps) whose one ingest run is FIXTURE_RUN; released unless told otherwise. */
  video(gameId: string, title: string, o: { seconds: number; released?: boolean }): Promise<string> {
    return this.one(
      `INSERT INTO video (game_id, title, status, duration_seconds, frame_rate, width, height, ingest_frame_rate, frame_count,
                          metrics_ready_at, metrics_run, ingested_at, ingested_run, released_at, released_run)
       VALUES ($1, $2, 'ingested', $3, 25, 320, 240, 5, $4, now(), $6, now(), $6, CASE WHEN $5 THEN now() END, CASE WHEN $5 THEN $6 END) RETURNING id`,
      [gameId, title, o.seconds, o.seconds * 5, o.released !== false, FIXTURE_RUN],
    );
  }

  detGroup(name: string, released = true): Promise<string> {
    return this.one('INSERT INTO det_group (name, released_at) VALUES ($1, CASE WHEN $2 THEN now() END) RETURNING id', [name, released]);
  }

  async client(name: string): Promise<string> {
    const org = await this.one('INSERT INTO organization (name) VALUES ($1) RETURNING id', [`Org ${name}`]);
    return this.one('INSERT INTO client (organization_id, name) VALUES ($1, $2) RETURNING id', [org, name]);
  }

  async grant(clientId: string, what: { seasonId?: string; detGroupId?: string }): Promise<void> {
    if (what.seasonId) await this.db.query('INSERT INTO client_season (client_id, season_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [clientId, what.seasonId]);
    if (what.detGroupId) await this.db.query('INSERT INTO client_det_group (client_id, det_group_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [clientId, what.detGroupId]);
  }

  /** A client API key (stored hashed, as POST /v1/api-keys does). */
  async clientKey(clientId: string): Promise<string> {
    const key = newApiKey();
    await this.db.query(`INSERT INTO api_keys (name, role, client_id, key_hash, key_prefix) VALUES ('fixture', 'client', $1, $2, $3)`, [clientId, hashApiKey(key), key.slice(0, 8)]);
    return key;
  }

  /** Rollup documents of {video, FIXTURE_RUN, det_group} from a random frame series of `seconds` at 5 fps, at the given resolutions. */
  async metrics(videoId: string, detGroupId: string, o: { seconds: number; seed: number; resolutions?: readonly Resolution[] }): Promise<void> {
    const fps = 5;
    const random = seededRandom(o.seed);
    const frames = Array.from({ length: o.seconds * fps }, (_, n) => {
      const count = random() < 0.6 ? 1 + Math.floor(random() * 3) : 0;
      const area = count > 0 ? random() * 0.05 : 0;
      return { time: n / fps, count, area, effectiveness: area * random() };
    });
    const computedAt = new Date();
    const rollups = this.mongo.db(this.mongoDatabase).collection('rollups');
    for (const resolution of o.resolutions ?? RESOLUTIONS) {
      const _id = rollupId({ videoId, run: FIXTURE_RUN, detGroupId }, resolution);
      const doc = { _id, videoId, run: FIXTURE_RUN, detGroupId, resolution: String(resolution), frameRate: fps, computedAt, buckets: rollup(frames, fps, resolution) };
      await rollups.replaceOne({ _id }, doc, { upsert: true });
    }
  }
}
