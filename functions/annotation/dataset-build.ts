// Building a dataset version: the plan is made once and frozen in storage (a resumed build follows the same plan
// whatever changed since), then every item is written by its deterministic key in plan order with the count done
// recorded after each, then the label and index files, then one zip of the whole version streamed to S3. A build
// that stops (its deadline, a crash) is continued from the first item not recorded; an item written but not
// recorded is written again with the same bytes. One builder at a time holds the version (a lease).
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { CopyObjectCommand, GetObjectCommand, NoSuchKey, PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { s3 } from '../lib/aws.ts';
import { config } from '../lib/config.ts';
import { logger } from '../lib/logger.ts';
import { findTasksForDataset, getDatasetVersion, readFrames, recordDatasetProgress, takeLease, type DatasetDoc } from './annotation-store.ts';
import { annotationKey, datasetZipKey, planDataset, type DatasetPlan, type DatasetTask, type FrameAnnotations } from './dataset.ts';
import { getProject, sampledFrameKey, taskId } from './store.ts';
import { byteCounter, zipStream, type ZipSource } from './zip.ts';

export const planKeyOf = (name: string, version: number) => `annotation/dataset-plans/${name}/v${version}.json`;

/** Time kept back before the deadline for the last write and the progress record. */
const RESERVE_MS = 5_000;
/** A zip is started only with this much time left: it is made in one go. */
const ZIP_MIN_MS = 60_000;

const bucket = () => config.mediaBucket();

async function getBytes(key: string): Promise<Buffer | undefined> {
  try {
    const out = await s3().send(new GetObjectCommand({ Bucket: bucket(), Key: key }));
    return Buffer.from(await out.Body!.transformToByteArray());
  } catch (err) {
    if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') return undefined;
    throw err;
  }
}

const put = (key: string, text: string, contentType: string) => {
  const body = Buffer.from(text, 'utf8');
  // the length said outright: the SDK takes an empty body for a stream of unknown length otherwise
  return s3().send(new PutObjectCommand({ Bucket: bucket(), Key: key, Body: body, ContentLength: body.length, ContentType: contentType }));
};

/** What the dataset is made of, read now: the tasks of its projects with the audit statuses asked, their frames' boxes. */
async function readInput(doc: DatasetDoc): Promise<Parameters<typeof planDataset>[0]> {
  const { request } = doc;
  const labels: Record<string, string[]> = {};
  for (const p of request.projectIds) labels[p] = (await getProject(p))?.labels ?? [];
  const tasks = await findTasksForDataset(request.projectIds, request.auditStatus);
  const annotations: Record<string, FrameAnnotations> = {};
  const datasetTasks: DatasetTask[] = [];
  for (const t of tasks) {
    if (!t.width || !t.height) continue;
    const frames = await readFrames(t.uploadId, t.sourceFrames);
    for (const [sourceFrame, f] of frames) annotations[annotationKey(t.uploadId, sourceFrame)] = { human: f.human, humanSavedAt: f.humanSavedAt, auto: f.auto };
    datasetTasks.push({
      taskId: taskId(t.uploadId, t.index),
      projectId: t.projectId,
      uploadId: t.uploadId,
      width: t.width,
      height: t.height,
      frames: t.sourceFrames.map((sourceFrame, i) => ({ sourceFrame, sampledFrame: t.frames.first + i, imageKey: sampledFrameKey(t.uploadId, t.frames.first + i) })),
    });
  }
  return { request, version: doc.version, labels, tasks: datasetTasks, annotations };
}

/** The version's frozen plan: made and stored on the first build, read back on every later one. */
async function frozenPlan(doc: DatasetDoc): Promise<DatasetPlan> {
  if (doc.planKey) {
    const bytes = await getBytes(doc.planKey);
    if (bytes) return JSON.parse(bytes.toString('utf8')) as DatasetPlan;
  }
  const plan = planDataset(await readInput(doc));
  const key = planKeyOf(doc.dataset, doc.version);
  await put(key, JSON.stringify(plan), 'application/json');
  await recordDatasetProgress(doc.dataset, doc.version, { planKey: key, itemsTotal: plan.items.length, state: 'building' });
  return plan;
}

/** A dataset object as a stream, for the zip. */
async function openObject(key: string): Promise<Readable> {
  try {
    const out = await s3().send(new GetObjectCommand({ Bucket: bucket(), Key: key }));
    return out.Body as Readable;
  } catch (err) {
    if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') throw new Error(`dataset object ${key} is missing`);
    throw err;
  }
}

/** The version's zip, streamed to S3 part by part: its files, then every item's image and label, in plan order. */
async function writeZip(plan: DatasetPlan, key: string): Promise<number> {
  const yolo = plan.files.some((f) => f.key.endsWith('data.yaml'));
  const keys = [...plan.files.map((f) => f.key), ...plan.items.flatMap((i) => (yolo ? [i.imageKey, i.labelKey] : [i.imageKey]))];
  const sources: ZipSource[] = keys.map((k) => ({ name: k.slice(plan.prefix.length), open: () => openObject(k) }));
  const body = byteCounter();
  const upload = new Upload({ client: s3(), params: { Bucket: bucket(), Key: key, Body: body, ContentType: 'application/zip' }, partSize: config.multipartPartBytes(), queueSize: 2 });
  const done = upload.done();
  try {
    await Promise.all([pipeline(zipStream(sources), body), done]);
  } catch (err) {
    body.destroy(err as Error);
    await upload.abort().catch(() => undefined);
    await done.catch(() => undefined);
    throw err;
  }
  return body.bytes;
}

export interface BuildSummary {
  readonly name: string;
  readonly version: number;
  readonly complete: boolean;
  /** Another builder holds the version: nothing was done. */
  readonly waiting: boolean;
  readonly itemsDone: number;
  readonly itemsTotal: number;
}

/**
 * Builds as much of the version as fits before `deadline` (epoch ms). `stopAfterItems` stops after that many items
 * were written in this call, as a build cut short would.
 */
export async function buildDatasetVersion(o: { name: string; version: number; deadline: number; stopAfterItems?: number }): Promise<BuildSummary> {
  const { name, version } = o;
  let doc = await getDatasetVersion(name, version);
  if (!doc) throw new Error(`dataset ${name} v${version} does not exist`);
  const summary = (complete: boolean, waiting = false): BuildSummary => ({ name, version, complete, waiting, itemsDone: doc!.itemsDone, itemsTotal: doc!.itemsTotal ?? 0 });
  if (doc.state === 'succeeded' || doc.state === 'failed') return summary(true);
  if (!(await takeLease(name, version, new Date(o.deadline + 30_000)))) return summary(false, true);
  try {
    const plan = await frozenPlan(doc);
    doc = (await getDatasetVersion(name, version))!;
    const yolo = plan.files.some((f) => f.key.endsWith('data.yaml'));
    let written = 0;
    for (let i = doc.itemsDone; i < plan.items.length; i++) {
      if (Date.now() > o.deadline - RESERVE_MS || (o.stopAfterItems !== undefined && written >= o.stopAfterItems)) {
        logger.info('dataset build stopped, to be continued', { name, version, itemsDone: i, itemsTotal: plan.items.length });
        return { ...summary(false), itemsDone: i };
      }
      const item = plan.items[i]!;
      await s3().send(new CopyObjectCommand({ Bucket: bucket(), Key: item.imageKey, CopySource: `${bucket()}/${encodeURI(item.from)}`, ContentType: 'image/jpeg', MetadataDirective: 'REPLACE' }));
      if (yolo) await put(item.labelKey, item.labelText, 'text/plain');
      await recordDatasetProgress(name, version, { itemsDone: i + 1 });
      written++;
    }
    if (!doc.filesDone) {
      for (const f of plan.files) await put(f.key, f.body, f.key.endsWith('.yaml') ? 'application/yaml' : 'application/json');
      await recordDatasetProgress(name, version, { filesDone: true, itemsDone: plan.items.length, state: 'zipping' });
    }
    if (Date.now() > o.deadline - ZIP_MIN_MS) return { ...summary(false), itemsDone: plan.items.length };
    const zipKey = datasetZipKey(name, version);
    const zipBytes = await writeZip(plan, zipKey);
    await recordDatasetProgress(name, version, { zipKey, zipBytes, state: 'succeeded', itemsDone: plan.items.length });
    logger.info('dataset version built', { name, version, items: plan.items.length, zipBytes });
    return { ...summary(true), itemsDone: plan.items.length, itemsTotal: plan.items.length };
  } finally {
    await recordDatasetProgress(name, version, { leaseUntil: null });
  }
}

/** A build that cannot go on (its job failed for good): the version says why. */
export async function failDatasetVersion(name: string, version: number, error: { code: string; message: string }): Promise<void> {
  await recordDatasetProgress(name, version, { state: 'failed', error, leaseUntil: null });
}
