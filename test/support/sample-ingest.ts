// A video of the sample game ingested through the API as an analyst would: its localizations, then the video,
// uploaded with the CLI's uploader; answers the ingest job once it has ended.
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { drawSampleGame, SAMPLE_LOGOS, sampleLocalizations, type SampleGame } from '../../cli/sample-game.ts';
import { uploadFile, type UploadPlan } from '../../cli/upload.ts';
import { eventually, type ApiResponse } from './api.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
type Call = (method: string, path: string, body?: unknown) => Promise<ApiResponse<Json>>;

/** Nike on screen throughout, Adidas from 2 s: small and short, ingested in seconds. */
export const SMALL_GAME: SampleGame = { seconds: 4, width: 160, height: 120, fps: 25 };

/**
 * `labels` renames some of the sample logos' classes (index → detectable name): a test on the shared cloud names its
 * detectables after its run (names are unique), and labels that match no detectable are ignored.
 */
export async function ingestSampleVideo(
  call: Call, videoId: string, work: string, options: { game?: SampleGame; frameRate?: number; labels?: Record<string, string> } = {},
): Promise<Json> {
  const game = options.game ?? SMALL_GAME;
  const videoFile = join(work, `${videoId}.mp4`);
  const locFile = join(work, `${videoId}.json`);
  await drawSampleGame(videoFile, game);
  writeFileSync(locFile, JSON.stringify(sampleLocalizations(game)));
  const labelMapping = { ...Object.fromEntries(SAMPLE_LOGOS.map((l) => [String(l.classIndex), l.label])), ...options.labels };
  const loc = await call('POST', `/v1/videos/${videoId}/localizations/upload`, { sizeBytes: statSync(locFile).size, labelMapping });
  expect(loc.status).toBe(200);
  await uploadFile(loc.body as UploadPlan, locFile);
  const plan = await call('POST', `/v1/videos/${videoId}/upload`, {
    filename: 'game.mp4', contentType: 'video/mp4', sizeBytes: statSync(videoFile).size, frameRate: options.frameRate ?? 5,
  });
  expect(plan.status).toBe(200);
  const parts = await uploadFile(plan.body as UploadPlan, videoFile);
  if (plan.body.method === 'multipart') await call('POST', `/v1/videos/${videoId}/upload/complete`, { uploadId: plan.body.uploadId, parts });
  return eventually(async () => {
    const job = (await call('GET', `/v1/jobs?videoId=${videoId}&limit=10`)).body.jobs[0];
    return job && (job.state === 'succeeded' || job.state === 'failed') ? job : undefined;
  }, `the ingest of video ${videoId}`, 120_000);
}
