// What the benches that ingest a generated game share: an API caller with the admin's key, and the catalog a
// customer has before its games arrive (detectables, two det_groups, a season with one game and its video), with the
// game's localizations and label mapping written for its upload.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sampleLabelMapping, sampleLocalizations, type SampleGame } from '../cli/sample-game.ts';
import { parseLabelMapping } from '../shared/label-map.ts';

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
  return { videoId, locFile, labelMapping };
}
