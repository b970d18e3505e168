// The rules of a processContent request and of an upload's tasks, in the older system's codes. Pure.
import { AppError, conflict } from '../lib/errors.ts';
import { parseFrameRate } from '../ingest/segments.ts';
import { taskFrameRange } from './frames.ts';
import type { AnnotationContentUpload, ContentRequest, PlannedTask } from './store.ts';

/** What a caller sent, with either naming (camelCase, or the older snake_case), as one request. */
export interface ProcessContentInput extends ContentRequest {
  readonly uploadId: string;
  readonly projectId: string;
  readonly contentType: 1 | 2;
}

export const SNAKE_NAMES = {
  uploadId: 'upload_id',
  projectId: 'project_id',
  frameRate: 'frame_rate',
  forceWrite: 'force_write',
  autoAnnoVersion: 'auto_anno_version',
  requestType: 'request_type',
  contentType: 'content_type',
} as const;

/**
 * One request, whichever names it used; a field given under both names with different values is refused (it is
 * not clear which one the caller meant).
 */
export function unifyNames(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const clashes: string[] = [];
  for (const [key, value] of Object.entries(body)) {
    const camel = (Object.keys(SNAKE_NAMES) as (keyof typeof SNAKE_NAMES)[]).find((k) => SNAKE_NAMES[k] === key) ?? key;
    if (camel in out && out[camel] !== value) clashes.push(`${camel}/${SNAKE_NAMES[camel as keyof typeof SNAKE_NAMES]}`);
    out[camel] = value;
  }
  if (clashes.length) throw new AppError(400, 'BadRequest', `given under both names with different values: ${clashes.join(', ')}`, { fields: clashes });
  return out;
}

/** The frame rate must be at most the source's (exactly: 30 is above 30000/1001): a higher one would repeat source frames. */
export function assertFrameRate(frameRate: number, source: { frameRate: number; exactFrameRate: string }): void {
  const { num, den } = parseFrameRate(source.exactFrameRate);
  if (frameRate * den > num) {
    throw new AppError(400, 'FrameRateAboveSource', `frameRate ${frameRate} is above the video's frame rate (${source.frameRate})`, {
      frameRate,
      sourceFrameRate: source.frameRate,
    });
  }
}

/**
 * Whether an upload may take this request now: its content is whole, no other request of it runs, an upload already
 * processed needs forceWrite 1 to be processed again, and auto annotations alone need its tasks.
 */
export function assertRequestAllowed(
  upload: AnnotationContentUpload,
  input: ProcessContentInput,
  state: { readonly uploaded: boolean; readonly running: boolean; readonly taskCount: number },
): void {
  if (upload.projectId !== input.projectId) {
    throw new AppError(404, 'NotFound', `annotation upload ${upload.uploadId} does not belong to project ${input.projectId}`, { projectId: upload.projectId });
  }
  if (upload.contentType !== input.contentType) {
    throw conflict(`upload ${upload.uploadId} was declared with contentType ${upload.contentType}, not ${input.contentType}`, { contentType: upload.contentType });
  }
  if (!state.uploaded) {
    throw new AppError(409, 'UploadInProgress', `the content of upload ${upload.uploadId} is not all uploaded yet: finish the upload (complete it, for a multipart upload) first`, {
      uploadState: upload.uploadState,
    });
  }
  if (state.running) throw conflict(`upload ${upload.uploadId} is being processed by job ${upload.jobId}; wait for it to end`, { jobId: upload.jobId });
  if (input.requestType === 2) {
    if (state.taskCount === 0) throw conflict(`upload ${upload.uploadId} has no tasks: auto annotations alone (requestType 2) need them; request 0 or 1 first`);
    return;
  }
  if (upload.processedAt && input.forceWrite === 0) {
    throw conflict(`upload ${upload.uploadId} is already processed (${upload.taskCount} tasks): pass forceWrite 1 to generate its tasks again`, {
      taskCount: upload.taskCount,
    });
  }
}

/** Every task of an upload of `frameCount` sampled frames (see taskFrameRange). */
export function planTasks(frameCount: number, framesPerTask: number): PlannedTask[] {
  return Array.from({ length: Math.ceil(frameCount / framesPerTask) }, (_, index) => ({ index, ...taskFrameRange(index, framesPerTask, frameCount) }));
}

/**
 * Progress while tasks are generated: 5 once planned, 95 when every task is done (auto annotations and finish
 * follow). `done` may count the running task's share done (its frames extracted so far).
 */
export const tasksProgress = (done: number, total: number): number => (total === 0 ? 95 : 5 + Math.floor((90 * done) / total));

/** The share of a task done while its frames are extracted: extraction is most of a task's work, encoding the rest. */
export const EXTRACTION_SHARE = 0.8;
