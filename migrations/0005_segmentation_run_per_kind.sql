-- A job of the complete materialization workflow runs both refreshes (ingest-annotations, then update-roots):
-- a run is one kind of refresh by one job.
ALTER TABLE segmentation_run DROP CONSTRAINT segmentation_run_pkey;
ALTER TABLE segmentation_run ADD PRIMARY KEY (job_id, kind);
