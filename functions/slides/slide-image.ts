// What an uploaded slide image is, decided before any pixel is decoded: an image sharp's libvips reads, within the
// pixel cap, and not a whole-slide vendor format that only OpenSlide reads correctly.
import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import sharp, { type Metadata } from 'sharp';
import { TaskError } from '../lib/errors.ts';

/** The image cannot be made into a pyramid; retrying the same bytes gives the same answer. */
export class SlideImageError extends TaskError {
  constructor(
    code: 'NotAnImage' | 'TruncatedImage' | 'ImageOverPixelCap' | 'NeedsOpenSlide' | 'UnreadableImage',
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(code, message);
  }
}

export interface SlideImage {
  /** libvips' loader name: jpeg, png, tiff, webp, heif, gif, … */
  readonly format: string;
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
  /** Bands, counting alpha. */
  readonly channels: number;
  readonly hasAlpha: boolean;
  /** libvips' band format: uchar, ushort, float, … */
  readonly depth: string;
}

// The extensions of the formats OpenSlide exists for. An SVS or NDPI also parses as a TIFF, but libvips would read
// only its first directory, without the vendor's layout, so they are refused by name and by their TIFF tags below.
const OPENSLIDE_EXTENSIONS = new Set(['.svs', '.ndpi', '.mrxs', '.vms', '.vmu', '.scn', '.bif', '.svslide']);

const TAG_IMAGE_DESCRIPTION = 270;
const TAG_XMP = 700;
const TAG_NDPI_FORMAT_FLAG = 65420;

/**
 * Checks the file at `path` (named `filename` by whoever uploaded it) and answers its size and format, or throws a
 * SlideImageError: not an image, a whole-slide vendor format, or more pixels than `maxInputPixels`.
 */
export async function inspectSlideImage(path: string, filename: string, maxInputPixels: number): Promise<SlideImage> {
  const extension = extname(filename).toLowerCase();
  if (OPENSLIDE_EXTENSIONS.has(extension)) throw needsOpenSlide(filename, `${extension} files`);
  const { head, bytes } = await readHead(path, 64 * 1024);
  if (bytes === 0) throw new SlideImageError('NotAnImage', `${filename} is empty`, { filename });
  const vendor = tiffVendor(head);
  if (vendor) throw needsOpenSlide(filename, vendor);
  let metadata: Metadata;
  try {
    metadata = await sharp(path, { limitInputPixels: maxInputPixels }).metadata();
  } catch (error) {
    const message = (error as Error).message;
    if (/exceeds pixel limit/i.test(message)) throw overCap(filename, maxInputPixels);
    throw new SlideImageError('NotAnImage', `${filename} is not an image this service reads (${message})`, { filename });
  }
  const { format, width, height, channels, hasAlpha, depth } = metadata;
  if (!width || !height) throw new SlideImageError('NotAnImage', `${filename} has no pixel size`, { filename, format });
  if (width * height > maxInputPixels) throw overCap(filename, maxInputPixels, width, height);
  return { format, width, height, bytes, channels: channels ?? 0, hasAlpha: hasAlpha ?? false, depth: depth ?? '' };
}

/** A libvips failure while decoding pixels, after the header read fine, in the domain's words. */
export function decodeFailure(filename: string, error: unknown): SlideImageError {
  const message = (error as Error).message ?? String(error);
  if (/premature end|truncat|unexpected end|end of (file|stream|data)|read error|out of data|short read|not enough data/i.test(message)) {
    return new SlideImageError('TruncatedImage', `${filename} ends before its last pixel (${message})`, { filename });
  }
  if (/exceeds pixel limit/i.test(message)) return overCap(filename, Number.NaN);
  return new SlideImageError('UnreadableImage', `${filename} could not be decoded (${message})`, { filename });
}

function overCap(filename: string, maxInputPixels: number, width?: number, height?: number): SlideImageError {
  const size = width && height ? `${width} × ${height} px (${width * height} pixels)` : 'larger';
  const cap = Number.isNaN(maxInputPixels) ? 'the pixel cap' : `the cap of ${maxInputPixels} pixels`;
  return new SlideImageError('ImageOverPixelCap', `${filename} is ${size}, over ${cap}`, { filename, width, height, maxInputPixels });
}

function needsOpenSlide(filename: string, what: string): SlideImageError {
  return new SlideImageError(
    'NeedsOpenSlide',
    `${filename}: ${what} are whole-slide vendor formats (SVS, NDPI, MRXS, …) that need OpenSlide, which this service does not include; export the slide as a pyramidal TIFF, JPEG or PNG`,
    { filename },
  );
}

async function readHead(path: string, length: number): Promise<{ head: Buffer; bytes: number }> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const head = Buffer.alloc(Math.min(length, size));
    await file.read(head, 0, head.length, 0);
    return { head, bytes: size };
  } finally {
    await file.close();
  }
}

/**
 * The vendor a TIFF's first directory names (Aperio, Hamamatsu, Leica, Ventana, Philips), or undefined. Reads only
 * `head`: a directory or description beyond it is not looked at, which the extension check above covers.
 */
export function tiffVendor(head: Buffer): string | undefined {
  if (head.length < 16) return undefined;
  const order = head.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return undefined;
  const le = order === 'II';
  const u16 = (at: number) => (le ? head.readUInt16LE(at) : head.readUInt16BE(at));
  const u32 = (at: number) => (le ? head.readUInt32LE(at) : head.readUInt32BE(at));
  const u64 = (at: number) => Number(le ? head.readBigUInt64LE(at) : head.readBigUInt64BE(at));
  const magic = u16(2);
  const big = magic === 43;
  if (magic !== 42 && !big) return undefined;
  const ifd = big ? u64(8) : u32(4);
  const entrySize = big ? 20 : 12;
  const countSize = big ? 8 : 2;
  if (ifd + countSize > head.length) return undefined;
  const count = big ? u64(ifd) : u16(ifd);
  const text = (entry: number): string => {
    const n = big ? u64(entry + 4) : u32(entry + 4);
    const inline = big ? 8 : 4;
    const at = n <= inline ? entry + (big ? 12 : 8) : big ? u64(entry + 12) : u32(entry + 8);
    return at + n <= head.length ? head.toString('latin1', at, at + n) : '';
  };
  for (let i = 0; i < count; i += 1) {
    const entry = ifd + countSize + i * entrySize;
    if (entry + entrySize > head.length) break;
    const tag = u16(entry);
    if (tag === TAG_NDPI_FORMAT_FLAG) return 'Hamamatsu NDPI files';
    if (tag === TAG_IMAGE_DESCRIPTION) {
      const description = text(entry);
      if (description.startsWith('Aperio')) return 'Aperio SVS files';
      if (/leica/i.test(description) && description.includes('<scn')) return 'Leica SCN files';
      if (description.includes('DPUfsImport')) return 'Philips TIFF files';
    }
    if (tag === TAG_XMP && /iScan/.test(text(entry))) return 'Ventana BIF files';
  }
  return undefined;
}
