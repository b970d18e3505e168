// A det_group's best frames in a video as the reader may see them (readableResults decides whose results), and each
// frame drawn with its boxes: the frame the results' run extracted (its frame pack under frames/, written by the
// ingest) with the boxes composited by sharp into a JPEG, kept under the media bucket's cache/ and handed out as a
// presigned URL. A frame is drawn once per version of the results it shows (renderedFrameKey); later requests find
// it in S3.
import { GetObjectCommand, NoSuchKey, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Principal } from '../lib/auth.ts';
import { listObjects, mediaObjectExists, s3 } from '../lib/aws.ts';
import { config } from '../lib/config.ts';
import { notFound } from '../lib/errors.ts';
import { framePacksPrefix, packHolding, unpackedFrameKey } from '../lib/frame-images.ts';
import { directoryInTail, END_RECORD, entryBytes, entryRange, parseDirectory, parseEndRecord } from '../lib/frame-pack.ts';
import { query } from '../lib/pg.ts';
import { getVideoState, type VideoState } from '../catalog/video-lifecycle.ts';
import { readableResults } from './access.ts';
import { boxesSvg, frameDetections, legendOf, rankFrames, renderedFrameKey, type FrameDetection, type Legend } from './best-frames.ts';
import { loadLocalizations } from './load-localizations.ts';
import type { Localizations } from './localizations.ts';
import { readFrames, type FrameSeriesRows, type ResultsKey, type Run } from './store.ts';

/** JPEG quality of a drawn frame; full-resolution chroma keeps thin coloured outlines their colour. */
const JPEG = { quality: 90, chromaSubsampling: '4:4:4' } as const;

interface Readable {
  readonly results: ResultsKey;
  readonly series: FrameSeriesRows;
  readonly video: VideoState;
}

/**
 * The results the reader may see, their series, and the video. Each run's frames are its own (a re-run waiting for
 * release leaves the released run's in place); the localizations are the video's, as the last upload left them.
 */
async function readable(principal: Principal, videoId: string, detGroupId: string): Promise<Readable> {
  const results = await readableResults(principal, videoId, detGroupId);
  const series = await readFrames(results);
  if (!series) throw notFound(`frames of video ${videoId} for det_group`, detGroupId);
  const video = await getVideoState(videoId);
  return { results, series, video };
}

async function detGroupLegend(detGroupId: string): Promise<Legend[]> {
  const rows = await query<{ name: string }>(
    'SELECT d.name FROM det_group_detectable dgd JOIN detectable d ON d.id = dgd.detectable_id WHERE dgd.det_group_id = $1',
    [detGroupId],
  );
  return legendOf(rows.map((r) => r.name));
}

export const renderedFramePath = (videoId: string, detGroupId: string, frame: number): string =>
  `/v1/videos/${videoId}/best-frames/${frame}.jpg?detGroup=${detGroupId}`;

export interface BestFrame {
  readonly frame: number;
  readonly time: number;
  readonly effectiveness: number;
  readonly count: number;
  readonly area: number;
  readonly score: number;
  readonly detections: FrameDetection[];
  /** Where the frame drawn with these boxes is served (a redirect to it). */
  readonly image: string;
}

export interface BestFrames {
  readonly videoId: string;
  readonly detGroupId: string;
  readonly frameRate: number;
  /** The size of the frame the boxes are given in (the localizations'). */
  readonly width: number;
  readonly height: number;
  readonly legend: Legend[];
  readonly frames: BestFrame[];
}

export async function bestFrames(principal: Principal, videoId: string, detGroupId: string, limit: number): Promise<BestFrames> {
  const { series, video } = await readable(principal, videoId, detGroupId);
  const [legend, localizations] = await Promise.all([detGroupLegend(detGroupId), loadLocalizations(video)]);
  const frames = rankFrames(series.frames, limit).map((f) => ({
    frame: f.frame,
    time: f.time,
    effectiveness: f.effectiveness,
    count: f.count,
    area: f.area,
    score: f.score,
    detections: frameDetections(localizations, f.time, series.frameRate, legend, series.threshold),
    image: renderedFramePath(videoId, detGroupId, f.frame),
  }));
  return { videoId, detGroupId, frameRate: series.frameRate, width: localizations.width, height: localizations.height, legend, frames };
}

/**
 * The end of a pack read first: the directory of a segment of 1,500 frames (56 bytes each) and the end record fit,
 * so one read finds every frame's place in the common case.
 */
const PACK_TAIL_BYTES = 128 * 1024;

async function rangeOf(key: string, start: number, end: number): Promise<Buffer> {
  const out = await s3().send(new GetObjectCommand({ Bucket: config.mediaBucket(), Key: key, Range: `bytes=${start}-${end}` }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

/** Frame `frame` from its run's pack: its place read from the pack's end, its bytes by one ranged GET; undefined if not there. */
async function packedFrame(pack: { key: string; size: number }, frame: number): Promise<Buffer | undefined> {
  if (pack.size < END_RECORD) return undefined;
  const tailStart = Math.max(0, pack.size - PACK_TAIL_BYTES);
  const tail = await rangeOf(pack.key, tailStart, pack.size - 1);
  const end = parseEndRecord(tail, pack.size);
  const directory = directoryInTail(tail, tailStart, end) ?? (await rangeOf(pack.key, end.offset, end.offset + end.size - 1));
  const entry = parseDirectory(directory, end).get(frame);
  if (!entry) return undefined;
  const range = entryRange(entry);
  return entryBytes(await rangeOf(pack.key, range.start, range.end), entry);
}

/**
 * Frame `frame` as `run` extracted it: from the pack that holds it (a LIST of the run's packs). A run without packs
 * stored its frames before packs, one object per frame shared by the video's runs: those are the run's only while
 * it is the run in place (the video's metricsRun), as results from before runs were named are.
 */
async function extractedFrame(video: Pick<VideoState, 'id' | 'metricsRun'>, run: Run, frame: number): Promise<Buffer> {
  const missing = () => notFound(`extracted frame ${frame} of video`, video.id);
  const prefix = run === null ? undefined : framePacksPrefix(video.id, run);
  // one LIST page holds 1,000 packs, far more than a game's
  const packs = prefix ? await listObjects(config.mediaBucket(), prefix) : [];
  if (packs.length > 0) {
    const pack = packHolding(prefix!, packs, frame);
    const jpeg = pack && (await packedFrame(pack, frame));
    if (!jpeg) throw missing();
    return jpeg;
  }
  if (video.metricsRun !== run) throw missing();
  try {
    const out = await s3().send(new GetObjectCommand({ Bucket: config.mediaBucket(), Key: unpackedFrameKey(video.id, frame) }));
    return Buffer.from(await out.Body!.transformToByteArray());
  } catch (err) {
    if (err instanceof NoSuchKey) throw missing();
    throw err;
  }
}

/** The extracted frame with the boxes drawn over it, as a JPEG. */
export async function drawFrame(image: Buffer, localizations: Pick<Localizations, 'width' | 'height'>, detections: readonly FrameDetection[]): Promise<Buffer> {
  // loaded on the first drawing: the function's other routes (metrics, often on a cold start) never need libvips
  const { default: sharp } = await import('sharp');
  const { width, height } = await sharp(image).metadata();
  if (!width || !height) throw new Error('the extracted frame has no size');
  const svg = boxesSvg({ width, height }, localizations, detections);
  return sharp(image).composite([{ input: Buffer.from(svg), top: 0, left: 0 }]).jpeg(JPEG).toBuffer();
}

export interface RenderedFrame {
  readonly url: string;
  /** Drawn by this request (`miss`) or found drawn (`hit`). */
  readonly cache: 'hit' | 'miss';
}

/** A presigned URL of frame `frame` drawn with the det_group's boxes, drawing it first unless it is stored. */
export async function renderedFrame(principal: Principal, videoId: string, detGroupId: string, frame: number): Promise<RenderedFrame> {
  const { results, series, video } = await readable(principal, videoId, detGroupId);
  const metric = series.frames.find((f) => f.frame === frame);
  if (!metric) throw notFound(`frame ${frame} among the frames of video ${videoId} for det_group`, detGroupId);
  const key = renderedFrameKey({ ...results, computedAt: series.computedAt, frame });
  let cache: RenderedFrame['cache'] = 'hit';
  if (!(await mediaObjectExists(key))) {
    const [image, legend, localizations] = await Promise.all([extractedFrame(video, results.run, frame), detGroupLegend(detGroupId), loadLocalizations(video)]);
    const detections = frameDetections(localizations, metric.time, series.frameRate, legend, series.threshold);
    const body = await drawFrame(image, localizations, detections);
    await s3().send(new PutObjectCommand({ Bucket: config.mediaBucket(), Key: key, Body: body, ContentType: 'image/jpeg' }));
    cache = 'miss';
  }
  const expiresIn = Math.min(config.presignedUrlSeconds(), 900);
  const url = await getSignedUrl(s3(), new GetObjectCommand({ Bucket: config.mediaBucket(), Key: key }), { expiresIn });
  return { url, cache };
}
