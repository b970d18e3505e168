-- When the slide image's whole object was last found to match what its upload declared (size, sha256, md5). Small
-- uploads are checked by complete; larger ones by the workflow's first read of the source, before it is diced: until
-- then it is NULL. Images diced before this column were all checked by complete.
ALTER TABLE slide_image ADD COLUMN verified_at timestamptz;
UPDATE slide_image SET verified_at = updated_at WHERE state IN ('dicing', 'ready', 'missing');

-- GET /v1/slides/images pages every image in creation order.
CREATE INDEX slide_image_created ON slide_image (created_at, id);
