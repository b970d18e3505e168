// The pure parts of the slide pyramid: the TIFF directory sniffing that tells a whole-slide vendor file from a plain
// (pyramidal, Big)TIFF, the level count, thumbnail sizes, and the IIIF id.
import { describe, expect, it } from 'vitest';
import { contentTypeOf, deepZoomLevels, fitInside, rebaseIiifInfo, type IiifInfo } from '../../functions/slides/pyramid.ts';
import { tiffVendor } from '../../functions/slides/slide-image.ts';
import { tinyTiff } from '../support/tiff.ts';

/** The same directory as tinyTiff's, rewritten as a BigTIFF (header 16 bytes, 8-byte counts and offsets). */
function bigTiffWithDescription(description: string): Buffer {
  const text = Buffer.from(`${description}\0`, 'latin1');
  const entries = 2;
  const ifd = 16;
  const data = ifd + 8 + entries * 20 + 8;
  const out = Buffer.alloc(data + text.length);
  out.write('II', 0, 'latin1');
  out.writeUInt16LE(43, 2);
  out.writeUInt16LE(8, 4);
  out.writeBigUInt64LE(BigInt(ifd), 8);
  out.writeBigUInt64LE(BigInt(entries), ifd);
  out.writeUInt16LE(256, ifd + 8);
  out.writeUInt16LE(3, ifd + 10);
  out.writeBigUInt64LE(1n, ifd + 12);
  out.writeUInt16LE(8, ifd + 20);
  out.writeUInt16LE(270, ifd + 28);
  out.writeUInt16LE(2, ifd + 30);
  out.writeBigUInt64LE(BigInt(text.length), ifd + 32);
  out.writeBigUInt64LE(BigInt(data), ifd + 40);
  text.copy(out, data);
  return out;
}

describe('tiffVendor', () => {
  it('names Aperio, Hamamatsu, Leica and Philips directories, in TIFF and BigTIFF', () => {
    expect(tiffVendor(tinyTiff(4, [{ tag: 270, text: 'Aperio Image Library v10.0.51\r\n46920x33014 -> 1024x732' }]))).toBe('Aperio SVS files');
    expect(tiffVendor(tinyTiff(4, [{ tag: 65420, long: 1 }]))).toBe('Hamamatsu NDPI files');
    expect(tiffVendor(tinyTiff(4, [{ tag: 270, text: '<?xml version="1.0"?><scn xmlns="http://www.leica-microsystems.com/scn/2010/10/01">' }]))).toBe('Leica SCN files');
    expect(tiffVendor(tinyTiff(4, [{ tag: 270, text: '<DataObject ObjectType="DPUfsImport">' }]))).toBe('Philips TIFF files');
    expect(tiffVendor(bigTiffWithDescription('Aperio Image Library v12.0.15'))).toBe('Aperio SVS files');
  });

  it('names nothing for a plain TIFF, a short description, or what is not a TIFF', () => {
    expect(tiffVendor(tinyTiff(4))).toBeUndefined();
    expect(tiffVendor(tinyTiff(4, [{ tag: 270, text: 'ok' }]))).toBeUndefined();
    expect(tiffVendor(tinyTiff(4, [{ tag: 270, text: 'scanned with an Aperio-like stage' }]))).toBeUndefined();
    expect(tiffVendor(bigTiffWithDescription('a pyramid'))).toBeUndefined();
    expect(tiffVendor(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))).toBeUndefined();
    expect(tiffVendor(Buffer.from('II*\0'))).toBeUndefined();
  });

  it('does not read past the bytes it was given', () => {
    const full = tinyTiff(4, [{ tag: 270, text: 'Aperio Image Library' }]);
    expect(tiffVendor(full.subarray(0, 40))).toBeUndefined();
  });
});

describe('pyramid arithmetic', () => {
  it('counts Deep Zoom levels from 1 × 1 up, as dzsave does', () => {
    expect(deepZoomLevels(1, 1)).toBe(1);
    expect(deepZoomLevels(2, 1)).toBe(2);
    expect(deepZoomLevels(256, 256)).toBe(9);
    expect(deepZoomLevels(257, 100)).toBe(10);
    expect(deepZoomLevels(8000, 8000)).toBe(14);
    expect(deepZoomLevels(50_000, 50_000)).toBe(17);
  });

  it('fits thumbnails inside their box and never enlarges', () => {
    expect(fitInside(1500, 1100, 256)).toEqual({ width: 256, height: 188 });
    expect(fitInside(1100, 1500, 1024)).toEqual({ width: 751, height: 1024 });
    expect(fitInside(100, 80, 256)).toEqual({ width: 100, height: 80 });
    expect(fitInside(100_000, 10, 256)).toEqual({ width: 256, height: 1 });
  });

  it('serves info.json from the given base URL and types what it publishes', () => {
    const info: IiifInfo = {
      '@context': 'http://iiif.io/api/image/3/context.json',
      id: 'https://iiif.invalid/iiif',
      type: 'ImageService3',
      protocol: 'http://iiif.io/api/image',
      profile: 'level0',
      width: 10,
      height: 10,
      tiles: [{ width: 256, scaleFactors: [1] }],
    };
    expect(rebaseIiifInfo(info, 'https://cdn.example/slides/i-1/iiif/').id).toBe('https://cdn.example/slides/i-1/iiif');
    expect(contentTypeOf('image_files/3/0_0.jpg')).toBe('image/jpeg');
    expect(contentTypeOf('iiif/info.json')).toMatch(/^application\/ld\+json/);
    expect(contentTypeOf('image.dzi')).toBe('application/xml');
  });
});
