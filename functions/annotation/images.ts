// Images content (contentType 2): one JPEG or PNG image, or a zip of them. Image i, in name order, is sampled frame
// i and source frame i. Anything else in the content is refused by name.
import { open, readFile } from 'node:fs/promises';
import { TaskError } from '../lib/errors.ts';
import { jpegSize, type Size } from './task-video.ts';
import { openZip } from './zip.ts';

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

/** The images of a content file in name order, each read when asked for (a zip is not held in memory). */
export interface ContentImages {
  readonly names: readonly string[];
  /** Image i; one that is not a JPEG or PNG image is refused by name. */
  read(i: number): Promise<ContentImage>;
  close(): void;
}

/** Zip entries that are not content: the resource forks macOS adds. */
const skipped = (name: string) => name.startsWith('__MACOSX/') || name.split('/').pop()!.startsWith('._');

function asImage(name: string, bytes: Buffer, what: string): ContentImage {
  const format = formatOf(bytes);
  if (format !== 'jpeg' && format !== 'png') throw new NotAnImageError(`${what} is not a JPEG or PNG image`);
  return { name, format, bytes };
}

/** The images of the content file: one JPEG or PNG image, or a zip of them (in name order). */
export async function openImages(file: string, fileName: string): Promise<ContentImages> {
  const head = Buffer.alloc(8);
  const handle = await open(file, 'r');
  try {
    await handle.read(head, 0, head.length, 0);
  } finally {
    await handle.close();
  }
  const format = formatOf(head);
  if (format === 'jpeg' || format === 'png') {
    return { names: [fileName], read: async () => asImage(fileName, await readFile(file), fileName), close: () => undefined };
  }
  if (format !== 'zip') throw new NotAnImageError(`${fileName} is neither a JPEG or PNG image nor a zip of them`);
  const zip = await openZip(file);
  const names = zip.entries.map((e) => e.name).filter((name) => !skipped(name));
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (names.length === 0) {
    zip.close();
    throw new NotAnImageError(`the zip ${fileName} holds no image`);
  }
  return {
    names,
    read: async (i) => asImage(names[i]!, await zip.read(names[i]!), `zip entry ${names[i]!}`),
    close: () => zip.close(),
  };
}

/**
 * Checks every image of the content (each read once, none kept) and answers their count and the first one's size;
 * the entries that are not JPEG or PNG images are refused together, by name.
 */
export async function checkImages(file: string, fileName: string): Promise<{ count: number; first: Size }> {
  const images = await openImages(file, fileName);
  try {
    const bad: string[] = [];
    let first: Size | undefined;
    for (let i = 0; i < images.names.length; i++) {
      try {
        const image = await images.read(i);
        first ??= imageSize(image.bytes, image.name);
      } catch (err) {
        if (!(err instanceof NotAnImageError)) throw err;
        bad.push(images.names[i]!);
      }
    }
    if (bad.length) {
      throw new NotAnImageError(
        images.names.length === 1 && bad[0] === fileName
          ? `${fileName} is not a JPEG or PNG image`
          : `the zip ${fileName} holds files that are not JPEG or PNG images: ${bad.slice(0, 10).join(', ')}${bad.length > 10 ? ` and ${bad.length - 10} more` : ''}`,
      );
    }
    return { count: images.names.length, first: first! };
  } finally {
    images.close();
  }
}
