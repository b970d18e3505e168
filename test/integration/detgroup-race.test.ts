// No race between video ingestion and det_group creation: a det_group created at any stage of a running ingest
// is computed for that video, by the ingest itself or by the det_group's own job.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalCloud, type LocalCloud } from '../../infra/local/cloud.ts';
import { eventually, strictApiClient } from '../support/api.ts';
import { drawSampleGame, sampleLocalizations, SAMPLE_LOGOS, type SampleGame } from '../../cli/sample-game.ts';
import { uploadFile, type UploadPlan } from '../../cli/upload.ts';

const until = <T>(probe: () => Promise<T | undefined>, what: string) => eventually(probe, what, 90_000);

const dir = mkdtempSync(join(tmpdir(), 'framewise-race-'));
let cloud: LocalCloud;
let api: ReturnType<typeof strictApiClient>;

/** The ingest's functions, in workflow order: before each, one det_group is created. */
const STAGES = ['ingest-probe', 'ingest-localizations', 'ingest-plan', 'ingest-frames', 'ingest-metrics', 'jobs-outcome'] as const;
// One logo per stage, all on screen for the whole video, so each stage's det_group applies to it.
const LOGOS = STAGES.map((stage, i) => ({ ...SAMPLE_LOGOS[0]!, label: `Race ${stage}`, classIndex: i, color: ['red', 'blue', 'yellow', 'green', 'white', 'orange'][i]!, x0: i / 6, from: 0, to: 1e9 }));
const GAME: SampleGame = { seconds: 4, width: 320, height: 240, fps: 25, logos: LOGOS };

beforeAll(async () => {
  cloud = await startLocalCloud({ dir, schedules: false, retryIntervalScale: 0.05 });
  api = strictApiClient(cloud.endpoints.api, cloud.credentials.adminApiKey);
});
afterAll(async () => {
  await cloud?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('det_groups created during an ingest', () => {
  it('are computed for the video whatever the stage they were created at', async () => {
    const detectables: Record<string, string> = {};
    for (const logo of LOGOS) detectables[logo.label] = (await api('POST', '/v1/detectables', { name: logo.label })).id;
    const sport = await api('POST', '/v1/sports', { name: 'Race sport' });
    const league = await api('POST', '/v1/leagues', { sportId: sport.id, name: 'Race league' });
    const season = await api('POST', '/v1/seasons', { leagueId: league.id, name: 'Race season' });
    const game = await api('POST', '/v1/games', { seasonId: season.id, title: 'Race game', startsAt: '2026-11-21T15:00:00Z' });
    const video = await api('POST', '/v1/videos', { gameId: game.id, title: 'race' });

    const created: Record<string, string> = {};
    cloud.functions.intercept(async (name, event) => {
      const stage = STAGES.find((s) => s === name);
      if (!stage || created[stage] || (event as { videoId?: string; jobId?: string }).jobId?.startsWith('detgroup-')) return;
      const label = `Race ${stage}`;
      created[stage] = 'pending';
      created[stage] = (await api('POST', '/v1/det-groups', { name: label, detectableIds: [detectables[label]] })).id;
    });

    const videoFile = join(dir, 'race.mp4');
    const locFile = join(dir, 'race.json');
    await drawSampleGame(videoFile, GAME);
    writeFileSync(locFile, JSON.stringify(sampleLocalizations(GAME)));
    const labelMapping = Object.fromEntries(LOGOS.map((l) => [String(l.classIndex), l.label]));
    const loc = await api<UploadPlan>('POST', `/v1/videos/${video.id}/localizations/upload`, { sizeBytes: statSync(locFile).size, labelMapping });
    await uploadFile(loc, locFile);
    const plan = await api<UploadPlan>('POST', `/v1/videos/${video.id}/upload`, { filename: 'race.mp4', contentType: 'video/mp4', sizeBytes: statSync(videoFile).size, frameRate: 5 });
    await uploadFile(plan, videoFile);

    const ingest = await until(async () => {
      const { jobs } = await api('GET', `/v1/jobs?videoId=${video.id}`);
      return jobs.find((j: { state: string }) => j.state === 'succeeded' || j.state === 'failed');
    }, 'the ingest');
    expect(ingest.state).toBe('succeeded');
    expect(Object.keys(created).sort()).toEqual([...STAGES].sort());

    for (const stage of STAGES) {
      const detGroupId = created[stage]!;
      const job = await until(async () => {
        const { jobs } = await api('GET', '/v1/jobs?limit=100');
        return jobs.find((j: { detGroupId?: string; state: string }) => j.detGroupId === detGroupId && (j.state === 'succeeded' || j.state === 'failed'));
      }, `the job of the det_group created before ${stage}`);
      expect(job.state, stage).toBe('succeeded');
      const metrics = await api('GET', `/v1/videos/${video.id}/metrics?detGroup=${detGroupId}&resolution=video`);
      expect(metrics.buckets[0].frames, `det_group created before ${stage}`).toBe(GAME.seconds * 5);
      expect(metrics.buckets[0].visibleFrames, `det_group created before ${stage}`).toBeGreaterThan(0);
    }
  });
});
