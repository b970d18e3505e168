// The tile pyramid of a slide image, built by sharp's libvips in one streaming pass per layout into a local folder,
// then listed as (key, file) pairs to publish. Deep Zoom is laid out as `vips dzsave` writes it (image.dzi,
// image_files/{level}/{col}_{row}.jpg); IIIF Image API 3.0 level 0 as static files under iiif/.
import { readdirSync, renameSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, relative, sep } from 'node:path';
import sharp, { type JpegOptions } from 'sharp';
import { decodeFailure, inspectSlideImage, SlideImageError, type SlideImage } from './slide-image.ts';

export interface PyramidSettings {
  /** Edge of a square tile, in pixels. */
  readonly tileSize: number;
  /** Pixels a Deep Zoom tile repeats of its neighbours on each side (IIIF tiles never overlap). */
  readonly overlap: number;
  readonly jpegQuality: number;
  /** Width × height above which an image is refused; never unlimited. */
  readonly maxInputPixels: number;
  /** Width × height above which the workflow dices the image in regions side by side (regions.ts) instead of one pass. */
  readonly maxPixelsPerRegion: number;
  readonly thumbnailSize: number;
  readonly previewSize: number;
  /** libvips worker threads per image. */
  readonly threads: number;
}

export const DEFAULT_PYRAMID_SETTINGS: PyramidSettings = {
  tileSize: 256,
  overlap: 1,
  jpegQuality: 85,
  maxInputPixels: 50_000 * 50_000,
  maxPixelsPerRegion: 16_384 * 16_384,
  thumbnailSize: 256,
  previewSize: 1024,
  threads: availableParallelism(),
};

/** The Deep Zoom descriptor, the IIIF info.json, thumbnail and preview: relative to the image's folder. */
export const PYRAMID_FILES = {
  dzi: 'image.dzi',
  dziTiles: 'image_files',
  iiifInfo: 'iiif/info.json',
  thumbnail: 'thumbnail.jpg',
  preview: 'preview.jpg',
} as const;

export interface SlideMetadata {
  readonly width: number;
  readonly height: number;
  /** Deep Zoom levels, from 1 × 1 up to full size. */
  readonly levels: number;
  readonly tileSize: number;
  readonly overlap: number;
  /** The source image's format (jpeg, png, tiff, …); tiles are always JPEG. */
  readonly format: string;
  /** Bytes of the source image. */
  readonly bytes: number;
}

export interface PyramidObject {
  /** Path under the image's folder, with forward slashes: the S3 key below `slides/{imageId}/`. */
  readonly key: string;
  /** Where the bytes are on local disk. */
  readonly file: string;
  readonly bytes: number;
  readonly contentType: string;
}

// libvips only gives up on a truncated file when told to fail on truncation; 'warning' would also refuse the many
// real JPEGs that carry harmless warnings.
const FAIL_ON = 'truncated';

/** `sequentialRead` false lets libvips read only the parts a region needs, where the format allows (tiled TIFF). */
export const input = (path: string, settings: PyramidSettings, sequentialRead = true) => {
  // sharp's defaults suit a server resizing many small images at once: one thread per image on glibc (against heap
  // fragmentation) and a cache of recent operations. A slide is one large image read once: every core, no cache.
  sharp.concurrency(settings.threads);
  sharp.cache(false);
  return sharp(path, { limitInputPixels: settings.maxInputPixels, sequentialRead, failOn: FAIL_ON });
};

// As libvips' own jpegsave: standard Huffman tables. sharp optimises them by default, a second pass over every tile
// that cost about a quarter of the dicing time for a seventh of the bytes.
const jpegOptions = (settings: PyramidSettings): JpegOptions => ({ quality: settings.jpegQuality, optimiseCoding: false });

/** Deep Zoom levels of a width × height image: level 0 is 1 × 1, the last is full size. */
export const deepZoomLevels = (width: number, height: number): number => Math.ceil(Math.log2(Math.max(width, height))) + 1;

/**
 * Reads the image at `path` and writes its Deep Zoom pyramid, its IIIF tiles and info.json, a thumbnail and a
 * preview into `outDir` (which should be empty). On any error `outDir` is emptied, so nothing partial is published.
 * `iiifBaseUrl` becomes info.json's `id`: the URL its iiif/ folder is served under (…/iiif, no trailing slash).
 */
export async function buildPyramid(
  path: string,
  filename: string,
  outDir: string,
  iiifBaseUrl: string,
  settings: PyramidSettings = DEFAULT_PYRAMID_SETTINGS,
): Promise<SlideMetadata> {
  const image = await inspectSlideImage(path, filename, settings.maxInputPixels);
  try {
    await mkdir(outDir, { recursive: true });
    await dice(path, filename, outDir, iiifBaseUrl, settings);
    return await finish(path, filename, outDir, image, settings);
  } catch (error) {
    await rm(outDir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Both layouts at once, each its own pass over the source (libvips writes one layout per pass): one pass keeps about
 * one core busy, its CPU time close to its wall time, so two side by side use a second core. Each pass keeps every
 * thread: on an idle machine, as a Lambda function's is, splitting them finished later (3.9 s against 3.3 s at
 * 8000², five alternated pairs), as the pass that ends first leaves the other on one thread.
 */
export async function dice(path: string, filename: string, outDir: string, iiifBaseUrl: string, settings: PyramidSettings): Promise<void> {
  const results = await Promise.allSettled([diceDeepZoom(path, filename, outDir, settings), diceIiif(path, filename, outDir, iiifBaseUrl, settings)]);
  const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  // libvips keeps one error buffer per process: when both passes fail at once, one may find it already read and
  // fail with "Unknown error", so the failure that says what is wrong with the image is the one raised
  if (failures.length > 0) throw failures.find((e) => !(e instanceof SlideImageError && e.code === 'UnreadableImage')) ?? failures[0];
}

/** image.dzi and image_files/, named as dzsave names them (sharp's libvips says .jpeg where dzsave says .jpg). */
export async function diceDeepZoom(path: string, filename: string, outDir: string, settings: PyramidSettings): Promise<void> {
  await libvips(filename, () =>
    input(path, settings)
      .jpeg(jpegOptions(settings))
      .tile({ size: settings.tileSize, overlap: settings.overlap, layout: 'dz', depth: 'onepixel' })
      .toFile(join(outDir, 'image.dz')),
  );
  const tiles = join(outDir, PYRAMID_FILES.dziTiles);
  await rm(join(tiles, 'vips-properties.xml'), { force: true });
  // sharp fixes the tile suffix of this layout to .jpeg, so each tile is renamed: synchronously, as one round trip
  // through libuv's pool per file took about twice as long, and libvips runs on threads of its own meanwhile
  for (const level of readdirSync(tiles)) {
    for (const tile of readdirSync(join(tiles, level))) {
      if (tile.endsWith('.jpeg')) renameSync(join(tiles, level, tile), join(tiles, level, `${tile.slice(0, -'.jpeg'.length)}.jpg`));
    }
  }
  const dzi = join(outDir, PYRAMID_FILES.dzi);
  await writeFile(dzi, (await readFile(dzi, 'utf8')).replace('Format="jpeg"', 'Format="jpg"'));
}

export interface IiifInfo {
  '@context': string;
  id: string;
  type: 'ImageService3';
  protocol: string;
  profile: 'level0';
  width: number;
  height: number;
  tiles: { width: number; height?: number; scaleFactors: number[] }[];
  sizes?: { width: number; height: number }[];
}

/**
 * iiif/info.json and the tiles it implies, {region}/{w},{h}/0/default.jpg. The whole-image renders libvips writes
 * (region `full`) are listed as `sizes`; at full size one is also written as `full/max`, the path a viewer asks for.
 */
export async function diceIiif(path: string, filename: string, outDir: string, baseUrl: string, settings: PyramidSettings): Promise<void> {
  await libvips(filename, () =>
    input(path, settings)
      .jpeg(jpegOptions(settings))
      .tile({ size: settings.tileSize, overlap: 0, layout: 'iiif3', id: 'https://iiif.invalid' })
      .toFile(join(outDir, 'iiif')),
  );
  // libvips writes its properties next to the folder, not in it
  await rm(join(outDir, 'vips-properties.xml'), { force: true });
  const infoPath = join(outDir, PYRAMID_FILES.iiifInfo);
  const info = JSON.parse(await readFile(infoPath, 'utf8')) as IiifInfo;
  const full = join(outDir, 'iiif', 'full');
  const sizes = (await readdir(full).catch(() => [] as string[]))
    .map((name) => /^(\d+),(\d+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ width: Number(m[1]), height: Number(m[2]) }))
    .sort((a, b) => a.width - b.width);
  if (sizes.some((s) => s.width === info.width && s.height === info.height)) {
    await mkdir(join(full, 'max', '0'), { recursive: true });
    await copyFile(join(full, `${info.width},${info.height}`, '0', 'default.jpg'), join(full, 'max', '0', 'default.jpg'));
  }
  await writeFile(infoPath, `${JSON.stringify(rebaseIiifInfo({ ...info, sizes }, baseUrl), null, 2)}\n`);
}

/** The same info.json served from `baseUrl` (the URL of the folder holding info.json). */
export function rebaseIiifInfo(info: IiifInfo, baseUrl: string): IiifInfo {
  return { ...info, id: baseUrl.replace(/\/+$/, '') };
}

/** Thumbnail and preview (longest side `thumbnailSize` / `previewSize`, never enlarged), and the metadata. */
export async function finish(path: string, filename: string, outDir: string, image: SlideImage, settings: PyramidSettings): Promise<SlideMetadata> {
  await writeThumbnail(path, filename, join(outDir, PYRAMID_FILES.preview), image, settings.previewSize, settings);
  await writeThumbnail(path, filename, join(outDir, PYRAMID_FILES.thumbnail), image, settings.thumbnailSize, settings);
  return {
    width: image.width,
    height: image.height,
    levels: deepZoomLevels(image.width, image.height),
    tileSize: settings.tileSize,
    overlap: settings.overlap,
    format: image.format,
    bytes: image.bytes,
  };
}

/**
 * A JPEG of the whole image with its longest side `box` px, read straight from the source: libvips shrinks JPEGs
 * (and picks a smaller pyramid level of TIFFs) while decoding, as vipsthumbnail does.
 */
export async function writeThumbnail(path: string, filename: string, to: string, image: SlideImage, box: number, settings: PyramidSettings): Promise<void> {
  const { width, height } = fitInside(image.width, image.height, box);
  await libvips(filename, () => input(path, settings).resize(width, height, { fit: 'fill' }).jpeg(jpegOptions(settings)).toFile(to));
}

/** width × height scaled so its longest side is `box` (or less, when the image is already smaller). */
export function fitInside(width: number, height: number, box: number): { width: number; height: number } {
  const scale = Math.min(1, box / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** Every file under `outDir` as what to publish, in a stable order. */
export async function* pyramidObjects(outDir: string): AsyncGenerator<PyramidObject> {
  const entries = await readdir(outDir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
  for (const file of files) {
    const key = relative(outDir, file).split(sep).join('/');
    yield { key, file, bytes: (await stat(file)).size, contentType: contentTypeOf(key) };
  }
}

export function contentTypeOf(key: string): string {
  if (key.endsWith('.jpg')) return 'image/jpeg';
  if (key.endsWith('.dzi')) return 'application/xml';
  if (key.endsWith('info.json')) return 'application/ld+json;profile="http://iiif.io/api/image/3/context.json"';
  return 'application/octet-stream';
}

async function libvips<T>(filename: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw decodeFailure(filename, error);
  }
}
