// The slide tile pyramid against the reference tools, Debian's `vips dzsave` and `vipsthumbnail` (installed by
// scripts/setup-libvips-tools.sh): the same descriptor, the same tiles at the same paths, pixels within JPEG noise.
// Then the IIIF output as a viewer reads it, the inputs it accepts, and the inputs it refuses without writing a file.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPyramid, DEFAULT_PYRAMID_SETTINGS, deepZoomLevels, pyramidObjects, type IiifInfo } from '../../functions/slides/pyramid.ts';
import { SlideImageError } from '../../functions/slides/slide-image.ts';
import { ROOT } from '../support/processes.ts';
import { writeTestSlide } from '../support/slide-images.ts';
import { tinyTiff } from '../support/tiff.ts';

const dir = mkdtempSync(join(tmpdir(), 'framewise-slides-'));
const source = join(dir, 'slide.jpg');
const ours = join(dir, 'ours');
const reference = join(dir, 'reference');
const WIDTH = 1500;
const HEIGHT = 1100;
const BASE_URL = 'https://slides.example/v1/slides/images/img-1/iiif';

const filesUnder = (root: string) =>
  readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();

/** Max abs difference and PSNR (dB) of two JPEGs of the same size, decoded to RGB. */
async function compare(a: string, b: string): Promise<{ maxAbs: number; psnr: number; width: number; height: number; sameBytes: boolean }> {
  const [x, y] = await Promise.all([a, b].map((f) => sharp(f).removeAlpha().raw().toBuffer({ resolveWithObject: true })));
  expect([x!.info.width, x!.info.height], `${a} vs ${b}`).toEqual([y!.info.width, y!.info.height]);
  let maxAbs = 0;
  let squares = 0;
  for (let i = 0; i < x!.data.length; i += 1) {
    const d = Math.abs(x!.data[i]! - y!.data[i]!);
    maxAbs = Math.max(maxAbs, d);
    squares += d * d;
  }
  const mse = squares / x!.data.length;
  const psnr = mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
  return { maxAbs, psnr, width: x!.info.width, height: x!.info.height, sameBytes: readFileSync(a).equals(readFileSync(b)) };
}

beforeAll(async () => {
  execFileSync('sh', [join(ROOT, 'scripts/setup-libvips-tools.sh')], { stdio: 'inherit' });
  await writeTestSlide(source, WIDTH, HEIGHT);
  await buildPyramid(source, 'slide.jpg', ours, BASE_URL);
  execFileSync('vips', ['dzsave', source, join(reference, 'image'), '--tile-size', '256', '--overlap', '1', '--depth', 'onepixel', '--suffix', '.jpg[Q=85]']);
  for (const [name, size] of [['thumbnail', 256], ['preview', 1024]] as const) {
    execFileSync('vipsthumbnail', [source, '--size', String(size), '-o', join(reference, `${name}.jpg[Q=85]`)]);
  }
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Deep Zoom against vips dzsave', () => {
  it('writes the same image.dzi', () => {
    expect(readFileSync(join(ours, 'image.dzi'), 'utf8')).toBe(readFileSync(join(reference, 'image.dzi'), 'utf8'));
    expect(readFileSync(join(ours, 'image.dzi'), 'utf8')).toMatch(/Format="jpg"[\s\S]*Overlap="1"[\s\S]*TileSize="256"[\s\S]*Height="1100"[\s\S]*Width="1500"/);
  });

  it('writes the same tiles at the same paths, levels down to 1 × 1', () => {
    const tiles = (root: string) => filesUnder(join(root, 'image_files')).filter((f) => f.endsWith('.jpg'));
    const ourTiles = tiles(ours);
    expect(ourTiles).toEqual(tiles(reference));
    const levels = deepZoomLevels(WIDTH, HEIGHT);
    expect(levels).toBe(12);
    let expected = 0;
    for (let level = 0; level < levels; level += 1) {
      const scale = 2 ** (levels - 1 - level);
      expected += Math.ceil(Math.ceil(WIDTH / scale) / 256) * Math.ceil(Math.ceil(HEIGHT / scale) / 256);
    }
    expect(ourTiles).toHaveLength(expected);
    expect(ourTiles).toContain('0/0_0.jpg');
    expect(filesUnder(join(ours, 'image_files')).filter((f) => !f.endsWith('.jpg'))).toEqual([]);
  });

  it('tiles carry the same pixels within JPEG noise', async () => {
    const tiles = filesUnder(join(ours, 'image_files'));
    let worstPsnr = Infinity;
    let worstMax = 0;
    let sameBytes = 0;
    for (const tile of tiles) {
      const c = await compare(join(ours, 'image_files', tile), join(reference, 'image_files', tile));
      worstPsnr = Math.min(worstPsnr, c.psnr);
      worstMax = Math.max(worstMax, c.maxAbs);
      if (c.sameBytes) sameBytes += 1;
    }
    console.log(`dz tiles: ${tiles.length}, byte-equal ${sameBytes}, worst PSNR ${worstPsnr.toFixed(1)} dB, worst max abs diff ${worstMax}`);
    // The same libjpeg-turbo settings on both sides: equal pixels (byte-equal files, as of this writing)
    expect(worstMax).toBeLessThanOrEqual(2);
    expect(worstPsnr).toBeGreaterThan(45);
  });
});

describe('thumbnail and preview against vipsthumbnail', () => {
  it.each(['thumbnail', 'preview'])('%s has the same size and close pixels', async (name) => {
    const c = await compare(join(ours, `${name}.jpg`), join(reference, `${name}.jpg`));
    console.log(`${name}: ${c.width} × ${c.height}, PSNR ${c.psnr.toFixed(1)} dB, max abs diff ${c.maxAbs}`);
    expect(Math.max(c.width, c.height)).toBe(name === 'thumbnail' ? 256 : 1024);
    expect(c.psnr).toBeGreaterThan(30);
  });
});

describe('IIIF Image API 3.0 level 0', () => {
  const info = () => JSON.parse(readFileSync(join(ours, 'iiif', 'info.json'), 'utf8')) as IiifInfo;

  it('describes the image with the fields the spec requires', () => {
    const i = info();
    expect(i).toMatchObject({
      '@context': 'http://iiif.io/api/image/3/context.json',
      id: BASE_URL,
      type: 'ImageService3',
      protocol: 'http://iiif.io/api/image',
      profile: 'level0',
      width: WIDTH,
      height: HEIGHT,
    });
    expect(i.tiles).toEqual([{ width: 256, scaleFactors: [1, 2, 4, 8] }]);
    expect(i.sizes!.length).toBeGreaterThan(0);
  });

  it('has every tile and size a viewer asks for, at its size', async () => {
    const i = info();
    const urls = new Set<string>();
    for (const s of i.tiles[0]!.scaleFactors) {
      const span = 256 * s;
      const levelWidth = Math.ceil(i.width / s);
      const levelHeight = Math.ceil(i.height / s);
      if (levelWidth < 256 && levelHeight < 256) {
        // how OpenSeadragon asks for a level that fits in one tile
        urls.add(`full/${levelWidth === i.width && levelHeight === i.height ? 'max' : `${levelWidth},${levelHeight}`}`);
        continue;
      }
      for (let y = 0; y < i.height; y += span) {
        for (let x = 0; x < i.width; x += span) {
          const w = Math.min(span, i.width - x);
          const h = Math.min(span, i.height - y);
          urls.add(`${x},${y},${w},${h}/${Math.ceil(w / s)},${Math.ceil(h / s)}`);
        }
      }
    }
    for (const size of i.sizes!) urls.add(`full/${size.width},${size.height}`);
    expect(urls.size).toBeGreaterThan(20);
    for (const url of urls) {
      const file = join(ours, 'iiif', url, '0', 'default.jpg');
      expect(existsSync(file), url).toBe(true);
      const meta = await sharp(file).metadata();
      const [w, h] = url.split('/')[1] === 'max' ? [i.width, i.height] : url.split('/')[1]!.split(',').map(Number);
      expect([meta.width, meta.height], url).toEqual([w, h]);
    }
  });

  it('lists every file to publish once, with its content type, and no libvips by-products', async () => {
    const objects = [];
    for await (const o of pyramidObjects(ours)) objects.push(o);
    const keys = objects.map((o) => o.key);
    expect(keys).toEqual(filesUnder(ours));
    expect(keys).toEqual(expect.arrayContaining(['image.dzi', 'iiif/info.json', 'thumbnail.jpg', 'preview.jpg', 'image_files/0/0_0.jpg']));
    expect(keys.filter((k) => k.includes('vips-properties'))).toEqual([]);
    expect(objects.find((o) => o.key === 'image.dzi')!.contentType).toBe('application/xml');
    expect(objects.find((o) => o.key === 'thumbnail.jpg')!.contentType).toBe('image/jpeg');
    for (const o of objects) expect(o.bytes, o.key).toBe(statSync(o.file).size);
  });
});

describe('inputs', () => {
  it('reads PNG and a tiled pyramidal BigTIFF, and says what it read', async () => {
    const png = join(dir, 'slide.png');
    await writeTestSlide(png, 1024, 1024, 'png');
    const tiff = join(dir, 'slide.tif');
    await sharp(png).tiff({ tile: true, pyramid: true, bigtiff: true, compression: 'jpeg' }).toFile(tiff);
    for (const [file, format] of [[png, 'png'], [tiff, 'tiff']] as const) {
      const out = join(dir, `out-${format}`);
      const metadata = await buildPyramid(file, file, out, BASE_URL);
      expect(metadata).toEqual({ width: 1024, height: 1024, levels: 11, tileSize: 256, overlap: 1, format, bytes: statSync(file).size });
      expect(readdirSync(join(out, 'image_files', '10'))).toHaveLength(16);
    }
  });

  const refusals: [string, string, () => Promise<string>, Partial<typeof DEFAULT_PYRAMID_SETTINGS>?][] = [
    ['a text file', 'NotAnImage', async () => write('notes.jpg', Buffer.from('not an image at all\n'))],
    ['an empty file', 'NotAnImage', async () => write('empty.png', Buffer.alloc(0))],
    ['a truncated JPEG', 'TruncatedImage', async () => write('cut.jpg', readFileSync(source).subarray(0, Math.floor(statSync(source).size * 0.6)))],
    ['an image over the pixel cap', 'ImageOverPixelCap', async () => source, { maxInputPixels: WIDTH * HEIGHT - 1 }],
    ['an Aperio SVS (a TIFF that libvips alone would read)', 'NeedsOpenSlide', async () => write('slide.tif', tinyTiff(8, [{ tag: 270, text: 'Aperio Image Library v12.0.15 \r\n46000x32914 [0,100 46000x32814] (256x256) JPEG/RGB Q=30' }]))],
    ['a Hamamatsu NDPI', 'NeedsOpenSlide', async () => write('slide2.tif', tinyTiff(8, [{ tag: 65420, long: 1 }]))],
    ['an MRXS by name', 'NeedsOpenSlide', async () => write('slide.mrxs', readFileSync(source))],
  ];

  const write = (name: string, bytes: Buffer) => {
    const path = join(dir, 'bad', name);
    execFileSync('mkdir', ['-p', join(dir, 'bad')]);
    writeFileSync(path, bytes);
    return path;
  };

  it.each(refusals)('refuses %s as %s and writes nothing', async (what, code, make, settings) => {
    const path = await make();
    const out = join(dir, 'refused', what.replace(/\W+/g, '-'));
    const error = await buildPyramid(path, path, out, BASE_URL, { ...DEFAULT_PYRAMID_SETTINGS, ...settings }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SlideImageError);
    expect((error as SlideImageError).code, (error as Error).message).toBe(code);
    if (code === 'NeedsOpenSlide') expect((error as Error).message).toMatch(/OpenSlide/);
    expect(existsSync(out)).toBe(false);
  });

  it('says TruncatedImage every time, though both passes fail at once and libvips keeps one error message for both', async () => {
    const path = write('cut-again.jpg', readFileSync(source).subarray(0, Math.floor(statSync(source).size * 0.6)));
    const codes = [];
    for (let i = 0; i < 12; i++) {
      const error = await buildPyramid(path, path, join(dir, 'refused', `cut-${i}`), BASE_URL).catch((e: unknown) => e);
      codes.push((error as SlideImageError).code);
    }
    // one pass in three or so found the message already read ("Unknown error") before the failure raised was chosen
    expect(codes).toEqual(Array(12).fill('TruncatedImage'));
  });

  it('reads the tiny TIFF when no vendor is named in it, so the refusals above are about the vendor', async () => {
    const path = write('plain.tif', tinyTiff(8, [{ tag: 270, text: 'a plain grey square' }]));
    await expect(buildPyramid(path, path, join(dir, 'plain'), BASE_URL)).resolves.toMatchObject({ width: 8, height: 8, format: 'tiff' });
  });
});
