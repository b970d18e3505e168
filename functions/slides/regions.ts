// How a slide image too large for one pass is split into regions diced side by side. A region is a block of whole
// tiles at a split level: the levels from full size down to that level are cut from each region on its own, the
// levels above it from the split level's image, joined. Pure arithmetic; the pixels are split-pyramid.ts's.
import { deepZoomLevels } from './pyramid.ts';

export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface Region extends Rect {
  /** Position in the plan's list: the name of its split-level image. */
  readonly index: number;
  /**
   * What the region's work reads of the source (full-size pixels): the region and one split-level tile around it,
   * clipped at the image's edges, so a Deep Zoom tile's overlap has its neighbours' pixels. Its origin is a multiple
   * of the split-level tile's full-size edge, so every level's tile grid and 2 × 2 blocks fall as in the whole image.
   */
  readonly read: Rect;
}

export type RegionPlan =
  | { readonly split: false; readonly width: number; readonly height: number }
  | {
      readonly split: true;
      readonly width: number;
      readonly height: number;
      readonly tileSize: number;
      /** Deep Zoom level (0 is 1 × 1) whose tiles are the last the regions cut; the levels above come from its image. */
      readonly splitLevel: number;
      /** Halvings from full size to the split level. */
      readonly shrinks: number;
      readonly regions: readonly Region[];
    };

/**
 * The plan for a width × height image with `tileSize` tiles: one pass when it has at most `maxPixelsPerRegion`
 * pixels; otherwise the split level is the highest one whose whole image has at most that many pixels (at least one
 * halving below full size), and the regions are the largest squares of whole split-level tiles within that many
 * pixels (at least one tile).
 */
export function planRegions(width: number, height: number, tileSize: number, maxPixelsPerRegion: number): RegionPlan {
  if (![width, height, tileSize, maxPixelsPerRegion].every((n) => Number.isInteger(n) && n > 0)) {
    throw new RangeError(`a region plan needs positive whole numbers, not ${width} × ${height}, tile ${tileSize}, ${maxPixelsPerRegion} pixels`);
  }
  if (width * height <= maxPixelsPerRegion) return { split: false, width, height };
  const maxLevel = deepZoomLevels(width, height) - 1;
  let shrinks = 1;
  while (shrinks < maxLevel && Math.ceil(width / 2 ** shrinks) * Math.ceil(height / 2 ** shrinks) > maxPixelsPerRegion) shrinks += 1;
  const unit = tileSize * 2 ** shrinks;
  const side = unit * Math.max(1, Math.floor(Math.sqrt(maxPixelsPerRegion) / unit));
  const columns = Math.ceil(width / side);
  const rows = Math.ceil(height / side);
  if (columns * rows === 1) return { split: false, width, height };
  const regions: Region[] = [];
  for (let row = 0; row < rows; row += 1) {
    for (let column = 0; column < columns; column += 1) {
      const x = column * side;
      const y = row * side;
      const region = { x, y, width: Math.min(side, width - x), height: Math.min(side, height - y) };
      const readX = Math.max(0, x - unit);
      const readY = Math.max(0, y - unit);
      const read = {
        x: readX,
        y: readY,
        width: Math.min(width, x + region.width + unit) - readX,
        height: Math.min(height, y + region.height + unit) - readY,
      };
      regions.push({ index: regions.length, ...region, read });
    }
  }
  return { split: true, width, height, tileSize, splitLevel: maxLevel - shrinks, shrinks, regions };
}

export type SplitPlan = Extract<RegionPlan, { split: true }>;

/** A tile of the whole image: its Deep Zoom name and, at the same level, its IIIF region and size. */
export interface PlannedTile {
  readonly level: number;
  readonly column: number;
  readonly row: number;
  /** Full-size pixels per pixel of the level (the IIIF scale factor). */
  readonly scale: number;
  /** The IIIF region, in full-size pixels. */
  readonly iiif: Rect;
  /** The IIIF size: the tile's pixels at its level. */
  readonly scaledWidth: number;
  readonly scaledHeight: number;
}

/** Every tile of the whole image a region owns: the levels from full size down to the split level. */
export function* regionTiles(plan: SplitPlan, region: Region): Generator<PlannedTile> {
  const maxLevel = plan.splitLevel + plan.shrinks;
  for (let level = maxLevel; level >= plan.splitLevel; level -= 1) {
    const scale = 2 ** (maxLevel - level);
    const step = plan.tileSize * scale;
    for (let row = region.y / step; row < Math.ceil((region.y + region.height) / step); row += 1) {
      for (let column = region.x / step; column < Math.ceil((region.x + region.width) / step); column += 1) {
        const x = column * step;
        const y = row * step;
        const width = Math.min(step, plan.width - x);
        const height = Math.min(step, plan.height - y);
        yield { level, column, row, scale, iiif: { x, y, width, height }, scaledWidth: Math.ceil(width / scale), scaledHeight: Math.ceil(height / scale) };
      }
    }
  }
}

/** The region's place in the split level's image (whole pixels: its origin is a multiple of a split-level tile). */
export function regionAtSplitLevel(plan: SplitPlan, region: Rect): Rect {
  const factor = 2 ** plan.shrinks;
  return { x: region.x / factor, y: region.y / factor, width: Math.ceil(region.width / factor), height: Math.ceil(region.height / factor) };
}

/**
 * Where an IIIF tile of the split level's image (`x,y,w,h` in its pixels) is in the whole image: its pixels scaled
 * back to full size, its width and height clipped at the whole image's edges as libvips clips them.
 */
export function iiifTileAboveSplit(plan: SplitPlan, tile: Rect): Rect {
  const factor = 2 ** plan.shrinks;
  const x = tile.x * factor;
  const y = tile.y * factor;
  return { x, y, width: Math.min(tile.width * factor, plan.width - x), height: Math.min(tile.height * factor, plan.height - y) };
}

/** What of an image decides whether its pyramid can be split: sharp's metadata. */
export interface PixelLayout {
  readonly channels: number;
  readonly hasAlpha: boolean;
  /** libvips' band format: uchar, ushort, float, … */
  readonly depth: string;
}

/**
 * Whether the split pyramid is byte-equal to one pass for an image of this layout: grey or colour without alpha, 8 or
 * 16 bits. libvips shrinks an image with alpha otherwise than by the plain 2 × 2 mean the split level is made with
 * (the levels above it differed by up to 18 levels out of 255), so such an image, and CMYK or float, is diced in one pass.
 */
export const splitsExactly = (layout: PixelLayout): boolean =>
  !layout.hasAlpha && (layout.channels === 1 || layout.channels === 3) && (layout.depth === 'uchar' || layout.depth === 'ushort');
