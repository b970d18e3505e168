// The annotation context's frame annotations, prediction sets and dataset versions in MongoDB: deterministic
// ObjectId `_id`s from natural keys (documentId), natural keys kept in the document, every change one atomic write
// on one document.
import { ObjectId, type Collection, type Document, MongoServerError } from 'mongodb';
import { documentId } from '../lib/document-id.ts';
import { annotationDatasetJobId } from '../jobs/job.ts';
import { annotationCollection, COLLECTIONS, type AnnotationCollection } from './collections.ts';
import type { DatasetRequest } from './dataset.ts';
import type { Box } from './predictions.ts';
import { documentOid } from './documents.ts';
import type { AnnotationTask, AuditStatus, TaskStatus } from './store.ts';
import type { HistoryEntry, TaskStatuses } from './task-status.ts';

const { frames: FRAMES, predictions: PREDICTIONS, datasets: DATASETS, tasks: TASKS } = COLLECTIONS;
const DUPLICATE_KEY = 11000;

const oid = (...parts: string[]) => ObjectId.createFromHexString(documentId(...parts));
const now = () => new Date().toISOString();
const collection = <T extends Document>(name: AnnotationCollection): Promise<Collection<T>> => annotationCollection<T>(name);

// ---- annotations, per source frame ----

export interface FrameDoc {
  _id: ObjectId;
  uploadId: string;
  projectId: string;
  sourceFrame: number;
  /** The boxes people drew; `humanSavedAt` says a person saved the frame (an empty list then means "nothing here"). */
  human: Box[];
  humanSavedAt: string | null;
  humanBy: string | null;
  /** The boxes a prediction set proposes (version 0: put by a client as auto boxes). */
  auto: { version: number; boxes: Box[] } | null;
  updatedAt: string;
}

export const frameDocId = (uploadId: string, sourceFrame: number) => oid('annotation-frame', uploadId, String(sourceFrame));

export async function readFrames(uploadId: string, sourceFrames: readonly number[]): Promise<Map<number, FrameDoc>> {
  const ids = sourceFrames.map((f) => frameDocId(uploadId, f));
  const docs = await (await collection<FrameDoc>(FRAMES)).find({ _id: { $in: ids } }).toArray();
  return new Map(docs.map((d) => [d.sourceFrame, d]));
}

/** Sets one source of a frame's boxes; the other source is never touched. */
export async function writeFrameBoxes(
  frame: { uploadId: string; projectId: string; sourceFrame: number },
  source: { human: Box[]; by: string } | { auto: { version: number; boxes: Box[] } },
): Promise<void> {
  const at = now();
  const set =
    'human' in source
      ? { human: source.human, humanSavedAt: at, humanBy: source.by }
      : { auto: source.auto };
  const onInsert = 'human' in source ? { auto: null } : { human: [], humanSavedAt: null, humanBy: null };
  await (await collection<FrameDoc>(FRAMES)).updateOne(
    { _id: frameDocId(frame.uploadId, frame.sourceFrame) },
    { $set: { uploadId: frame.uploadId, projectId: frame.projectId, sourceFrame: frame.sourceFrame, ...set, updatedAt: at }, $setOnInsert: onInsert },
    { upsert: true },
  );
}

// ---- prediction sets ----

export interface PredictionDoc {
  _id: ObjectId;
  uploadId: string;
  version: number;
  format: 'localizations' | 'yolo';
  /** The normalized set (PredictionSet JSON) in the media bucket. */
  key: string;
  frames: number;
  boxes: number;
  createdAt: string;
  createdBy: string;
}

export const predictionDocId = (uploadId: string, version: number) => oid('annotation-predictions', uploadId, `v${version}`);

export async function listPredictions(uploadId: string): Promise<PredictionDoc[]> {
  return (await collection<PredictionDoc>(PREDICTIONS)).find({ uploadId }, { sort: { version: 1 } }).toArray();
}

export async function getPrediction(uploadId: string, version: number): Promise<PredictionDoc | null> {
  return (await collection<PredictionDoc>(PREDICTIONS)).findOne({ _id: predictionDocId(uploadId, version) });
}

/**
 * Inserts the next version of the upload's prediction sets: one more than the highest there is; a concurrent
 * registration that took the number first makes this one take the next.
 */
export async function insertNextVersion<T extends { _id: ObjectId; version: number }>(
  name: AnnotationCollection,
  latest: () => Promise<number>,
  make: (version: number) => T,
): Promise<T> {
  const c = await collection<T>(name);
  for (let attempt = 0; ; attempt++) {
    const doc = make((await latest()) + 1);
    try {
      await c.insertOne(doc as Parameters<typeof c.insertOne>[0]);
      return doc;
    } catch (err) {
      if (!(err instanceof MongoServerError && err.code === DUPLICATE_KEY) || attempt >= 10) throw err;
    }
  }
}

const latestVersion = async (name: AnnotationCollection, filter: Record<string, unknown>): Promise<number> => {
  const [doc] = await (await collection<{ version: number }>(name)).find(filter, { sort: { version: -1 }, limit: 1, projection: { version: 1 } }).toArray();
  return doc?.version ?? 0;
};

export async function registerPrediction(fields: Omit<PredictionDoc, '_id' | 'version' | 'createdAt'>): Promise<PredictionDoc> {
  return insertNextVersion<PredictionDoc>(
    PREDICTIONS,
    () => latestVersion(PREDICTIONS, { uploadId: fields.uploadId }),
    (version) => ({ _id: predictionDocId(fields.uploadId, version), version, ...fields, createdAt: now() }),
  );
}

// ---- dataset versions ----

export type DatasetState = 'queued' | 'building' | 'zipping' | 'succeeded' | 'failed';

export interface DatasetDoc {
  _id: ObjectId;
  /** The dataset's name. */
  dataset: string;
  version: number;
  request: DatasetRequest;
  jobId: string;
  state: DatasetState;
  /** The frozen plan in the media bucket, once the build has made it. */
  planKey: string | null;
  itemsTotal: number | null;
  /** Items written, in plan order: a resumed build starts at this one. */
  itemsDone: number;
  filesDone: boolean;
  zipKey: string | null;
  zipBytes: number | null;
  /** A builder holds the version until then; another one waits for it to pass. */
  leaseUntil: string | null;
  /** Builds that ended in an error; the resume schedule gives up on a version after a few. */
  failures: number;
  error: { code: string; message: string } | null;
  createdAt: string;
  updatedAt: string;
}

export const datasetDocId = (name: string, version: number) => oid('annotation-dataset', name, `v${version}`);

export async function createDatasetVersion(request: DatasetRequest): Promise<DatasetDoc> {
  return insertNextVersion<DatasetDoc>(
    DATASETS,
    () => latestVersion(DATASETS, { dataset: request.name }),
    (version) => {
      const at = now();
      return {
        _id: datasetDocId(request.name, version),
        dataset: request.name,
        version,
        request,
        jobId: annotationDatasetJobId(request.name, version),
        state: 'queued',
        planKey: null,
        itemsTotal: null,
        itemsDone: 0,
        filesDone: false,
        zipKey: null,
        zipBytes: null,
        leaseUntil: null,
        failures: 0,
        error: null,
        createdAt: at,
        updatedAt: at,
      };
    },
  );
}

export async function getDatasetVersion(name: string, version: number): Promise<DatasetDoc | null> {
  return (await collection<DatasetDoc>(DATASETS)).findOne({ _id: datasetDocId(name, version) });
}

export async function listDatasetVersions(name: string): Promise<DatasetDoc[]> {
  return (await collection<DatasetDoc>(DATASETS)).find({ dataset: name }, { sort: { version: 1 } }).toArray();
}

/** A build of the version ended in this error; returns the failures so far. */
export async function recordDatasetFailure(name: string, version: number, error: { code: string; message: string }): Promise<number> {
  const c = await collection<DatasetDoc>(DATASETS);
  await c.updateOne({ _id: datasetDocId(name, version) }, { $set: { error, leaseUntil: null, updatedAt: now() }, $inc: { failures: 1 } });
  return (await c.findOne({ _id: datasetDocId(name, version) }))?.failures ?? 0;
}

/** Versions not finished: queued, building or zipping. */
export async function listUnfinishedDatasets(): Promise<DatasetDoc[]> {
  return (await collection<DatasetDoc>(DATASETS)).find({ state: { $in: ['queued', 'building', 'zipping'] } }, { sort: { createdAt: 1 } }).toArray();
}

/** Takes the version for a builder until `until`, if nobody holds it now; false when someone does. */
export async function takeLease(name: string, version: number, until: Date, at = new Date()): Promise<boolean> {
  const res = await (await collection<DatasetDoc>(DATASETS)).updateOne(
    { _id: datasetDocId(name, version), state: { $in: ['queued', 'building', 'zipping'] }, $or: [{ leaseUntil: null }, { leaseUntil: { $lt: at.toISOString() } }] },
    { $set: { leaseUntil: until.toISOString(), updatedAt: at.toISOString() } },
  );
  return res.modifiedCount === 1;
}

/** Records the build's progress (never backwards); the holder's lease may be released with it. */
export async function recordDatasetProgress(
  name: string,
  version: number,
  fields: Partial<Pick<DatasetDoc, 'state' | 'planKey' | 'itemsTotal' | 'filesDone' | 'zipKey' | 'zipBytes' | 'leaseUntil' | 'error'>> & { itemsDone?: number },
): Promise<void> {
  const { itemsDone, ...set } = fields;
  await (await collection<DatasetDoc>(DATASETS)).updateOne(
    { _id: datasetDocId(name, version) },
    { $set: { ...set, updatedAt: now() }, ...(itemsDone !== undefined && { $max: { itemsDone } }) },
  );
}

// ---- task statuses and the tasks a dataset takes (task documents are the content workflow's: store.ts) ----

/** The tasks of these projects whose audit status is one of these, by upload and index. */
export async function findTasksForDataset(projectIds: readonly string[], auditStatus: readonly number[]): Promise<AnnotationTask[]> {
  const tasks = await (await collection<AnnotationTask>(TASKS))
    .find({ projectId: { $in: [...projectIds] }, auditStatus: { $in: [...auditStatus] as AuditStatus[] }, generated: true })
    .toArray();
  return tasks.sort((a, b) => (a.uploadId < b.uploadId ? -1 : a.uploadId > b.uploadId ? 1 : a.index - b.index));
}

/**
 * Moves the task's statuses from `from` to `to` and appends the history entries, in one write that applies only
 * while the task still holds `from`: of two concurrent changes from the same state, one applies. False if it did not.
 */
export async function moveTaskStatus(task: Pick<AnnotationTask, 'taskId'>, from: TaskStatuses, to: TaskStatuses, entries: readonly HistoryEntry[]): Promise<boolean> {
  const res = await (await collection<AnnotationTask>(TASKS)).updateOne(
    { _id: ObjectId.createFromHexString(documentOid('task', task.taskId)), taskStatus: from.taskStatus, auditStatus: from.auditStatus },
    { $set: { taskStatus: to.taskStatus as TaskStatus, auditStatus: to.auditStatus as AuditStatus, updatedAt: now() }, $push: { history: { $each: [...entries] } } },
  );
  return res.modifiedCount === 1;
}
