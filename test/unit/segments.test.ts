import { describe, expect, it } from 'vitest';
import { frameTime, parseFrameRate } from '../../functions/lib/frame-rate.ts';
import { DEFAULT_MAX_FRAMES_PER_SEGMENT, frameCountAt, planSegments, type SegmentPlan } from '../../functions/ingest/segments.ts';
import { segmentArgs, threadsForMemory } from '../../functions/ingest/extract.ts';

/** The plan's segments are contiguous, do not overlap, and cover [0, frameCount) exactly. */
function expectCovers(plan: SegmentPlan): void {
  let next = 0;
  plan.segments.forEach((s, i) => {
    expect(s.index).toBe(i);
    expect(s.firstFrame).toBe(next);
    expect(s.frameCount).toBeGreaterThan(0);
    expect(s.last).toBe(i === plan.segments.length - 1);
    next += s.frameCount;
  });
  expect(next).toBe(plan.frameCount);
}

describe('frame rates', () => {
  it('turns numbers into the fractions ffmpeg uses', () => {
    expect(parseFrameRate(5)).toEqual({ num: 5, den: 1 });
    expect(parseFrameRate(0.5)).toEqual({ num: 1, den: 2 });
    expect(parseFrameRate(0.3)).toEqual({ num: 3, den: 10 });
    expect(parseFrameRate(12.5)).toEqual({ num: 25, den: 2 });
    expect(parseFrameRate(29.97)).toEqual({ num: 2997, den: 100 });
    expect(parseFrameRate(30000 / 1001)).toEqual({ num: 30000, den: 1001 });
    expect(parseFrameRate(1 / 3)).toEqual({ num: 1, den: 3 });
  });

  it('reads rational strings and reduces them', () => {
    expect(parseFrameRate('30000/1001')).toEqual({ num: 30000, den: 1001 });
    expect(parseFrameRate('10/2')).toEqual({ num: 5, den: 1 });
    expect(parseFrameRate('2.5')).toEqual({ num: 5, den: 2 });
  });

  it('rejects what is not a positive rate', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 'abc', '0/1', '1/0', ''] as const) {
      expect(() => parseFrameRate(bad), String(bad)).toThrow(RangeError);
    }
  });

  it('gives frame n the output time n / R', () => {
    expect(frameTime(0, 5)).toBe(0);
    expect(frameTime(7, 5)).toBeCloseTo(1.4, 12);
    expect(frameTime(3, 0.5)).toBe(6);
    expect(frameTime(30, '30000/1001')).toBeCloseTo(1.001, 12);
  });
});

describe('frame count (what fps=R gives for the whole video)', () => {
  it('rounds R times the end of the video stream to nearest', () => {
    expect(frameCountAt(12, 5)).toBe(60);
    expect(frameCountAt(12, 0.3)).toBe(4); // 3.6
    expect(frameCountAt(10.01, 5)).toBe(50); // 300 frames at 30000/1001
    expect(frameCountAt(10.01, 7)).toBe(70); // 70.07
    expect(frameCountAt(7.32, 10)).toBe(73); // 73.2
    expect(frameCountAt(7.32, 3)).toBe(22); // 21.96
    expect(frameCountAt(7.32, '20/3')).toBe(49); // 48.8
  });

  it('rounds ties up (away from zero), as AV_ROUND_NEAR_INF', () => {
    expect(frameCountAt(7.3, 5)).toBe(37); // 36.5: a 7.30 s video whose last frame is short
    expect(frameCountAt(1, 0.5)).toBe(1); // 0.5
    expect(frameCountAt(3, 0.5)).toBe(2); // 1.5
  });

  it('gives no frame for a video shorter than half an output interval', () => {
    expect(frameCountAt(0.9, 0.5)).toBe(0);
    expect(planSegments({ durationSeconds: 0.9, fps: 0.5 })).toEqual({ fps: '1/2', frameCount: 0, segments: [] });
  });

  it('is exact where floating point is not', () => {
    // 0.65065 s at 30000/1001 is exactly 19.5 frames; in doubles, 19.499999999999996
    expect(Math.round(0.65065 * (30000 / 1001))).toBe(19);
    expect(frameCountAt(0.65065, '30000/1001')).toBe(20);
    expect(frameCountAt(2.15215, 30000 / 1001)).toBe(65);
  });

  it('counts from the file start: a video stream starting late gets padded slots, a late file start does not', () => {
    // video starts 0.53 s after the audio: fps=5 gives round(5 · 3.53) = 18 frames
    expect(planSegments({ durationSeconds: 3, startTime: 0.53, fileStartTime: 0, fps: 5 }).frameCount).toBe(18);
    // the whole file starts at 3.3 s (-output_ts_offset): ffmpeg subtracts it
    expect(planSegments({ durationSeconds: 8, startTime: 3.3, fps: 5 }).frameCount).toBe(40);
    expect(planSegments({ durationSeconds: 8, startTime: 3.3, fileStartTime: 3.3, fps: 5 }).frameCount).toBe(40);
  });

  it('rejects bad input', () => {
    expect(() => planSegments({ durationSeconds: -1, fps: 5 })).toThrow(RangeError);
    expect(() => planSegments({ durationSeconds: Number.NaN, fps: 5 })).toThrow(RangeError);
    expect(() => planSegments({ durationSeconds: 10, startTime: 0, fileStartTime: 1, fps: 5 })).toThrow(/before fileStartTime/);
    expect(() => planSegments({ durationSeconds: 10, fps: 5, segments: 0 })).toThrow(RangeError);
    expect(() => planSegments({ durationSeconds: 10, fps: 5, segments: 1.5 })).toThrow(RangeError);
    expect(() => planSegments({ durationSeconds: 10, fps: 5, maxFramesPerSegment: 0 })).toThrow(RangeError);
  });
});

describe('segments', () => {
  it('splits the frames into contiguous, non-overlapping ranges that cover them all', () => {
    const plan = planSegments({ durationSeconds: 12, fps: 5, segments: 7 });
    expect(plan.fps).toBe('5/1');
    expect(plan.frameCount).toBe(60);
    expect(plan.segments.map((s) => s.frameCount)).toEqual([9, 9, 9, 9, 8, 8, 8]);
    expectCovers(plan);
  });

  it('covers every frame for many durations, rates and segment counts', () => {
    for (const durationSeconds of [0.04, 0.5, 1, 7.3, 7.32, 10.01, 12, 59.94, 3600.04]) {
      for (const fps of [5, 2, 1, 0.5, 10, 3, '30000/1001', 0.3]) {
        for (const segments of [1, 2, 3, 7, 50]) {
          const plan = planSegments({ durationSeconds, fps, segments, startTime: 1.5 });
          expect(plan.frameCount).toBe(frameCountAt(durationSeconds, fps));
          expect(plan.segments.length).toBe(Math.min(Math.max(segments, Math.ceil(plan.frameCount / DEFAULT_MAX_FRAMES_PER_SEGMENT)), plan.frameCount));
          expectCovers(plan);
        }
      }
    }
  });

  it('never plans more segments than frames, nor empty ones', () => {
    const plan = planSegments({ durationSeconds: 1, fps: 2, segments: 7 });
    expect(plan.frameCount).toBe(2);
    expect(plan.segments).toHaveLength(2);
    expectCovers(plan);
  });

  it('bounds the frames per segment', () => {
    const plan = planSegments({ durationSeconds: 3600, fps: 5, maxFramesPerSegment: 1000 });
    expect(plan.frameCount).toBe(18_000);
    expect(plan.segments).toHaveLength(18);
    expect(Math.max(...plan.segments.map((s) => s.frameCount))).toBe(1000);
    expectCovers(plan);
    // with both, the larger count wins
    expect(planSegments({ durationSeconds: 3600, fps: 5, maxFramesPerSegment: 1000, segments: 30 }).segments).toHaveLength(30);
    expect(planSegments({ durationSeconds: 3600, fps: 5, maxFramesPerSegment: 1000, segments: 3 }).segments).toHaveLength(18);
  });

  it('seeks to a margin before each segment, and not at all near the start of the video', () => {
    const plan = planSegments({ durationSeconds: 120, fps: 5, segments: 4 });
    expect(plan.segments.map((s) => s.startSeconds)).toEqual([0, 30, 60, 90]);
    expect(plan.segments.map((s) => s.seekSeconds)).toEqual([0, 29, 59, 89]);
    const margin = planSegments({ durationSeconds: 120, fps: 5, segments: 4, seekMarginSeconds: 2.5 });
    expect(margin.segments.map((s) => s.seekSeconds)).toEqual([0, 27.5, 57.5, 87.5]);
    // a segment starting within the margin reads from the start
    expect(planSegments({ durationSeconds: 3, fps: 10, segments: 3 }).segments.map((s) => s.seekSeconds)).toEqual([0, 0, 1]);
  });

  it('does not seek into the part of the file before the video stream starts', () => {
    // video starts 2.5 s after the audio: seeking to 1.5 s would land before its first frame
    const plan = planSegments({ durationSeconds: 12, startTime: 2.5, fileStartTime: 0, fps: 1, segments: 7 });
    expect(plan.frameCount).toBe(15); // round(14.5)
    for (const s of plan.segments) {
      if (s.seekSeconds > 0) expect(s.seekSeconds).toBeGreaterThan(2.5);
      expect(s.seekSeconds).toBeLessThanOrEqual(Math.max(0, s.startSeconds - 1));
    }
    expect(plan.segments.filter((s) => s.seekSeconds === 0).length).toBeGreaterThan(1);
  });

  it('plans in JSON a Step Functions Map can carry', () => {
    const plan = planSegments({ durationSeconds: 10.01, fps: '30000/1001', segments: 3 });
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
    expect(plan.fps).toBe('30000/1001');
    expect(plan.frameCount).toBe(300);
  });
});

describe('ffmpeg threads of a segment run', () => {
  it("are the function's share of vCPUs (one per 1769 MB, at most six), at least one, and go to the decoder and the encoder", () => {
    expect([128, 1769, 2048, 3538, 4000, 10240].map(threadsForMemory)).toEqual([1, 1, 1, 2, 2, 5]);
    expect(threadsForMemory(20_000)).toBe(6);
    const segment = { firstFrame: 100, frameCount: 50, last: false, seekSeconds: 19 };
    const args = segmentArgs({ input: 'in.mp4', fps: 5, segment, threads: threadsForMemory(2048) }, 'out/%06d.jpg');
    expect(args.filter((a, i) => a === '-threads' && args[i + 1] === '1')).toHaveLength(2);
    expect(args.indexOf('-threads')).toBeLessThan(args.indexOf('-i'));
    expect(args.lastIndexOf('-threads')).toBeGreaterThan(args.indexOf('-i'));
  });
});
