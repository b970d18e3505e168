import { describe, expect, it } from 'vitest';
import { planDataset, splitOf, type DatasetInput, type DatasetTask } from '../../functions/annotation/dataset.ts';
import { crc32, readZip, ZipWriter } from '../../functions/annotation/zip.ts';

const task = (uploadId: string, index: number, sourceFrames: number[]): DatasetTask => ({
  taskId: `${uploadId}-${String(index).padStart(5, '0')}`,
  projectId: 'p1',
  uploadId,
  width: 200,
  height: 100,
  frames: sourceFrames.map((sourceFrame, i) => ({ sampledFrame: index * 10 + i, sourceFrame, imageKey: `annotation/frames/${uploadId}/${String(index * 10 + i).padStart(6, '0')}.jpg` })),
});

const input = (over: Partial<DatasetInput> = {}): DatasetInput => ({
  request: { name: 'balls', projectIds: ['p1'], auditStatus: [1, 5], split: { train: 0.5, val: 0.5 }, seed: 's1', formats: ['yolo', 'coco'] },
  version: 2,
  labels: { p1: ['ball', 'player'] },
  tasks: [task('u1', 0, [0, 6]), task('u1', 1, [12, 18]), task('u2', 0, [5])],
  annotations: {
    'u1/0': { human: [{ label: 'player', x: 50, y: 25, w: 20, h: 10 }], humanSavedAt: '2026-01-01T00:00:00Z', auto: { version: 1, boxes: [{ label: 'ball', x: 0, y: 0, w: 5, h: 5 }] } },
    'u1/6': { human: [], humanSavedAt: null, auto: { version: 1, boxes: [{ label: 'ball', x: -10, y: 90, w: 20, h: 20, score: 0.9 }] } },
    'u1/12': { human: [], humanSavedAt: '2026-01-01T00:00:00Z', auto: { version: 1, boxes: [{ label: 'ball', x: 0, y: 0, w: 5, h: 5 }] } },
  },
  ...over,
});

describe('dataset split', () => {
  it('is seeded per task, stable, and roughly follows the fractions', () => {
    expect(splitOf('s', 't1', { train: 0.8, val: 0.2 })).toBe(splitOf('s', 't1', { train: 0.8, val: 0.2 }));
    const ids = Array.from({ length: 2000 }, (_, i) => `task-${i}`);
    const train = ids.filter((t) => splitOf('seed', t, { train: 0.8, val: 0.2 }) === 'train').length;
    expect(train).toBeGreaterThan(1500);
    expect(train).toBeLessThan(1700);
    expect(ids.every((t) => splitOf('x', t, { val: 1 }) === 'val')).toBe(true);
    const other = ids.filter((t) => splitOf('seed', t, { train: 0.5, val: 0.5 }) !== splitOf('seed2', t, { train: 0.5, val: 0.5 })).length;
    expect(other).toBeGreaterThan(0);
  });
});

describe('dataset plan', () => {
  it('keeps the frames of a task in one split, keys them deterministically, labels as YOLO text', () => {
    const plan = planDataset(input());
    expect(plan.items).toHaveLength(5);
    for (const t of input().tasks) {
      const splits = new Set(plan.items.filter((i) => i.imageKey.includes(`/${t.uploadId}_`) && t.frames.some((f) => i.imageKey.endsWith(`_${String(f.sourceFrame).padStart(6, '0')}.jpg`))).map((i) => i.split));
      expect(splits.size).toBe(1);
    }
    const byKey = Object.fromEntries(plan.items.map((i) => [i.imageKey.replace(/images\/\w+\//, 'images/'), i]));
    const first = byKey['datasets/balls/v2/images/u1_000000.jpg']!;
    expect(first.from).toBe('annotation/frames/u1/000000.jpg');
    expect(first.labelKey).toBe(`datasets/balls/v2/labels/${first.split}/u1_000000.txt`);
    // human boxes win once a person saved the frame
    expect(first.labelText).toBe('1 0.300000 0.300000 0.100000 0.100000\n');
    // auto boxes when no person saved it, clipped to the frame
    expect(byKey['datasets/balls/v2/images/u1_000006.jpg']!.labelText).toBe('0 0.025000 0.950000 0.050000 0.100000\n');
    // a person saved it empty: no boxes, whatever the model said
    expect(byKey['datasets/balls/v2/images/u1_000012.jpg']!.labelText).toBe('');
    expect(byKey['datasets/balls/v2/images/u2_000005.jpg']!.labelText).toBe('');
  });

  it('writes data.yaml, COCO per split and a manifest, and the same input gives the same bytes', () => {
    const plan = planDataset(input());
    expect(planDataset(input())).toEqual(plan);
    const keys = plan.files.map((f) => f.key);
    expect(keys).toEqual(['datasets/balls/v2/data.yaml', 'datasets/balls/v2/annotations/train.json', 'datasets/balls/v2/annotations/val.json', 'datasets/balls/v2/manifest.json']);
    expect(plan.files[0]!.body).toBe('path: .\ntrain: images/train\nval: images/val\nnames:\n  0: "ball"\n  1: "player"\n');
    const cocoAll = plan.files.slice(1, 3).map((f) => JSON.parse(f.body));
    expect(cocoAll.flatMap((c) => c.annotations).map((a: { bbox: number[]; category_id: number }) => [a.category_id, a.bbox]).sort()).toEqual([[1, [0, 90, 10, 10]], [2, [50, 25, 20, 10]]]);
    expect(cocoAll[0].categories).toEqual([{ id: 1, name: 'ball' }, { id: 2, name: 'player' }]);
    const manifest = JSON.parse(plan.files[3]!.body);
    expect(manifest.images.map((i: { sourceFrame: number }) => i.sourceFrame).sort((a: number, b: number) => a - b)).toEqual([0, 5, 6, 12, 18]);
    expect(manifest.counts.train.images + manifest.counts.val.images).toBe(5);
    const yoloOnly = planDataset(input({ request: { ...input().request, formats: ['yolo'] } }));
    expect(yoloOnly.files.map((f) => f.key)).toEqual(['datasets/balls/v2/data.yaml', 'datasets/balls/v2/manifest.json']);
  });
});

describe('zip', () => {
  it('writes stored entries with fixed times that read back, same bytes each time', () => {
    const make = () => {
      const z = new ZipWriter();
      return Buffer.concat([z.entry('a.txt', Buffer.from('hello')), z.entry('dir/b.bin', Buffer.from([0, 1, 2])), z.end()]);
    };
    const bytes = make();
    expect(make().equals(bytes)).toBe(true);
    expect(readZip(bytes).map((e) => [e.name, e.data.toString('hex')])).toEqual([['a.txt', Buffer.from('hello').toString('hex')], ['dir/b.bin', '000102']]);
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(() => readZip(Buffer.from('not a zip at all, really not'))).toThrow(/not a zip/);
  });
});
