// The detector's output for a video, as the analyst uploaded it.
import { GetObjectCommand, NoSuchKey } from '@aws-sdk/client-s3';
import { s3 } from '../lib/aws.ts';
import { config } from '../lib/config.ts';
import { AppError } from '../lib/errors.ts';
import { parseLocalizations, type Localizations } from './localizations.ts';
import type { IngestVideo } from './videos.ts';

/** Named errors reach the workflow's Catch, and so the job, under their name. */
export class LocalizationsError extends Error {
  override readonly name = 'LocalizationsInvalid';
}

export async function loadLocalizations(video: IngestVideo): Promise<Localizations> {
  if (!video.localizationsKey) {
    throw new LocalizationsError(`video ${video.id} has no localizations: upload them (POST /v1/videos/${video.id}/localizations/upload) before the video`);
  }
  let text: string;
  try {
    const out = await s3().send(new GetObjectCommand({ Bucket: config.mediaBucket(), Key: video.localizationsKey }));
    text = await out.Body!.transformToString('utf8');
  } catch (err) {
    if (err instanceof NoSuchKey) throw new LocalizationsError(`the localizations of video ${video.id} were never uploaded (no object at ${video.localizationsKey})`);
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new LocalizationsError(`the localizations of video ${video.id} are not valid JSON: ${(err as Error).message}`);
  }
  const labelMap = video.labelMapping ? new Map(Object.entries(video.labelMapping).map(([k, v]) => [Number(k), v])) : undefined;
  try {
    return parseLocalizations(json, labelMap);
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    const issues = (err.details as { path: string; message: string }[] | undefined) ?? [];
    const listed = issues.slice(0, 5).map((i) => `${i.path}: ${i.message}`).join('; ');
    throw new LocalizationsError(`the localizations of video ${video.id} are invalid (${issues.length} issue(s)): ${listed}`);
  }
}
