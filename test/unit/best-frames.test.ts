import { describe, expect, it } from 'vitest';
import { BOX_COLOURS, boxesSvg, frameDetections, legendOf, rankFrames, renderedFrameKey, strokeWidth } from '../../functions/analytics/best-frames.ts';
import type { Localizations } from '../../functions/analytics/localizations.ts';
import type { FrameMetric } from '../../functions/analytics/metrics.ts';

const metric = (frame: number, effectiveness: number): FrameMetric => ({
  frame, time: frame / 5, count: effectiveness > 0 ? 1 : 0, area: 0, score: 0, centrality: 0, eventWeight: 1, effectiveness,
});

describe('rankFrames', () => {
  it('orders by effectiveness, highest first, the earlier frame first among equals, and leaves out frames showing nothing', () => {
    const frames = [metric(0, 0), metric(1, 0.2), metric(2, 0.5), metric(3, 0.2), metric(4, 0), metric(5, 0.5), metric(6, 0.1)];
    expect(rankFrames(frames, 10).map((f) => f.frame)).toEqual([2, 5, 1, 3, 6]);
    expect(rankFrames(frames, 3).map((f) => f.frame)).toEqual([2, 5, 1]);
    expect(rankFrames([metric(0, 0)], 5)).toEqual([]);
  });
});

describe('legendOf', () => {
  it('gives the detectables colours in the order of their names, the same whatever order they come in', () => {
    expect(legendOf(['nike', 'Adidas'])).toEqual([{ label: 'Adidas', color: BOX_COLOURS[0] }, { label: 'nike', color: BOX_COLOURS[1] }]);
    expect(legendOf(['Adidas', 'nike'])).toEqual(legendOf(['nike', 'Adidas']));
  });
});

describe('frameDetections', () => {
  const localizations: Localizations = {
    width: 320,
    height: 240,
    frames: [
      { frame: 0, time: 0, detections: [{ label: 'Nike', score: 0.9, box: [10, 10, 20, 20] }] },
      {
        frame: 5, time: 0.2, detections: [
          { label: ' NIKE ', score: 0.9, box: [10, 10, 20, 20] },
          { label: 'Nike', score: 0.3, box: [50, 50, 20, 20] }, // below the threshold
          { label: 'Puma', score: 0.9, box: [90, 90, 20, 20] }, // not in the det_group
          { label: 'Adidas', score: 0.8, box: [400, 10, 20, 20] }, // wholly outside the frame
          { label: 'Adidas', score: 0.8, box: [310, 230, 20, 20] }, // partly inside: counted
        ],
      },
    ],
  };
  const legend = legendOf(['Nike', 'Adidas']);

  it('are the detections of the matched localization frame that the metrics count, in their colours', () => {
    expect(frameDetections(localizations, 0.2, 5, legend, 0.5)).toEqual([
      { label: ' NIKE ', score: 0.9, box: [10, 10, 20, 20], color: BOX_COLOURS[1] },
      { label: 'Adidas', score: 0.8, box: [310, 230, 20, 20], color: BOX_COLOURS[0] },
    ]);
  });

  it('are none for a frame without a localization frame within half a frame interval', () => {
    expect(frameDetections(localizations, 0.6, 5, legend, 0.5)).toEqual([]);
  });
});

describe('boxesSvg', () => {
  const nike = { label: 'Nike', score: 0.9, box: [10, 20, 30, 40] as const, color: '#00e5ff' };

  it('draws each box at its pixels, clipped to the frame, scaled when the image is not the localizations size', () => {
    const same = boxesSvg({ width: 320, height: 240 }, { width: 320, height: 240 }, [nike, { ...nike, box: [300, 200, 50, 50] }]);
    expect(same).toContain('width="320" height="240"');
    expect(same).toContain('<rect x="10" y="20" width="30" height="40" fill="none" stroke="#00e5ff" stroke-width="2"/>');
    expect(same).toContain('<rect x="300" y="200" width="20" height="40" fill="none" stroke="#00e5ff"');
    const doubled = boxesSvg({ width: 640, height: 480 }, { width: 320, height: 240 }, [nike]);
    expect(doubled).toContain(`<rect x="20" y="40" width="60" height="80" fill="none" stroke="#00e5ff" stroke-width="${strokeWidth(640, 480)}"/>`);
  });

  it('strokes with an even width that grows with the frame', () => {
    expect([strokeWidth(160, 120), strokeWidth(1280, 720), strokeWidth(1920, 1080)]).toEqual([2, 4, 6]);
  });
});

describe('renderedFrameKey', () => {
  const k = { videoId: 'v', run: 'ingest-1', detGroupId: 'dg', computedAt: new Date(1000), frame: 7 };

  it('changes with the results a drawing shows: the run, the det_group and when it was computed', () => {
    expect(renderedFrameKey(k)).toMatch(/^cache\/best-frames\/v\d+\/v\/ingest-1\/dg\/1000\/000007\.jpg$/);
    const others = [{ ...k, run: 'ingest-2' }, { ...k, run: null }, { ...k, detGroupId: 'dg2' }, { ...k, computedAt: new Date(1001) }, { ...k, frame: 8 }];
    expect(new Set([k, ...others].map(renderedFrameKey)).size).toBe(others.length + 1);
  });
});
