-- The slides context: sessions (collections of images) and their images, each from its upload to its tile pyramid.
-- The reconciler reads images by state and age, and a session lists its images: relational queries, so PostgreSQL.
CREATE TABLE slide_session (
  id          uuid PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE slide_image (
  id               uuid PRIMARY KEY,
  session_id       uuid NOT NULL REFERENCES slide_session (id),
  filename         text NOT NULL,
  size_bytes       bigint NOT NULL CHECK (size_bytes > 0),
  -- what the client declared: the assembled object is checked against it before anything processes it
  sha256           text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  md5              text CHECK (md5 ~ '^[0-9a-f]{32}$'),
  state            text NOT NULL CHECK (state IN ('uploading', 'dicing', 'ready', 'failed', 'missing')),
  -- 0..100: bytes received while uploading, then the workflow's steps
  progress         smallint NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  -- the source object: slides/uploads/{id}/{filename}, or an object copied under slides/inbox/
  s3_key           text NOT NULL UNIQUE,
  -- the open S3 multipart upload, while uploading (NULL for a single PUT)
  upload_id        text,
  -- the chunk protocol: bytes received in order so far, and the parts they made
  chunked          boolean NOT NULL DEFAULT false,
  received_bytes   bigint NOT NULL DEFAULT 0,
  chunk_parts      jsonb NOT NULL DEFAULT '[]',
  job_id           text,
  width            integer,
  height           integer,
  levels           integer,
  tile_size        integer,
  format           text,
  bytes            bigint,
  error            jsonb,
  -- when the reconciler last found a ready image's objects in place: it looks at the longest unchecked first
  checked_at       timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX slide_image_session ON slide_image (session_id, created_at);
CREATE INDEX slide_image_state ON slide_image (state, updated_at);
