// The pyramid of an image too large for one pass, built in regions (regions.ts) with the one-pass code itself, so
// every tile is the one `dice` writes for the whole image. A region's read rectangle (the region and one split-level
// tile around it) is decoded once into an uncompressed libvips file; `dice` runs on it, and only the region's tiles of
// the levels down to the split level are kept, renamed to their place in the whole image. The region's pixels at the
// split level are made exactly as libvips' pyramid makes them (each pixel the rounded mean of a 2 × 2 block, the last
// column and row repeated at an odd edge) and saved losslessly; the overview joins them into the split level's image
// and dices it for the levels above, whose names and descriptors are the whole image's.
import { open, copyFile, mkdir, readdir, readFile, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import sharp from 'sharp';
import { deepZoomLevels, dice, input, PYRAMID_FILES, rebaseIiifInfo, type IiifInfo, type PyramidSettings } from './pyramid.ts';
import { iiifTileAboveSplit, regionAtSplitLevel, regionTiles, type Region, type SplitPlan } from './regions.ts';
import { decodeFailure } from './slide-image.ts';

const PLACEHOLDER_IIIF_ID = 'https://iiif.invalid';

/** libvips' own uncompressed format: a 64-byte header, then the pixels row by row, which libvips maps, not decodes. */
const VIPS_HEADER_BYTES = 64;
const VIPS_MAGIC_LE = 0x08f2a6b6;

interface VipsHeader {
  readonly bytes: Buffer;
  readonly littleEndian: boolean;
  readonly width: number;
  readonly height: number;
  readonly bands: number;
  /** Bytes per band value: 1 (uchar) or 2 (ushort), the formats a split pyramid is made of. */
  readonly sampleBytes: 1 | 2;
}

/**
 * Decodes the region's read rectangle of the source at `path` into the libvips file `to`. A TIFF is read at random
 * (libvips fetches only the tiles or strips of the rectangle); other formats decode from the top, in one stream.
 */
export async function readRegion(path: string, filename: string, region: Region, to: string, settings: PyramidSettings): Promise<void> {
  const { x: left, y: top, width, height } = region.read;
  try {
    const { format } = await sharp(path, { limitInputPixels: settings.maxInputPixels }).metadata();
    await input(path, settings, format !== 'tiff').extract({ left, top, width, height }).toFile(to);
  } catch (error) {
    throw decodeFailure(filename, error);
  }
}

/**
 * The region's Deep Zoom and IIIF tiles (full size down to the split level) into `outDir` under their whole-image
 * names, and its split-level pixels into the libvips file `splitFile`. `regionFile` is readRegion's.
 */
export async function diceRegion(regionFile: string, filename: string, outDir: string, splitFile: string, plan: SplitPlan, region: Region, settings: PyramidSettings): Promise<void> {
  const scratch = `${outDir}.region`;
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  try {
    await Promise.all([dice(regionFile, filename, scratch, PLACEHOLDER_IIIF_ID, settings), writeSplitLevel(regionFile, region, plan.shrinks, splitFile)]);
    const regionMaxLevel = deepZoomLevels(region.read.width, region.read.height) - 1;
    const levelShift = plan.splitLevel + plan.shrinks - regionMaxLevel;
    for (const tile of regionTiles(plan, region)) {
      const step = plan.tileSize * tile.scale;
      const localColumn = tile.column - region.read.x / step;
      const localRow = tile.row - region.read.y / step;
      await move(
        join(scratch, PYRAMID_FILES.dziTiles, String(tile.level - levelShift), `${localColumn}_${localRow}.jpg`),
        join(outDir, PYRAMID_FILES.dziTiles, String(tile.level), `${tile.column}_${tile.row}.jpg`),
      );
      const { x, y, width, height } = tile.iiif;
      const size = `${tile.scaledWidth},${tile.scaledHeight}/0/default.jpg`;
      await move(join(scratch, 'iiif', `${x - region.read.x},${y - region.read.y},${width},${height}`, size), join(outDir, 'iiif', `${x},${y},${width},${height}`, size));
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * The levels above the split level, from the regions' split-level files (`splitFiles[i]` is region i's), into
 * `outDir`: their Deep Zoom and IIIF tiles, and image.dzi and iiif/info.json as the whole image's one pass writes them.
 */
export async function diceOverview(splitFiles: readonly string[], filename: string, outDir: string, iiifBaseUrl: string, plan: SplitPlan, settings: PyramidSettings): Promise<void> {
  const scratch = `${outDir}.overview`;
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  try {
    const whole = regionAtSplitLevel(plan, { x: 0, y: 0, width: plan.width, height: plan.height });
    // the split level's image has the whole image's levels from the split level up, under the same numbers
    if (deepZoomLevels(whole.width, whole.height) - 1 !== plan.splitLevel) throw new Error(`the split level's image, ${whole.width} × ${whole.height}, is not level ${plan.splitLevel}`);
    const joined = join(scratch, 'split-level.v');
    await joinSplitLevel(splitFiles, plan, joined);
    const tiles = join(scratch, 'tiles');
    await mkdir(tiles);
    await dice(joined, filename, tiles, PLACEHOLDER_IIIF_ID, settings);
    await rm(joined, { force: true });

    const dziTiles = join(tiles, PYRAMID_FILES.dziTiles);
    for (const level of await readdir(dziTiles)) {
      if (Number(level) >= plan.splitLevel) continue;
      await mkdir(join(outDir, PYRAMID_FILES.dziTiles), { recursive: true });
      await rename(join(dziTiles, level), join(outDir, PYRAMID_FILES.dziTiles, level));
    }
    const dzi = await readFile(join(tiles, PYRAMID_FILES.dzi), 'utf8');
    await writeFile(join(outDir, PYRAMID_FILES.dzi), dzi.replace(/Width="\d+"/, `Width="${plan.width}"`).replace(/Height="\d+"/, `Height="${plan.height}"`));

    const iiif = join(tiles, 'iiif');
    for (const name of await readdir(iiif)) {
      if (name === 'info.json') continue;
      if (name === 'full') {
        await mkdir(join(outDir, 'iiif'), { recursive: true });
        await rename(join(iiif, name), join(outDir, 'iiif', name));
        continue;
      }
      const [x, y, width, height] = name.split(',').map(Number) as [number, number, number, number];
      for (const size of await readdir(join(iiif, name))) {
        const [scaledWidth, scaledHeight] = size.split(',').map(Number) as [number, number];
        // the split level's own tiles (scale 1 here) are the regions'
        if (scaledWidth === width && scaledHeight === height) continue;
        const placed = iiifTileAboveSplit(plan, { x, y, width, height });
        await move(join(iiif, name, size, '0', 'default.jpg'), join(outDir, 'iiif', `${placed.x},${placed.y},${placed.width},${placed.height}`, size, '0', 'default.jpg'));
      }
    }
    const info = JSON.parse(await readFile(join(iiif, 'info.json'), 'utf8')) as IiifInfo;
    const tile = info.tiles[0]!;
    const factors = [...Array.from({ length: plan.shrinks }, (_, i) => 2 ** i), ...tile.scaleFactors.map((f) => f * 2 ** plan.shrinks)];
    const wholeInfo: IiifInfo = { ...info, tiles: [{ ...tile, scaleFactors: factors }, ...info.tiles.slice(1)], width: plan.width, height: plan.height };
    await writeFile(join(outDir, PYRAMID_FILES.iiifInfo), `${JSON.stringify(rebaseIiifInfo(wholeInfo, iiifBaseUrl), null, 2)}\n`);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function move(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  try {
    await rename(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`the pyramid pass did not write ${from}`);
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    await copyFile(from, to);
  }
}

async function readHeader(file: FileHandle, path: string): Promise<VipsHeader> {
  const bytes = Buffer.alloc(VIPS_HEADER_BYTES);
  await file.read(bytes, 0, VIPS_HEADER_BYTES, 0);
  const littleEndian = bytes.readUInt32LE(0) === VIPS_MAGIC_LE;
  if (!littleEndian && bytes.readUInt32BE(0) !== VIPS_MAGIC_LE) throw new Error(`${path} is not a libvips file`);
  const u32 = (at: number) => (littleEndian ? bytes.readUInt32LE(at) : bytes.readUInt32BE(at));
  const format = u32(20);
  const coding = u32(24);
  // uchar or ushort, uncoded: the images sharp hands to the JPEG tile writer
  if (coding !== 0 || (format !== 0 && format !== 2)) throw new Error(`${path}: band format ${format}, coding ${coding} is not one a split pyramid is made of`);
  return { bytes, littleEndian, width: u32(4), height: u32(8), bands: u32(12), sampleBytes: format === 0 ? 1 : 2 };
}

function withSize(header: VipsHeader, width: number, height: number): Buffer {
  const bytes = Buffer.from(header.bytes);
  if (header.littleEndian) {
    bytes.writeUInt32LE(width, 4);
    bytes.writeUInt32LE(height, 8);
  } else {
    bytes.writeUInt32BE(width, 4);
    bytes.writeUInt32BE(height, 8);
  }
  return bytes;
}

type Samples = Uint8Array | Uint16Array;

/** One halving as libvips' pyramid does it: the rounded mean of each 2 × 2 block, an odd last column or row repeated. */
export function halve(rows: readonly Samples[], width: number, bands: number): Samples[] {
  const outWidth = Math.ceil(width / 2);
  const out: Samples[] = [];
  for (let r = 0; r < rows.length; r += 2) {
    const a = rows[r]!;
    const b = rows[r + 1] ?? a;
    const q = new (a.constructor as Uint8ArrayConstructor | Uint16ArrayConstructor)(outWidth * bands);
    for (let x = 0; x < outWidth; x += 1) {
      const left = 2 * x * bands;
      const right = Math.min(2 * x + 1, width - 1) * bands;
      const at = x * bands;
      for (let z = 0; z < bands; z += 1) q[at + z] = (a[left + z]! + a[right + z]! + b[left + z]! + b[right + z]! + 2) >> 2;
    }
    out.push(q);
  }
  return out;
}

/** The region's pixels at the split level (`shrinks` halvings of its full-size pixels in `regionFile`) into `to`. */
async function writeSplitLevel(regionFile: string, region: Region, shrinks: number, to: string): Promise<void> {
  const source = await open(regionFile, 'r');
  const target = await open(to, 'w');
  try {
    const header = await readHeader(source, regionFile);
    if (header.sampleBytes === 2 && !header.littleEndian) throw new Error(`${regionFile}: 16-bit big-endian pixels`);
    const pixelBytes = header.bands * header.sampleBytes;
    const rowBytes = header.width * pixelBytes;
    const left = (region.x - region.read.x) * pixelBytes;
    const top = region.y - region.read.y;
    const band = 2 ** shrinks;
    const outWidth = Math.ceil(region.width / band);
    await target.write(withSize(header, outWidth, Math.ceil(region.height / band)), 0, VIPS_HEADER_BYTES, 0);
    let written = VIPS_HEADER_BYTES;
    const strip = Buffer.alloc(band * rowBytes);
    for (let y = 0; y < region.height; y += band) {
      const count = Math.min(band, region.height - y);
      await source.read(strip, 0, count * rowBytes, VIPS_HEADER_BYTES + (top + y) * rowBytes);
      let rows: Samples[] = [];
      for (let r = 0; r < count; r += 1) {
        const bytes = strip.subarray(r * rowBytes + left, r * rowBytes + left + region.width * pixelBytes);
        rows.push(header.sampleBytes === 1 ? new Uint8Array(bytes) : new Uint16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)));
      }
      let width = region.width;
      for (let s = 0; s < shrinks; s += 1) {
        rows = halve(rows, width, header.bands);
        width = Math.ceil(width / 2);
      }
      const row = rows[0]!;
      const bytes = Buffer.from(row.buffer, row.byteOffset, row.byteLength);
      await target.write(bytes, 0, bytes.length, written);
      written += bytes.length;
    }
  } finally {
    await source.close();
    await target.close();
  }
}

/** The regions' split-level files joined into the split level's image of the whole, the libvips file `to`. */
async function joinSplitLevel(splitFiles: readonly string[], plan: SplitPlan, to: string): Promise<void> {
  if (splitFiles.length !== plan.regions.length) throw new Error(`${splitFiles.length} split-level files for ${plan.regions.length} regions`);
  const whole = regionAtSplitLevel(plan, { x: 0, y: 0, width: plan.width, height: plan.height });
  const target = await open(to, 'w');
  try {
    let pixelBytes = 0;
    for (const region of plan.regions) {
      const source = await open(splitFiles[region.index]!, 'r');
      try {
        const header = await readHeader(source, splitFiles[region.index]!);
        const place = regionAtSplitLevel(plan, region);
        if (header.width !== place.width || header.height !== place.height) {
          throw new Error(`region ${region.index}'s split level is ${header.width} × ${header.height}, not ${place.width} × ${place.height}`);
        }
        if (pixelBytes === 0) {
          pixelBytes = header.bands * header.sampleBytes;
          await target.write(withSize(header, whole.width, whole.height), 0, VIPS_HEADER_BYTES, 0);
        }
        const rowBytes = place.width * pixelBytes;
        const rowsAtOnce = Math.max(1, Math.floor((8 << 20) / rowBytes));
        const strip = Buffer.alloc(rowsAtOnce * rowBytes);
        for (let y = 0; y < place.height; y += rowsAtOnce) {
          const count = Math.min(rowsAtOnce, place.height - y);
          await source.read(strip, 0, count * rowBytes, VIPS_HEADER_BYTES + y * rowBytes);
          for (let r = 0; r < count; r += 1) {
            await target.write(strip, r * rowBytes, rowBytes, VIPS_HEADER_BYTES + ((place.y + y + r) * whole.width + place.x) * pixelBytes);
          }
        }
      } finally {
        await source.close();
      }
    }
  } finally {
    await target.close();
  }
}
