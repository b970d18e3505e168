// A job is one run of a workflow over one subject (a video, a det_group). Pure rules, no I/O.
import { createHash } from 'node:crypto';

export const JOB_STATES = ['queued', 'working', 'succeeded', 'failed'] as const;
export type JobState = (typeof JOB_STATES)[number];
export const JOB_KINDS = ['video-ingest', 'det-group', 'bulk-upload', 'materialize-version', 'ingest-annotations', 'update-roots', 'materialize', 'annotation-content', 'annotation-dataset', 'slide-image'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

export const JOB_WAITS = ['source-restore'] as const;
export type JobWait = (typeof JOB_WAITS)[number];

export interface JobError {
  readonly code: string;
  readonly message: string;
}

/** The steps of each kind of job, in order; each Task state of its workflow is one step. */
export const JOB_STEPS = {
  'video-ingest': ['probe', 'localizations', 'plan', 'frames', 'metrics'],
  /** videos: list the videos the det_group applies to; compute: its metrics for each (parts: videos). */
  'det-group': ['videos', 'compute'],
  /** prepare: tables, ledger, drop indexes, plan; load: the chunks (parts: chunks); finish: verify, repair, re-index. */
  'bulk-upload': ['prepare', 'load', 'finish'],
  /** create-version: copy, check, re-index and freeze the datastack's annotation tables. */
  'materialize-version': ['create-version'],
  /** ingest: look up missing supervoxel ids in the volume, then assign the roots valid at the run's time. */
  'ingest-annotations': ['ingest'],
  /** update: replace the roots that expired since the last refresh. */
  'update-roots': ['update'],
  /** The complete workflow: ingest new annotations, update root ids, create a version (a datastack without a segmentation source passes the first two). */
  materialize: ['ingest', 'update', 'create-version'],
  /** prepare: probe, plan the tasks; tasks: frames, task video and manifest of each (parts: tasks); auto-annotations: a prediction set onto the frames; finish. */
  'annotation-content': ['prepare', 'tasks', 'auto-annotations', 'finish'],
  /** build: a dataset version's items, files and zip (the task runs again until the version is built). */
  'annotation-dataset': ['build'],
  /**
   * dice: the source read once into tiles (or, over the region threshold, the region plan); regions: such an image's
   * regions diced side by side (parts: regions), then the levels above them (others pass it); pyramid: the descriptors
   * published; finish: thumbnail, preview, metadata.
   */
  'slide-image': ['dice', 'regions', 'pyramid', 'finish'],
} as const satisfies Record<JobKind, readonly string[]>;
export type StepName = (typeof JOB_STEPS)[JobKind][number];
export type StepState = 'pending' | 'working' | 'succeeded' | 'failed';

export interface Step {
  readonly state: StepState;
  readonly attempts: number;
  /** For steps made of parts (frames: segments): parts done and in all. */
  readonly done?: number;
  readonly total?: number;
  /** For steps made of parts: the parts done (each counted once, also across runs) and how often each was tried. */
  readonly partsDone?: Readonly<Record<string, true>>;
  readonly partAttempts?: Readonly<Record<string, number>>;
}

export const initialSteps = (kind: JobKind): Partial<Record<StepName, Step>> =>
  Object.fromEntries(JOB_STEPS[kind].map((s) => [s, { state: 'pending', attempts: 0 }]));

/** Steps still working when a run ends: the ones that failed, if it failed. */
export const workingSteps = (job: Pick<Job, 'kind' | 'steps'>): StepName[] =>
  JOB_STEPS[job.kind].filter((s) => job.steps?.[s]?.state === 'working');

export interface Job {
  readonly jobId: string;
  readonly kind: JobKind;
  readonly state: JobState;
  /** The subject: a video (video-ingest) or a det_group (det-group). */
  readonly videoId?: string;
  readonly detGroupId?: string;
  /** What the workflow runs on, e.g. `{ bucket, key }` of the uploaded object. */
  readonly input: Record<string, string>;
  /** Attempts of the step that ran last; reset by a requeue. */
  readonly attempts: number;
  readonly steps: Partial<Record<StepName, Step>>;
  readonly currentStep?: StepName;
  readonly requeues: number;
  /** Runs started since the last start or requeue because the one before ended without an outcome. */
  readonly resumes?: number;
  readonly executionArn?: string;
  /**
   * What a queued job waits for before its run starts: `source-restore`, the restore of its archived source (a
   * video's re-run). Whoever sees the wait end starts it, once (startWaitingJob); the sweeper leaves it alone.
   */
  readonly waitsFor?: JobWait;
  readonly error?: JobError;
  /** What a succeeded run reported (e.g. a bulk upload's row counts, a segmentation run's summary). */
  readonly result?: Record<string, unknown>;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** Which states a job may move to from each state; anything else is refused. */
const TRANSITIONS: Record<JobState, readonly JobState[]> = {
  queued: ['working', 'succeeded', 'failed'],
  working: ['working', 'succeeded', 'failed'],
  succeeded: [],
  failed: ['queued'],
};

export const canMove = (from: JobState, to: JobState): boolean => TRANSITIONS[from].includes(to);
/** States from which a move to `to` is allowed (for conditional writes). */
export const statesBefore = (to: JobState): JobState[] => JOB_STATES.filter((s) => canMove(s, to));

/**
 * The same uploaded object gives the same job, however its arrival is found: the id comes from the object's key,
 * ETag and Last-Modified time (an overwrite with equal content, a later write, is a new job).
 */
export function ingestJobId(videoId: string, key: string, etag: string, lastModified: string): string {
  const digest = createHash('sha1').update(`${key}\n${etag}\n${lastModified}`).digest('hex').slice(0, 16);
  return `ingest-${videoId}-${digest}`;
}

export const detGroupJobId = (detGroupId: string, unique: string): string => `detgroup-${detGroupId}-${unique}`;

/** A bulk upload's job is named by its upload id (a digest of what it loads): the same upload posted twice is one job. */
export const bulkUploadJobId = (datastack: string, uploadId: string): string => `bulk-${datastack}-${uploadId}`;

/**
 * A version's job: a scheduled one is named by its datastack, cadence and period (a schedule delivered twice in
 * a day, week or month starts one version); an admin's request by a fresh unique part.
 */
export const materializeVersionJobId = (datastack: string, unique: string): string => `version-${datastack}-${unique}`;

/** A complete materialization run, named as a version's job is (by period when scheduled). */
export const materializeJobId = (datastack: string, unique: string): string => `materialize-${datastack}-${unique}`;

/** A segmentation refresh run: a fresh unique part each time (each request is a run of its own). */
export const segmentationJobId = (kind: 'ingest-annotations' | 'update-roots', datastack: string, unique: string): string =>
  `${kind === 'ingest-annotations' ? 'segment' : 'roots'}-${datastack}-${unique}`;

/** The n-th processing request of an annotation upload (n from 1): a repeated request is a new job, a redelivered one the same. */
export const annotationContentJobId = (uploadId: string, request: number): string => `annotation-${uploadId}-${request}`;

/** An image's pyramid is built by one job per run the image was started for (an upload, the reconciler's restart). */
export const slideImageJobId = (imageId: string, run: number): string => `slide-${imageId}-${run}`;

/** A dataset version is built by one job: its name and version name it. */
export const annotationDatasetJobId = (name: string, version: number): string => `dataset-${name}-v${version}`;

/** Step Functions names an execution once: a requeued or resumed run gets its own name. */
export const executionName = (jobId: string, requeues: number, resumes = 0): string =>
  `${requeues === 0 ? jobId : `${jobId}-r${requeues}`}${resumes === 0 ? '' : `-s${resumes}`}`;

/** A job gets this many runs (the convention of 3 attempts) before a run that ends without an outcome fails it. */
export const RUNS_PER_JOB = 3;
/** Closing runs (which record the failure through the workflow) a job may get before the sweeper fails it itself. */
const CLOSING_RUNS = 2;

/**
 * What follows a run that ended without recording an outcome (its process died, it timed out or was stopped):
 * another run, which skips the parts already done, while the job has runs left; then a closing run that records
 * the failure through the workflow (so the subject's context hears of it), if the workflow has one; then failing
 * the job directly.
 */
export function afterRunEnded(job: Pick<Job, 'resumes'>, hasClosingRun: boolean): 'resume' | 'close' | 'fail' {
  const runs = (job.resumes ?? 0) + 1;
  if (runs < RUNS_PER_JOB) return 'resume';
  return hasClosingRun && runs < RUNS_PER_JOB + CLOSING_RUNS ? 'close' : 'fail';
}

/**
 * Turns what Step Functions hands a Catch (`{ Error, Cause }`) into the job's error. Lambda puts the thrown
 * error in Cause as JSON `{ errorType, errorMessage }`; other sources give plain text.
 */
export function jobErrorFromCatch(caught: { Error?: string; Cause?: string } | undefined): JobError {
  const code = caught?.Error ?? 'Error';
  const cause = caught?.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorType?: string; errorMessage?: string };
    if (parsed && typeof parsed.errorMessage === 'string') return { code: parsed.errorType ?? code, message: parsed.errorMessage };
  } catch {
    // plain-text cause
  }
  return { code, message: cause || code };
}

/** Every job id this system makes (`<kind>-<subject>-<unique>`): what a path may name before it reaches the table. */
export const JOB_ID = /^[a-z][a-z0-9_-]{0,127}$/;

/** Which list a page belongs to: the query a cursor was made for. */
export interface JobListQuery {
  readonly state?: JobState;
  readonly videoId?: string;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

/** The key a page continues after, as DynamoDB names it for the table or index the query reads. */
function cursorShape(q: JobListQuery): Record<string, (v: unknown) => boolean> {
  const jobId = (v: unknown) => typeof v === 'string' && JOB_ID.test(v);
  const time = (v: unknown) => typeof v === 'string' && ISO_TIME.test(v);
  if (q.videoId) return { jobId, videoId: (v) => v === q.videoId, createdAt: time };
  if (q.state) return { jobId, state: (v) => v === q.state, updatedAt: time };
  return { jobId };
}

export const encodeJobCursor = (lastKey: Record<string, unknown>): string => Buffer.from(JSON.stringify(lastKey)).toString('base64url');

/**
 * The key a cursor continues after, or undefined when it is not one this API returned for this query (malformed,
 * another query's, or made up): a cursor reaches DynamoDB only as the exact key shape the query's index has.
 */
export function decodeJobCursor(cursor: string, q: JobListQuery): Record<string, string> | undefined {
  if (cursor.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (key === null || typeof key !== 'object' || Array.isArray(key)) return undefined;
  const shape = cursorShape(q);
  const fields = Object.keys(key);
  if (fields.length !== Object.keys(shape).length) return undefined;
  for (const field of fields) {
    if (!Object.hasOwn(shape, field) || !shape[field]!((key as Record<string, unknown>)[field])) return undefined;
  }
  return key as Record<string, string>;
}
