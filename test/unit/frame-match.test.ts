import { describe, expect, it } from 'vitest';
import { matchFrames } from '../../functions/analytics/frame-match.ts';
import { seededRandom } from '../support/random.ts';


/**
 * O(n·m) reference: the nearest localization before t (the lowest index among equal times) and the nearest at or
 * after it; the earlier unless the later is nearer by more than 1e-9; only within half an interval (+1e-9).
 */
function bruteForce(extracted: number[], loc: number[], fps: number): number[] {
  return extracted.map((t) => {
    let before = -1;
    let after = -1;
    for (let j = 0; j < loc.length; j++) {
      if (loc[j]! < t) {
        if (before < 0 || loc[j]! > loc[before]!) before = j;
      } else if (after < 0 || loc[j]! < loc[after]!) after = j;
    }
    const best = after < 0 || (before >= 0 && t - loc[before]! <= loc[after]! - t + 1e-9) ? before : after;
    return best >= 0 && Math.abs(loc[best]! - t) <= 1 / (2 * fps) + 1e-9 ? best : -1;
  });
}

describe('matchFrames', () => {
  it('matches 5 fps extraction to 25 fps localizations', () => {
    const loc = Array.from({ length: 50 }, (_, i) => i / 25);
    const extracted = Array.from({ length: 10 }, (_, i) => i / 5);
    expect(matchFrames(extracted, loc, 5)).toEqual([0, 5, 10, 15, 20, 25, 30, 35, 40, 45]);
  });

  it('includes the edge of half a frame interval and nothing beyond it', () => {
    expect(matchFrames([0], [0.1], 5)).toEqual([0]); // |Δ| = 0.1 = 1/(2·5)
    expect(matchFrames([1], [0.9], 5)).toEqual([0]); // 1 − 0.9 = 0.09999999999999998
    expect(matchFrames([0.3], [0.2], 5)).toEqual([0]); // 0.3 − 0.2 = 0.09999999999999998
    expect(matchFrames([0.1 * 3], [0.2], 5)).toEqual([0]); // 0.30000000000000004 − 0.2 = 0.10000000000000003: epsilon
    expect(matchFrames([0], [0.1001], 5)).toEqual([-1]);
    expect(matchFrames([0.2], [0.0999], 5)).toEqual([-1]);
  });

  it('gives a tie to the earlier localization', () => {
    expect(matchFrames([1], [0.75, 1.25], 2)).toEqual([0]);
    expect(matchFrames([1, 1.25], [0.75, 1.25], 2)).toEqual([0, 1]);
    // equal times: the lowest index, whether the run lies before, at or after t
    expect(matchFrames([1], [0.5, 1, 1, 1], 2)).toEqual([1]);
    expect(matchFrames([1.2], [1, 1, 1.5], 2)).toEqual([0]);
    expect(matchFrames([0.9], [1, 1], 2)).toEqual([0]);
  });

  it('gives a frame exactly halfway to the earlier localization, also at times that are not binary fractions', () => {
    // In doubles 0.2 − 0.15 = 0.05000000000000002 > 0.25 − 0.2 = 0.04999999999999999, and 0.3 − 0.2 < 0.2 − 0.1.
    expect(matchFrames([0.2], [0.15, 0.25], 10)).toEqual([0]);
    expect(matchFrames([0.2], [0.1, 0.3], 5)).toEqual([0]);
    expect(matchFrames([1.1], [1.0, 1.2], 5)).toEqual([0]);
    // Every frame of 10 fps extraction between localizations of a 10 fps detector offset by half a frame.
    const extracted = Array.from({ length: 300 }, (_, i) => i / 10);
    const loc = Array.from({ length: 301 }, (_, i) => Number(((i - 0.5) / 10).toFixed(2)));
    expect(matchFrames(extracted, loc, 10)).toEqual(extracted.map((_, i) => i));
    // At 29.97 fps, frames at i / 29.97 and localizations halfway between them.
    const ntsc = Array.from({ length: 100 }, (_, i) => i / 29.97);
    const halfway = Array.from({ length: 101 }, (_, i) => (i - 0.5) / 29.97);
    expect(matchFrames(ntsc, halfway, 29.97)).toEqual(ntsc.map((_, i) => i));
    // Nearer by more than the slack is nearer.
    expect(matchFrames([0.2], [0.15, 0.2499], 10)).toEqual([1]);
  });

  it('leaves frames without a localization nearby unmatched', () => {
    // localizations only from 1 s to 2 s
    const loc = [1, 1.04, 1.08, 2];
    expect(matchFrames([0, 0.8, 1, 1.2, 1.4, 1.6, 1.8, 2, 2.2], loc, 5)).toEqual([-1, -1, 0, -1, -1, -1, -1, 3, -1]);
    expect(matchFrames([0, 1], [], 5)).toEqual([-1, -1]);
    expect(matchFrames([], [0, 1], 5)).toEqual([]);
  });

  it('lets several extracted frames share one localization', () => {
    expect(matchFrames([0, 0.04, 0.08], [0.04], 10)).toEqual([0, 0, 0]);
  });

  it('refuses a bad rate and unsorted times', () => {
    expect(() => matchFrames([0], [0], 0)).toThrow(RangeError);
    expect(() => matchFrames([0], [0], Number.NaN)).toThrow(RangeError);
    expect(() => matchFrames([1, 0], [0], 5)).toThrow(/extractedTimes must be ascending/);
    expect(() => matchFrames([0], [0, 2, 1], 5)).toThrow(/localizationTimes must be ascending/);
    expect(() => matchFrames([Number.NaN], [0], 5)).toThrow(RangeError);
  });

  it('agrees with a brute-force search on random inputs', () => {
    const rnd = seededRandom(42);
    for (let round = 0; round < 300; round++) {
      const fps = [1, 2, 5, 10, 25, 29.97][round % 6]!;
      const duration = 1 + rnd() * 20;
      // localizations: jittered, with gaps and occasional duplicate times, sometimes on a coarse grid (ties)
      const grid = round % 3 === 0 ? 1 / (2 * fps) : 0;
      const loc: number[] = [];
      let t = rnd() * 0.5;
      while (t < duration) {
        const v = grid ? Math.round(t / grid) * grid : t;
        loc.push(v);
        if (rnd() < 0.05) loc.push(v);
        t += rnd() < 0.1 ? rnd() * 3 : rnd() * 0.1;
      }
      loc.sort((a, b) => a - b);
      const extracted = Array.from({ length: Math.floor(duration * fps) }, (_, i) => i / fps);
      expect(matchFrames(extracted, loc, fps)).toEqual(bruteForce(extracted, loc, fps));
    }
  });
});
