// Season and game metrics assembled from fragments ({video, det_group, resolution} rollups). Pure.
import type { Bucket } from './rollup.ts';

export interface Fragment {
  readonly frameRate: number;
  readonly buckets: readonly Bucket[];
}

export interface Totals {
  readonly frames: number;
  readonly visibleFrames: number;
  readonly exposureSeconds: number;
  readonly detections: number;
  readonly sumEffectiveness: number;
  /** Frame-weighted over the buckets. */
  readonly meanArea: number;
  readonly meanEffectiveness: number;
  readonly maxArea: number;
}

const EMPTY: Totals = { frames: 0, visibleFrames: 0, exposureSeconds: 0, detections: 0, sumEffectiveness: 0, meanArea: 0, meanEffectiveness: 0, maxArea: 0 };

/** Totals over buckets or other totals (both have frames, the sums, the frame-weighted means and maxArea). */
export function totalsOf(parts: readonly (Bucket | Totals)[]): Totals {
  if (parts.length === 0) return EMPTY;
  let frames = 0, visibleFrames = 0, exposureSeconds = 0, detections = 0, sumEffectiveness = 0, areaFrames = 0, effFrames = 0, maxArea = 0; // prettier-ignore
  for (const p of parts) {
    frames += p.frames;
    visibleFrames += p.visibleFrames;
    exposureSeconds += p.exposureSeconds;
    detections += p.detections;
    sumEffectiveness += p.sumEffectiveness;
    areaFrames += p.meanArea * p.frames;
    effFrames += p.meanEffectiveness * p.frames;
    if (p.maxArea > maxArea) maxArea = p.maxArea;
  }
  return {
    frames,
    visibleFrames,
    exposureSeconds,
    detections,
    sumEffectiveness,
    meanArea: frames > 0 ? areaFrames / frames : 0,
    meanEffectiveness: frames > 0 ? effFrames / frames : 0,
    maxArea,
  };
}

export interface GameInput {
  readonly id: string;
  readonly title: string;
  readonly startsAt: string;
  readonly videoIds: readonly string[];
}

export interface DetGroupInput {
  readonly id: string;
  readonly name: string;
}

export interface VideoMetrics {
  readonly videoId: string;
  readonly frameRate: number;
  readonly buckets: readonly Bucket[];
}

export interface DetGroupMetrics {
  readonly id: string;
  readonly name: string;
  readonly totals: Totals;
  /** Games with at least one video this det_group has metrics for, in the order of `games`. */
  readonly games: readonly { readonly gameId: string; readonly totals: Totals; readonly videos: readonly VideoMetrics[] }[];
}

export interface AssembledMetrics {
  readonly games: readonly { readonly id: string; readonly title: string; readonly startsAt: string }[];
  readonly detGroups: readonly DetGroupMetrics[];
}

/**
 * Per det_group (in the given order), per game, per video: the fragment's buckets, with game and det_group
 * totals. A {video, det_group} without a fragment (the det_group does not apply to the video) is left out.
 */
export function assembleMetrics(
  games: readonly GameInput[],
  detGroups: readonly DetGroupInput[],
  fragment: (videoId: string, detGroupId: string) => Fragment | undefined,
): AssembledMetrics {
  return {
    games: games.map((g) => ({ id: g.id, title: g.title, startsAt: g.startsAt })),
    detGroups: detGroups.map((dg) => {
      const perGame = games.flatMap((g) => {
        const videos = g.videoIds.flatMap((videoId): VideoMetrics[] => {
          const f = fragment(videoId, dg.id);
          return f ? [{ videoId, frameRate: f.frameRate, buckets: f.buckets }] : [];
        });
        return videos.length === 0 ? [] : [{ gameId: g.id, totals: totalsOf(videos.flatMap((v) => v.buckets)), videos }];
      });
      return { id: dg.id, name: dg.name, totals: totalsOf(perGame.map((g) => g.totals)), games: perGame };
    }),
  };
}
