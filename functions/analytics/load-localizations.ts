// The detector's output for a video, as the analyst uploaded it: read from storage and validated, for the ingest
// (which checks it before extracting frames) and for the metrics.
import { GetObjectCommand, NoSuchKey } from '@aws-sdk/client-s3';
import { s3 } from '../lib/aws.ts';
import { config } from '../lib/config.ts';
import { TaskError } from '../lib/errors.ts';
import { LocalizationIssues } from '../../shared/issues.ts';
import type { VideoState } from '../catalog/video-lifecycle.ts';
import { parseLocalizations, type Localizations } from './localizations.ts';

const invalid = (message: string) => new TaskError('LocalizationsInvalid', message);

export async function loadLocalizations(video: Pick<VideoState, 'id' | 'localizationsKey' | 'labelMapping'>): Promise<Localizations> {
  if (!video.localizationsKey) {
    throw invalid(`video ${video.id} has no localizations: upload them (POST /v1/videos/${video.id}/localizations/upload) before the video`);
  }
  let text: string;
  try {
    const out = await s3().send(new GetObjectCommand({ Bucket: config.mediaBucket(), Key: video.localizationsKey }));
    text = await out.Body!.transformToString('utf8');
  } catch (err) {
    if (err instanceof NoSuchKey) throw invalid(`the localizations of video ${video.id} were never uploaded (no object at ${video.localizationsKey})`);
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw invalid(`the localizations of video ${video.id} are not valid JSON: ${(err as Error).message}`);
  }
  const labelMap = video.labelMapping ? new Map(Object.entries(video.labelMapping).map(([k, v]) => [Number(k), v])) : undefined;
  try {
    return parseLocalizations(json, labelMap);
  } catch (err) {
    if (err instanceof LocalizationIssues) throw invalid(`the localizations of video ${video.id} are invalid: ${err.message}`);
    throw err;
  }
}
