// Images content (contentType 2): one JPEG or PNG image, or a zip of them. Image i, in name order, is sampled frame
// i and source frame i. Anything else in the content is refused by name.
import { readFile } from 'node:fs/promises';
import yauzl from 'yauzl';
import { TaskError } from '../lib/errors.ts';
import { jpegSize, type Size } from './task-video.ts';

export type ImageFormat = 'jpeg' | 'png';

/** The content is not images this context takes; retrying will not help. */
export class NotAnImageError extends TaskError {
  constructor(message: string) {
    super('NotAnImage', message);
  }
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const ZIP_SIGNATURE = [0x50, 0x4b, 0x03, 0x04];
const startsWith = (bytes: Uint8Array, sig: readonly number[]) => sig.every((b, i) => bytes[i] === b);

/** What the bytes are, by their signature. Pure. */
export function formatOf(bytes: Uint8Array): ImageFormat | 'zip' | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (startsWith(bytes, PNG_SIGNATURE)) return 'png';
  if (startsWith(bytes, ZIP_SIGNATURE)) return 'zip';
  return undefined;
}

/** An image's size from its header (PNG: IHDR; JPEG: its frame header). Pure. */
export function imageSize(bytes: Uint8Array, name: string): Size {
  if (formatOf(bytes) === 'png') {
    if (bytes.length < 24) throw new NotAnImageError(`${name} is a truncated PNG image`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return { width: view.getUint32(16), height: view.getUint32(20) };
  }
  try {
    return jpegSize(bytes, name);
  } catch (err) {
    throw new NotAnImageError(`${name} is not a JPEG image it claims to be: ${(err as Error).message}`);
  }
}

export interface ContentImage {
  readonly name: string;
  readonly format: ImageFormat;
  readonly bytes: Buffer;
}

/** Zip entries that are not content: folders, and the resource forks macOS adds. */
const skipped = (name: string) => name.endsWith('/') || name.startsWith('__MACOSX/') || name.split('/').pop()!.startsWith('._');

function readZipEntries(file: string): Promise<{ name: string; bytes: Buffer }[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(new NotAnImageError(`the zip cannot be read: ${err?.message ?? 'no entries'}`));
      const out: { name: string; bytes: Buffer }[] = [];
      zip.on('error', (e: Error) => reject(new NotAnImageError(`the zip cannot be read: ${e.message}`)));
      zip.on('end', () => resolve(out));
      zip.on('entry', (entry: yauzl.Entry) => {
        if (skipped(entry.fileName)) return zip.readEntry();
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(new NotAnImageError(`zip entry ${entry.fileName} cannot be read: ${e?.message ?? 'no data'}`));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', (se: Error) => reject(new NotAnImageError(`zip entry ${entry.fileName} cannot be read: ${se.message}`)));
          stream.on('end', () => {
            out.push({ name: entry.fileName, bytes: Buffer.concat(chunks) });
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

/** The images of the content file, in name order; a zip entry or a file that is not a JPEG or PNG image is refused by name. */
export async function contentImages(file: string, fileName: string): Promise<ContentImage[]> {
  const bytes = await readFile(file);
  const format = formatOf(bytes);
  if (format === 'jpeg' || format === 'png') return [{ name: fileName, format, bytes }];
  if (format !== 'zip') throw new NotAnImageError(`${fileName} is neither a JPEG or PNG image nor a zip of them`);
  const entries = (await readZipEntries(file)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (entries.length === 0) throw new NotAnImageError(`the zip ${fileName} holds no image`);
  const notImages = entries.filter((e) => {
    const f = formatOf(e.bytes);
    return f !== 'jpeg' && f !== 'png';
  });
  if (notImages.length) {
    throw new NotAnImageError(`the zip ${fileName} holds files that are not JPEG or PNG images: ${notImages.slice(0, 10).map((e) => e.name).join(', ')}`);
  }
  return entries.map((e) => ({ name: e.name, format: formatOf(e.bytes) as ImageFormat, bytes: e.bytes }));
}
