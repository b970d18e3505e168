import { describe, expect, it } from 'vitest';
import { PredictionIssues, predictionsFromLocalizations, predictionsFromYolo, UnknownLabels } from '../../functions/annotation/predictions.ts';

const LABELS = ['ball', 'player'];
const size = { width: 200, height: 100 };

function thrown(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('predictions from localizations', () => {
  const doc = (detections: unknown[]) => ({ video: { width: 200, height: 100 }, frames: [{ frame: 7, time: 0.28, detections }, { frame: 3, time: 0.12, detections: [] }] });

  it('reads source frames in order, labels or classes of the project, boxes in pixels with scores', () => {
    const set = predictionsFromLocalizations(doc([{ label: 'ball', score: 0.5, box: [1, 2, 3, 4] }, { class: 1, score: 1, box: [0, 0, 10, 10] }]), LABELS);
    expect(set.frames).toEqual([
      { sourceFrame: 3, boxes: [] },
      { sourceFrame: 7, boxes: [{ label: 'ball', x: 1, y: 2, w: 3, h: 4, score: 0.5 }, { label: 'player', x: 0, y: 0, w: 10, h: 10, score: 1 }] },
    ]);
  });

  it('lists validation issues by path and refuses labels the project lacks, naming them', () => {
    const bad = thrown(() => predictionsFromLocalizations(doc([{ label: 'ball', score: 2, box: [0, 0, 1, 1] }, { class: 5, score: 1, box: [0, 0, 1, 1] }]), LABELS));
    expect(bad).toBeInstanceOf(PredictionIssues);
    expect((bad as PredictionIssues).issues.map((i) => i.path)).toEqual(['frames.0.detections.0.score']);
    const cls = thrown(() => predictionsFromLocalizations(doc([{ class: 5, score: 1, box: [0, 0, 1, 1] }]), LABELS));
    expect((cls as PredictionIssues).issues).toEqual([{ path: 'frames.0.detections.0.class', message: 'class 5 is not in the label mapping' }]);
    const unknown = thrown(() => predictionsFromLocalizations(doc([{ label: 'referee', score: 1, box: [0, 0, 1, 1] }, { label: 'goal', score: 1, box: [0, 0, 1, 1] }]), LABELS));
    expect(unknown).toBeInstanceOf(UnknownLabels);
    expect((unknown as UnknownLabels).labels).toEqual(['goal', 'referee']);
  });
});

describe('predictions from YOLO txt files', () => {
  it('one file per source frame, normalized centre boxes into pixels, optional score, blank lines ignored', () => {
    const set = predictionsFromYolo(
      [
        { name: 'preds/000012.txt', text: '1 0.5 0.5 0.2 0.4 0.75\n\n0 0.1 0.2 0.1 0.2\n' },
        { name: 'preds/', text: '' },
        { name: '3.txt', text: '' },
      ],
      LABELS,
      size,
    );
    expect(set.frames.map((f) => f.sourceFrame)).toEqual([3, 12]);
    const [a, b] = set.frames[1]!.boxes;
    expect(a).toEqual({ label: 'player', x: 80, y: 30, w: 40, h: 40, score: 0.75 });
    expect(b!.label).toBe('ball');
    expect(b!.x).toBeCloseTo(10);
    expect(b!.y).toBeCloseTo(10);
    expect(b).not.toHaveProperty('score');
  });

  it('lists every bad name and line, and refuses classes beyond the project labels', () => {
    const e = thrown(() =>
      predictionsFromYolo(
        [
          { name: 'frame-a.txt', text: '' },
          { name: '1.txt', text: '0 0.5 0.5 0.2\n0 0.5 1.5 0.2 0.2\n0 0.5 0.5 0.2 0.2 7\nx 0.5 0.5 0.2 0.2' },
          { name: 'b/01.txt', text: '' },
        ],
        LABELS,
        size,
      ),
    );
    expect(e).toBeInstanceOf(PredictionIssues);
    expect((e as PredictionIssues).issues.map((i) => i.path)).toEqual(['frame-a.txt', '1.txt:1', '1.txt:2', '1.txt:3', '1.txt:4', 'b/01.txt']);
    const u = thrown(() => predictionsFromYolo([{ name: '1.txt', text: '4 0.5 0.5 0.2 0.2' }], LABELS, size));
    expect(u).toBeInstanceOf(UnknownLabels);
    expect(u.message).toContain('class 4');
    expect(thrown(() => predictionsFromYolo([], LABELS, size))).toBeInstanceOf(PredictionIssues);
  });
});
