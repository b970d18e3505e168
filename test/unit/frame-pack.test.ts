// The frame pack is a standard ZIP: python's zipfile, a reader independent of ours, lists it, tests it and reads back
// each JPEG byte for byte; our own index of it agrees; the same frames always give the same bytes; and a pack that
// would need ZIP64 is refused.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { framePackKey, framePacksPrefix, packHolding } from '../../functions/lib/frame-images.ts';
import {
  directoryInTail, END_RECORD, entryBytes, entryRange, FramePackError, MAX_PACK_ENTRIES, packBytes, packLayout, parseDirectory, parseEndRecord,
} from '../../functions/lib/frame-pack.ts';

const dir = mkdtempSync(join(tmpdir(), 'frame-pack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Bytes that look like a JPEG (SOI ... EOI) of `size` bytes, different for each seed. */
function jpegLike(seed: number, size: number): Buffer {
  const b = Buffer.alloc(size);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  b.writeUInt16BE(0xffd8, 0);
  b.writeUInt16BE(0xffd9, size - 2);
  return b;
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const FRAMES = [1500, 1501, 1502, 1503, 1507].map((frame, i) => ({ frame, jpeg: jpegLike(frame, [9_000, 2, 150_000, 31_337, 4][i]!) }));

interface PythonEntry {
  name: string;
  compress: number;
  date: number[];
  size: number;
  stored: number;
  offset: number;
  md5: string;
}

/** What python's zipfile makes of the pack: testzip()'s verdict (null: every CRC checks) and every entry. */
function pythonReads(pack: Buffer): { bad: string | null; comment: string; entries: PythonEntry[] } {
  const file = join(dir, `${md5(pack)}.zip`);
  writeFileSync(file, pack);
  const script = [
    'import hashlib, json, sys, zipfile',
    'with zipfile.ZipFile(sys.argv[1]) as z:',
    '    entries = [dict(name=i.filename, compress=i.compress_type, date=list(i.date_time), size=i.file_size, stored=i.compress_size,',
    '                    offset=i.header_offset, md5=hashlib.md5(z.read(i)).hexdigest()) for i in z.infolist()]',
    '    print(json.dumps(dict(bad=z.testzip(), comment=z.comment.decode(), entries=entries)))',
  ].join('\n');
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' }));
}

describe('a frame pack', () => {
  const pack = packBytes(FRAMES);

  it('is a ZIP python reads: every frame STORED under its name, byte for byte, every CRC right', () => {
    const read = pythonReads(pack);
    expect(read.bad).toBeNull();
    expect(read.comment).toBe('');
    expect(read.entries.map((e) => e.name)).toEqual(['001500.jpg', '001501.jpg', '001502.jpg', '001503.jpg', '001507.jpg']);
    for (const [i, e] of read.entries.entries()) {
      const jpeg = FRAMES[i]!.jpeg;
      expect(e, e.name).toMatchObject({ compress: 0, date: [1980, 1, 1, 0, 0, 0], size: jpeg.length, stored: jpeg.length, md5: md5(jpeg) });
    }
    expect(pack.length).toBe(packLayout(FRAMES.map((f) => ({ frame: f.frame, size: f.jpeg.length, crc32: 0 }))).size);
  });

  it("is indexed by our reader as python reads it, and each frame's range gives its JPEG", () => {
    const { entries } = pythonReads(pack);
    const end = parseEndRecord(pack.subarray(pack.length - 4096), pack.length);
    expect(end.entries).toBe(FRAMES.length);
    const index = parseDirectory(directoryInTail(pack, 0, end)!, end);
    expect([...index.keys()]).toEqual(FRAMES.map((f) => f.frame));
    for (const [i, f] of FRAMES.entries()) {
      const entry = index.get(f.frame)!;
      expect(entry.header, `${f.frame}`).toBe(entries[i]!.offset);
      expect(pack.subarray(entry.offset, entry.offset + entry.length).equals(f.jpeg)).toBe(true);
      const { start, end: last } = entryRange(entry);
      expect(entryBytes(pack.subarray(start, last + 1), entry).equals(f.jpeg), `${f.frame}`).toBe(true);
    }
  });

  it('is found whole in a tail that holds its directory, and read on its own from one that does not', () => {
    const end = parseEndRecord(pack.subarray(pack.length - END_RECORD), pack.length);
    expect(directoryInTail(pack.subarray(pack.length - END_RECORD), pack.length - END_RECORD, end)).toBeUndefined();
    const tailStart = end.offset - 10;
    expect(directoryInTail(pack.subarray(tailStart), tailStart, end)!.equals(pack.subarray(end.offset, end.offset + end.size))).toBe(true);
  });

  it('is the same bytes for the same frames, every time (a retried PUT writes the same object)', () => {
    const again = packBytes(FRAMES.map((f) => ({ frame: f.frame, jpeg: Buffer.from(f.jpeg) })));
    expect(again.equals(pack)).toBe(true);
    expect(md5(again)).toBe(md5(pack));
  });

  it('refuses a pack that would need ZIP64, before writing anything', () => {
    const tiny = (n: number) => Array.from({ length: n }, (_, frame) => ({ frame, size: 1, crc32: 0 }));
    expect(packLayout(tiny(MAX_PACK_ENTRIES)).size).toBeGreaterThan(0);
    expect(() => packLayout(tiny(MAX_PACK_ENTRIES + 1))).toThrow(/at most 65535 frames \(no ZIP64\), got 65536/);
    const huge = [{ frame: 0, size: 2 ** 31, crc32: 0 }, { frame: 1, size: 2 ** 31, crc32: 0 }];
    expect(() => packLayout(huge)).toThrow(FramePackError);
    expect(() => packLayout(huge)).toThrow(/smaller than 4 GiB/);
    expect(() => packLayout([])).toThrow(FramePackError);
    expect(() => packLayout([{ frame: 2, size: 1, crc32: 0 }, { frame: 1, size: 1, crc32: 0 }])).toThrow(/increasing order/);
  });

  it('read where its bytes are not those of the directory is an error, not a picture', () => {
    const end = parseEndRecord(pack, pack.length);
    const entry = parseDirectory(pack.subarray(end.offset, end.offset + end.size), end).get(1502)!;
    const { start, end: last } = entryRange(entry);
    const bytes = Buffer.from(pack.subarray(start, last + 1));
    bytes[bytes.length - 10]! ^= 0xff;
    expect(() => entryBytes(bytes, entry)).toThrow(/CRC-32/);
    const other = parseDirectory(pack.subarray(end.offset, end.offset + end.size), end).get(1501)!;
    expect(() => entryBytes(pack.subarray(start, last + 1), { ...other, length: entry.length, offset: other.header + (entry.offset - entry.header) })).toThrow(/not that of 001501\.jpg/);
    expect(() => parseEndRecord(pack.subarray(0, 100), 100)).toThrow(FramePackError);
  });
});

describe('the packs of a run', () => {
  const prefix = framePacksPrefix('v1', 'ingest-v1-abc');
  const packs = [0, 1500, 3000].map((first) => ({ key: framePackKey('v1', 'ingest-v1-abc', first), size: 1 }));

  it('are keyed by the run and the first frame of their segment', () => {
    expect(packs[1]!.key).toBe('frames/v1/ingest-v1-abc/001500.zip');
  });

  it('hold frame n in the one beginning last at or before n', () => {
    expect(packHolding(prefix, packs, 0)?.firstFrame).toBe(0);
    expect(packHolding(prefix, packs, 1499)?.firstFrame).toBe(0);
    expect(packHolding(prefix, packs, 1500)?.firstFrame).toBe(1500);
    expect(packHolding(prefix, packs, 9999)?.key).toBe('frames/v1/ingest-v1-abc/003000.zip');
    expect(packHolding(prefix, [...packs.slice(1), { key: `${prefix}notes.txt`, size: 1 }], 10)).toBeUndefined();
  });
});
