// Cache keys of the analytics API. Pure.
//
// Version 1: a response's key carries the versions (updated_at, in microseconds) of the rows whose change must
// invalidate it; the catalog's triggers touch season.updated_at on any change of its games, videos, events and
// game teams, and client.updated_at on any change of its grants or of a det_group it holds.
// Version 2: fragments per {video, det_group, resolution}, keyed with the video's released run (the run's
// documents never change once written; releasing a newer run makes a new key, a re-run waiting for release
// none) and the det_group's version (new metrics of a det_group touch it), and game sections made of
// fragments, keyed by a digest of what they show.
// A key never needs deleting: a change makes a new key, old entries expire.
import { createHash } from 'node:crypto';
import type { Resolution } from './rollup.ts';

/** Bump when the shape of a cached payload changes: every old entry is then simply never read again. */
export const CACHE_FORMAT = 4;

export type MetaView = 'released' | 'all';

function part(name: string, value: string): string {
  if (!value || /[:@\s]/.test(value)) throw new RangeError(`cache key part ${name} must be non-empty without ':', '@' or spaces (${JSON.stringify(value)})`);
  return value;
}
const versioned = (name: string, id: string, version: string) => `${part(name, id)}@${part(`${name} version`, version)}`;

export const seasonMetaKey = (seasonId: string, seasonVersion: string, view: MetaView): string =>
  `season-meta:${CACHE_FORMAT}:${versioned('season', seasonId, seasonVersion)}:${view}`;

export const seasonMetricsKey = (s: { seasonId: string; seasonVersion: string; clientId: string; clientVersion: string; resolution: Resolution }): string =>
  `season-metrics:${CACHE_FORMAT}:${versioned('season', s.seasonId, s.seasonVersion)}:client:${versioned('client', s.clientId, s.clientVersion)}:r${s.resolution}`;

/** A game's versions are its season's: any change of the game, its videos, events or teams touches the season. */
export const gameMetricsKey = (g: { gameId: string; seasonVersion: string; clientId: string; clientVersion: string; resolution: Resolution }): string =>
  `game-metrics:${CACHE_FORMAT}:${part('game', g.gameId)}:season@${part('season version', g.seasonVersion)}:client:${versioned('client', g.clientId, g.clientVersion)}:r${g.resolution}`;

/** A run's name in a key: results written before runs were named are the run `unnamed` (a job id never is). */
const runPart = (run: string | null) => part('run', run ?? 'unnamed');

export const fragmentKey = (f: { videoId: string; run: string | null; detGroupId: string; detGroupVersion: string; resolution: Resolution }): string =>
  `fragment:${CACHE_FORMAT}:video:${part('video', f.videoId)}:run:${runPart(f.run)}:dg:${versioned('det_group', f.detGroupId, f.detGroupVersion)}:r${f.resolution}`;

/**
 * A game's section of a metrics response: keyed by a digest of everything it shows (the game, its videos with
 * their released runs and the det_groups in order with their versions), so any change makes a new key and two
 * clients seeing the same det_groups share it.
 */
export const gameSectionKey = (s: {
  gameId: string;
  title: string;
  startsAt: string;
  videos: readonly { id: string; run: string | null }[];
  detGroups: readonly { id: string; version: string }[];
  resolution: Resolution;
}): string => {
  const content = JSON.stringify([s.title, s.startsAt, s.videos.map((v) => [v.id, v.run]), s.detGroups.map((d) => [d.id, d.version])]);
  return `game-section:${CACHE_FORMAT}:${part('game', s.gameId)}:r${s.resolution}:${createHash('sha256').update(content).digest('base64url')}`;
};
