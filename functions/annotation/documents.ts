// The annotation context's documents (projects, content uploads, tasks), their ids and storage keys, as the store
// writes them. Pure.
import { createHash } from 'node:crypto';
import { documentId } from '../lib/document-id.ts';

export const DEFAULT_FRAMES_PER_TASK = 50;

export interface AnnotationProject {
  readonly projectId: string;
  readonly name: string;
  readonly labels: string[];
  readonly framesPerTask: number;
  readonly createdAt: string;
}

/** 1: a video; 2: images (one image, or a zip of JPEG/PNG images). */
export type ContentType = 1 | 2;

/** What a processContent request asks, in the older system's codes. */
export interface ContentRequest {
  readonly frameRate: number;
  readonly forceWrite: 0 | 1;
  readonly autoAnnoVersion: number;
  /** 0: tasks only; 1: tasks and auto annotations; 2: auto annotations onto the existing tasks. */
  readonly requestType: 0 | 1 | 2;
}

/** What ffprobe said about an uploaded video: the frame rate check and the plan need it. */
export interface ContentProbe {
  readonly frameRate: number;
  /** The rate exactly, as ffprobe gives it ("30000/1001"). */
  readonly exactFrameRate: string;
  readonly width: number;
  readonly height: number;
  readonly streamDurationSeconds: number;
  readonly streamStartSeconds: number;
  readonly fileStartSeconds: number;
}

/** 0: in progress (or never processed); 1: completed; 2: error. */
export type UploadStatus = 0 | 1 | 2;

export interface AnnotationContentUpload {
  readonly uploadId: string;
  readonly projectId: string;
  readonly fileName: string;
  readonly contentType: ContentType;
  readonly sizeBytes: number;
  readonly key: string;
  readonly uploadState: 'uploading' | 'uploaded';
  /** The S3 multipart upload, when the content goes up in parts. */
  readonly multipartUploadId?: string;
  /** Processing requests so far; the current one is `request`, run by job `jobId`. */
  readonly requests: number;
  readonly request?: ContentRequest;
  readonly status: UploadStatus;
  /** 0–100 for the current request; only ever raised ($max) while it runs. */
  readonly progress: number;
  readonly error?: { readonly code: string; readonly message: string };
  readonly jobId?: string;
  readonly probe?: ContentProbe;
  readonly taskCount?: number;
  /** When a request last generated the upload's tasks to the end: from then on it counts as processed. */
  readonly processedAt?: string;
  readonly frameCount?: number;
  readonly sourceFrameRate?: number;
  readonly width?: number;
  readonly height?: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export type TaskStatus = 0 | 1 | 2;
export type AuditStatus = 0 | 1 | 2 | 3 | 4 | 5;

export interface HistoryEntry {
  readonly by: string;
  readonly at: string;
  readonly field: string;
  readonly from: unknown;
  readonly to: unknown;
}

export interface AnnotationTask {
  /** `${uploadId}-${index:05d}`: a regenerated task keeps its id. */
  readonly taskId: string;
  readonly projectId: string;
  readonly uploadId: string;
  readonly index: number;
  /** Task frame i is sampled frame first + i. */
  readonly frames: { readonly first: number; readonly count: number };
  /** The source frame number of each task frame; empty until the task is generated. */
  readonly sourceFrames: number[];
  readonly videoKey: string;
  readonly manifestKey: string;
  readonly width?: number;
  readonly height?: number;
  /** The task's video and manifest are written (by job `jobId`). */
  readonly generated: boolean;
  readonly jobId: string;
  readonly taskStatus: TaskStatus;
  readonly auditStatus: AuditStatus;
  readonly history: HistoryEntry[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

// ---- ids and keys ----

/**
 * A document's MongoDB `_id`: an ObjectId from its kind and natural id (the local stand-in takes ObjectIds only).
 * The natural id is a field of the document (projectId, uploadId, taskId); the API shows documents without `_id`.
 */
export const documentOid = (kind: 'project' | 'upload' | 'task', id: string): string => documentId(`annotation-${kind}`, id);


/** Where the uploaded content is; the file name is kept so that a download is named as it was uploaded. */
export const contentKey = (uploadId: string, fileName: string): string => `annotation/uploads/${uploadId}/${fileName}`;
export const sampledFrameKey = (uploadId: string, sampledFrame: number): string =>
  `annotation/frames/${uploadId}/${String(sampledFrame).padStart(6, '0')}.jpg`;
export const taskId = (uploadId: string, index: number): string => `${uploadId}-${String(index).padStart(5, '0')}`;
export const taskVideoKey = (id: string): string => `annotation/tasks/${id}/video.mp4`;
export const taskManifestKey = (id: string): string => `annotation/tasks/${id}/manifest.json`;

/** A project's id follows from its name: the same name is the same project, so a duplicate is refused by the id. */
export function projectIdOf(name: string): string {
  const h = createHash('sha1').update(`annotation-project\n${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

export interface PlannedTask {
  readonly index: number;
  readonly first: number;
  readonly count: number;
}

// ---- new documents ----

export function newProject(input: { name: string; labels: string[]; framesPerTask?: number }, at: string): AnnotationProject {
  return { projectId: projectIdOf(input.name), name: input.name, labels: input.labels, framesPerTask: input.framesPerTask ?? DEFAULT_FRAMES_PER_TASK, createdAt: at };
}

export function newUpload(
  input: { projectId: string; fileName: string; contentType: ContentType; sizeBytes: number; multipartUploadId?: string; uploadId: string },
  at: string,
): AnnotationContentUpload {
  return {
    uploadId: input.uploadId,
    projectId: input.projectId,
    fileName: input.fileName,
    contentType: input.contentType,
    sizeBytes: input.sizeBytes,
    key: contentKey(input.uploadId, input.fileName),
    uploadState: 'uploading',
    ...(input.multipartUploadId && { multipartUploadId: input.multipartUploadId }),
    requests: 0,
    status: 0,
    progress: 0,
    createdAt: at,
    updatedAt: at,
  };
}

/** A planned task's fields as a (re)generation sets them: not generated, statuses back at 0. */
export function plannedTask(upload: { uploadId: string; projectId: string }, task: PlannedTask, jobId: string, at: string) {
  const id = taskId(upload.uploadId, task.index);
  return {
    taskId: id,
    projectId: upload.projectId,
    uploadId: upload.uploadId,
    index: task.index,
    frames: { first: task.first, count: task.count },
    sourceFrames: [] as number[],
    videoKey: taskVideoKey(id),
    manifestKey: taskManifestKey(id),
    generated: false,
    jobId,
    taskStatus: 0 as const,
    auditStatus: 0 as const,
    updatedAt: at,
  };
}

/** A whole percentage from 0 to 100. */
export const percent = (value: number): number => Math.max(0, Math.min(100, Math.floor(value)));

// Sort orders and filters with field names the MongoDB option scan would read as options (test/unit/mongo-compat.test.ts).
export const BY_NAME = { name: 1 } as const;
export const BY_INDEX = { index: 1 } as const;
/** An upload's tasks from index `taskCount` on. */
export const tasksFrom = (uploadId: string, taskCount: number) => ({ uploadId, index: { $gte: taskCount } });
