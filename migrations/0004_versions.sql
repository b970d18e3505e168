-- Frozen versions of a datastack's annotation tables (materialization engine).
--
-- A version is its own PostgreSQL schema `dsv_<datastack>__v<N>` holding one table per annotation table of the
-- live schema `ds_<datastack>`: T's columns plus the supervoxel and root id columns of T__seg, copied from one
-- snapshot and re-indexed. (`ds_<datastack>__v<N>` would collide with the live schema of a datastack whose name
-- ends in `__v<N>`: datastack names may contain `__`.)
--
-- This table is the registry: every version ever made, also after removal dropped its schema (state
-- 'expired'), so that a read of a dropped version answers 410 Gone rather than 404.
CREATE TABLE datastack_version (
  datastack       text NOT NULL,
  -- 1, 2, 3, ... per datastack, in the order the versions were started
  version         integer NOT NULL CHECK (version > 0),
  schema_name     text NOT NULL UNIQUE,
  -- building: the copy is being made; valid: complete and readable; failed: the copy failed, nothing is
  -- left of it; expired: removal dropped its schema
  state           text NOT NULL DEFAULT 'building' CHECK (state IN ('building', 'valid', 'failed', 'expired')),
  -- what made it: an admin's request, or one of the periodic schedules
  cadence         text NOT NULL CHECK (cadence IN ('manual', 'daily', 'weekly', 'monthly')),
  -- the job whose run makes it: a retried run finds its version here instead of making a second one
  job_id          text NOT NULL UNIQUE,
  expires_in_days integer NOT NULL CHECK (expires_in_days > 0),
  created_at      timestamptz NOT NULL DEFAULT now(),
  -- when the copy was complete (the snapshot it shows is from the start of that transaction)
  valid_at        timestamptz,
  -- valid_at + expires_in_days: from then on removal may drop it (see the retention policy)
  expires_at      timestamptz,
  expired_at      timestamptz,
  -- rows of each frozen table, checked against the live tables when the copy was made: { "<table>": rows }
  table_rows      jsonb NOT NULL DEFAULT '{}',
  error           text,
  PRIMARY KEY (datastack, version),
  CHECK (state NOT IN ('valid', 'expired') OR (valid_at IS NOT NULL AND expires_at IS NOT NULL)),
  CHECK ((state = 'expired') = (expired_at IS NOT NULL))
);
CREATE INDEX datastack_version_state_idx ON datastack_version (state, expires_at);

-- Frozen tables are read-only for everyone. Privileges alone cannot say so: a superuser (the local cloud's
-- user) and the tables' owner bypass or may re-grant them. A statement-level trigger on every frozen table
-- refuses INSERT, UPDATE, DELETE and TRUNCATE whoever runs them; only DDL (removal's DROP SCHEMA) goes past it.
CREATE FUNCTION reject_write_to_frozen_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'table %.% is a frozen datastack version and read-only', TG_TABLE_SCHEMA, TG_TABLE_NAME
    USING ERRCODE = 'read_only_sql_transaction';
END $$;
