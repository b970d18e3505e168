// A slide pyramid built in regions is the one-pass pyramid: every Deep Zoom and IIIF tile, image.dzi and info.json
// byte-equal, for a JPEG split into six regions one halving below full size and an odd-sized tiled TIFF split two
// halvings below; an image with alpha is not split. Then the split path end to end on a local cloud of its own with
// a low region threshold (four regions): upload, the slide-image workflow's Map of regions and the overview, every
// published object equal to a one-pass build, the job counting the regions as parts.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_PYRAMID_SETTINGS, dice, type PyramidSettings } from '../../functions/slides/pyramid.ts';
import { planRegions, splitsExactly, type SplitPlan } from '../../functions/slides/regions.ts';
import { inspectSlideImage } from '../../functions/slides/slide-image.ts';
import { diceOverview, diceRegion, readRegion } from '../../functions/slides/split-pyramid.ts';
import { startLocalCloud, type LocalCloud } from '../../infra/local/cloud.ts';
import { eventually, strictApiClient } from '../support/api.ts';
import { TEST_CLOUD_OPTIONS } from '../support/cloud-options.ts';
import { writeTestSlide } from '../support/slide-images.ts';

const dir = mkdtempSync(join(tmpdir(), 'framewise-slides-split-'));
const IIIF_ID = 'https://iiif.invalid';
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const filesUnder = (root: string) =>
  readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();

/** The split pyramid of `source` into `outDir`, each region as its own Lambda does it: its own read, its own folder. */
async function buildSplit(source: string, outDir: string, plan: SplitPlan, settings: PyramidSettings): Promise<void> {
  const splitFiles: string[] = [];
  for (const region of plan.regions) {
    const work = join(outDir, '..', `region-${region.index}`);
    mkdirSync(work, { recursive: true });
    await readRegion(source, 'slide', region, join(work, 'region.v'), settings);
    await diceRegion(join(work, 'region.v'), 'slide', join(work, 'out'), join(work, 'split-level.v'), plan, region, settings);
    for (const f of filesUnder(join(work, 'out'))) {
      expect(existsSync(join(outDir, f)), `${f} written by two regions`).toBe(false);
      cpSync(join(work, 'out', f), join(outDir, f));
    }
    splitFiles.push(join(work, 'split-level.v'));
  }
  await diceOverview(splitFiles, 'slide', outDir, IIIF_ID, plan, settings);
}

/** Every file of both folders: the same names, and the names whose bytes differ. */
function differences(a: string, b: string): { names: [string[], string[]]; differing: string[]; files: number } {
  const x = filesUnder(a);
  const y = filesUnder(b);
  const differing = x.filter((f) => y.includes(f) && !readFileSync(join(a, f)).equals(readFileSync(join(b, f))));
  return { names: [x.filter((f) => !y.includes(f)), y.filter((f) => !x.includes(f))], differing, files: x.length };
}

describe('split pyramid against one pass', () => {
  it.each([
    ['a 3000 × 2000 JPEG in six regions', 'slide.jpg', 3000, 2000, 1_500_000, 1, 6],
    ['a 3001 × 2001 tiled TIFF, two halvings', 'slide.tif', 3001, 2001, 380_000, 2, 6],
  ])('%s: every tile and both descriptors byte-equal', async (_what, name, width, height, maxPixelsPerRegion, shrinks, regions) => {
    const source = join(dir, name);
    const jpeg = join(dir, `${name}.jpg`);
    await writeTestSlide(jpeg, width, height, 'jpeg');
    if (name.endsWith('.tif')) await sharp(jpeg).tiff({ tile: true, tileWidth: 256, tileHeight: 256 }).toFile(source);
    else cpSync(jpeg, source);
    const settings = { ...DEFAULT_PYRAMID_SETTINGS, maxPixelsPerRegion };
    const image = await inspectSlideImage(source, name, settings.maxInputPixels);
    expect(splitsExactly(image)).toBe(true);
    const plan = planRegions(width, height, settings.tileSize, maxPixelsPerRegion);
    if (!plan.split) throw new Error('not split');
    expect([plan.shrinks, plan.regions.length]).toEqual([shrinks, regions]);

    const one = join(dir, `${name}-one`);
    const split = join(dir, `${name}-split`, 'out');
    mkdirSync(one, { recursive: true });
    mkdirSync(split, { recursive: true });
    await dice(source, name, one, IIIF_ID, settings);
    await buildSplit(source, split, plan, settings);
    const diff = differences(one, split);
    expect(diff.names).toEqual([[], []]);
    expect(diff.differing).toEqual([]);
    expect(diff.files).toBeGreaterThan(200);
  });

  it('dices an image with alpha in one pass: its levels above a split would not be libvips\'', async () => {
    const source = join(dir, 'alpha.png');
    await sharp({ create: { width: 3000, height: 2000, channels: 4, background: { r: 10, g: 200, b: 30, alpha: 0.5 } } }).png().toFile(source);
    const image = await inspectSlideImage(source, 'alpha.png', DEFAULT_PYRAMID_SETTINGS.maxInputPixels);
    expect(image).toMatchObject({ channels: 4, hasAlpha: true, depth: 'uchar' });
    expect(splitsExactly(image)).toBe(false);
  });
});

describe('split path through the slide-image workflow', () => {
  let cloud: LocalCloud | undefined;
  const cloudDir = join(dir, 'cloud');
  afterAll(async () => {
    await cloud?.stop();
  });

  it('dices a 2000 × 1200 JPEG over a 1.1 Mpx threshold in four regions, every published object as one pass writes it', async () => {
    mkdirSync(cloudDir, { recursive: true });
    cloud = await startLocalCloud({ dir: cloudDir, ...TEST_CLOUD_OPTIONS, environment: { SLIDE_MAX_PIXELS_PER_REGION: '1100000' } });
    const api = strictApiClient(cloud.endpoints.api, cloud.credentials.adminApiKey);
    const source = join(dir, 'upload.jpg');
    await writeTestSlide(source, 2000, 1200, 'jpeg', 11);
    const file = readFileSync(source);
    const session = await api('POST', '/v1/slides/sessions', { name: 'split' });
    const started = await api('POST', '/v1/slides/uploads', { filename: 'upload.jpg', sizeBytes: file.length, sessionId: session.id });
    expect(started.plan.method).toBe('PUT');
    const put = await fetch(started.plan.url, { method: 'PUT', headers: started.plan.headers, body: file });
    expect(put.status).toBe(200);
    await api('POST', `/v1/slides/uploads/${started.image.id}/complete`, {});
    const imageId: string = started.image.id;
    const ready = await eventually(async () => {
      const image = await api('GET', `/v1/slides/images/${imageId}`);
      return image.state === 'ready' || image.state === 'failed' ? image : undefined;
    }, 'the split image ready', 90_000);
    expect(ready, JSON.stringify(ready.error)).toMatchObject({ state: 'ready', width: 2000, height: 1200, levels: 12 });
    // the image is ready at Finish; the job's outcome is the workflow's next state
    const job = await eventually(async () => {
      const body = await api('GET', `/v1/jobs/${ready.jobId}`);
      return body.state === 'working' ? undefined : body;
    }, `job ${ready.jobId}`, 20_000);
    expect(job.state).toBe('succeeded');
    expect(job.steps.regions).toMatchObject({ state: 'succeeded', done: 4, total: 4 });

    const one = join(dir, 'upload-one');
    mkdirSync(one);
    await dice(source, 'upload.jpg', one, IIIF_ID, DEFAULT_PYRAMID_SETTINGS);
    const expected = filesUnder(one);
    const s3 = new S3Client({ endpoint: cloud.endpoints.s3, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    const prefix = `slides/${imageId}/`;
    const keys: string[] = [];
    for (let token: string | undefined; ; ) {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: 'framewise-media', Prefix: prefix, ContinuationToken: token }));
      keys.push(...(page.Contents ?? []).map((o) => o.Key!.slice(prefix.length)));
      if (!page.IsTruncated) break;
      token = page.NextContinuationToken;
    }
    const published = keys.filter((k) => !k.startsWith('staged/') && k !== 'thumbnail.jpg' && k !== 'preview.jpg').sort();
    expect(published).toEqual(expected);
    const differing: string[] = [];
    for (const key of published) {
      const object = await s3.send(new GetObjectCommand({ Bucket: 'framewise-media', Key: `${prefix}${key}` }));
      if (!Buffer.from(await object.Body!.transformToByteArray()).equals(readFileSync(join(one, key)))) differing.push(key);
    }
    expect(differing).toEqual([]);
  });
});
