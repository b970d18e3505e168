import { describe, expect, it } from 'vitest';
import { ASSUMED, concurrencyBound, fitSegmentTime, modelIngest, searchPlans, vcpuAt, type Measured, type Prices } from '../../bench/ingest-model.ts';

const measured: Measured = {
  segment: { fixedSeconds: 0.5, perFrameSeconds: 0.01 },
  run: { seconds: 600, frames: 3000 },
  before: [
    { fn: 'ingest-probe', seconds: 1, memoryMb: 1024, scales: 'fixed' },
    { fn: 'ingest-localizations', seconds: 0.3, memoryMb: 1024, scales: 'duration' },
    { fn: 'ingest-plan', seconds: 0.2, memoryMb: 256, scales: 'fixed' },
  ],
  after: [
    { fn: 'ingest-metrics', seconds: 0.5, memoryMb: 2048, scales: 'frames' },
    { fn: 'jobs-outcome', seconds: 0.1, memoryMb: 256, scales: 'fixed' },
  ],
  start: { fn: 'ingest-upload', seconds: 0.2, memoryMb: 256, scales: 'fixed' },
  getsPerSegment: 3,
  transitionsFixed: 7,
  transitionsPerIteration: 1,
  sourceBytesPerSecond: 0,
  frameBytes: 0,
};
const prices: Prices = { lambdaGbSecond: 0.0000166667, lambdaRequest: 0.2e-6, transition: 0.025e-3, packPut: 0.02e-3, sourceGet: 0.0004e-3 };
// 1,769 MB: exactly one vCPU, so a segment's time on Lambda is its time on one core here.
const game = { seconds: 3 * 3600, fps: 5, framesMemoryMb: ASSUMED.lambdaMbPerVcpu };

describe('ingest model', () => {
  it('fits a segment time as fixed plus per frame from measured sizes', () => {
    const fit = fitSegmentTime([{ frames: 100, seconds: 1.5 }, { frames: 300, seconds: 3.5 }, { frames: 500, seconds: 5.5 }]);
    expect(fit.fixedSeconds).toBeCloseTo(0.5, 9);
    expect(fit.perFrameSeconds).toBeCloseTo(0.01, 9);
    expect(() => fitSegmentTime([{ frames: 100, seconds: 1 }, { frames: 100, seconds: 2 }])).toThrow(RangeError);
  });

  it('runs the Map in waves of its concurrency, a cold start before the first', () => {
    // 54,000 frames in segments of at most 1,500: 36 segments; 8 at once is 5 waves of 1,500-frame segments.
    const m = modelIngest(game, { maxFramesPerSegment: 1500, concurrency: 8 }, measured, prices);
    expect(m).toMatchObject({ segments: 36, waves: 5, framesPerSegment: 1500 });
    expect(m.segmentSeconds).toBeCloseTo(0.5 + 15, 9);
    expect(m.wall.map).toBeCloseTo(ASSUMED.coldStartSeconds + 5 * (ASSUMED.mapIterationSeconds + 15.5), 9);
    // Localizations scale with the length (18×), metrics with the frames (18×), the rest stay.
    expect(m.wall.before).toBeCloseTo(1 + 0.3 * 18 + 0.2, 9);
    expect(m.wall.after).toBeCloseTo(0.5 * 18 + 0.1, 9);
    expect(m.wallSeconds).toBeCloseTo(m.wall.notification + m.wall.before + m.wall.map + m.wall.after + m.wall.states, 9);
    // 40 at once: one wave of 40 segments of 1,350 frames (the plan's segment count follows the concurrency).
    const wide = modelIngest(game, { maxFramesPerSegment: 1500, concurrency: 40 }, measured, prices);
    expect(wide).toMatchObject({ segments: 40, waves: 1, framesPerSegment: 1350 });
    expect(wide.wallSeconds).toBeLessThan(m.wallSeconds);
  });

  it('caps an inline Map at its 40 iterations at once, whatever the concurrency asked', () => {
    // The plan wants as many segments as the concurrency asked; the Map runs 40 of them at a time.
    const m = modelIngest(game, { maxFramesPerSegment: 500, concurrency: 160 }, measured, prices);
    expect(m.segments).toBe(160);
    expect(m.waves).toBe(160 / ASSUMED.inlineMapConcurrency);
  });

  it('costs each segment its fixed time, its transition and its requests: more segments cost more', () => {
    const few = modelIngest(game, { maxFramesPerSegment: 1500, concurrency: 8 }, measured, prices);
    const many = modelIngest(game, { maxFramesPerSegment: 150, concurrency: 8 }, measured, prices);
    expect(many.segments).toBe(360);
    expect(many.cost.transitions).toBe(7 + 360);
    expect(many.cost.sourceGets).toBe(3 * 360);
    expect(many.cost.packPuts).toBe(360);
    // The frames' CPU is the same; each further segment adds its fixed 0.5 s and its requests.
    const extra = 324 * (0.5 * (1769 / 1024) * prices.lambdaGbSecond + prices.lambdaRequest + prices.transition + prices.packPut + 3 * prices.sourceGet);
    expect(many.cost.usd - few.cost.usd).toBeCloseTo(extra, 9);
  });

  it('bounds a segment by the slower of its CPU and its read of the source, then its pack upload', () => {
    const big = { ...measured, sourceBytesPerSecond: 10e6, frameBytes: 50_000 };
    const m = modelIngest(game, { maxFramesPerSegment: 1500, concurrency: 40 }, big, prices);
    // 1,350 frames: 270 s of video at 10 MB/s read at 75 MB/s = 36 s (CPU 14 s), then 67.5 MB written at 50 MB/s.
    expect(m.segmentSeconds).toBeCloseTo(2700 / ASSUMED.s3ReadMBps + 67.5 / ASSUMED.s3WriteMBps, 9);
  });

  it('gives ffmpeg the vCPU share of the memory, as far as its threads (one per whole vCPU) use it', () => {
    expect(vcpuAt(2048)).toBeCloseTo(2048 / 1769, 9);
    expect(vcpuAt(10_240)).toBeCloseTo(10_240 / 1769, 9);
    const at2048 = modelIngest({ ...game, framesMemoryMb: 2048 }, { maxFramesPerSegment: 1500, concurrency: 40 }, measured, prices);
    expect(at2048.segmentSeconds).toBeCloseTo(0.5 + 13.5, 9);
    const at4000 = modelIngest({ ...game, framesMemoryMb: 4000 }, { maxFramesPerSegment: 1500, concurrency: 40 }, measured, prices);
    expect(at4000.segmentSeconds).toBeCloseTo((0.5 + 13.5) / 2, 9);
    const at5000 = modelIngest({ ...game, framesMemoryMb: 5000 }, { maxFramesPerSegment: 1500, concurrency: 40 }, measured, prices);
    expect(at5000.segmentSeconds).toBeCloseTo((0.5 + 13.5) / 2, 9);
  });

  it('chooses the fastest plan under the ceiling, and none over it', () => {
    const grid = [150, 300, 1500, 3000];
    const free = searchPlans(game, measured, prices, { ceilingUsd: 1, maxConcurrency: 40, framesPerSegmentGrid: grid });
    expect(free.ranked[0]!.plan).toEqual({ maxFramesPerSegment: 3000, concurrency: 40 });
    expect(free.ranked[0]!.waves).toBe(1);
    const cheapest = Math.min(...free.ranked.map((p) => p.cost.usd));
    const tight = searchPlans(game, measured, prices, { ceilingUsd: cheapest * 1.0001, maxConcurrency: 40, framesPerSegmentGrid: grid });
    expect(tight.overCeiling).toBeGreaterThan(0);
    expect(tight.ranked.every((p) => p.cost.usd <= cheapest * 1.0001)).toBe(true);
    expect(tight.ranked[0]!.wallSeconds).toBeGreaterThan(free.ranked[0]!.wallSeconds);
  });

  it('bounds the concurrency by the inline Map, or by what the account leaves reservable', () => {
    expect(concurrencyBound(24).bound).toBe(40);
    expect(concurrencyBound(880).bound).toBe(20);
  });
});
