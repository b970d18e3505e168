// The region plan of a split pyramid: one pass below the threshold; above it, regions of whole split-level tiles that
// cover the image once, read rectangles aligned to the split-level tile grid, and the tiles each region owns making up
// every tile of the levels down to the split level exactly once.
import { describe, expect, it } from 'vitest';
import { DEFAULT_PYRAMID_SETTINGS, deepZoomLevels } from '../../functions/slides/pyramid.ts';
import { halve } from '../../functions/slides/split-pyramid.ts';
import { iiifTileAboveSplit, planRegions, regionAtSplitLevel, regionTiles, type SplitPlan } from '../../functions/slides/regions.ts';

const split = (width: number, height: number, tile: number, max: number): SplitPlan => {
  const plan = planRegions(width, height, tile, max);
  if (!plan.split) throw new Error(`${width} × ${height} was not split`);
  return plan;
};

describe('planRegions', () => {
  it('answers one pass for an image at or below the threshold', () => {
    expect(planRegions(3000, 2000, 256, 6_000_000)).toEqual({ split: false, width: 3000, height: 2000 });
    expect(planRegions(50_000, 50_000, 256, 32_768 * 32_768).split).toBe(true);
    expect(planRegions(30_000, 30_000, 256, 32_768 * 32_768).split).toBe(false);
  });

  it('with the default threshold, dices up to 16,384² in one pass and a 50,000² image in 16 regions two halvings down', () => {
    const { tileSize, maxPixelsPerRegion } = DEFAULT_PYRAMID_SETTINGS;
    expect(planRegions(16_384, 16_384, tileSize, maxPixelsPerRegion).split).toBe(false);
    const plan = split(50_000, 50_000, tileSize, maxPixelsPerRegion);
    expect([plan.shrinks, plan.regions.length, plan.regions[0]!.width]).toEqual([2, 16, 16_384]);
    expect(plan.regions[0]!.read).toEqual({ x: 0, y: 0, width: 16_384 + 1024, height: 16_384 + 1024 });
  });

  it('splits 3000 × 2000 at 1.5 Mpx into six regions one halving below full size', () => {
    const plan = split(3000, 2000, 256, 1_500_000);
    expect(plan.splitLevel).toBe(deepZoomLevels(3000, 2000) - 2);
    expect(plan.shrinks).toBe(1);
    expect(plan.regions.map(({ x, y, width, height }) => [x, y, width, height])).toEqual([
      [0, 0, 1024, 1024], [1024, 0, 1024, 1024], [2048, 0, 952, 1024],
      [0, 1024, 1024, 976], [1024, 1024, 1024, 976], [2048, 1024, 952, 976],
    ]);
    expect(plan.regions[4]!.read).toEqual({ x: 512, y: 512, width: 2048, height: 1488 });
    expect(plan.regions[0]!.read).toEqual({ x: 0, y: 0, width: 1536, height: 1536 });
  });

  it('halves until the split level fits the threshold, and keeps regions within it', () => {
    const plan = split(50_000, 50_000, 256, 32_768 * 32_768);
    expect(plan.shrinks).toBe(1);
    expect(plan.regions).toHaveLength(4);
    expect(plan.regions[0]).toMatchObject({ width: 32_768, height: 32_768 });
    const deeper = split(3001, 2001, 256, 380_000);
    expect(deeper.shrinks).toBe(2);
    expect(Math.ceil(3001 / 4) * Math.ceil(2001 / 4)).toBeLessThanOrEqual(380_000);
    for (const r of deeper.regions) expect(r.width * r.height).toBeLessThanOrEqual(1024 * 1024);
  });

  it.each([
    [3000, 2000, 256, 1_500_000],
    [3001, 2001, 256, 380_000],
    [1100, 5003, 256, 300_000],
    [50_000, 50_000, 256, 32_768 * 32_768],
    [40_001, 9_999, 512, 50_000_000],
  ])('%i × %i (tile %i, %i px): regions tile the image once, reads align, tiles are owned once', (width, height, tile, max) => {
    const plan = split(width, height, tile, max);
    const unit = tile * 2 ** plan.shrinks;
    let area = 0;
    for (const r of plan.regions) {
      area += r.width * r.height;
      expect(r.x % unit).toBe(0);
      expect(r.y % unit).toBe(0);
      expect(r.read.x % unit).toBe(0);
      expect(r.read.y % unit).toBe(0);
      expect(r.read.x).toBe(Math.max(0, r.x - unit));
      expect(r.read.x + r.read.width).toBe(Math.min(width, r.x + r.width + unit));
      expect(r.read.y + r.read.height).toBe(Math.min(height, r.y + r.height + unit));
    }
    expect(area).toBe(width * height);
    if (width * height > 1e8) return;
    const owned = new Set<string>();
    for (const r of plan.regions) {
      for (const t of regionTiles(plan, r)) {
        const name = `${t.level}/${t.column}_${t.row}`;
        expect(owned.has(name), name).toBe(false);
        owned.add(name);
      }
    }
    let expected = 0;
    for (let level = plan.splitLevel; level <= plan.splitLevel + plan.shrinks; level += 1) {
      const scale = 2 ** (plan.splitLevel + plan.shrinks - level);
      expected += Math.ceil(Math.ceil(width / scale) / tile) * Math.ceil(Math.ceil(height / scale) / tile);
    }
    expect(owned.size).toBe(expected);
    const whole = regionAtSplitLevel(plan, { x: 0, y: 0, width, height });
    expect(plan.regions.reduce((n, r) => n + regionAtSplitLevel(plan, r).width * regionAtSplitLevel(plan, r).height, 0)).toBe(whole.width * whole.height);
  });

  it('names IIIF tiles as libvips does: scale factor, region clipped at the edge, size in level pixels', () => {
    const plan = split(3001, 2001, 256, 1_500_000);
    const last = plan.regions.at(-1)!;
    const corner = [...regionTiles(plan, last)].find((t) => t.scale === 4 && t.iiif.x + t.iiif.width === 3001 && t.iiif.y + t.iiif.height === 2001)!;
    expect(corner).toMatchObject({ iiif: { x: 2048, y: 1024, width: 953, height: 977 }, scaledWidth: 239, scaledHeight: 245 });
    // a tile of the split level's image (751 × 501) at its scale 2: 512 of its pixels wide, 239 at the edge
    expect(iiifTileAboveSplit(plan, { x: 512, y: 0, width: 239, height: 501 })).toEqual({ x: 2048, y: 0, width: 953, height: 2001 });
  });

  it('refuses sizes that are not positive whole numbers', () => {
    expect(() => planRegions(0, 10, 256, 100)).toThrow(RangeError);
    expect(() => planRegions(10, 10, 256, 0.5)).toThrow(RangeError);
  });
});

describe('halve', () => {
  it('rounds the mean of each 2 × 2 block and repeats an odd last column and row', () => {
    const rows = [Uint8Array.of(0, 1, 255), Uint8Array.of(1, 1, 254), Uint8Array.of(10, 20, 31)];
    expect(halve(rows, 3, 1).map((r) => [...r])).toEqual([
      [1, 255], // (0+1+1+1+2)>>2, (255+255+254+254+2)>>2
      [15, 31], // last row doubled: (10+20+10+20+2)>>2, (31*4+2)>>2
    ]);
    expect([...halve([Uint16Array.of(65535, 65534, 1, 2)], 2, 2)[0]!]).toEqual([32768, 32768]);
    expect([...halve([Uint16Array.of(65535, 65534)], 1, 2)[0]!]).toEqual([65535, 65534]);
  });
});
