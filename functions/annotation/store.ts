// The annotation context's projects, content uploads and tasks in MongoDB: one collection each, deterministic
// `_id`s, and every change one atomic write on one document (a conditional update where a document moves from one
// state to the next), as the rest of Framewise does.
import { createHash, randomUUID } from 'node:crypto';
import { MongoServerError } from 'mongodb';
import { conflict, notFound } from '../lib/errors.ts';
import { mongo } from '../lib/mongo.ts';

const PROJECTS = 'annotation_projects';
const UPLOADS = 'annotation_uploads';
const TASKS = 'annotation_tasks';

export const DEFAULT_FRAMES_PER_TASK = 50;

export interface AnnotationProject {
  readonly _id: string;
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
  readonly width: number;
  readonly height: number;
  readonly streamDurationSeconds: number;
  readonly streamStartSeconds: number;
  readonly fileStartSeconds: number;
}

/** 0: in progress (or never processed); 1: completed; 2: error. */
export type UploadStatus = 0 | 1 | 2;

export interface AnnotationContentUpload {
  readonly _id: string;
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
  readonly _id: string;
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

const now = () => new Date().toISOString();
const DUPLICATE_KEY = 11000;

// ---- keys ----

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

// ---- projects ----

export async function createProject(input: { name: string; labels: string[]; framesPerTask?: number }): Promise<AnnotationProject> {
  const project: AnnotationProject = {
    _id: projectIdOf(input.name),
    name: input.name,
    labels: input.labels,
    framesPerTask: input.framesPerTask ?? DEFAULT_FRAMES_PER_TASK,
    createdAt: now(),
  };
  try {
    await (await mongo()).collection<AnnotationProject>(PROJECTS).insertOne(project);
  } catch (err) {
    if (err instanceof MongoServerError && err.code === DUPLICATE_KEY) throw conflict(`a project named ${JSON.stringify(input.name)} exists`, { projectId: project._id });
    throw err;
  }
  return project;
}

export async function getProject(projectId: string): Promise<AnnotationProject | null> {
  return (await mongo()).collection<AnnotationProject>(PROJECTS).findOne({ _id: projectId });
}

export async function requireProject(projectId: string): Promise<AnnotationProject> {
  const project = await getProject(projectId);
  if (!project) throw notFound('annotation project', projectId);
  return project;
}

export async function listProjects(): Promise<AnnotationProject[]> {
  return (await mongo()).collection<AnnotationProject>(PROJECTS).find({}, { sort: { name: 1 } }).toArray();
}

// ---- uploads ----

export async function createUpload(input: {
  projectId: string;
  fileName: string;
  contentType: ContentType;
  sizeBytes: number;
  multipartUploadId?: string;
  uploadId?: string;
}): Promise<AnnotationContentUpload> {
  const at = now();
  const id = input.uploadId ?? randomUUID();
  const upload: AnnotationContentUpload = {
    _id: id,
    projectId: input.projectId,
    fileName: input.fileName,
    contentType: input.contentType,
    sizeBytes: input.sizeBytes,
    key: contentKey(id, input.fileName),
    uploadState: 'uploading',
    ...(input.multipartUploadId && { multipartUploadId: input.multipartUploadId }),
    requests: 0,
    status: 0,
    progress: 0,
    createdAt: at,
    updatedAt: at,
  };
  await (await mongo()).collection<AnnotationContentUpload>(UPLOADS).insertOne(upload);
  return upload;
}

export async function getUpload(uploadId: string): Promise<AnnotationContentUpload | null> {
  return (await mongo()).collection<AnnotationContentUpload>(UPLOADS).findOne({ _id: uploadId });
}

export async function requireUpload(uploadId: string): Promise<AnnotationContentUpload> {
  const upload = await getUpload(uploadId);
  if (!upload) throw notFound('annotation upload', uploadId);
  return upload;
}

export async function listUploads(projectId: string): Promise<AnnotationContentUpload[]> {
  return (await mongo()).collection<AnnotationContentUpload>(UPLOADS).find({ projectId }, { sort: { createdAt: 1 } }).toArray();
}

/** The content is all in storage; an upload already marked so stays as it is. */
export async function markUploaded(uploadId: string): Promise<void> {
  await (await mongo())
    .collection<AnnotationContentUpload>(UPLOADS)
    .updateOne({ _id: uploadId, uploadState: 'uploading' }, { $set: { uploadState: 'uploaded', updatedAt: now() } });
}

export async function recordProbe(uploadId: string, probe: ContentProbe): Promise<void> {
  await (await mongo()).collection<AnnotationContentUpload>(UPLOADS).updateOne({ _id: uploadId }, { $set: { probe, updatedAt: now() } });
}

/**
 * Records the upload's next processing request, if no other request was recorded since the caller read it
 * (`requests` is still what it saw): one write sets the request, its job, and starts its progress from 0.
 */
export async function beginRequest(upload: AnnotationContentUpload, request: ContentRequest, jobId: string): Promise<AnnotationContentUpload | null> {
  return (await mongo())
    .collection<AnnotationContentUpload>(UPLOADS)
    .findOneAndUpdate(
      { _id: upload._id, requests: upload.requests },
      { $set: { request, jobId, status: 0, progress: 0, updatedAt: now() }, $inc: { requests: 1 }, $unset: { error: '' } },
      { returnDocument: 'after' },
    );
}

/** What Prepare found: the upload's size, rate and the number of its tasks and frames. Only for the current job. */
export async function recordPlan(
  uploadId: string,
  jobId: string,
  plan: { taskCount: number; frameCount: number; sourceFrameRate: number; width: number; height: number },
): Promise<void> {
  await (await mongo()).collection<AnnotationContentUpload>(UPLOADS).updateOne({ _id: uploadId, jobId }, { $set: { ...plan, updatedAt: now() } });
}

/** Raises the current job's progress; never lowers it (a late or repeated step cannot move it back). */
export async function raiseProgress(uploadId: string, jobId: string, progress: number): Promise<void> {
  const value = Math.max(0, Math.min(100, Math.floor(progress)));
  await (await mongo())
    .collection<AnnotationContentUpload>(UPLOADS)
    .updateOne({ _id: uploadId, jobId }, { $max: { progress: value }, $set: { updatedAt: now() } });
}

export async function completeProcessing(uploadId: string, jobId: string): Promise<void> {
  await (await mongo())
    .collection<AnnotationContentUpload>(UPLOADS)
    .updateOne({ _id: uploadId, jobId }, { $set: { status: 1, updatedAt: now() }, $max: { progress: 100 } });
}

export async function failProcessing(uploadId: string, jobId: string, error: { code: string; message: string }): Promise<void> {
  await (await mongo())
    .collection<AnnotationContentUpload>(UPLOADS)
    .updateOne({ _id: uploadId, jobId }, { $set: { status: 2, error, updatedAt: now() } });
}

// ---- tasks ----

export interface PlannedTask {
  readonly index: number;
  readonly first: number;
  readonly count: number;
}

/**
 * Records a planned task as not generated yet: a new one is created, an existing one (a regeneration) keeps its id,
 * creation time and history, with its statuses back at 0 and an entry saying that job regenerated it.
 */
export async function planTask(upload: { _id: string; projectId: string }, task: PlannedTask, jobId: string, by: string): Promise<void> {
  const id = taskId(upload._id, task.index);
  const at = now();
  await (await mongo()).collection<AnnotationTask>(TASKS).updateOne(
    { _id: id },
    {
      $set: {
        projectId: upload.projectId,
        uploadId: upload._id,
        index: task.index,
        frames: { first: task.first, count: task.count },
        sourceFrames: [],
        videoKey: taskVideoKey(id),
        manifestKey: taskManifestKey(id),
        generated: false,
        jobId,
        taskStatus: 0,
        auditStatus: 0,
        updatedAt: at,
      },
      $setOnInsert: { createdAt: at },
      $push: { history: { by, at, field: 'generated', from: null, to: jobId } },
    },
    { upsert: true },
  );
}

/** The task's video and manifest are in storage: its document says which source frames it shows. Only for the job that planned it. */
export async function recordTaskGenerated(id: string, jobId: string, fields: { sourceFrames: number[]; width: number; height: number }): Promise<boolean> {
  const out = await (await mongo())
    .collection<AnnotationTask>(TASKS)
    .updateOne({ _id: id, jobId }, { $set: { ...fields, generated: true, updatedAt: now() } });
  return out.matchedCount === 1;
}

export async function countGeneratedTasks(uploadId: string, jobId: string): Promise<number> {
  return (await mongo()).collection<AnnotationTask>(TASKS).countDocuments({ uploadId, jobId, generated: true });
}

export async function countTasks(uploadId: string): Promise<number> {
  return (await mongo()).collection<AnnotationTask>(TASKS).countDocuments({ uploadId });
}

/** Tasks a regeneration with fewer tasks no longer has. */
export async function deleteTasksFrom(uploadId: string, taskCount: number): Promise<number> {
  const out = await (await mongo()).collection<AnnotationTask>(TASKS).deleteMany({ uploadId, index: { $gte: taskCount } });
  return out.deletedCount;
}

export async function getTask(id: string): Promise<AnnotationTask | null> {
  return (await mongo()).collection<AnnotationTask>(TASKS).findOne({ _id: id });
}

export async function requireTask(id: string): Promise<AnnotationTask> {
  const task = await getTask(id);
  if (!task) throw notFound('annotation task', id);
  return task;
}

export async function listTasks(uploadId: string): Promise<AnnotationTask[]> {
  return (await mongo()).collection<AnnotationTask>(TASKS).find({ uploadId }, { sort: { index: 1 } }).toArray();
}
