-- Results per ingest run. Each run of a video's ingest writes its metric documents under its own name (the
-- ingest job's id), so that a re-run never changes what clients see: clients read the released run until an
-- admin releases a newer one. NULL names the results written before runs were named.
ALTER TABLE video
  -- the run whose frames and localizations are in place: det_group computations write its results
  ADD COLUMN metrics_run  text,
  -- the run that completed last: what admins and analysts read, and what a release pins
  ADD COLUMN ingested_run text,
  -- the run released to clients (with released_at)
  ADD COLUMN released_run text;
