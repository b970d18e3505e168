import { describe, expect, it } from 'vitest';
import { LocalizationIssues, MAX_LISTED_ISSUES } from '../../shared/issues.ts';
import { localizationLabels, parseLocalizations } from '../../functions/analytics/localizations.ts';

type Details = { path: string; message: string }[];

function issuesOf(json: unknown, labelMap?: ReadonlyMap<number, string>): Details {
  try {
    parseLocalizations(json, labelMap);
  } catch (e) {
    expect(e).toBeInstanceOf(LocalizationIssues);
    return [...(e as LocalizationIssues).issues];
  }
  throw new Error('expected a validation error');
}

const file = (frames: unknown[], video: unknown = { width: 1280, height: 720 }) => ({ video, frames });
const det = (extra: Record<string, unknown>) => ({ score: 0.9, box: [10, 20, 30, 40], ...extra });

describe('parseLocalizations', () => {
  it('normalizes: frames sorted by time, labels trimmed, classes resolved, unknown keys dropped', () => {
    const json = file([
      { frame: 2, time: 0.08, detections: [det({ class: 3 }), det({ label: ' Nike ', score: 0.5, trackId: 7 })] },
      { frame: 0, time: 0, detections: [] },
      { frame: 1, time: 0.04, detections: [det({ label: 'adidas', box: [-5, -5, 0, 1000] })] },
    ]);
    const before = JSON.stringify(json);
    const l = parseLocalizations(json, new Map([[3, 'Puma']]));
    expect(JSON.stringify(json)).toBe(before); // input untouched
    expect(l).toEqual({
      width: 1280,
      height: 720,
      frames: [
        { frame: 0, time: 0, detections: [] },
        { frame: 1, time: 0.04, detections: [{ label: 'adidas', score: 0.9, box: [-5, -5, 0, 1000] }] },
        {
          frame: 2,
          time: 0.08,
          detections: [
            { label: 'Puma', score: 0.9, box: [10, 20, 30, 40] },
            { label: 'Nike', score: 0.5, box: [10, 20, 30, 40] },
          ],
        },
      ],
    });
    expect(localizationLabels(l)).toEqual(new Set(['adidas', 'Puma', 'Nike']));
  });

  it('keeps the file order of frames with equal times', () => {
    const l = parseLocalizations(file([
      { frame: 5, time: 1, detections: [] },
      { frame: 3, time: 1, detections: [] },
      { frame: 9, time: 0.5, detections: [] },
    ]));
    expect(l.frames.map((f) => f.frame)).toEqual([9, 5, 3]);
  });

  it('accepts the edges of every range', () => {
    const l = parseLocalizations(file([{ frame: 0, time: 0, detections: [det({ label: 'a', score: 0, box: [-1e6, 1e6, 0, 0] }), det({ class: 0, score: 1 })] }], { width: 1, height: 1 }), new Map([[0, 'zero']]));
    expect(l.frames[0]!.detections.map((d) => d.label)).toEqual(['a', 'zero']);
    expect(parseLocalizations(file([]))).toEqual({ width: 1280, height: 720, frames: [] });
  });

  it('names the path of a class that has no label map or is not in it', () => {
    const frames = Array.from({ length: 13 }, (_, i) => ({ frame: i, time: i / 25, detections: [det({ label: 'x' })] }));
    frames[12]!.detections = [det({ label: 'a' }), det({ class: 1 }), det({ label: 'b' }), det({ class: 4 })];
    expect(issuesOf(file(frames))).toEqual([
      { path: 'frames.12.detections.1.class', message: 'class 1 needs a label mapping, and none was given' },
      { path: 'frames.12.detections.3.class', message: 'class 4 needs a label mapping, and none was given' },
    ]);
    expect(issuesOf(file(frames), new Map([[1, 'one']]))).toEqual([
      { path: 'frames.12.detections.3.class', message: 'class 4 is not in the label mapping' },
    ]);
  });

  it('rejects a frame number given twice', () => {
    expect(issuesOf(file([
      { frame: 4, time: 0, detections: [] },
      { frame: 5, time: 1, detections: [] },
      { frame: 4, time: 2, detections: [] },
    ]))).toEqual([{ path: 'frames.2.frame', message: 'frame 4 appears twice (also at frames.0)' }]);
  });

  it('wants exactly one of label and class', () => {
    const issues = issuesOf(file([{ frame: 0, time: 0, detections: [
      { score: 1, box: [0, 0, 1, 1] },
      det({ label: 'a', class: 1 }),
      det({ label: '   ' }),
      det({ class: -1 }),
      det({ class: 1.5 }),
      det({ label: 7 }),
    ] }]), new Map([[1, 'one']]));
    const paths = issues.map((i) => i.path);
    expect(paths).toContain('frames.0.detections.0.label');
    expect(issues.find((i) => i.path === 'frames.0.detections.0.label')!.message).toBe('a detection needs a label or a class');
    expect(issues.find((i) => i.path === 'frames.0.detections.1.class')!.message).toBe('give a label or a class, not both');
    expect(paths).toEqual(expect.arrayContaining([
      'frames.0.detections.2.label',
      'frames.0.detections.3.class',
      'frames.0.detections.4.class',
      'frames.0.detections.5.label',
    ]));
  });

  it('checks the video, frame, score and box fields', () => {
    const cases: [unknown, string][] = [
      [file([], { width: 0, height: 720 }), 'video.width'],
      [file([], { width: 1280.5, height: 720 }), 'video.width'],
      [file([], { width: 1280 }), 'video.height'],
      [{ frames: [] }, 'video'],
      [{ video: { width: 1, height: 1 } }, 'frames'],
      [file([{ frame: -1, time: 0, detections: [] }]), 'frames.0.frame'],
      [file([{ frame: 0.5, time: 0, detections: [] }]), 'frames.0.frame'],
      [file([{ frame: 0, time: -0.01, detections: [] }]), 'frames.0.time'],
      [file([{ frame: 0, time: '1', detections: [] }]), 'frames.0.time'],
      [file([{ frame: 0, time: 0 }]), 'frames.0.detections'],
      [file([{ frame: 0, time: 0, detections: [det({ label: 'a', score: 1.01 })] }]), 'frames.0.detections.0.score'],
      [file([{ frame: 0, time: 0, detections: [det({ label: 'a', score: -0.1 })] }]), 'frames.0.detections.0.score'],
      [file([{ frame: 0, time: 0, detections: [det({ label: 'a', box: [0, 0, 1] })] }]), 'frames.0.detections.0.box'],
      [file([{ frame: 0, time: 0, detections: [det({ label: 'a', box: [0, 0, 1, 1, 1] })] }]), 'frames.0.detections.0.box'],
      [file([{ frame: 0, time: 0, detections: [det({ label: 'a', box: [0, 0, -1, 1] })] }]), 'frames.0.detections.0.box.2'],
      [file([{ frame: 0, time: 0, detections: [det({ label: 'a', box: [0, 0, 1, -1] })] }]), 'frames.0.detections.0.box.3'],
      [file([{ frame: 0, time: 0, detections: [det({ label: 'a', box: [0, null, 1, 1] })] }]), 'frames.0.detections.0.box.1'],
      [file([{ frame: 0, time: 0, detections: [det({ label: 'a', box: [Number.NaN, 0, 1, 1] })] }]), 'frames.0.detections.0.box.0'],
      [file([{ frame: 0, time: Number.POSITIVE_INFINITY, detections: [] }]), 'frames.0.time'],
    ];
    for (const [json, path] of cases) expect(issuesOf(json).map((i) => i.path), path).toContain(path);
    expect(issuesOf(null)).toEqual([{ path: '', message: expect.any(String) }]);
    expect(issuesOf([])).toHaveLength(1);
  });

  it(`lists at most ${MAX_LISTED_ISSUES} issues and says how many more there are`, () => {
    const frames = Array.from({ length: 120 }, (_, i) => ({ frame: i, time: i, detections: [det({ label: 'a', score: 2 })] }));
    const issues = issuesOf(file(frames));
    expect(issues).toHaveLength(MAX_LISTED_ISSUES + 1);
    expect(issues[0]!.path).toBe('frames.0.detections.0.score');
    expect(issues[MAX_LISTED_ISSUES - 1]!.path).toBe('frames.49.detections.0.score');
    expect(issues[MAX_LISTED_ISSUES]).toEqual({ path: '', message: '70 more issues not listed' });

    const classes = Array.from({ length: 51 }, (_, i) => ({ frame: i, time: i, detections: [det({ class: 9 })] }));
    expect(issuesOf(file(classes)).at(-1)).toEqual({ path: '', message: '1 more issue not listed' });
    expect(issuesOf(file(classes.slice(0, 50)))).toHaveLength(50);
  });
});
