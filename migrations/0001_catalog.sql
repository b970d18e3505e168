-- Catalog: organizations, clients, detectables and brand groups, sports, leagues, teams, seasons,
-- games, events, videos, client access and API keys.
--
-- Every table has created_at / updated_at; a BEFORE UPDATE trigger keeps updated_at. `updated_at` of a
-- season and of a client drive cache keys, so the "touch rules" below are triggers: no code path can
-- forget them.
--
-- Deletes: relation rows go with their owner (ON DELETE CASCADE from client, game, det_group); a row that
-- others still reference cannot be deleted (ON DELETE RESTRICT, a 409 Conflict in the API).

CREATE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END $$;

CREATE TABLE organization (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name       text NOT NULL CHECK (length(btrim(name)) > 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE client (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id uuid NOT NULL REFERENCES organization (id) ON DELETE RESTRICT,
  name            text NOT NULL CHECK (length(btrim(name)) > 0),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX client_organization_id_idx ON client (organization_id);

-- Something a detector finds in a frame, e.g. a brand logo.
CREATE TABLE detectable (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL CHECK (length(btrim(name)) > 0),
  description text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX detectable_name_key ON detectable (lower(name));

CREATE TABLE client_detectable (
  client_id     uuid NOT NULL REFERENCES client (id) ON DELETE CASCADE,
  detectable_id uuid NOT NULL REFERENCES detectable (id) ON DELETE RESTRICT,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (client_id, detectable_id)
);
CREATE INDEX client_detectable_detectable_id_idx ON client_detectable (detectable_id);

-- A brand group: metrics are computed per det_group. organization_id NULL = a shared group.
CREATE TABLE det_group (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name            text NOT NULL CHECK (length(btrim(name)) > 0),
  organization_id uuid REFERENCES organization (id) ON DELETE RESTRICT,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX det_group_organization_id_idx ON det_group (organization_id);

CREATE TABLE det_group_detectable (
  det_group_id  uuid NOT NULL REFERENCES det_group (id) ON DELETE CASCADE,
  detectable_id uuid NOT NULL REFERENCES detectable (id) ON DELETE RESTRICT,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (det_group_id, detectable_id)
);
CREATE INDEX det_group_detectable_detectable_id_idx ON det_group_detectable (detectable_id);

CREATE TABLE client_det_group (
  client_id    uuid NOT NULL REFERENCES client (id) ON DELETE CASCADE,
  det_group_id uuid NOT NULL REFERENCES det_group (id) ON DELETE RESTRICT,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (client_id, det_group_id)
);
CREATE INDEX client_det_group_det_group_id_idx ON client_det_group (det_group_id);

CREATE TABLE sport (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name       text NOT NULL CHECK (length(btrim(name)) > 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX sport_name_key ON sport (lower(name));

-- A kind of in-game event (goal, corner, ...): exposure in the `window_seconds` around it weighs `weight` times.
CREATE TABLE event_type (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  sport_id       uuid NOT NULL REFERENCES sport (id) ON DELETE RESTRICT,
  name           text NOT NULL CHECK (length(btrim(name)) > 0),
  weight         numeric NOT NULL DEFAULT 1 CONSTRAINT event_type_weight_check CHECK (weight >= 1),
  window_seconds numeric NOT NULL CONSTRAINT event_type_window_seconds_check CHECK (window_seconds > 0),
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX event_type_sport_name_key ON event_type (sport_id, lower(name));

CREATE TABLE league (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  sport_id   uuid NOT NULL REFERENCES sport (id) ON DELETE RESTRICT,
  name       text NOT NULL CHECK (length(btrim(name)) > 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX league_sport_id_idx ON league (sport_id);

-- A team plays in a league, or (national teams, friendlies) just in a sport.
CREATE TABLE team (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name       text NOT NULL CHECK (length(btrim(name)) > 0),
  league_id  uuid REFERENCES league (id) ON DELETE RESTRICT,
  sport_id   uuid REFERENCES sport (id) ON DELETE RESTRICT,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT team_league_or_sport_check CHECK (league_id IS NOT NULL OR sport_id IS NOT NULL)
);
CREATE INDEX team_league_id_idx ON team (league_id);
CREATE INDEX team_sport_id_idx ON team (sport_id);

CREATE TABLE season (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  league_id  uuid NOT NULL REFERENCES league (id) ON DELETE RESTRICT,
  name       text NOT NULL CHECK (length(btrim(name)) > 0),
  starts_on  date,
  ends_on    date,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT season_dates_check CHECK (ends_on >= starts_on)
);
CREATE INDEX season_league_id_idx ON season (league_id);

-- Access: a client reads the seasons granted here (and the det_groups in client_det_group).
CREATE TABLE client_season (
  client_id  uuid NOT NULL REFERENCES client (id) ON DELETE CASCADE,
  season_id  uuid NOT NULL REFERENCES season (id) ON DELETE RESTRICT,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (client_id, season_id)
);
CREATE INDEX client_season_season_id_idx ON client_season (season_id);

CREATE TABLE game (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  season_id  uuid NOT NULL REFERENCES season (id) ON DELETE RESTRICT,
  starts_at  timestamptz NOT NULL,
  title      text NOT NULL CHECK (length(btrim(title)) > 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX game_season_id_idx ON game (season_id);

CREATE TABLE game_team (
  game_id    uuid NOT NULL REFERENCES game (id) ON DELETE CASCADE,
  team_id    uuid NOT NULL REFERENCES team (id) ON DELETE RESTRICT,
  side       text NOT NULL CONSTRAINT game_team_side_check CHECK (side IN ('home', 'away')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (game_id, team_id),
  CONSTRAINT game_team_side_key UNIQUE (game_id, side)
);
CREATE INDEX game_team_team_id_idx ON game_team (team_id);

CREATE TABLE event (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  game_id       uuid NOT NULL REFERENCES game (id) ON DELETE CASCADE,
  event_type_id uuid NOT NULL REFERENCES event_type (id) ON DELETE RESTRICT,
  -- seconds from the start of the game video
  time          numeric NOT NULL CONSTRAINT event_time_check CHECK (time >= 0),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX event_game_id_idx ON event (game_id, time);
CREATE INDEX event_event_type_id_idx ON event (event_type_id);

-- A game video. Deleting a game with videos is refused: the videos own media and metrics.
CREATE TABLE video (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  game_id          uuid NOT NULL REFERENCES game (id) ON DELETE RESTRICT,
  title            text,
  status           text NOT NULL DEFAULT 'created'
                   CONSTRAINT video_status_check CHECK (status IN ('created', 'uploading', 'uploaded', 'probed', 'failed')),
  s3_key           text,
  content_type     text,
  size_bytes       bigint CHECK (size_bytes >= 0),
  duration_seconds numeric CHECK (duration_seconds >= 0),
  frame_rate       numeric CHECK (frame_rate > 0),
  width            integer CHECK (width > 0),
  height           integer CHECK (height > 0),
  codec            text,
  probed_at        timestamptz,
  released_at      timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX video_game_id_idx ON video (game_id);
CREATE INDEX video_status_idx ON video (status);

-- Stored only as SHA-256 hashes (functions/lib/auth.ts); key_prefix is for display.
CREATE TABLE api_keys (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name       text NOT NULL CHECK (length(btrim(name)) > 0),
  role       text NOT NULL CONSTRAINT api_keys_role_check CHECK (role IN ('admin', 'analyst', 'client')),
  client_id  uuid REFERENCES client (id) ON DELETE CASCADE,
  key_hash   text NOT NULL UNIQUE,
  key_prefix text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  CONSTRAINT api_keys_client_check CHECK ((role = 'client') = (client_id IS NOT NULL))
);
CREATE INDEX api_keys_client_id_idx ON api_keys (client_id);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['organization', 'client', 'detectable', 'client_detectable', 'det_group',
    'det_group_detectable', 'client_det_group', 'sport', 'event_type', 'league', 'team', 'season',
    'client_season', 'game', 'game_team', 'event', 'video', 'api_keys']
  LOOP
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE ON %I FOR EACH ROW EXECUTE FUNCTION set_updated_at()',
                   t || '_set_updated_at', t);
  END LOOP;
END $$;

-- ---- touch rules ----
-- Statement-level AFTER triggers with transition tables: one statement that writes many rows (a bulk import
-- of events, replacing a det_group's detectables) touches each parent once, not once per row. The parent ids
-- come from the OLD and NEW rows (a row can move between parents); the parent's own BEFORE UPDATE trigger
-- sets updated_at. PostgreSQL allows transition tables only on single-event triggers, hence three triggers
-- per table (created by the loop at the end). When a parent is deleted with its children (CASCADE), the
-- children's triggers find no parent row left and do nothing.

-- A season is touched by any change of its games ...
CREATE FUNCTION touch_season_from_game() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE season SET updated_at = now() WHERE id IN (SELECT season_id FROM new_rows);
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE season SET updated_at = now() WHERE id IN (SELECT season_id FROM old_rows);
  ELSE
    UPDATE season SET updated_at = now()
     WHERE id IN (SELECT season_id FROM new_rows UNION SELECT season_id FROM old_rows);
  END IF;
  RETURN NULL;
END $$;

-- ... and of its games' videos, events and teams (tables with a game_id column).
CREATE FUNCTION touch_season_from_game_child() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE season SET updated_at = now()
     WHERE id IN (SELECT g.season_id FROM game g WHERE g.id IN (SELECT game_id FROM new_rows));
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE season SET updated_at = now()
     WHERE id IN (SELECT g.season_id FROM game g WHERE g.id IN (SELECT game_id FROM old_rows));
  ELSE
    UPDATE season SET updated_at = now()
     WHERE id IN (SELECT g.season_id FROM game g
                   WHERE g.id IN (SELECT game_id FROM new_rows UNION SELECT game_id FROM old_rows));
  END IF;
  RETURN NULL;
END $$;

-- A client is touched by any change of its client_detectable and client_det_group rows (a client_id column) ...
CREATE FUNCTION touch_client_from_grant() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE client SET updated_at = now() WHERE id IN (SELECT client_id FROM new_rows);
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE client SET updated_at = now() WHERE id IN (SELECT client_id FROM old_rows);
  ELSE
    UPDATE client SET updated_at = now()
     WHERE id IN (SELECT client_id FROM new_rows UNION SELECT client_id FROM old_rows);
  END IF;
  RETURN NULL;
END $$;

-- ... and by an update of a det_group it has through client_det_group.
CREATE FUNCTION touch_client_from_det_group() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE client SET updated_at = now()
   WHERE id IN (SELECT cdg.client_id FROM client_det_group cdg
                 WHERE cdg.det_group_id IN (SELECT id FROM new_rows UNION SELECT id FROM old_rows));
  RETURN NULL;
END $$;

CREATE TRIGGER det_group_touch_client AFTER UPDATE ON det_group
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION touch_client_from_det_group();

-- A change of a det_group's detectables is an update of the det_group (its detectableIds are part of it),
-- which in turn touches the clients that have it.
CREATE FUNCTION touch_det_group_from_member() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE det_group SET updated_at = now() WHERE id IN (SELECT det_group_id FROM new_rows);
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE det_group SET updated_at = now() WHERE id IN (SELECT det_group_id FROM old_rows);
  ELSE
    UPDATE det_group SET updated_at = now()
     WHERE id IN (SELECT det_group_id FROM new_rows UNION SELECT det_group_id FROM old_rows);
  END IF;
  RETURN NULL;
END $$;

DO $$
DECLARE
  rule record;
  event text;
BEGIN
  FOR rule IN
    SELECT * FROM (VALUES
      ('game', 'season', 'touch_season_from_game'),
      ('video', 'season', 'touch_season_from_game_child'),
      ('event', 'season', 'touch_season_from_game_child'),
      ('game_team', 'season', 'touch_season_from_game_child'),
      ('client_detectable', 'client', 'touch_client_from_grant'),
      ('client_det_group', 'client', 'touch_client_from_grant'),
      ('det_group_detectable', 'det_group', 'touch_det_group_from_member')
    ) AS r (tbl, parent, fn)
  LOOP
    FOREACH event IN ARRAY ARRAY['insert', 'update', 'delete'] LOOP
      EXECUTE format(
        'CREATE TRIGGER %I AFTER %s ON %I REFERENCING %s FOR EACH STATEMENT EXECUTE FUNCTION %I()',
        format('%s_%s_touch_%s', rule.tbl, event, rule.parent),
        upper(event),
        rule.tbl,
        CASE event
          WHEN 'insert' THEN 'NEW TABLE AS new_rows'
          WHEN 'delete' THEN 'OLD TABLE AS old_rows'
          ELSE 'OLD TABLE AS old_rows NEW TABLE AS new_rows'
        END,
        rule.fn);
    END LOOP;
  END LOOP;
END $$;
