// A minimal little-endian TIFF (8-bit grey, one uncompressed strip) with extra tags, for tests that need a TIFF whose
// directory says something sharp cannot be asked to write (an Aperio description, a Hamamatsu tag).

const SHORT = 3;
const LONG = 4;
const ASCII = 2;

export interface ExtraTag {
  readonly tag: number;
  readonly text?: string;
  readonly long?: number;
}

export function tinyTiff(size: number, extra: ExtraTag[] = []): Buffer {
  const pixels = Buffer.alloc(size * size, 0x80);
  const texts: { tag: number; bytes: Buffer }[] = extra.filter((t) => t.text !== undefined).map((t) => ({ tag: t.tag, bytes: Buffer.from(`${t.text}\0`, 'latin1') }));
  const entries: { tag: number; type: number; count: number; value: number }[] = [
    { tag: 256, type: SHORT, count: 1, value: size },
    { tag: 257, type: SHORT, count: 1, value: size },
    { tag: 258, type: SHORT, count: 1, value: 8 },
    { tag: 259, type: SHORT, count: 1, value: 1 },
    { tag: 262, type: SHORT, count: 1, value: 1 },
    { tag: 273, type: LONG, count: 1, value: 0 },
    { tag: 277, type: SHORT, count: 1, value: 1 },
    { tag: 278, type: SHORT, count: 1, value: size },
    { tag: 279, type: LONG, count: 1, value: pixels.length },
    ...extra.filter((t) => t.long !== undefined).map((t) => ({ tag: t.tag, type: LONG, count: 1, value: t.long! })),
    ...texts.map((t) => ({ tag: t.tag, type: ASCII, count: t.bytes.length, value: 0 })),
  ].sort((a, b) => a.tag - b.tag);
  const ifdBytes = 2 + entries.length * 12 + 4;
  let offset = 8 + ifdBytes;
  for (const text of texts) {
    entries.find((e) => e.tag === text.tag)!.value = offset;
    offset += text.bytes.length;
  }
  entries.find((e) => e.tag === 273)!.value = offset;
  const out = Buffer.alloc(offset + pixels.length);
  out.write('II', 0, 'latin1');
  out.writeUInt16LE(42, 2);
  out.writeUInt32LE(8, 4);
  out.writeUInt16LE(entries.length, 8);
  entries.forEach((e, i) => {
    const at = 10 + i * 12;
    out.writeUInt16LE(e.tag, at);
    out.writeUInt16LE(e.type, at + 2);
    out.writeUInt32LE(e.count, at + 4);
    if (e.type === SHORT) out.writeUInt16LE(e.value, at + 8);
    else out.writeUInt32LE(e.value, at + 8);
  });
  let at = 8 + ifdBytes;
  for (const text of texts) {
    text.bytes.copy(out, at);
    at += text.bytes.length;
  }
  pixels.copy(out, at);
  return out;
}
