// Prediction sets of an upload: registered from a localizations document or from a zip of YOLO txt files the client
// put in storage, normalized, stored whole in the media bucket (a set can outgrow a MongoDB document) under a key
// named by its content, and listed by version in MongoDB.
import { createHash, randomUUID } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { s3 } from '../lib/aws.ts';
import { config } from '../lib/config.ts';
import { AppError, badRequest, conflict, notFound } from '../lib/errors.ts';
import { getPrediction, registerPrediction, type PredictionDoc } from './annotation-store.ts';
import { PredictionIssues, predictionsFromLocalizations, predictionsFromYolo, UnknownLabels, type PredictionSet } from './predictions.ts';
import { getProject, getUpload } from './store.ts';
import { readZip, ZipInvalid } from './zip.ts';

/** A prediction file put through a presigned URL is at most this big (YOLO txt of a long video zip to a few MB). */
export const MAX_PREDICTION_FILE_BYTES = 256 * 1024 * 1024;

export const incomingPrefix = (uploadId: string) => `annotation/predictions/${uploadId}/incoming/`;
const setKey = (uploadId: string, digest: string) => `annotation/predictions/${uploadId}/sets/${digest}.json`;

/** A presigned PUT for a prediction file (a zip of YOLO txt files or a localizations JSON) too big for a request body. */
export async function presignPredictionFile(uploadId: string, input: { format: 'yolo' | 'localizations'; sizeBytes: number }) {
  if (!(await getUpload(uploadId))) throw notFound('annotation upload', uploadId);
  const key = `${incomingPrefix(uploadId)}${randomUUID()}.${input.format === 'yolo' ? 'zip' : 'json'}`;
  const contentType = input.format === 'yolo' ? 'application/zip' : 'application/json';
  const expiresIn = config.presignedUrlSeconds();
  const url = await getSignedUrl(s3(), new PutObjectCommand({ Bucket: config.mediaBucket(), Key: key, ContentType: contentType, ContentLength: input.sizeBytes }), {
    expiresIn,
    signableHeaders: new Set(['content-type', 'content-length']),
  });
  return { method: 'PUT' as const, key, url, contentType, expiresIn };
}

async function readIncoming(uploadId: string, key: string): Promise<Buffer> {
  if (!key.startsWith(incomingPrefix(uploadId)) || key.includes('..')) throw badRequest(`the file key must be one this API presigned for upload ${uploadId}`, { key });
  try {
    const head = await s3().send(new HeadObjectCommand({ Bucket: config.mediaBucket(), Key: key }));
    if ((head.ContentLength ?? 0) > MAX_PREDICTION_FILE_BYTES) throw badRequest(`a prediction file is at most ${MAX_PREDICTION_FILE_BYTES} bytes`);
    const out = await s3().send(new GetObjectCommand({ Bucket: config.mediaBucket(), Key: key }));
    return Buffer.from(await out.Body!.transformToByteArray());
  } catch (err) {
    if ((err as { name?: string }).name === 'NotFound' || (err as { name?: string }).name === 'NoSuchKey') throw conflict(`nothing has been uploaded to ${key} yet`);
    throw err;
  }
}

function asBadRequest(err: unknown): never {
  if (err instanceof PredictionIssues) throw new AppError(400, 'PredictionsInvalid', 'The prediction file fails validation', err.issues);
  if (err instanceof UnknownLabels) throw new AppError(400, 'UnknownLabels', err.message, { labels: err.labels, projectLabels: err.projectLabels });
  if (err instanceof ZipInvalid) throw badRequest(`the YOLO file is not a zip this API reads: ${err.message}`);
  throw err;
}

export type PredictionSource =
  | { format: 'localizations'; localizations: unknown }
  | { format: 'localizations' | 'yolo'; key: string };

/** Registers the next version of the upload's prediction sets. Bad input is a 400 and registers nothing. */
export async function registerPredictions(uploadId: string, source: PredictionSource, by: string): Promise<PredictionDoc> {
  const upload = await getUpload(uploadId);
  if (!upload) throw notFound('annotation upload', uploadId);
  const project = await getProject(upload.projectId);
  if (!project) throw notFound('annotation project', upload.projectId);
  let set: PredictionSet;
  try {
    if ('localizations' in source) set = predictionsFromLocalizations(source.localizations, project.labels);
    else {
      const bytes = await readIncoming(uploadId, source.key);
      if (source.format === 'localizations') {
        let json: unknown;
        try {
          json = JSON.parse(bytes.toString('utf8'));
        } catch {
          throw badRequest('the localizations file is not valid JSON');
        }
        set = predictionsFromLocalizations(json, project.labels);
      } else {
        if (!upload.width || !upload.height) throw conflict(`upload ${uploadId} has not been processed yet: YOLO boxes need its frame size`);
        const entries = await readZip(bytes, { maxEntryBytes: config.zipEntryMaxBytes(), maxTotalBytes: MAX_PREDICTION_FILE_BYTES });
        const files = entries.map((e) => ({ name: e.name, text: e.data.toString('utf8') }));
        set = predictionsFromYolo(files, project.labels, { width: upload.width, height: upload.height });
      }
    }
  } catch (err) {
    asBadRequest(err);
  }
  const body = JSON.stringify(set);
  const key = setKey(uploadId, createHash('sha256').update(body).digest('hex'));
  await s3().send(new PutObjectCommand({ Bucket: config.mediaBucket(), Key: key, Body: body, ContentType: 'application/json' }));
  return registerPrediction({
    uploadId,
    format: source.format,
    key,
    frames: set.frames.length,
    boxes: set.frames.reduce((n, f) => n + f.boxes.length, 0),
    createdBy: by,
  });
}

export async function readPredictionSet(uploadId: string, version: number): Promise<PredictionSet> {
  const doc = await getPrediction(uploadId, version);
  if (!doc) throw notFound('prediction set', `v${version} of upload ${uploadId}`);
  const out = await s3().send(new GetObjectCommand({ Bucket: config.mediaBucket(), Key: doc.key }));
  return JSON.parse(await out.Body!.transformToString('utf8')) as PredictionSet;
}
