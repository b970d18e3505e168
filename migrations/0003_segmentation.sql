-- Segmentation refresh of the materialization engine: where each datastack's segmentation comes from, and the
-- runs that fill missing supervoxel ids and replace expired root ids.
--
-- The supervoxel → root table itself lives in the datastack's schema (ds_<datastack>.supervoxel_root, created
-- when the source is registered), beside the annotation tables it is joined with: its keys and indexes need no
-- datastack column, supervoxel ids mean something only within one segmentation anyway, and dropping a datastack's
-- schema drops all of it. The registries below are shared, so they live here.

-- A datastack's segmentation: a Neuroglancer precomputed volume in S3 (raw uint64 chunks) at one scale.
CREATE TABLE segmentation_source (
  datastack          text PRIMARY KEY CONSTRAINT segmentation_source_datastack_check CHECK (datastack ~ '^[a-z][a-z0-9_]{0,39}$'),
  bucket             text NOT NULL,
  -- the volume's folder: `info` is at <volume_prefix>/info ('' for the bucket's root)
  volume_prefix      text NOT NULL,
  -- the scale looked up (its key in info.scales); the first scale unless the operator chose another
  scale_key          text NOT NULL,
  -- nm per annotation position unit, per axis: positions p fall in voxel floor(p * unit / resolution)
  position_unit_nm   double precision[] NOT NULL
    CONSTRAINT segmentation_source_position_unit_check CHECK (cardinality(position_unit_nm) = 3 AND 0 < ALL (position_unit_nm)),
  -- the scale's resolution when registered, for operators (lookups re-read info)
  resolution_nm      double precision[] NOT NULL CHECK (cardinality(resolution_nm) = 3),
  -- read a chunk that does not exist as background (supervoxel 0), as CloudVolume's fill_missing does
  fill_missing       boolean NOT NULL DEFAULT false,
  -- the time of the last completed update-roots run: the next one replaces roots that expired after it
  roots_refreshed_at timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER segmentation_source_set_updated_at BEFORE UPDATE ON segmentation_source
  FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- One row per loaded supervoxel → root file (an audit trail; reloading the same file changes no mapping).
CREATE TABLE segmentation_root_load (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  datastack  text NOT NULL REFERENCES segmentation_source (datastack) ON DELETE CASCADE,
  bucket     text NOT NULL,
  key        text NOT NULL,
  etag       text NOT NULL,
  rows       bigint NOT NULL,
  inserted   bigint NOT NULL,
  updated    bigint NOT NULL,
  loaded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX segmentation_root_load_datastack_idx ON segmentation_root_load (datastack, loaded_at);

-- One row per job of the segmentation refresh (ingest-annotations, update-roots). A run may take several
-- invocations of its task (each stops before the function's time is up); they share the run's time `as_of`
-- (fixed by the first) and add their work to its counters in the same transactions as the work itself.
CREATE TABLE segmentation_run (
  job_id                text PRIMARY KEY,
  datastack             text NOT NULL REFERENCES segmentation_source (datastack) ON DELETE CASCADE,
  kind                  text NOT NULL,
  -- roots are those valid at as_of; update-roots replaces roots that expired in (since, as_of]
  as_of                 timestamptz NOT NULL,
  since                 timestamptz,
  invocations           integer NOT NULL DEFAULT 0,
  supervoxels_looked_up bigint NOT NULL DEFAULT 0,
  chunks_read           bigint NOT NULL DEFAULT 0,
  -- positions outside the volume, left without a supervoxel id (counted by the last pass)
  outside_volume        bigint NOT NULL DEFAULT 0,
  roots_assigned        bigint NOT NULL DEFAULT 0,
  expired_roots         bigint NOT NULL DEFAULT 0,
  roots_replaced        bigint NOT NULL DEFAULT 0,
  -- points left without a valid root (ingest: no root for their supervoxel; update: the expired one kept)
  roots_unresolved      bigint NOT NULL DEFAULT 0,
  -- where the batched root updates go on in the next invocation: the pass (`<table>.<point>`, or '$done') and
  -- the last id it updated; without it, a run would start over at the first row that cannot be updated
  resume_pass           text,
  resume_after_id       bigint,
  started_at            timestamptz NOT NULL DEFAULT now(),
  completed_at          timestamptz
);
CREATE INDEX segmentation_run_datastack_idx ON segmentation_run (datastack, started_at);
