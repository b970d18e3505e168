// ZIP files: a writer that emits one stored entry at a time (a dataset's zip is streamed to S3 as it is made) with
// fixed timestamps, so the same entries give the same bytes, and a reader of uploaded prediction zips (stored or
// deflated entries). Written here because no ZIP library is a dependency of the project (yazl/yauzl would do).
// Classic ZIP only: at most 65,535 entries and 4 GiB, checked. Pure.
import { inflateRawSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const LIMIT = 0xffffffff;
/** 1980-01-01 00:00, the earliest DOS date: entries carry no time of their own. */
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const UTF8_NAMES = 1 << 11;

export class ZipWriter {
  private offset = 0;
  private readonly central: Buffer[] = [];

  /** The bytes of one stored entry (local header and data). */
  entry(name: string, data: Uint8Array): Buffer {
    if (this.central.length === 0xffff) throw new RangeError('a zip holds at most 65535 entries');
    const nameBytes = Buffer.from(name, 'utf8');
    const crc = crc32(data);
    if (data.length >= LIMIT || this.offset + 30 + nameBytes.length + data.length >= LIMIT) throw new RangeError('a zip is at most 4 GiB');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(UTF8_NAMES, 6);
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(UTF8_NAMES, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(this.offset, 42);
    this.central.push(central, nameBytes);
    const out = Buffer.concat([local, nameBytes, data]);
    this.offset += out.length;
    return out;
  }

  /** The central directory and its end record: the last bytes of the zip. */
  end(): Buffer {
    const directory = Buffer.concat(this.central);
    const eocd = Buffer.alloc(22);
    eocd.writeUInt32LE(0x06054b50, 0);
    const count = this.central.length / 2;
    eocd.writeUInt16LE(count, 8);
    eocd.writeUInt16LE(count, 10);
    eocd.writeUInt32LE(directory.length, 12);
    eocd.writeUInt32LE(this.offset, 16);
    return Buffer.concat([directory, eocd]);
  }
}

export class ZipInvalid extends Error {
  override readonly name = 'ZipInvalid';
}

/** An uploaded entry inflates to at most this: a prediction file is text of a few kilobytes. */
const MAX_ENTRY_BYTES = 64 * 1024 * 1024;

function inflate(name: string, raw: Buffer): Buffer {
  try {
    return inflateRawSync(raw, { maxOutputLength: MAX_ENTRY_BYTES });
  } catch (err) {
    throw new ZipInvalid(`${name}: cannot be inflated (${(err as Error).message})`);
  }
}

/** The entries of a zip, in central directory order. Throws ZipInvalid for what is not a zip this reader handles. */
export function readZip(zip: Buffer): { name: string; data: Buffer }[] {
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new ZipInvalid('not a zip file (no end of central directory)');
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  const entries: { name: string; data: Buffer }[] = [];
  for (let i = 0; i < count; i++) {
    if (p + 46 > zip.length || zip.readUInt32LE(p) !== 0x02014b50) throw new ZipInvalid('a damaged central directory');
    const method = zip.readUInt16LE(p + 10);
    const size = zip.readUInt32LE(p + 20);
    const nameLength = zip.readUInt16LE(p + 28);
    const extra = zip.readUInt16LE(p + 30);
    const comment = zip.readUInt16LE(p + 32);
    const localAt = zip.readUInt32LE(p + 42);
    const name = zip.subarray(p + 46, p + 46 + nameLength).toString('utf8');
    p += 46 + nameLength + extra + comment;
    if (localAt + 30 > zip.length || zip.readUInt32LE(localAt) !== 0x04034b50) throw new ZipInvalid(`${name}: a damaged local header`);
    const start = localAt + 30 + zip.readUInt16LE(localAt + 26) + zip.readUInt16LE(localAt + 28);
    const raw = zip.subarray(start, start + size);
    if (raw.length !== size) throw new ZipInvalid(`${name}: truncated`);
    if (method === 0) entries.push({ name, data: raw });
    else if (method === 8) entries.push({ name, data: inflate(name, raw) });
    else throw new ZipInvalid(`${name}: compression method ${method} is not supported (store or deflate)`);
  }
  return entries;
}
