// A frame pack: the frames of one segment in one object, so that storing a segment costs one PUT and reading a frame
// one ranged GET. A standard ZIP any unzip lists: entries `{frame:06d}.jpg`, each STORED (JPEGs do not compress),
// no extra fields, no comments, one fixed DOS time, so the same frames always give the same bytes (a retried PUT
// writes the same object, ETag included). No ZIP64: at most 65,535 entries, and every offset below 4 GiB.
// Layout: [local header, name, JPEG] per frame in frame order, then the central directory, then the end record.
// The ingest writes packs (the layout, streamed from its files) and the analytics API reads single frames from them
// (the index parsed from the directory): both here, below both contexts. Pure apart from zlib's CRC-32.
import { crc32 } from 'node:zlib';
import { frameFileName } from './frame-images.ts';

/** A frame as the pack holds it: its number, its JPEG's size and CRC-32 (zlib's). */
export interface PackedFrame {
  readonly frame: number;
  readonly size: number;
  readonly crc32: number;
}

/** Where a frame's JPEG lies in its pack: its local header at `header`, its bytes at [offset, offset + length). */
export interface PackEntry {
  readonly frame: number;
  readonly header: number;
  readonly offset: number;
  readonly length: number;
  readonly crc32: number;
}

/** The bytes of a pack but the JPEGs': a header before each frame, and the trailer (directory and end record). */
export interface PackLayout {
  readonly headers: readonly Buffer[];
  readonly trailer: Buffer;
  /** The pack's size in bytes: its ContentLength. */
  readonly size: number;
}

/** The pack would need ZIP64 (too many frames, or too large), or the bytes read are not a pack as written here. */
export class FramePackError extends Error {
  override readonly name = 'FramePackError';
}

export const MAX_PACK_ENTRIES = 0xffff;
/** Every offset and size fits 32 bits: the pack is smaller than 4 GiB. */
export const MAX_PACK_BYTES = 0xffffffff;

const LOCAL_SIGNATURE = 0x04034b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const END_SIGNATURE = 0x06054b50;
const LOCAL_HEADER = 30;
const CENTRAL_HEADER = 46;
export const END_RECORD = 22;
/** 1980-01-01 00:00:00, the first DOS date: no clock in the bytes. */
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
/** 1.0: stored entries need nothing newer; made by 2.0 on MS-DOS (attributes none). */
const VERSION_NEEDED = 10;
const VERSION_MADE_BY = 20;
const FRAME_ENTRY = /^(\d{6,})\.jpg$/;

function localHeader(f: PackedFrame, name: Buffer): Buffer {
  const h = Buffer.alloc(LOCAL_HEADER);
  h.writeUInt32LE(LOCAL_SIGNATURE, 0);
  h.writeUInt16LE(VERSION_NEEDED, 4);
  h.writeUInt16LE(0, 6); // flags
  h.writeUInt16LE(0, 8); // stored
  h.writeUInt16LE(DOS_TIME, 10);
  h.writeUInt16LE(DOS_DATE, 12);
  h.writeUInt32LE(f.crc32 >>> 0, 14);
  h.writeUInt32LE(f.size, 18);
  h.writeUInt32LE(f.size, 22);
  h.writeUInt16LE(name.length, 26);
  h.writeUInt16LE(0, 28); // extra
  return Buffer.concat([h, name]);
}

function centralHeader(f: PackedFrame, name: Buffer, headerOffset: number): Buffer {
  const h = Buffer.alloc(CENTRAL_HEADER);
  h.writeUInt32LE(CENTRAL_SIGNATURE, 0);
  h.writeUInt16LE(VERSION_MADE_BY, 4);
  h.writeUInt16LE(VERSION_NEEDED, 6);
  h.writeUInt16LE(0, 8); // flags
  h.writeUInt16LE(0, 10); // stored
  h.writeUInt16LE(DOS_TIME, 12);
  h.writeUInt16LE(DOS_DATE, 14);
  h.writeUInt32LE(f.crc32 >>> 0, 16);
  h.writeUInt32LE(f.size, 20);
  h.writeUInt32LE(f.size, 24);
  h.writeUInt16LE(name.length, 28);
  // extra, comment, disk, internal and external attributes: 0
  h.writeUInt32LE(headerOffset, 42);
  return Buffer.concat([h, name]);
}

function endRecord(entries: number, directorySize: number, directoryOffset: number): Buffer {
  const e = Buffer.alloc(END_RECORD);
  e.writeUInt32LE(END_SIGNATURE, 0);
  // this disk and the directory's: 0
  e.writeUInt16LE(entries, 8);
  e.writeUInt16LE(entries, 10);
  e.writeUInt32LE(directorySize, 12);
  e.writeUInt32LE(directoryOffset, 16);
  return e; // no comment
}

/** The pack of these frames (in increasing frame order), but for the JPEGs themselves, which follow each header. */
export function packLayout(frames: readonly PackedFrame[]): PackLayout {
  if (frames.length === 0) throw new FramePackError('a frame pack holds at least one frame');
  if (frames.length > MAX_PACK_ENTRIES) {
    throw new FramePackError(`a frame pack holds at most ${MAX_PACK_ENTRIES} frames (no ZIP64), got ${frames.length}: plan smaller segments`);
  }
  const headers: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  frames.forEach((f, i) => {
    if (!Number.isInteger(f.frame) || f.frame < 0) throw new FramePackError(`frame numbers are integers >= 0, got ${f.frame}`);
    if (i > 0 && f.frame <= frames[i - 1]!.frame) throw new FramePackError(`frames are packed in increasing order: ${f.frame} after ${frames[i - 1]!.frame}`);
    if (!Number.isInteger(f.size) || f.size < 0) throw new FramePackError(`frame ${f.frame}: a size is an integer >= 0, got ${f.size}`);
    const name = Buffer.from(frameFileName(f.frame), 'ascii');
    const header = localHeader(f, name);
    if (offset + header.length + f.size > MAX_PACK_BYTES) {
      throw new FramePackError(`a frame pack is smaller than 4 GiB (no ZIP64): the frames up to ${f.frame} exceed it; plan smaller segments`);
    }
    headers.push(header);
    central.push(centralHeader(f, name, offset));
    offset += header.length + f.size;
  });
  const directory = Buffer.concat(central);
  const size = offset + directory.length + END_RECORD;
  if (size > MAX_PACK_BYTES) throw new FramePackError(`a frame pack is smaller than 4 GiB (no ZIP64), this one would be ${size} bytes; plan smaller segments`);
  return { headers, trailer: Buffer.concat([directory, endRecord(frames.length, directory.length, offset)]), size };
}

/** A whole pack in memory, from each frame's JPEG (in increasing frame order). */
export function packBytes(frames: readonly { frame: number; jpeg: Buffer }[]): Buffer {
  const layout = packLayout(frames.map((f) => ({ frame: f.frame, size: f.jpeg.length, crc32: crc32(f.jpeg) })));
  return Buffer.concat([...frames.flatMap((f, i) => [layout.headers[i]!, f.jpeg]), layout.trailer]);
}

/** Where a pack's central directory lies, from its end record. */
export interface PackDirectory {
  readonly entries: number;
  readonly offset: number;
  readonly size: number;
}

/**
 * The directory's place, from the last bytes of a pack of `packSize` bytes (`tail`, at least the end record).
 * The end record is the last 22 bytes: packs carry no comment.
 */
export function parseEndRecord(tail: Buffer, packSize: number): PackDirectory {
  if (tail.length < END_RECORD || packSize < tail.length) throw new FramePackError(`the end of a frame pack is at least ${END_RECORD} bytes`);
  const at = tail.length - END_RECORD;
  if (tail.readUInt32LE(at) !== END_SIGNATURE) throw new FramePackError('a frame pack ends with a ZIP end record (without comment)');
  const entries = tail.readUInt16LE(at + 10);
  const size = tail.readUInt32LE(at + 12);
  const offset = tail.readUInt32LE(at + 16);
  if (tail.readUInt16LE(at + 4) !== 0 || tail.readUInt16LE(at + 6) !== 0 || tail.readUInt16LE(at + 8) !== entries) {
    throw new FramePackError('a frame pack is one ZIP volume');
  }
  if (offset + size !== packSize - END_RECORD) throw new FramePackError('the central directory of a frame pack ends where its end record begins');
  return { entries, offset, size };
}

/** The central directory, if the tail read (from `tailStart`) holds all of it; otherwise it is read on its own. */
export const directoryInTail = (tail: Buffer, tailStart: number, end: PackDirectory): Buffer | undefined =>
  end.offset >= tailStart ? tail.subarray(end.offset - tailStart, end.offset - tailStart + end.size) : undefined;

/** Each frame's place in the pack, from its central directory (`directory`: exactly its bytes). */
export function parseDirectory(directory: Buffer, end: PackDirectory): Map<number, PackEntry> {
  if (directory.length !== end.size) throw new FramePackError(`the central directory is ${end.size} bytes, got ${directory.length}`);
  const index = new Map<number, PackEntry>();
  let at = 0;
  for (let i = 0; i < end.entries; i++) {
    if (at + CENTRAL_HEADER > directory.length || directory.readUInt32LE(at) !== CENTRAL_SIGNATURE) {
      throw new FramePackError(`entry ${i} of the central directory is not a ZIP directory header`);
    }
    const method = directory.readUInt16LE(at + 10);
    const checksum = directory.readUInt32LE(at + 16);
    const stored = directory.readUInt32LE(at + 20);
    const length = directory.readUInt32LE(at + 24);
    const nameLength = directory.readUInt16LE(at + 28);
    const next = at + CENTRAL_HEADER + nameLength + directory.readUInt16LE(at + 30) + directory.readUInt16LE(at + 32);
    const name = directory.toString('ascii', at + CENTRAL_HEADER, at + CENTRAL_HEADER + nameLength);
    const header = directory.readUInt32LE(at + 42);
    const m = FRAME_ENTRY.exec(name);
    if (!m || method !== 0 || stored !== length || next > directory.length) throw new FramePackError(`entry ${JSON.stringify(name)} is not a stored frame`);
    const frame = Number(m[1]);
    // Headers as written here carry no extra field: the JPEG follows the name.
    index.set(frame, { frame, header, offset: header + LOCAL_HEADER + nameLength, length, crc32: checksum });
    at = next;
  }
  if (at !== directory.length) throw new FramePackError('the central directory holds more than its end record counts');
  return index;
}

/** How many bytes from `entry.header` to read to get its local header and its JPEG in one range. */
export const entryRange = (entry: PackEntry): { start: number; end: number } => ({ start: entry.header, end: entry.offset + entry.length - 1 });

/** The JPEG of `entry`, from the bytes of its range (entryRange), its local header checked against the directory. */
export function entryBytes(bytes: Buffer, entry: PackEntry): Buffer {
  const name = frameFileName(entry.frame);
  const headerLength = entry.offset - entry.header;
  if (bytes.length !== headerLength + entry.length) throw new FramePackError(`frame ${entry.frame}: expected ${headerLength + entry.length} bytes, got ${bytes.length}`);
  if (bytes.readUInt32LE(0) !== LOCAL_SIGNATURE) throw new FramePackError(`frame ${entry.frame}: no ZIP local header where the directory says`);
  const nameLength = bytes.readUInt16LE(26);
  if (LOCAL_HEADER + nameLength + bytes.readUInt16LE(28) !== headerLength || bytes.toString('ascii', LOCAL_HEADER, LOCAL_HEADER + nameLength) !== name) {
    throw new FramePackError(`frame ${entry.frame}: the local header is not that of ${name}`);
  }
  const jpeg = bytes.subarray(headerLength);
  if (crc32(jpeg) !== entry.crc32) throw new FramePackError(`frame ${entry.frame}: its bytes do not match the CRC-32 of the directory`);
  return jpeg;
}
