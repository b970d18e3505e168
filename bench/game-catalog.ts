// What the benches that ingest a generated game share: a metered local cloud and the invocations it runs, an API
// caller with the admin's key, and the catalog a customer has before its games arrive (detectables, two det_groups, a
// season with one game and its video), with the game's localizations and label mapping written for its upload.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sampleLabelMapping, sampleLocalizations, type SampleGame } from '../cli/sample-game.ts';
import { startLocalCloud, type LocalCloud } from '../infra/local/cloud.ts';
import { parseLabelMapping } from '../shared/label-map.ts';

/** One run of a function, as the local cloud reports it: `ms` long, ended at `end` (performance.now()). */
export interface Invocation {
  readonly fn: string;
  readonly ms: number;
  readonly end: number;
}

/** When an invocation started (performance.now()): the local cloud reports runs as they end. */
export const startOf = (i: Invocation): number => i.end - i.ms;

/** A local cloud in `dir` that meters what it serves, without schedules, and every invocation it has run so far. */
export async function startMeteredCloud(dir: string): Promise<{ cloud: LocalCloud; invocations: Invocation[] }> {
  const invocations: Invocation[] = [];
  const cloud = await startLocalCloud({
    dir,
    schedules: false,
    metering: true,
    log: (l) => {
      const line = l as { kind?: string; fn?: string; ms?: number };
      if (line.kind === 'invocation' && line.fn && typeof line.ms === 'number') invocations.push({ fn: line.fn, ms: line.ms, end: performance.now() });
    },
  });
  return { cloud, invocations };
}

export type ApiCall = <T = any>(method: string, path: string, body?: unknown) => Promise<T>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function apiCaller(base: string, key: string): ApiCall {
  return async (method, path, body) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
}

export interface PreparedGame {
  readonly videoId: string;
  /** The game's localizations, written in `dir`. */
  readonly locFile: string;
  readonly labelMapping: Record<string, string>;
}

/** Creates the catalog and the game's video record; writes the game's localizations into `dir`. */
export async function prepareGame(call: ApiCall, dir: string, game: SampleGame): Promise<PreparedGame> {
  const locFile = join(dir, 'loc.json');
  writeFileSync(locFile, JSON.stringify(sampleLocalizations(game)));
  const labelMapping = Object.fromEntries([...parseLabelMapping(sampleLabelMapping())].map(([k, v]) => [String(k), v]));
  const ids: Record<string, string> = {};
  for (const name of ['Nike', 'Adidas', 'Puma', 'Heineken']) ids[name] = (await call<{ id: string }>('POST', '/v1/detectables', { name })).id;
  await call('POST', '/v1/det-groups', { name: 'Sportswear', detectableIds: [ids.Nike, ids.Adidas, ids.Puma] });
  await call('POST', '/v1/det-groups', { name: 'Drinks', detectableIds: [ids.Heineken] });
  const sport = await call<{ id: string }>('POST', '/v1/sports', { name: 'Football' });
  const league = await call<{ id: string }>('POST', '/v1/leagues', { sportId: sport.id, name: 'League' });
  const season = await call<{ id: string }>('POST', '/v1/seasons', { leagueId: league.id, name: '2026' });
  const gameRecord = await call<{ id: string }>('POST', '/v1/games', { seasonId: season.id, title: 'A v B', startsAt: '2026-11-21T15:00:00Z' });
  const videoId = (await call<{ id: string }>('POST', '/v1/videos', { gameId: gameRecord.id, title: 'A v B' })).id;
  await detGroupsComputed(call, 2);
  return { videoId, locFile, labelMapping };
}

/**
 * Waits for the computations the new det_groups set off: they start from a queue, after their API call has answered
 * and while no workflow runs yet, so a bench starting its game at once would count them in the game's time and bill.
 */
async function detGroupsComputed(call: ApiCall, count: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const done = await call<{ jobs: { kind: string }[] }>('GET', '/v1/jobs?state=succeeded&kind=det-group');
    const running = await Promise.all(['queued', 'working'].map((state) => call<{ jobs: unknown[] }>('GET', `/v1/jobs?state=${state}`)));
    if (done.jobs.length >= count && running.every((r) => r.jobs.length === 0)) return;
    if (Date.now() > deadline) throw new Error(`the catalog's ${count} det_group computations did not finish within a minute`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
