// Sample games ingested for real through the API, as an analyst would: the video drawn by ffmpeg, its localizations,
// both uploaded with the CLI's uploader, and the whole video-ingest workflow (frames extracted to S3, metrics
// computed). `ingestSampleVideo` ingests into a video that exists; `ingestSampleGame` also makes its catalog: a
// season with the game, two logos whose names are new to this run (so its det_groups are its own), and two clients
// each granted the season and a det_group of its own. Nothing is released: `release` does it.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { drawSampleGame, SAMPLE_LOGOS, sampleLocalizations, type SampleGame } from '../../cli/sample-game.ts';
import { uploadFile, type UploadPlan } from '../../cli/upload.ts';
import { apiClient, eventually, type ApiResponse } from './api.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
type Call = (method: string, path: string, body?: unknown) => Promise<ApiResponse<Json>>;

export const SAMPLE_FPS = 5;

/** Nike on screen throughout, Adidas from 2 s: small and short, ingested in seconds. */
export const SMALL_GAME: SampleGame = { seconds: 4, width: 160, height: 120, fps: 25 };

/**
 * Ingests `game` (by default SMALL_GAME) into the existing video `videoId`, frames at `frameRate` (default 5 fps);
 * answers the ingest job once it has ended. `labels` renames some of the logos' classes (index → detectable name): a
 * test on the shared cloud names its detectables after its run (names are unique), and labels that match no
 * detectable are ignored.
 */
export async function ingestSampleVideo(
  call: Call, videoId: string, work: string, options: { game?: SampleGame; frameRate?: number; labels?: Record<string, string> } = {},
): Promise<Json> {
  const game = options.game ?? SMALL_GAME;
  const videoFile = join(work, `${videoId}.mp4`);
  const locFile = join(work, `${videoId}.json`);
  const drawn = drawSampleGame(videoFile, game);
  writeFileSync(locFile, JSON.stringify(sampleLocalizations(game)));
  const labelMapping = { ...Object.fromEntries((game.logos ?? SAMPLE_LOGOS).map((l) => [String(l.classIndex), l.label])), ...options.labels };
  const loc = await call('POST', `/v1/videos/${videoId}/localizations/upload`, { sizeBytes: statSync(locFile).size, labelMapping });
  expect(loc.status, JSON.stringify(loc.body)).toBe(200);
  await uploadFile(loc.body as UploadPlan, locFile);
  await drawn;
  const plan = await call('POST', `/v1/videos/${videoId}/upload`, {
    filename: 'game.mp4', contentType: 'video/mp4', sizeBytes: statSync(videoFile).size, frameRate: options.frameRate ?? SAMPLE_FPS,
  });
  expect(plan.status, JSON.stringify(plan.body)).toBe(200);
  const parts = await uploadFile(plan.body as UploadPlan, videoFile);
  if (plan.body.method === 'multipart') await call('POST', `/v1/videos/${videoId}/upload/complete`, { uploadId: plan.body.uploadId, parts });
  return eventually(async () => {
    const job = (await call('GET', `/v1/jobs?videoId=${videoId}&limit=10`)).body.jobs[0];
    return job && (job.state === 'succeeded' || job.state === 'failed') ? job : undefined;
  }, `the ingest of video ${videoId}`, 120_000);
}

export interface IngestedGame {
  readonly game: SampleGame;
  readonly seasonId: string;
  readonly gameId: string;
  readonly videoId: string;
  /** The det_group of the first client: both logos. */
  readonly detGroupId: string;
  /** The det_group of the second client: the first logo only. */
  readonly otherDetGroupId: string;
  readonly clientKey: string;
  readonly otherClientKey: string;
  readonly analystKey: string;
  readonly labels: readonly string[];
}

async function ok(call: Call, method: string, path: string, body?: unknown): Promise<Json> {
  const res = await call(method, path, body);
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Ingests the sample game (`seconds` long at 320×240, frames at 5 fps) and sets up its catalog as described above. */
export async function ingestSampleGame(stamp: string, seconds = 4): Promise<IngestedGame> {
  const admin = apiClient();
  const work = mkdtempSync(join(tmpdir(), 'framewise-sample-'));
  try {
    const logos = SAMPLE_LOGOS.slice(0, 2).map((l) => ({ ...l, label: `${l.label} ${stamp}` }));
    const game: SampleGame = { seconds, width: 320, height: 240, fps: 25, logos };
    const analystKey = (await ok(admin, 'POST', '/v1/api-keys', { name: `analyst ${stamp}`, role: 'analyst' })).key as string;
    const analyst = apiClient(analystKey);
    const detectables = [];
    for (const l of logos) detectables.push((await ok(admin, 'POST', '/v1/detectables', { name: l.label })).id as string);
    const sport = await ok(admin, 'POST', '/v1/sports', { name: `Sport ${stamp}` });
    const league = await ok(admin, 'POST', '/v1/leagues', { sportId: sport.id, name: `League ${stamp}` });
    const seasonId = (await ok(admin, 'POST', '/v1/seasons', { leagueId: league.id, name: `Season ${stamp}` })).id as string;
    const gameId = (await ok(analyst, 'POST', '/v1/games', { seasonId, title: `Sample game ${stamp}`, startsAt: '2026-11-21T15:00:00Z' })).id as string;
    const client = async (name: string, detectableIds: string[]) => {
      const org = await ok(admin, 'POST', '/v1/organizations', { name: `${name} org ${stamp}` });
      const clientId = (await ok(admin, 'POST', '/v1/clients', { organizationId: org.id, name: `${name} ${stamp}` })).id as string;
      await ok(admin, 'PUT', `/v1/clients/${clientId}/seasons/${seasonId}`);
      const granted = await ok(admin, 'POST', `/v1/clients/${clientId}/det-groups`, { name: `${name} brands ${stamp}`, detectableIds });
      const key = (await ok(admin, 'POST', '/v1/api-keys', { name: `${name} ${stamp}`, role: 'client', clientId })).key as string;
      return { detGroupId: granted.detGroupId as string, key };
    };
    const first = await client('Brand client', detectables);
    const second = await client('Other client', detectables.slice(0, 1));

    const videoId = (await ok(analyst, 'POST', '/v1/videos', { gameId, title: `Main camera ${stamp}` })).id as string;
    const job = await ingestSampleVideo(analyst, videoId, work, { game });
    if (job.state !== 'succeeded') throw new Error(`the ingest of ${videoId} failed: ${JSON.stringify(job.error)}`);
    // Each det_group's own computation (started when it was granted) may compute the video again after the ingest:
    // the results are settled once both have ended.
    const admin200 = async () => (await admin('GET', '/v1/jobs?limit=100')).body.jobs as Json[];
    for (const id of [first.detGroupId, second.detGroupId]) {
      await eventually(async () => {
        const j = (await admin200()).find((x) => x.kind === 'det-group' && x.detGroupId === id);
        return j && (j.state === 'succeeded' || j.state === 'failed') ? j : undefined;
      }, `the computation of det_group ${id}`, 60_000);
    }
    return {
      game, seasonId, gameId, videoId, analystKey,
      detGroupId: first.detGroupId, otherDetGroupId: second.detGroupId, clientKey: first.key, otherClientKey: second.key,
      labels: logos.map((l) => l.label),
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Releases the video and both det_groups to their clients. */
export async function release(g: IngestedGame): Promise<void> {
  const admin = apiClient();
  await ok(admin, 'POST', `/v1/videos/${g.videoId}/release`);
  // A det_group is released once computed for the video; its own computation job may still be finishing.
  for (const id of [g.detGroupId, g.otherDetGroupId]) {
    await eventually(async () => ((await admin('POST', `/v1/det-groups/${id}/release`)).status === 200 ? true : undefined), `the release of det_group ${id}`, 30_000);
  }
}
