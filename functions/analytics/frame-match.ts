// Extracted frames ↔ localization frames by time. Pure.

/** Slack for floating-point error when comparing a time difference with half a frame interval (seconds). */
export const TIME_EPSILON = 1e-9;

/**
 * For each extracted frame, the index (into `localizationTimes`) of the localization frame whose time is
 * nearest, or -1 when none lies within half a frame interval of the extraction rate: |Δ| <= 1/(2·fps)
 * (+ TIME_EPSILON). A frame halfway between two localizations takes the earlier one (among equal times, the
 * lowest index). Halfway is up to TIME_EPSILON, as the half-interval edge is: times are decimals, and in doubles
 * 0.2 − 0.15 is 0.05000000000000002 but 0.25 − 0.2 is 0.04999999999999999, so an exact comparison would give
 * some halfway frames to the later localization and some to the earlier. Both inputs must be ascending; O(n + m)
 * with two pointers.
 */
export function matchFrames(extractedTimes: readonly number[], localizationTimes: readonly number[], fps: number): number[] {
  if (!(Number.isFinite(fps) && fps > 0)) throw new RangeError(`fps must be a positive number, got ${fps}`);
  assertAscending(extractedTimes, 'extractedTimes');
  assertAscending(localizationTimes, 'localizationTimes');
  const tolerance = 1 / (2 * fps) + TIME_EPSILON;
  const loc = localizationTimes;
  const m = loc.length;
  const out = new Array<number>(extractedTimes.length);
  let p = 0; // first localization index with time >= t (t ascending, so p never moves back)
  let firstOfRun = 0; // the lowest index whose time equals loc[p - 1]
  for (let i = 0; i < extractedTimes.length; i++) {
    const t = extractedTimes[i]!;
    while (p < m && loc[p]! < t) {
      if (p === 0 || loc[p]! !== loc[p - 1]!) firstOfRun = p;
      p++;
    }
    // candidates: the last time before t (its first index) and the first time at or after t
    let best = -1;
    let bestDelta = Number.POSITIVE_INFINITY;
    if (p > 0) {
      best = firstOfRun;
      bestDelta = t - loc[p - 1]!;
    }
    // The later one wins only when it is nearer by more than the slack: halfway goes to the earlier one.
    if (p < m && loc[p]! - t < bestDelta - TIME_EPSILON) {
      best = p;
      bestDelta = loc[p]! - t;
    }
    out[i] = best >= 0 && bestDelta <= tolerance ? best : -1;
  }
  return out;
}

function assertAscending(times: readonly number[], name: string): void {
  for (let i = 0; i < times.length; i++) {
    const t = times[i]!;
    if (!Number.isFinite(t)) throw new RangeError(`${name}[${i}] is not a finite number`);
    if (i > 0 && t < times[i - 1]!) throw new RangeError(`${name} must be ascending (index ${i})`);
  }
}
