// The one declaration of Framewise. infra/cdk turns it into CloudFormation; infra/local turns it into a
// running system on embedded services. Functions never import this file: both materializations hand
// them resource names through the environment variables named here.

export type Access = 'read' | 'write' | 'readwrite';
/**
 * Of a bucket's objects, also `delete`: listing them and deleting them, without reading them; and `restore`: asking
 * for a readable copy of an archived object (RestoreObject), without reading it.
 */
export type BucketAccess = Access | 'delete' | 'restore';

/**
 * A function's use of a bucket: only objects under `prefixes`, for `access`. Reading includes listing under those
 * prefixes; writing includes multipart uploads; deleting includes listing (what goes is found by its prefix).
 */
export interface BucketUse {
  readonly name: string;
  readonly access: BucketAccess;
  readonly prefixes: readonly string[];
}

/**
 * Bounded contexts, lowest first: each imports functions/lib and only the contexts before it (materialize: lib and
 * jobs only; slides: lib and jobs only), and its stack depends only on theirs; the lint config (eslint.config.js) enforces this order.
 * `platform` is what every context stands on at deploy time: the schema and the first admin key (its functions deploy
 * with the foundation). `jobs` is the workflow engine every context uses. `analytics` computes and serves metrics,
 * and the ingest's workflow calls it. `docs` documents the whole API: it imports every context's route declarations
 * and nothing imports it.
 */
export const CONTEXTS = ['platform', 'catalog', 'jobs', 'analytics', 'ingest', 'detgroups', 'annotation', 'materialize', 'slides', 'docs'] as const;
export type ContextName = (typeof CONTEXTS)[number];

/**
 * The data a context owns: only its code writes it (other contexts read it, or change it through the owner's
 * modules). The README's context map is printed from this and the topology (infra/context-map.ts), and a test holds
 * the declarations to the migrations, the buckets each function may write and the collections each context names.
 */
export interface ContextOwnership {
  /** PostgreSQL tables created by migrations/, or a family of tables a context creates at run time (`ds_<datastack>.*`). */
  readonly postgres?: readonly string[];
  /** MongoDB (DocumentDB) collections. */
  readonly mongodb?: readonly string[];
  /** DynamoDB tables of the topology. */
  readonly dynamodb?: readonly string[];
  /** Object prefixes, as `bucket:prefix`. */
  readonly prefixes?: readonly string[];
}

export const CONTEXT_OWNERSHIP: Readonly<Record<ContextName, ContextOwnership>> = {
  platform: { postgres: ['schema_migrations'] },
  catalog: {
    postgres: [
      'organization', 'client', 'detectable', 'client_detectable', 'det_group', 'det_group_detectable', 'client_det_group', 'sport',
      'event_type', 'league', 'team', 'season', 'client_season', 'game', 'game_team', 'event', 'video', 'api_keys',
    ],
    prefixes: ['media:videos/', 'media:localizations/'],
  },
  jobs: { dynamodb: ['jobs'] },
  analytics: { mongodb: ['frame_series', 'rollups'], dynamodb: ['cache'], prefixes: ['media:cache/'] },
  ingest: { postgres: ['video_detectable'], prefixes: ['media:frames/'] },
  detgroups: {},
  annotation: {
    mongodb: ['annotation_projects', 'annotation_uploads', 'annotation_tasks', 'annotation_frames', 'annotation_predictions', 'annotation_datasets'],
    prefixes: [
      'media:annotation/uploads/', 'media:annotation/frames/', 'media:annotation/tasks/', 'media:annotation/predictions/',
      'media:annotation/dataset-plans/', 'media:datasets/',
    ],
  },
  materialize: {
    postgres: ['segmentation_source', 'segmentation_root_load', 'segmentation_run', 'datastack_version', 'ds_<datastack>.*'],
    prefixes: ['media:materialize/'],
  },
  slides: { postgres: ['slide_session', 'slide_image'], prefixes: ['media:slides/', 'media:slides/uploads/'] },
  docs: {},
};

export interface BucketDef {
  /** Logical name; the local cloud prefixes it with `framewise-`, CDK lets CloudFormation name it. */
  readonly name: string;
  readonly purpose: string;
  /**
   * Objects under these prefixes raise S3 notifications into a queue: when one is written (`created`), and when a
   * readable copy of an archived one is ready (`restored`, S3's ObjectRestore:Completed).
   */
  readonly notifications: readonly { readonly prefix: string; readonly queue: string; readonly events: readonly BucketEvent[] }[];
  /** Allow browsers to PUT presigned uploads and GET presigned objects directly ({@link BROWSER_BUCKET_CORS}). */
  readonly browserUploads: boolean;
  /** Objects under these prefixes expire after `days` (S3 lifecycle; the local cloud keeps them, readers check expiry). */
  readonly expirations?: readonly { readonly prefix: string; readonly days: number }[];
  /**
   * Objects under these prefixes move to a cheaper storage class `days` after they were written (S3 lifecycle; the
   * local cloud applies it when asked, as of a given time). GLACIER_IR is read as before, at a price per read;
   * GLACIER and DEEP_ARCHIVE are read only after a restore (RestoreObject, hours in AWS).
   */
  readonly archivals?: readonly { readonly prefix: string; readonly days: number; readonly storageClass: ArchiveStorageClass }[];
}

export type BucketEvent = 'created' | 'restored';
export type ArchiveStorageClass = 'GLACIER_IR' | 'GLACIER' | 'DEEP_ARCHIVE';

export interface TableDef {
  readonly name: string;
  readonly purpose: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  /** Attribute holding an epoch-seconds expiry; readers ignore expired items (the local stand-in never deletes them). */
  readonly ttlAttribute?: string;
  readonly indexes: readonly { readonly name: string; readonly partitionKey: string; readonly sortKey?: string }[];
}

export interface SecretDef {
  /** Logical name; the physical name is `<app>/<stage>/<name>` (see {@link secretName}). */
  readonly name: string;
  readonly purpose: string;
}

/**
 * A CDN in front of part of a bucket: a CloudFront distribution that reads only the objects under `prefix` (origin
 * access control) and serves them only to URLs signed with its own key pair, each valid `signedUrlSeconds`. The
 * local cloud has none: the functions that use it presign S3 GETs of the same objects.
 */
export interface CdnDef {
  readonly name: string;
  readonly purpose: string;
  readonly bucket: string;
  /** Object keys under this prefix are the URL paths (`https://<cdn>/<key>`); the distribution may read nothing else. */
  readonly prefix: string;
  readonly signedUrlSeconds: number;
  /** How long the edge keeps an object it has fetched: what it serves never changes once published. */
  readonly cacheSeconds: number;
  readonly cors: typeof SIGNED_CDN_CORS;
}

export interface QueueDef {
  readonly name: string;
  readonly purpose: string;
  /** Must exceed the timeout of the function that consumes it. */
  readonly visibilityTimeoutSeconds: number;
  /** Receives before a message moves to the queue's dead-letter queue `<name>-dlq`. */
  readonly maxReceiveCount: number;
}

export type Trigger =
  | { readonly kind: 'http'; readonly routes: readonly string[] }
  | { readonly kind: 'queue'; readonly queue: string; readonly batchSize: number; readonly maxConcurrency: number }
  | {
      readonly kind: 'schedule';
      readonly name: string;
      readonly expression: string;
      readonly everySeconds: number;
      /** The event the function gets instead of EventBridge's scheduled event (a rule target's constant input). */
      readonly input?: Readonly<Record<string, string | number>>;
    }
  | { readonly kind: 'task' }
  /** Runs once on each deploy, after the database exists and before the API serves (the local cloud: at each start). */
  | { readonly kind: 'deploy' };

export interface FunctionDef {
  readonly name: string;
  readonly purpose: string;
  /** Source file under functions/, exporting `handler`. */
  readonly entry: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /**
   * At most this many instances at once (Lambda reserved concurrency): the heavy compute functions of video
   * ingestion and of det_group computation each have their own, so neither can starve the other.
   */
  readonly reservedConcurrency?: number;
  /** /tmp of each instance (Lambda ephemeral storage, 512 to 10,240 MB; default 512). */
  readonly ephemeralStorageMb?: number;
  readonly layers: readonly 'ffmpeg'[];
  readonly triggers: readonly Trigger[];
  /** Project folders shipped beside the code (e.g. `migrations`); the function finds each at {@link folderEnv}. */
  readonly bundledFolders?: readonly string[];
  readonly uses: {
    readonly buckets?: readonly BucketUse[];
    readonly tables?: readonly { readonly name: string; readonly access: Access }[];
    readonly queues?: readonly string[]; // may send to
    readonly stateMachines?: readonly string[]; // may start and describe executions of
    readonly postgres?: boolean;
    readonly mongodb?: boolean;
    readonly secrets?: readonly string[]; // may read and write the value of
    /** May sign URLs of these CDNs (reads their signing key); where there is no CDN (the local cloud), it presigns S3 GETs instead. */
    readonly cdns?: readonly string[];
  };
}

export interface StateMachineDef {
  readonly name: string;
  /** The bounded context that owns it (its stack in AWS). */
  readonly context: ContextName;
  readonly purpose: string;
  /** ASL file with `${<Function>FunctionArn}` placeholders, see {@link functionArnPlaceholder}. */
  readonly definitionFile: string;
  /** Functions its Task states invoke. */
  readonly functions: readonly string[];
  readonly timeoutSeconds: number;
}

/**
 * The web console: static ES modules and the npm files they import, served at `/` (the local cloud's API server;
 * S3 behind CloudFront in AWS, with the API under /v1/ on the same origin).
 */
export interface SiteDef {
  readonly name: string;
  readonly purpose: string;
  /** The folder of the site's own files, served as they are. */
  readonly folder: string;
  /** Files of npm packages the pages import, served at /vendor/{package}/{file}: never from a CDN. */
  readonly vendor: readonly { readonly package: string; readonly files: readonly string[] }[];
}

/**
 * The Content-Security-Policy of every page of the site: scripts and styles of its own origin only; images, video
 * and fetches also from `objectOrigin` (one origin or several, space-separated), where the API's redirects lead (the
 * buckets' presigned URLs, the CDNs' signed URLs).
 */
export const siteContentSecurityPolicy = (objectOrigin: string): string =>
  [
    "default-src 'self'", "script-src 'self'", "style-src 'self'", `img-src 'self' data: blob: ${objectOrigin}`, `media-src 'self' blob: ${objectOrigin}`,
    `connect-src 'self' ${objectOrigin}`, "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'", "object-src 'none'",
  ].join('; ');

export interface Topology {
  readonly app: string;
  readonly site: SiteDef;
  readonly buckets: readonly BucketDef[];
  readonly cdns: readonly CdnDef[];
  readonly tables: readonly TableDef[];
  readonly queues: readonly QueueDef[];
  readonly secrets: readonly SecretDef[];
  readonly functions: readonly FunctionDef[];
  readonly stateMachines: readonly StateMachineDef[];
  readonly settings: {
    readonly lambdaRuntime: 'nodejs22.x';
    readonly logRetentionDays: number;
    readonly postgresDatabase: string;
    readonly mongoDatabase: string;
    readonly presignedUrlSeconds: number;
    /** Uploads from this size on use S3 multipart (as the AWS CLI does from 8 MiB; parts retry on their own). */
    readonly multipartThresholdBytes: number;
    readonly multipartPartBytes: number;
    /** The largest upload a client may declare; presigned URLs sign each length, so S3 holds them to it. */
    readonly maxUploadBytes: number;
    /**
     * Slide uploads up to this size are read back and checked against their declared sha256 by complete itself;
     * larger ones by the workflow's first read of the source (the API's 29 s read about a GB at Lambda's S3 speed).
     */
    readonly checkInApiMaxBytes: number;
    /** Days the frozen versions each materialization schedule makes live (an admin's request says its own; default 5). */
    readonly versionExpiryDays: { readonly daily: number; readonly weekly: number; readonly monthly: number };
    /** Valid versions per datastack that removal never goes below (the newest is always kept too). */
    readonly keepVersions: number;
  };
}

/** Frozen-version settings; the schedules below hand them to their functions as constant input. */
const VERSION_SETTINGS = { versionExpiryDays: { daily: 2, weekly: 7, monthly: 30 }, keepVersions: 5 } as const;

/** Periodic materialization: a version a day, one a week, one a month for the long term (UTC, an hour apart). */
const VERSION_SCHEDULES = [
  { cadence: 'daily', expression: 'cron(0 5 * * ? *)', everySeconds: 86_400 },
  { cadence: 'weekly', expression: 'cron(0 6 ? * MON *)', everySeconds: 7 * 86_400 },
  { cadence: 'monthly', expression: 'cron(0 7 1 * ? *)', everySeconds: 30 * 86_400 },
] as const;

const CATALOG_ROUTES = [
  'GET /v1/me',
  'POST /v1/api-keys', 'GET /v1/api-keys', 'DELETE /v1/api-keys/{id}',
  ...['organizations', 'clients', 'detectables', 'sports', 'event-types', 'leagues', 'teams',
    'seasons', 'games', 'events', 'videos'].flatMap((r) => [
    `GET /v1/${r}`, `POST /v1/${r}`, `GET /v1/${r}/{id}`, `PATCH /v1/${r}/{id}`, `DELETE /v1/${r}/{id}`,
  ]),
  'GET /v1/det-groups', 'GET /v1/det-groups/{id}', 'PATCH /v1/det-groups/{id}',
  'GET /v1/clients/{id}/detectables', 'PUT /v1/clients/{id}/detectables/{detectableId}', 'DELETE /v1/clients/{id}/detectables/{detectableId}',
  'GET /v1/clients/{id}/det-groups',
  'GET /v1/clients/{id}/seasons', 'PUT /v1/clients/{id}/seasons/{seasonId}', 'DELETE /v1/clients/{id}/seasons/{seasonId}',
  'GET /v1/games/{id}/teams', 'PUT /v1/games/{id}/teams/{teamId}', 'DELETE /v1/games/{id}/teams/{teamId}',
  'POST /v1/videos/{id}/upload', 'POST /v1/videos/{id}/upload/resume', 'POST /v1/videos/{id}/upload/complete',
  'POST /v1/videos/{id}/localizations/upload', 'POST /v1/videos/{id}/localizations/upload/complete',
] as const;

const ANNOTATION_ROUTES = [
  'POST /v1/annotation/projects', 'GET /v1/annotation/projects', 'GET /v1/annotation/projects/{id}',
  'POST /v1/annotation/projects/{id}/uploads', 'GET /v1/annotation/projects/{id}/uploads',
  'GET /v1/annotation/uploads/{id}', 'POST /v1/annotation/uploads/{id}/complete', 'POST /v1/annotation/uploads/{id}/resume',
  'POST /v1/annotation/process-content', 'GET /v1/annotation/uploads/{id}/tasks', 'GET /v1/annotation/tasks/{id}',
] as const;

/** Task work and datasets, served by annotation-api beside the routes above. */
const ANNOTATION_WORK_ROUTES = [
  'GET /v1/annotation/tasks/{id}/annotations', 'PUT /v1/annotation/tasks/{id}/annotations', 'PATCH /v1/annotation/tasks/{id}',
  'POST /v1/annotation/uploads/{id}/predictions/file', 'POST /v1/annotation/uploads/{id}/predictions', 'GET /v1/annotation/uploads/{id}/predictions',
  'POST /v1/annotation/datasets', 'GET /v1/annotation/datasets/{name}', 'GET /v1/annotation/datasets/{name}/versions/{n}',
] as const;

/** Tasks of one upload encoded at once (the Map of annotation-content, and the task function's reserved concurrency). */
const ANNOTATION_TASKS_AT_ONCE = 8;

const SLIDES_ROUTES = [
  'POST /v1/slides/sessions', 'GET /v1/slides/sessions', 'GET /v1/slides/sessions/{id}',
  'POST /v1/slides/uploads', 'GET /v1/slides/uploads/{id}', 'POST /v1/slides/uploads/{id}/complete', 'DELETE /v1/slides/uploads/{id}',
  'PUT /v1/slides/chunked',
  'GET /v1/slides/images', 'GET /v1/slides/images/{id}', 'GET /v1/slides/images/{id}/image.dzi', 'GET /v1/slides/images/{id}/image_files/{level}/{tile}',
  'GET /v1/slides/images/{id}/iiif/info.json', 'GET /v1/slides/images/{id}/iiif/{region}/{size}/{rotation}/{quality}',
  'GET /v1/slides/images/{id}/thumbnail', 'GET /v1/slides/images/{id}/preview',
  'GET /v1/slides/images/{id}/view', 'GET /v1/slides/viewer/{asset}',
] as const;

/** Regions of one slide image diced at once (the Map of slide-image, and the region function's reserved concurrency). */
const SLIDE_REGIONS_AT_ONCE = 8;

/** The slide-image steps read the source and write the pyramid on local disk: Lambda's ephemeral storage. */
const SLIDE_STEP = { memoryMb: 3008, timeoutSeconds: 900, ephemeralStorageMb: 10_240, layers: [] as const, triggers: [{ kind: 'task' as const }] };

/**
 * CORS of a bucket with `browserUploads`: presigned PUTs (single and multipart parts) straight from browsers, whose
 * scripts need the ETag to complete a multipart upload, and presigned GETs a page's script follows from the API's
 * redirects (the slide viewer's tiles). Any origin: a presigned URL is the credential.
 */
export const BROWSER_BUCKET_CORS = {
  allowedMethods: ['PUT', 'GET', 'HEAD'],
  allowedOrigins: ['*'],
  allowedHeaders: ['*'],
  exposedHeaders: ['ETag'],
  maxAgeSeconds: 3000,
} as const;

/**
 * CORS of a CDN's answers: a page's script follows the API's redirect to a signed URL as a CORS GET without
 * credentials (the signature is the credential), so any origin may read them.
 */
export const SIGNED_CDN_CORS = {
  allowedMethods: ['GET', 'HEAD'],
  allowedOrigins: ['*'],
  allowedHeaders: ['*'],
  allowCredentials: false,
  maxAgeSeconds: 3000,
} as const;

/** CORS of the HTTP API: what a browser may send, and which response headers its scripts may read. */
export const API_CORS = {
  allowHeaders: ['content-type', 'authorization', 'if-none-match'],
  exposeHeaders: [
    'etag', 'x-cache', 'x-cache-sections-built', 'x-cache-sections-cached', 'x-cache-fragments-built', 'x-cache-fragments-cached', 'x-cache-transcoded',
    'next-cursor', 'link', 'x-datastack-version', 'x-page-rows',
  ],
} as const;

export const topology: Topology = {
  app: 'framewise',
  site: {
    name: 'console',
    purpose: 'the web console: operators run the pipeline, clients see their brand exposure',
    folder: 'console',
    vendor: [{ package: 'uplot', files: ['dist/uPlot.esm.js', 'dist/uPlot.min.css'] }],
  },
  buckets: [
    {
      name: 'media',
      purpose: 'uploaded videos (videos/), extracted frames (frames/), localizations (localizations/), large cache values (cache/), materialization inputs (materialize/), annotation content, frames and task videos (annotation/), slide uploads and pyramids (slides/)',
      notifications: [{ prefix: 'videos/', queue: 'video-ingest', events: ['created', 'restored'] }],
      browserUploads: true,
      expirations: [{ prefix: 'cache/', days: 8 }, { prefix: 'slides/work/', days: 2 }],
      // A source video is read whole by its ingest, within minutes of its upload, and again only by a re-run: kept a
      // day in STANDARD, then in Deep Archive at a quarter of Glacier Instant Retrieval's price. A re-run first
      // restores it (hours) and starts when the restore completes (the `restored` notification; see the README).
      archivals: [{ prefix: 'videos/', days: 1, storageClass: 'DEEP_ARCHIVE' }],
    },
  ],
  cdns: [
    {
      name: 'slides',
      purpose: "slide pyramids (Deep Zoom and IIIF tiles, descriptors, thumbnails, previews) as the slides API's redirects lead to them",
      bucket: 'media',
      prefix: 'slides/',
      signedUrlSeconds: 900,
      // a pyramid's files are written once under their image's id and never change
      cacheSeconds: 365 * 86_400,
      cors: SIGNED_CDN_CORS,
    },
  ],
  tables: [
    {
      name: 'jobs',
      purpose: 'one item per job (video ingest, ...) with its state, attempts, error and execution',
      partitionKey: 'jobId',
      indexes: [
        { name: 'byState', partitionKey: 'state', sortKey: 'updatedAt' },
        { name: 'byVideo', partitionKey: 'videoId', sortKey: 'createdAt' },
      ],
    },
    {
      name: 'cache',
      purpose: 'analytics response cache: compressed values by key (large ones in S3 media cache/), expiring',
      partitionKey: 'key',
      ttlAttribute: 'expiresAt',
      indexes: [],
    },
  ],
  queues: [
    {
      name: 'video-ingest',
      purpose: 'S3 notifications of uploaded videos, and of archived videos restored for a re-run',
      visibilityTimeoutSeconds: 180,
      maxReceiveCount: 3,
    },
    {
      name: 'det-group',
      purpose: 'requests to compute a new det_group for every ingested video',
      visibilityTimeoutSeconds: 180,
      maxReceiveCount: 3,
    },
  ],
  secrets: [
    { name: 'admin-api-key', purpose: 'the first admin API key, created by the first deploy (platform-bootstrap)' },
  ],
  functions: [
    {
      name: 'platform-bootstrap',
      purpose: 'on every deploy: applies the PostgreSQL migrations (under an advisory lock), and creates the first admin API key into its secret if it holds none',
      entry: 'functions/platform/bootstrap.ts',
      memoryMb: 256,
      timeoutSeconds: 300,
      layers: [],
      triggers: [{ kind: 'deploy' }],
      bundledFolders: ['migrations'],
      uses: { postgres: true, secrets: ['admin-api-key'] },
    },
    {
      name: 'docs-api',
      purpose: 'the OpenAPI document of the whole HTTP API, generated from every route, and the API reference page (Swagger UI) that renders it',
      entry: 'functions/docs/http.ts',
      memoryMb: 256,
      timeoutSeconds: 29,
      layers: [],
      triggers: [{ kind: 'http', routes: ['GET /v1/openapi.json', 'GET /v1/docs', 'GET /v1/docs/{asset}'] }],
      bundledFolders: ['node_modules/swagger-ui-dist'],
      uses: {},
    },
    {
      name: 'catalog-api',
      purpose: 'catalog CRUD, API keys and video uploads',
      entry: 'functions/catalog/http.ts',
      memoryMb: 512,
      timeoutSeconds: 29,
      layers: [],
      triggers: [{ kind: 'http', routes: CATALOG_ROUTES }],
      uses: { buckets: [{ name: 'media', access: 'readwrite', prefixes: ['videos/', 'localizations/'] }], postgres: true },
    },
    {
      name: 'jobs-api',
      purpose: 'jobs by state or video, what waits to be released, requeueing failed jobs',
      entry: 'functions/jobs/http.ts',
      memoryMb: 256,
      timeoutSeconds: 29,
      layers: [],
      triggers: [
        {
          kind: 'http',
          routes: [
            'GET /v1/jobs', 'GET /v1/jobs/{id}', 'POST /v1/jobs/{id}/requeue',
          ],
        },
      ],
      uses: { tables: [{ name: 'jobs', access: 'readwrite' }], stateMachines: ['video-ingest', 'det-group', 'bulk-upload', 'materialize-version', 'ingest-annotations', 'update-roots', 'materialize', 'annotation-content', 'annotation-dataset', 'slide-image'], postgres: true },
    },
    {
      name: 'analytics-api',
      purpose: "metrics as each role may see them: a video's rollups, frame series and best frames (drawn with their boxes, kept in cache/); season meta and season/game metrics, cached; reviewing and releasing a video's results",
      entry: 'functions/analytics/http.ts',
      memoryMb: 1024,
      timeoutSeconds: 29,
      layers: [],
      triggers: [
        {
          kind: 'http',
          routes: [
            'GET /v1/videos/{id}/metrics', 'GET /v1/videos/{id}/frames',
            'GET /v1/videos/{id}/best-frames', 'GET /v1/videos/{id}/best-frames/{file}',
            'GET /v1/seasons/{id}/meta', 'GET /v1/seasons/{id}/metrics', 'GET /v1/games/{id}/metrics',
            'POST /v1/cache/touch-seasons', 'GET /v1/videos/{id}/review', 'POST /v1/videos/{id}/release',
          ],
        },
      ],
      uses: {
        buckets: [{ name: 'media', access: 'readwrite', prefixes: ['cache/'] }, { name: 'media', access: 'read', prefixes: ['frames/', 'localizations/'] }],
        tables: [{ name: 'cache', access: 'readwrite' }],
        postgres: true,
        mongodb: true,
      },
    },
    {
      name: 'ingest-api',
      purpose: "re-running a video's ingest, or starting it when its upload's arrival was missed",
      entry: 'functions/ingest/http.ts',
      memoryMb: 256,
      timeoutSeconds: 29,
      layers: [],
      triggers: [{ kind: 'http', routes: ['POST /v1/videos/{id}/ingest'] }],
      uses: { buckets: [{ name: 'media', access: 'read', prefixes: ['videos/'] }, { name: 'media', access: 'restore', prefixes: ['videos/'] }], tables: [{ name: 'jobs', access: 'readwrite' }], stateMachines: ['video-ingest'], postgres: true },
    },
    {
      name: 'ingest-upload',
      purpose: 'turns an uploaded video (as S3 holds it now) into a queued job and starts the video-ingest workflow; starts the re-run that waited for a restored video',
      entry: 'functions/ingest/upload.ts',
      memoryMb: 256,
      timeoutSeconds: 60,
      layers: [],
      triggers: [{ kind: 'queue', queue: 'video-ingest', batchSize: 10, maxConcurrency: 2 }],
      uses: { buckets: [{ name: 'media', access: 'read', prefixes: ['videos/'] }], tables: [{ name: 'jobs', access: 'readwrite' }], stateMachines: ['video-ingest'], postgres: true },
    },
    {
      name: 'ingest-recover-uploads',
      purpose: 'finds uploaded videos whose object arrived without a job (a notification lost or failed for good) and starts their ingest; starts re-runs whose archived video is readable again',
      entry: 'functions/ingest/recover-uploads.ts',
      memoryMb: 256,
      timeoutSeconds: 60,
      layers: [],
      triggers: [{ kind: 'schedule', name: 'recover-uploads', expression: 'rate(5 minutes)', everySeconds: 300, input: { graceSeconds: 120 } }],
      uses: { buckets: [{ name: 'media', access: 'read', prefixes: ['videos/'] }, { name: 'media', access: 'restore', prefixes: ['videos/'] }], tables: [{ name: 'jobs', access: 'readwrite' }], stateMachines: ['video-ingest'], postgres: true },
    },
    {
      name: 'ingest-probe',
      purpose: 'runs ffprobe on the uploaded video and stores its duration, frame rate, size and codec',
      entry: 'functions/ingest/probe.ts',
      memoryMb: 1024,
      timeoutSeconds: 120,
      layers: ['ffmpeg'],
      triggers: [{ kind: 'task' }],
      uses: { buckets: [{ name: 'media', access: 'read', prefixes: ['videos/'] }], tables: [{ name: 'jobs', access: 'readwrite' }], postgres: true },
    },
    {
      name: 'ingest-localizations',
      purpose: "validates a video's localizations and records which detectables occur in it",
      entry: 'functions/ingest/localizations-task.ts',
      memoryMb: 1024,
      timeoutSeconds: 300,
      layers: [],
      triggers: [{ kind: 'task' }],
      uses: { buckets: [{ name: 'media', access: 'read', prefixes: ['localizations/'] }], tables: [{ name: 'jobs', access: 'readwrite' }], postgres: true },
    },
    {
      name: 'ingest-plan',
      purpose: 'plans the segments whose frames are extracted in parallel',
      entry: 'functions/ingest/plan-task.ts',
      memoryMb: 256,
      timeoutSeconds: 30,
      layers: [],
      triggers: [{ kind: 'task' }],
      uses: { tables: [{ name: 'jobs', access: 'readwrite' }], postgres: true },
    },
    {
      name: 'ingest-frames',
      purpose: "extracts one segment's frames with ffmpeg into one frame pack, frames/{videoId}/{run}/{firstFrame}.zip",
      entry: 'functions/ingest/frames-task.ts',
      // Exactly one vCPU, which ffmpeg's one thread (threadsForMemory) uses whole: more memory would be billed unused.
      memoryMb: 1769,
      timeoutSeconds: 900,
      // The plan's segments at once (SEGMENTS_AT_ONCE in functions/ingest/segments.ts): one wave for a 3-hour game.
      reservedConcurrency: 40,
      layers: ['ffmpeg'],
      triggers: [{ kind: 'task' }],
      uses: { buckets: [{ name: 'media', access: 'read', prefixes: ['videos/'] }, { name: 'media', access: 'write', prefixes: ['frames/'] }], tables: [{ name: 'jobs', access: 'readwrite' }] },
    },
    {
      name: 'ingest-metrics',
      purpose: 'computes the frame metrics and rollups of every det_group that applies to the video',
      entry: 'functions/ingest/metrics-task.ts',
      memoryMb: 2048,
      timeoutSeconds: 900,
      reservedConcurrency: 4,
      layers: [],
      triggers: [{ kind: 'task' }],
      uses: { buckets: [{ name: 'media', access: 'read', prefixes: ['localizations/'] }], tables: [{ name: 'jobs', access: 'readwrite' }], postgres: true, mongodb: true },
    },
    {
      name: 'detgroups-api',
      purpose: 'det_groups as clients get them: create (and compute), grant with detectables, revoke, replace, delete; review and release',
      entry: 'functions/detgroups/http.ts',
      memoryMb: 512,
      timeoutSeconds: 29,
      layers: [],
      triggers: [
        {
          kind: 'http',
          routes: [
            'POST /v1/det-groups', 'DELETE /v1/det-groups/{id}',
            'POST /v1/clients/{id}/det-groups', 'PUT /v1/clients/{id}/det-groups/{detGroupId}',
            'DELETE /v1/clients/{id}/det-groups/{detGroupId}', 'POST /v1/clients/{id}/det-groups/{detGroupId}/replace',
            'GET /v1/det-groups/{id}/review', 'POST /v1/det-groups/{id}/release',
          ],
        },
      ],
      uses: { queues: ['det-group'], postgres: true, mongodb: true },
    },
    {
      name: 'detgroups-start',
      purpose: 'turns a det_group computation request into a queued job and starts the det-group workflow',
      entry: 'functions/detgroups/start.ts',
      memoryMb: 256,
      timeoutSeconds: 60,
      layers: [],
      triggers: [{ kind: 'queue', queue: 'det-group', batchSize: 5, maxConcurrency: 2 }],
      uses: { tables: [{ name: 'jobs', access: 'readwrite' }], stateMachines: ['det-group'] },
    },
    {
      name: 'detgroups-videos',
      purpose: 'lists the ingested videos a det_group applies to',
      entry: 'functions/detgroups/videos-task.ts',
      memoryMb: 256,
      timeoutSeconds: 60,
      layers: [],
      triggers: [{ kind: 'task' }],
      uses: { tables: [{ name: 'jobs', access: 'readwrite' }], postgres: true },
    },
    {
      name: 'detgroups-compute',
      purpose: "computes one det_group's metrics for one video",
      entry: 'functions/detgroups/compute-task.ts',
      memoryMb: 2048,
      timeoutSeconds: 900,
      reservedConcurrency: 4,
      layers: [],
      triggers: [{ kind: 'task' }],
      uses: { buckets: [{ name: 'media', access: 'read', prefixes: ['localizations/'] }], tables: [{ name: 'jobs', access: 'readwrite' }], postgres: true, mongodb: true },
    },
    {
      name: 'ingest-failed',
      purpose: "marks the video failed when its ingest fails (the video-ingest workflow's failure path) and deletes the frames the run stored",
      entry: 'functions/ingest/failed-task.ts',
      memoryMb: 256,
      timeoutSeconds: 30,
      layers: [],
      triggers: [{ kind: 'task' }],
      uses: { buckets: [{ name: 'media', access: 'delete', prefixes: ['frames/'] }], postgres: true },
    },
    {
      name: 'jobs-outcome',
      purpose: 'records the end of a workflow on its job: succeeded, or failed with the error',
      entry: 'functions/jobs/outcome.ts',
      memoryMb: 256,
      timeoutSeconds: 30,
      layers: [],
      triggers: [{ kind: 'task' }],
      uses: { tables: [{ name: 'jobs', access: 'readwrite' }] },
    },
    {
      name: 'jobs-sweeper',
      purpose: 'finds jobs left working by an execution that ended without an outcome (process died, timed out, aborted) and runs them again, up to 3 runs, then fails them',
      entry: 'functions/jobs/sweeper.ts',
      memoryMb: 256,
      timeoutSeconds: 60,
      layers: [],
      triggers: [{ kind: 'schedule', name: 'sweep-stuck-jobs', expression: 'rate(5 minutes)', everySeconds: 300 }],
      uses: { tables: [{ name: 'jobs', access: 'readwrite' }], stateMachines: ['video-ingest', 'det-group', 'bulk-upload', 'materialize-version', 'ingest-annotations', 'update-roots', 'materialize', 'annotation-content', 'annotation-dataset', 'slide-image'] },
    },
    {
      name: 'annotation-api',
      purpose: 'annotation projects, content uploads (presigned), processContent requests that start the annotation-content workflow, uploads and tasks with presigned URLs of their videos',
      entry: 'functions/annotation/http.ts',
      memoryMb: 512,
      timeoutSeconds: 29,
      // ffprobe checks a video's frame rate before a request is accepted.
      layers: ['ffmpeg'],
      triggers: [{ kind: 'http', routes: [...ANNOTATION_ROUTES, ...ANNOTATION_WORK_ROUTES] }],
      uses: {
        buckets: [
          { name: 'media', access: 'readwrite', prefixes: ['annotation/uploads/'] }, { name: 'media', access: 'read', prefixes: ['annotation/tasks/'] },
          { name: 'media', access: 'readwrite', prefixes: ['annotation/predictions/'] }, { name: 'media', access: 'read', prefixes: ['datasets/'] },
        ],
        tables: [{ name: 'jobs', access: 'readwrite' }],
        stateMachines: ['annotation-content', 'annotation-dataset'],
        // API keys are checked in PostgreSQL.
        postgres: true,
        mongodb: true,
      },
    },
    {
      name: 'annotation-prepare',
      purpose: "annotation-content: probes the video (or lists the images), plans the upload's tasks and records them as not yet generated",
      entry: 'functions/annotation/prepare-task.ts',
      memoryMb: 1024,
      timeoutSeconds: 300,
      layers: ['ffmpeg'],
      triggers: [{ kind: 'task' }],
      uses: { buckets: [{ name: 'media', access: 'read', prefixes: ['annotation/uploads/'] }], tables: [{ name: 'jobs', access: 'readwrite' }], mongodb: true },
    },
    {
      name: 'annotation-task',
      purpose: "annotation-content: one task's frames extracted (annotation/frames/), its H.264 task video and frame manifest (annotation/tasks/), its document",
      entry: 'functions/annotation/task-step.ts',
      memoryMb: 2048,
      timeoutSeconds: 900,
      reservedConcurrency: ANNOTATION_TASKS_AT_ONCE,
      layers: ['ffmpeg'],
      triggers: [{ kind: 'task' }],
      uses: {
        buckets: [{ name: 'media', access: 'read', prefixes: ['annotation/uploads/'] }, { name: 'media', access: 'write', prefixes: ['annotation/frames/', 'annotation/tasks/'] }],
        tables: [{ name: 'jobs', access: 'readwrite' }],
        mongodb: true,
      },
    },
    {
      name: 'annotation-auto',
      purpose: "annotation-content: applies a prediction set to the upload's frames as auto annotations (request types 1 and 2)",
      entry: 'functions/annotation/auto-step.ts',
      memoryMb: 1024,
      timeoutSeconds: 300,
      layers: [],
      triggers: [{ kind: 'task' }],
      uses: { buckets: [{ name: 'media', access: 'read', prefixes: ['annotation/predictions/'] }], tables: [{ name: 'jobs', access: 'readwrite' }], mongodb: true },
    },
    {
      name: 'annotation-finish',
      purpose: 'annotation-content: removes tasks a regeneration no longer has, marks the upload completed (progress 100)',
      entry: 'functions/annotation/finish-step.ts',
      memoryMb: 256,
      timeoutSeconds: 60,
      layers: [],
      triggers: [{ kind: 'task' }],
      uses: { tables: [{ name: 'jobs', access: 'readwrite' }], mongodb: true },
    },
    {
      name: 'annotation-failed',
      purpose: "marks the upload's processing as an error with the job's error (the annotation-content workflow's failure path)",
      entry: 'functions/annotation/failed-step.ts',
      memoryMb: 256,
      timeoutSeconds: 30,
      layers: [],
      triggers: [{ kind: 'task' }],
      uses: { mongodb: true },
    },
    {
      name: 'annotation-dataset-build',
      purpose: "annotation-dataset: a dataset version's frozen plan, its items (images copied from annotation/frames/, YOLO labels), index files and zip under datasets/; resumable",
      entry: 'functions/annotation/dataset-build-task.ts',
      memoryMb: 1024,
      timeoutSeconds: 900,
      layers: [],
      triggers: [{ kind: 'task' }],
      uses: {
        buckets: [{ name: 'media', access: 'read', prefixes: ['annotation/frames/'] }, { name: 'media', access: 'readwrite', prefixes: ['datasets/', 'annotation/dataset-plans/'] }],
        tables: [{ name: 'jobs', access: 'readwrite' }],
        mongodb: true,
      },
    },
    {
      name: 'annotation-dataset-resume',
      purpose: 'continues dataset builds that stopped (a crash, a timeout, a job out of runs) from where they stopped (the warm start)',
      entry: 'functions/annotation/dataset-resume.ts',
      memoryMb: 1024,
      timeoutSeconds: 900,
      layers: [],
      triggers: [{ kind: 'schedule', name: 'resume-dataset-builds', expression: 'rate(5 minutes)', everySeconds: 300, input: { graceSeconds: 120 } }],
      uses: {
        buckets: [{ name: 'media', access: 'read', prefixes: ['annotation/frames/'] }, { name: 'media', access: 'readwrite', prefixes: ['datasets/', 'annotation/dataset-plans/'] }],
        mongodb: true,
      },
    },
    {
      name: 'materialize-api',
      purpose:
        'materialization: validates bulk uploads of .npy column files and starts them; starts, lists and reads frozen versions; ' +
        'registers segmentation sources, loads supervoxel-to-root tables, starts segmentation refresh runs',
      entry: 'functions/materialize/http.ts',
      memoryMb: 512,
      timeoutSeconds: 29,
      layers: [],
      triggers: [
        {
          kind: 'http',
          routes: [
            'POST /v1/materialize/{datastack}/bulk-upload',
            'POST /v1/materialize/{datastack}/versions', 'GET /v1/materialize/{datastack}/versions',
            'GET /v1/materialize/{datastack}/versions/{version}/tables/{table}',
            'PUT /v1/materialize/{datastack}/segmentation', 'GET /v1/materialize/{datastack}/segmentation',
            'POST /v1/materialize/{datastack}/supervoxel-roots',
            'POST /v1/materialize/{datastack}/ingest-annotations', 'POST /v1/materialize/{datastack}/update-roots',
            'POST /v1/materialize/{datastack}/complete-workflow',
          ],
        },
      ],
      uses: {
        buckets: [{ name: 'media', access: 'read', prefixes: ['materialize/'] }],
        tables: [{ name: 'jobs', access: 'readwrite' }],
        stateMachines: ['bulk-upload', 'materialize-version', 'ingest-annotations', 'update-roots', 'materialize'],
        postgres: true,
      },
    },
    {
      name: 'materialize-prepare',
      purpose: "bulk upload: re-reads the headers, creates the datastack's chunk ledger and the upload's staging tables, plans the chunks",
      entry: 'functions/materialize/bulk/prepare-task.ts',
      memoryMb: 512,
      timeoutSeconds: 300,
      layers: [],
      triggers: [{ kind: 'task' }],
      uses: { buckets: [{ name: 'media', access: 'read', prefixes: ['materialize/'] }], tables: [{ name: 'jobs', access: 'readwrite' }], postgres: true },
    },
    {
      name: 'materialize-load-chunk',
      purpose: 'bulk upload: loads one chunk of rows (its byte ranges of every file) into the staging tables with binary COPY and records it in the ledger, once',
      entry: 'functions/materialize/bulk/load-chunk-task.ts',
      memoryMb: 2048,
      timeoutSeconds: 900,
      reservedConcurrency: 4,
      layers: [],
      triggers: [{ kind: 'task' }],
      uses: { buckets: [{ name: 'media', access: 'read', prefixes: ['materialize/'] }], tables: [{ name: 'jobs', access: 'readwrite' }], postgres: true },
    },
    {
      name: 'materialize-finish',
      purpose: 'bulk upload: reloads missing chunks, verifies row counts, indexes the staging tables and publishes them into the tables in one transaction',
      entry: 'functions/materialize/bulk/finish-task.ts',
      memoryMb: 2048,
      timeoutSeconds: 900,
      layers: [],
      triggers: [{ kind: 'task' }],
      uses: { buckets: [{ name: 'media', access: 'read', prefixes: ['materialize/'] }], tables: [{ name: 'jobs', access: 'readwrite' }], postgres: true },
    },
    {
      name: 'materialize-discard',
      purpose: "bulk upload: after a failed step, drops the upload's staging tables and its ledger rows",
      entry: 'functions/materialize/bulk/discard-task.ts',
      memoryMb: 256,
      timeoutSeconds: 60,
      layers: [],
      triggers: [{ kind: 'task' }],
      uses: { postgres: true },
    },
    {
      name: 'materialize-ingest-annotations',
      purpose: "segmentation refresh: looks up missing supervoxel ids in the precomputed volume (one GET per chunk needed), then assigns the roots valid now; resumable",
      entry: 'functions/materialize/segmentation/ingest-annotations-task.ts',
      memoryMb: 1024,
      timeoutSeconds: 900,
      layers: [],
      triggers: [{ kind: 'task' }],
      uses: { buckets: [{ name: 'media', access: 'read', prefixes: ['materialize/'] }], tables: [{ name: 'jobs', access: 'readwrite' }], postgres: true },
    },
    {
      name: 'materialize-update-roots',
      purpose: 'segmentation refresh: replaces the root ids that expired since the last refresh by the roots now valid for their supervoxels, in SQL batches; resumable',
      entry: 'functions/materialize/segmentation/update-roots-task.ts',
      memoryMb: 512,
      timeoutSeconds: 900,
      layers: [],
      triggers: [{ kind: 'task' }],
      uses: { tables: [{ name: 'jobs', access: 'readwrite' }], postgres: true },
    },
    {
      name: 'materialize-create-version',
      purpose: "frozen version: copies a datastack's annotation tables merged with their segmentation ids from one snapshot, checks row counts, re-indexes, makes them read-only; once per job",
      entry: 'functions/materialize/versions/create-version-task.ts',
      memoryMb: 1024,
      timeoutSeconds: 900,
      layers: [],
      triggers: [{ kind: 'task' }],
      uses: { tables: [{ name: 'jobs', access: 'readwrite' }], postgres: true },
    },
    {
      name: 'materialize-schedule-versions',
      purpose: 'periodic materialization: starts the complete workflow (ingest, update roots, create version) for every datastack with annotation tables, once per period',
      entry: 'functions/materialize/versions/schedule-versions.ts',
      memoryMb: 256,
      timeoutSeconds: 60,
      layers: [],
      triggers: VERSION_SCHEDULES.map((s) => ({
        kind: 'schedule' as const,
        name: `materialize-${s.cadence}-version`,
        expression: s.expression,
        everySeconds: s.everySeconds,
        input: { cadence: s.cadence, expiresInDays: VERSION_SETTINGS.versionExpiryDays[s.cadence] },
      })),
      uses: { tables: [{ name: 'jobs', access: 'readwrite' }], stateMachines: ['materialize'], postgres: true },
    },
    {
      name: 'materialize-expire-versions',
      purpose: "drops expired frozen versions, keeping each datastack's newest valid one and at least keepVersions",
      entry: 'functions/materialize/versions/expire-versions.ts',
      memoryMb: 256,
      timeoutSeconds: 300,
      layers: [],
      triggers: [
        { kind: 'schedule', name: 'expire-datastack-versions', expression: 'rate(1 hour)', everySeconds: 3600, input: { keepVersions: VERSION_SETTINGS.keepVersions } },
      ],
      uses: { postgres: true },
    },
    {
      name: 'slides-api',
      purpose: 'slide sessions and images, their uploads (presigned multipart, and the Content-Range chunk protocol over the same multipart upload) checked before the slide-image workflow starts, pyramids through short-lived redirects (CloudFront signed URLs in AWS)',
      entry: 'functions/slides/http.ts',
      memoryMb: 1024,
      timeoutSeconds: 29,
      layers: [],
      triggers: [{ kind: 'http', routes: SLIDES_ROUTES }],
      bundledFolders: ['node_modules/openseadragon'],
      uses: {
        buckets: [{ name: 'media', access: 'readwrite', prefixes: ['slides/uploads/'] }, { name: 'media', access: 'read', prefixes: ['slides/'] }],
        tables: [{ name: 'jobs', access: 'readwrite' }],
        stateMachines: ['slide-image'],
        postgres: true,
        cdns: ['slides'],
      },
    },
    {
      name: 'slides-dice',
      purpose: 'slide-image: reads the source once into Deep Zoom and IIIF tiles under slides/{imageId}/ (descriptors staged until published)',
      entry: 'functions/slides/dice-step.ts',
      ...SLIDE_STEP,
      uses: { buckets: [{ name: 'media', access: 'readwrite', prefixes: ['slides/'] }], tables: [{ name: 'jobs', access: 'readwrite' }], postgres: true },
    },
    {
      name: 'slides-dice-region',
      purpose: "slide-image, an image over the region threshold: one region's tiles from full size down to the split level under slides/{imageId}/, its split-level pixels under slides/work/",
      entry: 'functions/slides/dice-region-step.ts',
      ...SLIDE_STEP,
      reservedConcurrency: SLIDE_REGIONS_AT_ONCE,
      uses: { buckets: [{ name: 'media', access: 'readwrite', prefixes: ['slides/'] }], tables: [{ name: 'jobs', access: 'readwrite' }], postgres: true },
    },
    {
      name: 'slides-dice-overview',
      purpose: "slide-image, an image over the region threshold: the regions' split-level pixels joined into the levels above the split level and the descriptors (staged)",
      entry: 'functions/slides/dice-overview-step.ts',
      ...SLIDE_STEP,
      uses: { buckets: [{ name: 'media', access: 'readwrite', prefixes: ['slides/'] }], tables: [{ name: 'jobs', access: 'readwrite' }], postgres: true },
    },
    {
      name: 'slides-pyramid',
      purpose: "slide-image: publishes the pyramid's descriptors (image.dzi, iiif/info.json) once every tile is in place, and the image's levels",
      entry: 'functions/slides/pyramid-step.ts',
      memoryMb: 256,
      timeoutSeconds: 60,
      layers: [],
      triggers: [{ kind: 'task' }],
      uses: { buckets: [{ name: 'media', access: 'readwrite', prefixes: ['slides/'] }], tables: [{ name: 'jobs', access: 'readwrite' }], postgres: true },
    },
    {
      name: 'slides-finish',
      purpose: "slide-image: the thumbnail (256 px) and preview (1024 px), the image's metadata, the image ready",
      entry: 'functions/slides/finish-step.ts',
      ...SLIDE_STEP,
      uses: { buckets: [{ name: 'media', access: 'readwrite', prefixes: ['slides/'] }], tables: [{ name: 'jobs', access: 'readwrite' }], postgres: true },
    },
    {
      name: 'slides-failed',
      purpose: "marks the image failed with the job's error (the slide-image workflow's failure path)",
      entry: 'functions/slides/failed-step.ts',
      memoryMb: 256,
      timeoutSeconds: 30,
      layers: [],
      triggers: [{ kind: 'task' }],
      uses: { postgres: true },
    },
    {
      name: 'slides-sync',
      purpose: 'reconciles the slide store: registers and dices objects copied under slides/inbox/, restarts or fails images whose workflow ended without telling them, aborts uploads open too long, marks images whose objects are gone missing',
      entry: 'functions/slides/sync.ts',
      memoryMb: 256,
      timeoutSeconds: 300,
      layers: [],
      triggers: [{ kind: 'schedule', name: 'sync-slides', expression: 'rate(5 minutes)', everySeconds: 300, input: { graceSeconds: 600, uploadMaxAgeSeconds: 7 * 86_400 } }],
      uses: {
        buckets: [{ name: 'media', access: 'readwrite', prefixes: ['slides/'] }],
        tables: [{ name: 'jobs', access: 'readwrite' }],
        stateMachines: ['slide-image'],
        postgres: true,
      },
    },
  ],
  stateMachines: [
    {
      name: 'video-ingest',
      context: 'ingest',
      purpose: 'probe, validate localizations, extract frames in parallel segments, compute metrics, record the outcome',
      definitionFile: 'statemachines/video-ingest.asl.json',
      functions: ['ingest-probe', 'ingest-localizations', 'ingest-plan', 'ingest-frames', 'ingest-metrics', 'ingest-failed', 'jobs-outcome'],
      timeoutSeconds: 3600,
    },
    {
      name: 'det-group',
      context: 'detgroups',
      purpose: 'compute a new det_group for every ingested video it applies to, and record the outcome',
      definitionFile: 'statemachines/det-group.asl.json',
      functions: ['detgroups-videos', 'detgroups-compute', 'jobs-outcome'],
      timeoutSeconds: 3600,
    },
    {
      name: 'annotation-content',
      context: 'annotation',
      purpose: "turn an upload into annotation tasks: prepare, generate the tasks in parallel (frames, task video, manifest), apply auto annotations, finish; a failure marks the upload's processing as an error; record the outcome",
      definitionFile: 'statemachines/annotation-content.asl.json',
      functions: ['annotation-prepare', 'annotation-task', 'annotation-auto', 'annotation-finish', 'annotation-failed', 'jobs-outcome'],
      timeoutSeconds: 3600,
    },
    {
      name: 'annotation-dataset',
      context: 'annotation',
      purpose: 'build a dataset version (the task runs again until the version, its files and its zip are written), and record the outcome',
      definitionFile: 'statemachines/annotation-dataset.asl.json',
      functions: ['annotation-dataset-build', 'jobs-outcome'],
      timeoutSeconds: 4 * 3600,
    },
    {
      name: 'bulk-upload',
      context: 'materialize',
      purpose: 'load .npy column files into a datastack table: prepare, load the chunks in parallel into staging, verify, index and publish; a failed upload is discarded; record the outcome',
      definitionFile: 'statemachines/bulk-upload.asl.json',
      functions: ['materialize-prepare', 'materialize-load-chunk', 'materialize-finish', 'materialize-discard', 'jobs-outcome'],
      timeoutSeconds: 7200,
    },
    {
      name: 'ingest-annotations',
      context: 'materialize',
      purpose: 'look up the missing supervoxel ids and roots of a datastack (the task runs again until it reports complete), and record the outcome',
      definitionFile: 'statemachines/ingest-annotations.asl.json',
      functions: ['materialize-ingest-annotations', 'jobs-outcome'],
      timeoutSeconds: 7200,
    },
    {
      name: 'update-roots',
      context: 'materialize',
      purpose: "replace a datastack's expired root ids (the task runs again until it reports complete), and record the outcome",
      definitionFile: 'statemachines/update-roots.asl.json',
      functions: ['materialize-update-roots', 'jobs-outcome'],
      timeoutSeconds: 7200,
    },
    {
      name: 'materialize',
      context: 'materialize',
      purpose: 'the complete workflow: ingest new annotations, update expired root ids (each repeated until complete), create a frozen version, record the outcome',
      definitionFile: 'statemachines/materialize.asl.json',
      functions: ['materialize-ingest-annotations', 'materialize-update-roots', 'materialize-create-version', 'jobs-outcome'],
      timeoutSeconds: 4 * 3600,
    },
    {
      name: 'materialize-version',
      context: 'materialize',
      purpose: "make a frozen version of a datastack's annotation tables, and record the outcome",
      definitionFile: 'statemachines/materialize-version.asl.json',
      functions: ['materialize-create-version', 'jobs-outcome'],
      timeoutSeconds: 3600,
    },
    {
      name: 'slide-image',
      context: 'slides',
      purpose: "a slide image's pyramid: dice (over the region threshold: its regions side by side in a Map, then the levels above them), publish the descriptors, finish (thumbnail, preview, metadata); a failure marks the image failed; record the outcome",
      definitionFile: 'statemachines/slide-image.asl.json',
      functions: ['slides-dice', 'slides-dice-region', 'slides-dice-overview', 'slides-pyramid', 'slides-finish', 'slides-failed', 'jobs-outcome'],
      timeoutSeconds: 3 * 3600,
    },
  ],
  settings: {
    lambdaRuntime: 'nodejs22.x',
    logRetentionDays: 30,
    postgresDatabase: 'framewise',
    mongoDatabase: 'framewise',
    presignedUrlSeconds: 3600,
    multipartThresholdBytes: 8 * 1024 * 1024,
    multipartPartBytes: 8 * 1024 * 1024,
    maxUploadBytes: 50 * 1024 ** 3,
    checkInApiMaxBytes: 1024 ** 3,
    ...VERSION_SETTINGS,
  },
};

// ---- names shared by both materializations ----

const pascal = (name: string): string =>
  name.split(/[-_]/).map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('');
const envKey = (name: string): string => name.replace(/-/g, '_').toUpperCase();

/** The `${...}` placeholder an ASL file uses for a function's ARN, e.g. `IngestProbeFunctionArn`. */
export const functionArnPlaceholder = (fn: string): string => `${pascal(fn)}FunctionArn`;
/** Environment variable with a bucket's name, e.g. `BUCKET_MEDIA`. */
export const bucketEnv = (bucket: string): string => `BUCKET_${envKey(bucket)}`;
/** Environment variable with a table's name, e.g. `TABLE_JOBS`. */
export const tableEnv = (table: string): string => `TABLE_${envKey(table)}`;
/** Environment variable with a queue's URL, e.g. `QUEUE_VIDEO_INGEST_URL`. */
export const queueEnv = (queue: string): string => `QUEUE_${envKey(queue)}_URL`;
/** Environment variable with a state machine's ARN, e.g. `STATE_MACHINE_VIDEO_INGEST_ARN`. */
export const stateMachineEnv = (sm: string): string => `STATE_MACHINE_${envKey(sm)}_ARN`;
/** Environment variable with a secret's id (its ARN in AWS), e.g. `SECRET_ADMIN_API_KEY_ID`. */
export const secretEnv = (secret: string): string => `SECRET_${envKey(secret)}_ID`;
/** Environment variable with the path of a bundled folder, named by its last segment: `MIGRATIONS_DIR`, `SWAGGER_UI_DIST_DIR`. */
export const folderEnv = (folder: string): string => `${folder.split('/').at(-1)!.replace(/[^A-Za-z0-9]+/g, '_').toUpperCase()}_DIR`;
/** Environment variables of a CDN a function signs URLs of, e.g. `CDN_SLIDES_DOMAIN`; unset where there is no CDN. */
export const cdnEnv = (cdn: string) => ({
  domain: `CDN_${envKey(cdn)}_DOMAIN`,
  keyPairId: `CDN_${envKey(cdn)}_KEY_PAIR_ID`,
  keySecretId: `CDN_${envKey(cdn)}_KEY_SECRET_ID`,
  signedUrlSeconds: `CDN_${envKey(cdn)}_URL_SECONDS`,
}) as const;
/** Physical name of a secret in a stage, e.g. `framewise/dev/admin-api-key` (the local cloud's stage is `local`). */
export const secretName = (stage: string, secret: string): string => `${topology.app}/${stage}/${secret}`;
export const dlqName = (queue: string): string => `${queue}-dlq`;

/** The bounded context a function belongs to: the folder of its entry (`functions/<context>/...`). */
export function contextOf(fn: FunctionDef): ContextName {
  const folder = fn.entry.split('/')[1];
  const context = CONTEXTS.find((c) => c === folder);
  if (!context) throw new Error(`function ${fn.name}: ${fn.entry} is not in a context folder (${CONTEXTS.join(', ')})`);
  return context;
}

export function findFunction(name: string): FunctionDef {
  const fn = topology.functions.find((f) => f.name === name);
  if (!fn) throw new Error(`no function named ${name} in the topology`);
  return fn;
}

/** Every HTTP route of these functions (by default all of them) with the function that serves it. */
export function httpRoutes(functions: readonly FunctionDef[] = topology.functions): { method: string; path: string; fn: string }[] {
  return functions.flatMap((f) =>
    f.triggers.flatMap((t) =>
      t.kind === 'http'
        ? t.routes.map((r) => {
            const [method, path] = r.split(' ');
            return { method: method!, path: path!, fn: f.name };
          })
        : [],
    ),
  );
}
