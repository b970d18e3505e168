-- Video ingestion and brand-exposure metrics.

-- 'ingested': frames extracted and metrics computed; the video waits in the release queue until released_at.
ALTER TABLE video DROP CONSTRAINT video_status_check;
ALTER TABLE video ADD CONSTRAINT video_status_check
  CHECK (status IN ('created', 'uploading', 'uploaded', 'probed', 'ingested', 'failed'));

ALTER TABLE video
  -- what the analyst asked for when uploading: frames per second to extract, and the detection score threshold
  ADD COLUMN ingest_frame_rate numeric NOT NULL DEFAULT 5 CHECK (ingest_frame_rate > 0 AND ingest_frame_rate <= 60),
  ADD COLUMN ingest_threshold  numeric NOT NULL DEFAULT 0.5 CHECK (ingest_threshold >= 0 AND ingest_threshold <= 1),
  -- the detector's output and its label map (class index -> label), uploaded before the video
  ADD COLUMN localizations_key text,
  ADD COLUMN label_mapping     jsonb,
  -- frames extracted at ingest_frame_rate: frame n is at n / ingest_frame_rate seconds
  ADD COLUMN frame_count       integer CHECK (frame_count >= 0),
  -- set once frames and localizations are in place: from then on every new det_group is computed for it
  ADD COLUMN metrics_ready_at  timestamptz,
  ADD COLUMN ingested_at       timestamptz;

-- The detectables that occur in a video's localizations (matched by name); a det_group applies to a video
-- when all its detectables are among them.
CREATE TABLE video_detectable (
  video_id      uuid NOT NULL REFERENCES video (id) ON DELETE CASCADE,
  detectable_id uuid NOT NULL REFERENCES detectable (id) ON DELETE CASCADE,
  PRIMARY KEY (video_id, detectable_id)
);
CREATE INDEX video_detectable_detectable_id_idx ON video_detectable (detectable_id);

ALTER TABLE det_group ADD COLUMN released_at timestamptz;
