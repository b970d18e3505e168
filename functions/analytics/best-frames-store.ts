// A det_group's best frames in a video as the reader may see them (readableResults decides whose results), and each
// frame drawn with its boxes: the extracted frame (frames/, written by the ingest) with the boxes composited by sharp
// into a JPEG, kept under the media bucket's cache/ and handed out as a presigned URL. A frame is drawn once per
// version of the results it shows (renderedFrameKey); later requests find it in S3.
import { GetObjectCommand, NoSuchKey, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Principal } from '../lib/auth.ts';
import { mediaObjectExists, s3 } from '../lib/aws.ts';
import { config } from '../lib/config.ts';
import { conflict, notFound } from '../lib/errors.ts';
import { frameKey } from '../lib/frame-images.ts';
import { query } from '../lib/pg.ts';
import { getVideoState, type VideoState } from '../catalog/video-lifecycle.ts';
import { readableResults } from './access.ts';
import { boxesSvg, frameDetections, legendOf, rankFrames, renderedFrameKey, type FrameDetection, type Legend } from './best-frames.ts';
import { loadLocalizations } from './load-localizations.ts';
import type { Localizations } from './localizations.ts';
import { readFrames, type FrameSeriesRows, type ResultsKey } from './store.ts';

/** JPEG quality of a drawn frame; full-resolution chroma keeps thin coloured outlines their colour. */
const JPEG = { quality: 90, chromaSubsampling: '4:4:4' } as const;

interface Readable {
  readonly results: ResultsKey;
  readonly series: FrameSeriesRows;
  readonly video: VideoState;
}

/** The results the reader may see, their series, and the video, whose stored frames and localizations must be theirs. */
async function readable(principal: Principal, videoId: string, detGroupId: string): Promise<Readable> {
  const results = await readableResults(principal, videoId, detGroupId);
  const series = await readFrames(results);
  if (!series) throw notFound(`frames of video ${videoId} for det_group`, detGroupId);
  const video = await getVideoState(videoId);
  // Frames and localizations are stored once per video: after a re-run they are the new run's, which the results
  // read here (a client's released run) may not be. Drawing them would show another run, possibly an unreleased one.
  if (video.metricsRun !== results.run) {
    throw conflict(`The frames of video ${videoId} are those of another ingest run than the results shown (a re-run waits for release): best frames return once it is released`);
  }
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

async function extractedFrame(videoId: string, frame: number): Promise<Buffer> {
  try {
    const out = await s3().send(new GetObjectCommand({ Bucket: config.mediaBucket(), Key: frameKey(videoId, frame) }));
    return Buffer.from(await out.Body!.transformToByteArray());
  } catch (err) {
    if (err instanceof NoSuchKey) throw notFound(`extracted frame ${frame} of video`, videoId);
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
    const [image, legend, localizations] = await Promise.all([extractedFrame(videoId, frame), detGroupLegend(detGroupId), loadLocalizations(video)]);
    const detections = frameDetections(localizations, metric.time, series.frameRate, legend, series.threshold);
    const body = await drawFrame(image, localizations, detections);
    await s3().send(new PutObjectCommand({ Bucket: config.mediaBucket(), Key: key, Body: body, ContentType: 'image/jpeg' }));
    cache = 'miss';
  }
  const expiresIn = Math.min(config.presignedUrlSeconds(), 900);
  const url = await getSignedUrl(s3(), new GetObjectCommand({ Bucket: config.mediaBucket(), Key: key }), { expiresIn });
  return { url, cache };
}
