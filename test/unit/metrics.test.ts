import { describe, expect, it } from 'vitest';
import {
  EventWeights,
  clipBox,
  computeFrameSeries,
  frameMetrics,
  unionArea,
  type Box,
  type EventWindow,
  type FrameMetricsInput,
  type MetricDetection,
  type Rect,
} from '../../functions/analytics/metrics.ts';
import { seededRandom } from '../support/random.ts';


const group = new Set(['nike', 'coca cola']);
const nike = (box: Box, score = 0.9): MetricDetection => ({ label: 'Nike', score, box });
const input = (detections: MetricDetection[], extra: Partial<FrameMetricsInput> = {}): FrameMetricsInput => ({
  time: 0,
  width: 100,
  height: 100,
  detections,
  detGroupLabels: group,
  threshold: 0.5,
  events: [],
  ...extra,
});

describe('union area', () => {
  it('counts an overlap once', () => {
    // 40×40 at (10,10) and 40×40 at (30,30): 1600 + 1600 − 20×20 = 2800
    expect(unionArea([[10, 10, 50, 50], [30, 30, 70, 70]])).toBe(2800);
    expect(frameMetrics(input([nike([10, 10, 40, 40]), nike([30, 30, 40, 40])])).area).toBe(0.28);
  });

  it('handles nested, identical, touching, disjoint and crossing boxes', () => {
    expect(unionArea([])).toBe(0);
    expect(unionArea([[0, 0, 10, 10], [2, 2, 5, 5]])).toBe(100);
    expect(unionArea([[0, 0, 10, 10], [0, 0, 10, 10]])).toBe(100);
    expect(unionArea([[0, 0, 10, 10], [10, 0, 20, 10]])).toBe(200);
    expect(unionArea([[0, 0, 10, 10], [0, 10, 10, 20]])).toBe(200);
    expect(unionArea([[0, 0, 1, 1], [5, 5, 6, 6]])).toBe(2);
    // a plus sign: 30×10 + 10×30 − 10×10
    expect(unionArea([[0, 10, 30, 20], [10, 0, 20, 30]])).toBe(500);
    // three 10×10 boxes, inclusion–exclusion: 300 − (25 + 50 + 50) + 25 = 200
    expect(unionArea([[0, 0, 10, 10], [5, 5, 15, 15], [5, 0, 15, 10]])).toBe(200);
    // the same with a 15×10 box: [0,15]×[0,10] ∪ [0,15]×[5,15] = 150 + 150 − 75
    expect(unionArea([[0, 0, 10, 10], [5, 0, 15, 10], [0, 5, 15, 15]])).toBe(225);
  });

  it('equals a pixel count on random integer boxes, and stays within its bounds', () => {
    const rnd = seededRandom(7);
    const int = (n: number) => Math.floor(rnd() * n);
    for (let round = 0; round < 400; round++) {
      const W = 20 + int(30);
      const H = 20 + int(30);
      const rects: Rect[] = [];
      for (let i = int(9); i > 0; i--) {
        const x1 = int(W);
        const y1 = int(H);
        rects.push([x1, y1, x1 + 1 + int(W - x1), y1 + 1 + int(H - y1)]);
      }
      let pixels = 0;
      for (let x = 0; x < W; x++) {
        for (let y = 0; y < H; y++) if (rects.some(([a, b, c, d]) => x >= a && x < c && y >= b && y < d)) pixels++;
      }
      const area = unionArea(rects);
      expect(area).toBe(pixels);
      const sizes = rects.map(([a, b, c, d]) => (c - a) * (d - b));
      expect(area).toBeLessThanOrEqual(sizes.reduce((s, v) => s + v, 0));
      expect(area).toBeGreaterThanOrEqual(Math.max(0, ...sizes));
    }
  });

  it('keeps area in [max single box, min(1, sum)] for random real-valued boxes, partly outside the frame', () => {
    const rnd = seededRandom(11);
    for (let round = 0; round < 500; round++) {
      const W = 640 + Math.floor(rnd() * 1280);
      const H = 360 + Math.floor(rnd() * 720);
      const dets = Array.from({ length: Math.floor(rnd() * 12) }, () =>
        nike([rnd() * W * 1.4 - 0.2 * W, rnd() * H * 1.4 - 0.2 * H, rnd() * W * 0.6, rnd() * H * 0.6], 0.5 + rnd() * 0.5),
      );
      const m = frameMetrics(input(dets, { width: W, height: H }));
      const clipped = dets.map((d) => clipBox(d.box, W, H)).filter((r) => r !== undefined);
      const sizes = clipped.map(([a, b, c, d]) => ((c - a) * (d - b)) / (W * H));
      expect(m.count).toBe(clipped.length);
      expect(m.area).toBeLessThanOrEqual(Math.min(1, sizes.reduce((s, v) => s + v, 0)) + 1e-12);
      expect(m.area).toBeGreaterThanOrEqual(Math.max(0, ...sizes) - 1e-12);
      expect(m.area).toBeLessThanOrEqual(1);
      expect(m.centrality).toBeGreaterThanOrEqual(0);
      expect(m.centrality).toBeLessThanOrEqual(1);
      expect(m.effectiveness).toBeLessThanOrEqual(m.area * m.score + 1e-12);
    }
  });
});

describe('frameMetrics', () => {
  it('a centred box: centrality 1', () => {
    // 20×20 centred on a 100×100 frame, score 0.8: area 0.04, effectiveness 0.04 · 0.8 · 1 · 1
    expect(frameMetrics(input([nike([40, 40, 20, 20], 0.8)]))).toEqual({
      count: 1,
      area: 0.04,
      score: 0.8,
      centrality: 1,
      eventWeight: 1,
      effectiveness: 0.04 * 0.8,
    });
  });

  it('a corner box: centrality 1 − 45√2 / 50√2 = 0.1', () => {
    const m = frameMetrics(input([nike([0, 0, 10, 10], 1)]));
    expect(m.area).toBe(0.01);
    expect(m.centrality).toBeCloseTo(0.1, 12);
    expect(m.effectiveness).toBeCloseTo(0.01 * 1 * 0.55, 14);
  });

  it('clips a box half outside the frame, and measures its centre after clipping', () => {
    // [-20, 0, 40, 50] → [0, 0, 20, 50]: area 1000 / 10000; centre (10, 25), 40 and 25 from the centre
    const m = frameMetrics(input([nike([-20, 0, 40, 50], 1)]));
    expect(m.count).toBe(1);
    expect(m.area).toBe(0.1);
    expect(m.centrality).toBeCloseTo(1 - Math.sqrt(40 * 40 + 25 * 25) / Math.sqrt(50 * 50 + 50 * 50), 14);
    // a box covering more than the whole frame is the whole frame
    expect(frameMetrics(input([nike([-10, -10, 500, 500], 1)]))).toMatchObject({ count: 1, area: 1, centrality: 1, effectiveness: 1 });
  });

  it('drops boxes that are empty after clipping: not counted, no score, no centrality', () => {
    const outside = nike([200, 200, 10, 10], 1);
    const leftOf = nike([-30, 40, 30, 20], 1); // ends exactly at x = 0
    const flat = nike([50, 50, 0, 10], 1);
    expect(frameMetrics(input([outside, leftOf, flat]))).toEqual({ count: 0, area: 0, score: 0, centrality: 0, eventWeight: 1, effectiveness: 0 });
    expect(frameMetrics(input([outside, nike([40, 40, 20, 20], 0.6)]))).toMatchObject({ count: 1, score: 0.6, centrality: 1 });
  });

  it('keeps detections with score >= threshold of the det_group labels (case-insensitive)', () => {
    const dets: MetricDetection[] = [
      nike([0, 0, 10, 10], 0.5), // at the threshold: in
      nike([10, 0, 10, 10], 0.49), // below: out
      { label: ' COCA COLA ', score: 0.7, box: [20, 0, 10, 10] }, // in
      { label: 'puma', score: 0.99, box: [30, 0, 10, 10] }, // not in the group
    ];
    const m = frameMetrics(input(dets));
    expect(m).toMatchObject({ count: 2, area: 0.02, score: 0.7 });
    expect(frameMetrics(input(dets, { threshold: 0 })).count).toBe(3);
    expect(frameMetrics(input(dets, { threshold: 0.8 })).count).toBe(0);
    expect(frameMetrics(input(dets, { detGroupLabels: new Set() })).count).toBe(0);
  });

  it('score and centrality are maxima over B, possibly of different boxes', () => {
    const m = frameMetrics(input([nike([0, 0, 10, 10], 0.95), nike([45, 45, 10, 10], 0.6)]));
    expect(m).toMatchObject({ count: 2, area: 0.02, score: 0.95, centrality: 1 });
    expect(m.effectiveness).toBeCloseTo(0.02 * 0.95 * 1, 15);
  });

  it('multiplies by the event weight', () => {
    const events: EventWindow[] = [{ time: 10, weight: 2, windowSeconds: 3 }];
    const m = frameMetrics(input([nike([40, 40, 20, 20], 0.8)], { time: 13, events }));
    expect(m.eventWeight).toBe(2);
    expect(m.effectiveness).toBe(0.04 * 0.8 * 2);
    expect(frameMetrics(input([], { time: 12, events }))).toEqual({ count: 0, area: 0, score: 0, centrality: 0, eventWeight: 2, effectiveness: 0 });
  });

  it('refuses a bad frame size or threshold', () => {
    expect(() => frameMetrics(input([], { width: 0 }))).toThrow(RangeError);
    expect(() => frameMetrics(input([], { threshold: 1.5 }))).toThrow(RangeError);
    expect(() => frameMetrics(input([], { threshold: Number.NaN }))).toThrow(RangeError);
  });
});

describe('EventWeights', () => {
  const weights = new EventWeights([
    { time: 10, weight: 2, windowSeconds: 5 },
    { time: 12, weight: 3, windowSeconds: 1 },
    { time: 40, weight: 1.5, windowSeconds: 2 },
    { time: 41, weight: 1.2, windowSeconds: 10 },
  ]);

  it('is the max weight of the windows that contain t, edges included, 1 elsewhere', () => {
    const cases: [number, number][] = [
      [0, 1], [4.999, 1], [5, 2], [10.99, 2], [11, 3], [12, 3], [13, 3], [13.0001, 2], [15, 2], [15.0001, 1],
      [30.9, 1], [31, 1.2], [37.9, 1.2], [38, 1.5], [42, 1.5], [42.01, 1.2], [51, 1.2], [51.01, 1], [1e9, 1], [-1e9, 1],
    ];
    for (const [t, w] of cases) expect(weights.at(t), `at(${t})`).toBe(w);
  });

  it('includes window edges despite floating-point error', () => {
    // 0.4 − 0.3 = 0.10000000000000003 > 0.1
    const w = new EventWeights([{ time: 0.3, weight: 4, windowSeconds: 0.1 }]);
    expect(w.at(0.4)).toBe(4);
    expect(w.at(0.2)).toBe(4);
    expect(w.at(0.40001)).toBe(1);
    expect(new EventWeights([{ time: 5, weight: 2, windowSeconds: 0 }]).at(5)).toBe(2);
  });

  it('is 1 everywhere without events', () => {
    expect(new EventWeights([]).at(3)).toBe(1);
  });

  it('refuses weights below 1 and negative windows', () => {
    expect(() => new EventWeights([{ time: 1, weight: 0.5, windowSeconds: 1 }])).toThrow(/weight must be >= 1/);
    expect(() => new EventWeights([{ time: 1, weight: 2, windowSeconds: -1 }])).toThrow(/windowSeconds/);
    expect(() => new EventWeights([{ time: Number.NaN, weight: 2, windowSeconds: 1 }])).toThrow(/time/);
  });

  it('agrees with the definition on random events and times', () => {
    const rnd = seededRandom(3);
    for (let round = 0; round < 100; round++) {
      const events: EventWindow[] = Array.from({ length: Math.floor(rnd() * 30) }, () => ({
        time: Math.round(rnd() * 600 * 10) / 10,
        weight: 1 + Math.floor(rnd() * 8) / 2,
        windowSeconds: [1, 2.5, 5, 10, 30][Math.floor(rnd() * 5)]!,
      }));
      const w = new EventWeights(events);
      for (let i = 0; i < 200; i++) {
        // random times, and times on a 0.1 s grid that hit window edges exactly
        const t = i % 2 ? rnd() * 650 - 25 : Math.round(rnd() * 6500 - 250) / 10;
        const expected = Math.max(1, ...events.filter((e) => Math.abs(t - e.time) <= e.windowSeconds + 1e-9).map((e) => e.weight));
        expect(w.at(t), `at(${t})`).toBe(expected);
      }
    }
  });
});

describe('computeFrameSeries', () => {
  const localizations = {
    width: 100,
    height: 100,
    frames: [
      { detections: [nike([40, 40, 20, 20], 0.8), { label: 'puma', score: 1, box: [0, 0, 100, 100] as Box }] },
      { detections: [nike([0, 0, 10, 10], 1), nike([5, 0, 10, 10], 0.3)] },
    ],
  };

  it('gives every extracted frame its metrics; unmatched frames have no detections', () => {
    const series = computeFrameSeries({
      localizations,
      extracted: [{ frame: 1, time: 0 }, { frame: 2, time: 0.2 }, { frame: 3, time: 0.4 }],
      matches: [0, -1, 1],
      detGroupLabels: new Set(['nike']),
      threshold: 0.5,
      events: [{ time: 0.4, weight: 2, windowSeconds: 0.2 }],
    });
    expect(series).toHaveLength(3);
    expect(series[0]).toEqual({ frame: 1, time: 0, count: 1, area: 0.04, score: 0.8, centrality: 1, eventWeight: 1, effectiveness: 0.04 * 0.8 });
    expect(series[1]).toEqual({ frame: 2, time: 0.2, count: 0, area: 0, score: 0, centrality: 0, eventWeight: 2, effectiveness: 0 });
    expect(series[2]).toMatchObject({ frame: 3, time: 0.4, count: 1, area: 0.01, score: 1, eventWeight: 2 });
    expect(series[2]!.effectiveness).toBeCloseTo(0.01 * 1 * 0.55 * 2, 14);
  });

  it('agrees with frameMetrics frame by frame, with a prebuilt EventWeights', () => {
    const rnd = seededRandom(5);
    const labels = ['nike', 'Adidas', 'puma', 'Coca Cola'];
    const frames = Array.from({ length: 200 }, () => ({
      detections: Array.from({ length: Math.floor(rnd() * 6) }, () => ({
        label: labels[Math.floor(rnd() * labels.length)]!,
        score: rnd(),
        box: [rnd() * 1400 - 60, rnd() * 800 - 40, rnd() * 300, rnd() * 200] as Box,
      })),
    }));
    const loc = { width: 1280, height: 720, frames };
    const events: EventWindow[] = [{ time: 3, weight: 2, windowSeconds: 2 }, { time: 6, weight: 1.5, windowSeconds: 1 }];
    const extracted = Array.from({ length: 50 }, (_, i) => ({ frame: i, time: i / 5 }));
    const matches = extracted.map((_, i) => (i % 7 === 3 ? -1 : i * 4));
    const detGroupLabels = new Set(['nike', 'coca cola']);
    const series = computeFrameSeries({ localizations: loc, extracted, matches, detGroupLabels, threshold: 0.4, events: new EventWeights(events) });
    series.forEach((s, i) => {
      const m = matches[i]!;
      expect(s).toEqual({
        frame: i,
        time: i / 5,
        ...frameMetrics({ time: i / 5, width: 1280, height: 720, detections: m < 0 ? [] : frames[m]!.detections, detGroupLabels, threshold: 0.4, events }),
      });
    });
  });

  it('refuses matches that do not fit', () => {
    const base = { localizations, detGroupLabels: group, threshold: 0.5, events: [] };
    expect(() => computeFrameSeries({ ...base, extracted: [{ frame: 0, time: 0 }], matches: [] })).toThrow(RangeError);
    expect(() => computeFrameSeries({ ...base, extracted: [{ frame: 0, time: 0 }], matches: [2] })).toThrow(/not a localization frame/);
    expect(computeFrameSeries({ ...base, extracted: [], matches: [] })).toEqual([]);
  });
});
