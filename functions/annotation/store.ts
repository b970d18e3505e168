// The annotation context's projects, content uploads and tasks in MongoDB: one collection each, deterministic
// `_id`s (documents.ts), and every change one atomic write on one document (a conditional update where a document moves from one
// state to the next), as the rest of Framewise does.
import { MongoServerError, ObjectId, type Collection } from 'mongodb';
import { conflict, notFound } from '../lib/errors.ts';
import { annotationCollection, COLLECTIONS } from './collections.ts';
import {
  BY_INDEX, BY_NAME, documentOid, newProject, newUpload, percent, plannedTask, tasksFrom,
  type AnnotationContentUpload, type AnnotationProject, type AnnotationTask, type ContentProbe, type ContentRequest, type ContentType, type PlannedTask,
} from './documents.ts';

export * from './documents.ts';

const { projects: PROJECTS, uploads: UPLOADS, tasks: TASKS } = COLLECTIONS;

const now = () => new Date().toISOString();

type Stored<T> = T & { _id: ObjectId };
const oid = (kind: Parameters<typeof documentOid>[0], id: string): ObjectId => ObjectId.createFromHexString(documentOid(kind, id));
/** Documents as the API shows them: without the storage `_id`. */
const WITHOUT_ID = { projection: { _id: 0 } } as const;
const projects = (): Promise<Collection<Stored<AnnotationProject>>> => annotationCollection(PROJECTS);
const uploads = (): Promise<Collection<Stored<AnnotationContentUpload>>> => annotationCollection(UPLOADS);
const tasks = (): Promise<Collection<Stored<AnnotationTask>>> => annotationCollection(TASKS);
const DUPLICATE_KEY = 11000;

// ---- projects ----

export async function createProject(input: { name: string; labels: string[]; framesPerTask?: number }): Promise<AnnotationProject> {
  const project = newProject(input, now());
  try {
    await (await projects()).insertOne({ _id: oid('project', project.projectId), ...project });
  } catch (err) {
    if (err instanceof MongoServerError && err.code === DUPLICATE_KEY) throw conflict(`a project named ${JSON.stringify(input.name)} exists`, { projectId: project.projectId });
    throw err;
  }
  return project;
}

export async function getProject(projectId: string): Promise<AnnotationProject | null> {
  return (await projects()).findOne({ _id: oid('project', projectId) }, WITHOUT_ID);
}

export async function requireProject(projectId: string): Promise<AnnotationProject> {
  const project = await getProject(projectId);
  if (!project) throw notFound('annotation project', projectId);
  return project;
}

export async function listProjects(): Promise<AnnotationProject[]> {
  return (await projects()).find({}, { sort: BY_NAME, ...WITHOUT_ID }).toArray();
}

// ---- uploads ----

export async function createUpload(input: {
  projectId: string;
  fileName: string;
  contentType: ContentType;
  sizeBytes: number;
  multipartUploadId?: string;
  uploadId: string;
}): Promise<AnnotationContentUpload> {
  const upload = newUpload(input, now());
  await (await uploads()).insertOne({ _id: oid('upload', upload.uploadId), ...upload });
  return upload;
}

export async function getUpload(uploadId: string): Promise<AnnotationContentUpload | null> {
  return (await uploads()).findOne({ _id: oid('upload', uploadId) }, WITHOUT_ID);
}

export async function requireUpload(uploadId: string): Promise<AnnotationContentUpload> {
  const upload = await getUpload(uploadId);
  if (!upload) throw notFound('annotation upload', uploadId);
  return upload;
}

export async function listUploads(projectId: string): Promise<AnnotationContentUpload[]> {
  return (await uploads()).find({ projectId }, { sort: { createdAt: 1 }, ...WITHOUT_ID }).toArray();
}

/** The content is all in storage; an upload already marked so stays as it is. */
export async function markUploaded(uploadId: string): Promise<void> {
  await (await uploads()).updateOne({ _id: oid('upload', uploadId), uploadState: 'uploading' }, { $set: { uploadState: 'uploaded', updatedAt: now() } });
}

export async function recordProbe(uploadId: string, probe: ContentProbe): Promise<void> {
  await (await uploads()).updateOne({ _id: oid('upload', uploadId) }, { $set: { probe, updatedAt: now() } });
}

/**
 * Records the upload's next processing request, if no other request was recorded since the caller read it
 * (`requests` is still what it saw): one write sets the request, its job, and starts its progress from 0.
 */
export async function beginRequest(upload: AnnotationContentUpload, request: ContentRequest, jobId: string): Promise<AnnotationContentUpload | null> {
  return (await uploads()).findOneAndUpdate(
    { _id: oid('upload', upload.uploadId), requests: upload.requests },
    { $set: { request, jobId, status: 0, progress: 0, updatedAt: now() }, $inc: { requests: 1 }, $unset: { error: '' } },
    { returnDocument: 'after', ...WITHOUT_ID },
  );
}

/** What Prepare found: the upload's size, rate and the number of its tasks and frames. Only for the current job. */
export async function recordPlan(
  uploadId: string,
  jobId: string,
  plan: { taskCount: number; frameCount: number; sourceFrameRate: number; width: number; height: number },
): Promise<void> {
  await (await uploads()).updateOne({ _id: oid('upload', uploadId), jobId }, { $set: { ...plan, updatedAt: now() } });
}

/** Raises the current job's progress; never lowers it (a late or repeated step cannot move it back). */
export async function raiseProgress(uploadId: string, jobId: string, progress: number): Promise<void> {
  await (await uploads()).updateOne({ _id: oid('upload', uploadId), jobId }, { $max: { progress: percent(progress) }, $set: { updatedAt: now() } });
}

/** The request is done; `tasksGenerated`: it generated the tasks (not auto annotations alone), so the upload is processed. */
export async function completeProcessing(uploadId: string, jobId: string, tasksGenerated: boolean): Promise<void> {
  const at = now();
  await (await uploads()).updateOne(
    { _id: oid('upload', uploadId), jobId },
    { $set: { status: 1, updatedAt: at, ...(tasksGenerated && { processedAt: at }) }, $max: { progress: 100 } },
  );
}

export async function failProcessing(uploadId: string, jobId: string, error: { code: string; message: string }): Promise<void> {
  await (await uploads()).updateOne({ _id: oid('upload', uploadId), jobId }, { $set: { status: 2, error, updatedAt: now() } });
}

// ---- tasks ----


/**
 * Records a planned task as not generated yet: a new one is created, an existing one (a regeneration) keeps its id,
 * creation time and history, with its statuses back at 0 and an entry saying that job regenerated it. A task this
 * job planned already (a resumed run plans again) is left as it is: the earlier run may have generated it, and its
 * part of the job is then done and not run again.
 */
export async function planTask(upload: { uploadId: string; projectId: string }, task: PlannedTask, jobId: string, by: string): Promise<void> {
  const at = now();
  const fields = plannedTask(upload, task, jobId, at);
  const entry = { by, at, field: 'generated', from: null, to: jobId };
  const c = await tasks();
  const regenerated = await c.updateOne({ _id: oid('task', fields.taskId), jobId: { $ne: jobId } }, { $set: fields, $push: { history: entry } });
  if (regenerated.matchedCount === 1) return;
  await c.updateOne({ _id: oid('task', fields.taskId) }, { $setOnInsert: { ...fields, createdAt: at, history: [entry] } }, { upsert: true });
}

/** The task's video and manifest are in storage: its document says which source frames it shows. Only for the job that planned it. */
export async function recordTaskGenerated(id: string, jobId: string, fields: { sourceFrames: number[]; width: number; height: number }): Promise<boolean> {
  const out = await (await tasks()).updateOne({ _id: oid('task', id), jobId }, { $set: { ...fields, generated: true, updatedAt: now() } });
  return out.matchedCount === 1;
}

export async function countGeneratedTasks(uploadId: string, jobId: string): Promise<number> {
  return (await tasks()).countDocuments({ uploadId, jobId, generated: true });
}

export async function countTasks(uploadId: string): Promise<number> {
  return (await tasks()).countDocuments({ uploadId });
}

/** Tasks a regeneration with fewer tasks no longer has. */
export async function deleteTasksFrom(uploadId: string, taskCount: number): Promise<number> {
  const out = await (await tasks()).deleteMany(tasksFrom(uploadId, taskCount));
  return out.deletedCount;
}

export async function getTask(id: string): Promise<AnnotationTask | null> {
  return (await tasks()).findOne({ _id: oid('task', id) }, WITHOUT_ID);
}

export async function requireTask(id: string): Promise<AnnotationTask> {
  const task = await getTask(id);
  if (!task) throw notFound('annotation task', id);
  return task;
}

export async function listTasks(uploadId: string): Promise<AnnotationTask[]> {
  return (await tasks()).find({ uploadId }, { sort: BY_INDEX, ...WITHOUT_ID }).toArray();
}
