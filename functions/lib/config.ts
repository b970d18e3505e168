// Resource names and endpoints reach functions only through the environment; CDK and the local cloud both set it.

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

export const config = {
  region: () => process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
  mediaBucket: () => required('BUCKET_MEDIA'),
  jobsTable: () => required('TABLE_JOBS'),
  cacheTable: () => required('TABLE_CACHE'),
  /** Milliseconds any one cache call may take before it counts as a miss. */
  cacheTimeoutMs: () => Number(process.env.CACHE_TIMEOUT_MS ?? 1500),
  /** Compressed values above this many bytes go to S3 (a DynamoDB item holds at most 400 KB). */
  cacheInlineMaxBytes: () => Number(process.env.CACHE_INLINE_MAX_BYTES ?? 300 * 1024),
  /** Per-instance memory in front of the shared cache (MiB); 0 turns it off. */
  cacheMemoryMb: () => Number(process.env.CACHE_MEMORY_MB ?? 128),
  videoIngestStateMachineArn: () => required('STATE_MACHINE_VIDEO_INGEST_ARN'),
  detGroupStateMachineArn: () => required('STATE_MACHINE_DET_GROUP_ARN'),
  bulkUploadStateMachineArn: () => required('STATE_MACHINE_BULK_UPLOAD_ARN'),
  materializeVersionStateMachineArn: () => required('STATE_MACHINE_MATERIALIZE_VERSION_ARN'),
  ingestAnnotationsStateMachineArn: () => required('STATE_MACHINE_INGEST_ANNOTATIONS_ARN'),
  updateRootsStateMachineArn: () => required('STATE_MACHINE_UPDATE_ROOTS_ARN'),
  materializeStateMachineArn: () => required('STATE_MACHINE_MATERIALIZE_ARN'),
  annotationContentStateMachineArn: () => required('STATE_MACHINE_ANNOTATION_CONTENT_ARN'),
  annotationDatasetStateMachineArn: () => required('STATE_MACHINE_ANNOTATION_DATASET_ARN'),
  slideImageStateMachineArn: () => required('STATE_MACHINE_SLIDE_IMAGE_ARN'),
  detGroupQueueUrl: () => required('QUEUE_DET_GROUP_URL'),
  /** Path-style S3 URLs: the local S3 answers on an IP address, not on bucket subdomains. */
  s3ForcePathStyle: () => process.env.S3_FORCE_PATH_STYLE === 'true',
  presignedUrlSeconds: () => Number(process.env.PRESIGNED_URL_SECONDS ?? 3600),
  multipartThresholdBytes: () => Number(process.env.MULTIPART_THRESHOLD_BYTES ?? 8 * 1024 * 1024),
  multipartPartBytes: () => Number(process.env.MULTIPART_PART_BYTES ?? 8 * 1024 * 1024),
  /** An entry of an uploaded zip inflates to at most this many bytes (a zip bomb stops here). */
  zipEntryMaxBytes: () => Number(process.env.ZIP_ENTRY_MAX_BYTES ?? 256 * 1024 * 1024),
  maxUploadBytes: () => Number(process.env.MAX_UPLOAD_BYTES ?? 50 * 1024 ** 3),
  /** Uploads up to this size are checked by their complete; larger ones by the first step that reads them whole. */
  checkInApiMaxBytes: () => Number(process.env.CHECK_IN_API_MAX_BYTES ?? 1024 ** 3),
  /** Width × height above which a slide image is diced in regions side by side (unset: the pyramid's default). */
  slideMaxPixelsPerRegion: () => (process.env.SLIDE_MAX_PIXELS_PER_REGION ? Number(process.env.SLIDE_MAX_PIXELS_PER_REGION) : undefined),
  /** The CDN in front of the slide pyramids, set in AWS only (infra/topology.ts `cdnEnv('slides')`); unset, files are presigned S3 GETs. */
  slidesCdn: (): { domainName: string; keyPairId: string; keySecretId: string; signedUrlSeconds: number } | undefined =>
    process.env.CDN_SLIDES_DOMAIN
      ? {
          domainName: process.env.CDN_SLIDES_DOMAIN,
          keyPairId: required('CDN_SLIDES_KEY_PAIR_ID'),
          keySecretId: required('CDN_SLIDES_KEY_SECRET_ID'),
          signedUrlSeconds: Number(required('CDN_SLIDES_URL_SECONDS')),
        }
      : undefined,
  ffprobePath: () => required('FFPROBE_PATH'),
  ffmpegPath: () => required('FFMPEG_PATH'),
  /** Either a full connection string (local cloud) or a Secrets Manager secret (AWS, through RDS Proxy). */
  databaseUrl: () => process.env.DATABASE_URL,
  databaseSecretArn: () => process.env.DATABASE_SECRET_ARN,
  databaseHost: () => process.env.DATABASE_HOST,
  databaseName: () => process.env.DATABASE_NAME ?? 'framewise',
  /** The migrations folder shipped with the function (`/var/task/migrations` in Lambda). */
  migrationsDir: () => required('MIGRATIONS_DIR'),
  /** The swagger-ui-dist package's files, shipped with docs-api (bundledFolders). */
  swaggerUiDistDir: () => required('SWAGGER_UI_DIST_DIR'),
  /** The openseadragon package's files, shipped with slides-api (bundledFolders). */
  openseadragonDir: () => required('OPENSEADRAGON_DIR'),
  adminApiKeySecretId: () => required('SECRET_ADMIN_API_KEY_ID'),
  mongodbUri: () => process.env.MONGODB_URI,
  mongodbSecretArn: () => process.env.MONGODB_SECRET_ARN,
  mongodbDatabase: () => process.env.MONGODB_DATABASE ?? 'framewise',
};
