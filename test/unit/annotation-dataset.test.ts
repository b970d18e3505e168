import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { planDataset, splitOf, type DatasetInput, type DatasetTask } from '../../functions/annotation/dataset.ts';
import { openZip, readZip, zipBytes, zipStream, ZipInvalid } from '../../functions/annotation/zip.ts';

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

/** The raw central directory records of a zip, as yauzl lists them. */
async function rawEntries(zip: Buffer): Promise<yauzl.Entry[]> {
  const file = await yauzl.fromBufferPromise(zip, { lazyEntries: true });
  const out: yauzl.Entry[] = [];
  for await (const entry of file.eachEntry()) out.push(entry);
  return out;
}

/** A zip made by yazl with options the dataset writer does not use (deflate, folders). */
function yazlZip(add: (z: yazl.ZipFile) => void, end: yazl.EndOptions = { forceZip64Format: false, comment: '' }): Promise<Buffer> {
  const z = new yazl.ZipFile();
  add(z);
  z.end(end);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    z.outputStream.on('data', (c: Buffer) => chunks.push(c));
    z.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    z.outputStream.on('error', reject);
  });
}

/** The zip with every occurrence of one name (local header and central directory) replaced by another as long. */
function renamed(zip: Buffer, from: string, to: string): Buffer {
  expect(Buffer.byteLength(from)).toBe(Buffer.byteLength(to));
  return Buffer.from(zip.toString('latin1').replaceAll(from, to), 'latin1');
}

const CENTRAL_HEADER = Buffer.from([0x50, 0x4b, 0x01, 0x02]);

describe('zip', () => {
  it('writes stored entries with fixed times that read back, same bytes each time', async () => {
    const make = () => zipBytes([{ name: 'a.txt', data: Buffer.from('hello') }, { name: 'dir/b.bin', data: Buffer.from([0, 1, 2]) }, { name: 'check.txt', data: Buffer.from('123456789') }]);
    const bytes = await make();
    expect((await make()).equals(bytes)).toBe(true);
    expect((await readZip(bytes)).map((e) => [e.name, e.data.toString('hex')])).toEqual([
      ['a.txt', Buffer.from('hello').toString('hex')],
      ['dir/b.bin', '000102'],
      ['check.txt', Buffer.from('123456789').toString('hex')],
    ]);
    const raw = await rawEntries(bytes);
    // stored, dated 1980-01-01 00:00 whatever the clock says, CRC-32 right (the check value of '123456789')
    expect(raw.map((e) => [e.compressionMethod, e.lastModFileDate, e.lastModFileTime])).toEqual(Array(3).fill([0, (0 << 9) | (1 << 5) | 1, 0]));
    expect(raw[2]!.crc32).toBe(0xcbf43926);
    await expect(readZip(Buffer.from('not a zip at all, really not'))).rejects.toThrow(/not a zip/);
  });

  it('opens each source only when the zip reaches it, and fails the stream when one cannot be read', async () => {
    const opened: string[] = [];
    const source = (name: string) => ({ name, open: async () => (opened.push(name), Buffer.from(name)) });
    const first = new PassThrough();
    const stream = zipStream([{ name: '1.txt', open: async () => (opened.push('1.txt'), first) }, source('2.txt')]);
    const chunks: Buffer[] = [];
    const read = (async () => {
      for await (const chunk of stream) chunks.push(chunk as Buffer);
    })();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(opened).toEqual(['1.txt']);
    first.end('one');
    await read;
    expect(opened).toEqual(['1.txt', '2.txt']);
    expect((await readZip(Buffer.concat(chunks))).map((e) => [e.name, e.data.toString()])).toEqual([['1.txt', 'one'], ['2.txt', '2.txt']]);
    const failing = zipStream([source('3.txt'), { name: 'gone.jpg', open: () => Promise.reject(new Error('dataset object gone.jpg is missing')) }]);
    await expect((async () => { for await (const _ of failing) void _; })()).rejects.toThrow('gone.jpg is missing');
  });

  it('refuses an entry whose name leaves the zip or is absolute', async () => {
    const zip = await zipBytes([{ name: 'ok.txt', data: Buffer.from('fine') }, { name: 'aa/x.txt', data: Buffer.from('escape') }]);
    expect((await readZip(zip)).map((e) => e.name)).toEqual(['ok.txt', 'aa/x.txt']);
    await expect(readZip(renamed(zip, 'aa/x.txt', '../x.txt'))).rejects.toThrow(ZipInvalid);
    await expect(readZip(renamed(zip, 'aa/x.txt', '../x.txt'))).rejects.toThrow(/\.\.\/x\.txt/);
    await expect(openZip(renamed(zip, 'aa/x.txt', '/a/x.txt'))).rejects.toThrow(ZipInvalid);
    await expect(openZip(renamed(zip, 'aa/x.txt', 'C:/x.txt'))).rejects.toThrow(/absolute path/);
    // a backslash is a folder separator (zips made on Windows), so it cannot hide a `..` either
    expect((await readZip(renamed(zip, 'aa/x.txt', 'ab\\x.txt'))).map((e) => e.name)).toEqual(['ok.txt', 'ab/x.txt']);
    await expect(readZip(renamed(zip, 'aa/x.txt', '..\\x.txt'))).rejects.toThrow(/invalid relative path: \.\.\/x\.txt/);
  });

  it('lists files only: a folder entry is not a file', async () => {
    const zip = await yazlZip((z) => {
      z.addEmptyDirectory('labels/');
      z.addBuffer(Buffer.from('0 0.5 0.5 0.1 0.1\n'), 'labels/000001.txt');
    });
    const reader = await openZip(zip);
    expect(reader.entries).toEqual([{ name: 'labels/000001.txt', size: 18 }]);
    await expect(reader.read('labels/')).rejects.toThrow(ZipInvalid);
    reader.close();
  });

  it('refuses an entry declared bigger than the cap, and one that inflates past it while declaring less', async () => {
    const limits = { maxEntryBytes: 1000 };
    const big = await zipBytes([{ name: 'big.txt', data: Buffer.alloc(1001, 0x61) }]);
    await expect(openZip(big, limits)).rejects.toThrow(/big\.txt: 1001 bytes uncompressed, more than the 1000/);
    expect((await readZip(await zipBytes([{ name: 'fits.txt', data: Buffer.alloc(1000, 0x61) }]), limits))[0]!.data.length).toBe(1000);

    // 1 MB of zeros deflates to about a kilobyte; the central directory is made to claim 500 bytes
    const bomb = await yazlZip((z) => z.addBuffer(Buffer.alloc(1024 * 1024), 'bomb.txt', { compress: true }));
    const at = bomb.indexOf(CENTRAL_HEADER);
    expect(bomb.readUInt32LE(at + 24)).toBe(1024 * 1024);
    bomb.writeUInt32LE(500, at + 24);
    const reader = await openZip(bomb, limits);
    expect(reader.entries).toEqual([{ name: 'bomb.txt', size: 500 }]);
    await expect(reader.read('bomb.txt')).rejects.toThrow(ZipInvalid);
    reader.close();
    await expect(readZip(bomb, limits)).rejects.toThrow(/bomb\.txt/);

    const many = await zipBytes(['a', 'b', 'c'].map((n) => ({ name: `${n}.txt`, data: Buffer.alloc(600) })));
    await expect(readZip(many, { maxEntryBytes: 1000, maxTotalBytes: 1500 })).rejects.toThrow(/1800 bytes uncompressed, more than the 1500/);
  });

  it('reads zip64 records (what a zip past 4 GiB or 65,535 entries is written with)', async () => {
    const zip = await yazlZip((z) => z.addBuffer(Buffer.from('0 0.5 0.5 0.1 0.1\n'), '000001.txt', { forceZip64Format: true }), { forceZip64Format: true, comment: '' });
    expect(zip.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06]))).toBe(true); // the zip64 end of central directory
    expect((await readZip(zip)).map((e) => [e.name, e.data.toString()])).toEqual([['000001.txt', '0 0.5 0.5 0.1 0.1\n']]);
  });
});
