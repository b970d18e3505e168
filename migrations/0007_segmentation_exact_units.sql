-- The position unit and the resolution are exact decimals (4.4 is 44/10): a point on a voxel face lies in the
-- voxel above it. A double's text is the shortest decimal that reads back as it, i.e. the decimal written.
ALTER TABLE segmentation_source
  ALTER COLUMN position_unit_nm TYPE numeric[] USING position_unit_nm::text[]::numeric[],
  ALTER COLUMN resolution_nm TYPE numeric[] USING resolution_nm::text[]::numeric[];
