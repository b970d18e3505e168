import { describe, expect, it } from 'vitest';
import { BUCKET_EPSILON, RESOLUTIONS, bucketIndex, rollup, type Bucket, type RollupFrame } from '../../functions/analytics/rollup.ts';
import { seededRandom } from '../support/random.ts';


const f = (time: number, count = 0, area = 0, effectiveness = 0): RollupFrame => ({ time, count, area, effectiveness });

describe('rollup', () => {
  it('lists the resolutions', () => {
    expect(RESOLUTIONS).toEqual([1, 10, 60, 'video']);
  });

  it('reports every field of a bucket', () => {
    // 5 fps, one second: 3 of 5 frames visible
    const frames = [f(0, 2, 0.1, 0.05), f(0.2), f(0.4, 1, 0.3, 0.2), f(0.6), f(0.8, 3, 0.05, 0.01)];
    expect(rollup(frames, 5, 1)).toEqual([
      {
        start: 0,
        frames: 5,
        visibleFrames: 3,
        exposureSeconds: 0.6,
        detections: 6,
        meanArea: (0.1 + 0.3 + 0.05) / 5,
        maxArea: 0.3,
        meanEffectiveness: (0.05 + 0.2 + 0.01) / 5,
        sumEffectiveness: 0.05 + 0.2 + 0.01,
      },
    ]);
  });

  it('puts a frame at a border in the later bucket, also with floating-point noise', () => {
    const frames = [f(9.99, 1), f(9.999999999, 1), f(10, 1), f(0.1 * 3 + 9.7, 1), f(19.999), f(20)];
    const buckets = rollup(frames, 5, 10);
    expect(buckets.map((b) => [b.start, b.frames, b.visibleFrames])).toEqual([[0, 1, 1], [10, 4, 3], [20, 1, 0]]);
    expect(bucketIndex(59.9999999, 60)).toBe(1);
    expect(bucketIndex(60 - 2 * BUCKET_EPSILON, 60)).toBe(0);
    expect(bucketIndex(2.9999999999999996, 1)).toBe(3);
    expect(bucketIndex(0, 1)).toBe(0);
  });

  it('splits 25 s at 5 fps into buckets of 1, 10 and 60 s and one video bucket', () => {
    // every 4th frame is visible with one detection of area 0.1 and effectiveness 0.05
    const frames = Array.from({ length: 125 }, (_, i) => (i % 4 === 0 ? f(i / 5, 1, 0.1, 0.05) : f(i / 5)));
    const ones = rollup(frames, 5, 1);
    expect(ones).toHaveLength(25);
    expect(ones.map((b) => b.start)).toEqual(Array.from({ length: 25 }, (_, k) => k));
    expect(ones.every((b) => b.frames === 5)).toBe(true);
    const tens = rollup(frames, 5, 10);
    expect(tens.map((b) => [b.start, b.frames, b.visibleFrames, b.exposureSeconds, b.detections, b.maxArea])).toEqual([
      [0, 50, 13, 2.6, 13, 0.1], // frames 0, 4, …, 48
      [10, 50, 12, 2.4, 12, 0.1], // 52, …, 96
      [20, 25, 7, 1.4, 7, 0.1], // 100, …, 124
    ]);
    const minute = rollup(frames, 5, 60);
    const video = rollup(frames, 5, 'video');
    expect(minute).toHaveLength(1);
    expect(video).toEqual(minute);
    expect(video[0]).toMatchObject({ start: 0, frames: 125, visibleFrames: 32, exposureSeconds: 6.4, detections: 32, maxArea: 0.1 });
    expect(video[0]!.meanArea).toBeCloseTo(3.2 / 125, 15);
    expect(video[0]!.sumEffectiveness).toBeCloseTo(1.6, 14);
  });

  it('lists only buckets that hold frames, sorted by start, whatever the input order', () => {
    const buckets = rollup([f(130, 1, 0.5, 0.5), f(1), f(125)], 1, 60);
    expect(buckets.map((b) => [b.start, b.frames])).toEqual([[0, 1], [120, 2]]);
    expect(buckets[1]).toMatchObject({ visibleFrames: 1, exposureSeconds: 1, meanArea: 0.25, maxArea: 0.5, meanEffectiveness: 0.25 });
  });

  it('gives no buckets for no frames, at every resolution', () => {
    for (const r of RESOLUTIONS) expect(rollup([], 5, r)).toEqual([]);
  });

  it('refuses a bad frame rate, resolution or time', () => {
    expect(() => rollup([f(0)], 0, 1)).toThrow(RangeError);
    expect(() => rollup([f(0)], 5, 5 as never)).toThrow(/resolution/);
    expect(() => rollup([f(Number.NaN)], 5, 1)).toThrow(RangeError);
  });

  it('keeps the totals of random series at every resolution, and the video bucket is the merge of the 1 s buckets', () => {
    const rnd = seededRandom(99);
    for (let round = 0; round < 100; round++) {
      const fps = [1, 2, 5, 10, 25][round % 5]!;
      const frames = Array.from({ length: Math.floor(rnd() * 1500) + 1 }, (_, i) => {
        const count = rnd() < 0.4 ? 0 : 1 + Math.floor(rnd() * 5);
        const area = count ? rnd() * 0.3 : 0;
        return f(i / fps, count, area, count ? area * rnd() * 2 : 0);
      });
      const sum = (xs: number[]) => xs.reduce((s, v) => s + v, 0);
      const visible = frames.filter((x) => x.count > 0).length;
      for (const r of RESOLUTIONS) {
        const buckets = rollup(frames, fps, r);
        expect(sum(buckets.map((b) => b.frames))).toBe(frames.length);
        expect(sum(buckets.map((b) => b.visibleFrames))).toBe(visible);
        expect(sum(buckets.map((b) => b.detections))).toBe(sum(frames.map((x) => x.count)));
        expect(sum(buckets.map((b) => b.exposureSeconds))).toBeCloseTo(visible / fps, 9);
        expect(sum(buckets.map((b) => b.sumEffectiveness))).toBeCloseTo(sum(frames.map((x) => x.effectiveness)), 9);
        expect(sum(buckets.map((b) => b.meanArea * b.frames))).toBeCloseTo(sum(frames.map((x) => x.area)), 9);
        expect(Math.max(...buckets.map((b) => b.maxArea))).toBe(Math.max(...frames.map((x) => x.area)));
        for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.start).toBeGreaterThan(buckets[i - 1]!.start);
        if (r !== 'video') for (const b of buckets) expect(b.start % r).toBe(0);
      }
      const [video] = rollup(frames, fps, 'video') as [Bucket];
      const ones = rollup(frames, fps, 1);
      const n = sum(ones.map((b) => b.frames));
      const merged = {
        start: 0,
        frames: n,
        visibleFrames: sum(ones.map((b) => b.visibleFrames)),
        exposureSeconds: sum(ones.map((b) => b.visibleFrames)) / fps,
        detections: sum(ones.map((b) => b.detections)),
        meanArea: sum(ones.map((b) => b.meanArea * b.frames)) / n,
        maxArea: Math.max(...ones.map((b) => b.maxArea)),
        meanEffectiveness: sum(ones.map((b) => b.sumEffectiveness)) / n,
        sumEffectiveness: sum(ones.map((b) => b.sumEffectiveness)),
      };
      for (const key of Object.keys(merged) as (keyof Bucket)[]) expect(video[key], key).toBeCloseTo(merged[key], 9);
      expect(video.frames).toBe(merged.frames);
      expect(video.visibleFrames).toBe(merged.visibleFrames);
      expect(video.detections).toBe(merged.detections);
      expect(video.maxArea).toBe(merged.maxArea);
    }
  });
});
