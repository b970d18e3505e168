// What ffprobe says about a file, reduced to what Framewise stores on a video. Pure.
import { TaskError } from '../lib/errors.ts';

export interface VideoProbe {
  readonly durationSeconds: number;
  readonly frameRate: number;
  /** The same rate exactly, as ffprobe gives it ("30000/1001"): what frame numbers are computed with. */
  readonly exactFrameRate: string;
  readonly width: number;
  readonly height: number;
  readonly codec: string;
  /** What frame extraction plans with: the video stream's own duration and start, and the file's start. */
  readonly streamDurationSeconds: number;
  readonly streamStartSeconds: number;
  readonly fileStartSeconds: number;
}

/** The upload is not something we can ingest; retrying will not help, but the workflow's policy still applies. */
export class NotAVideoError extends TaskError {
  constructor(message: string) {
    super('NotAVideo', message);
  }
}

interface FfprobeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  duration?: string;
  start_time?: string;
  disposition?: { attached_pic?: number };
}

interface FfprobeOutput {
  streams?: FfprobeStream[];
  format?: { duration?: string; start_time?: string; format_name?: string };
}

/** "30000/1001" → 29.97; "0/0" → NaN. */
export function parseRate(rate: string | undefined): number {
  if (!rate) return Number.NaN;
  const [num, den] = rate.split('/').map(Number);
  if (den === undefined) return num ?? Number.NaN;
  return den === 0 ? Number.NaN : num! / den;
}

export function videoProbeFrom(output: FfprobeOutput): VideoProbe {
  // A cover image in an audio file is a "video" stream with attached_pic: not a video.
  const stream = output.streams?.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  if (!stream) throw new NotAVideoError('The uploaded file is not a video: it has no video stream');
  const exactFrameRate = [stream.avg_frame_rate, stream.r_frame_rate].find((r) => Number.isFinite(parseRate(r)) && parseRate(r) > 0);
  const frameRate = exactFrameRate === undefined ? undefined : parseRate(exactFrameRate);
  const durationSeconds = [Number(output.format?.duration), Number(stream.duration)].find((d) => Number.isFinite(d) && d > 0);
  if (!frameRate || !exactFrameRate) throw new NotAVideoError('The uploaded file is not a video: its video stream has no frame rate');
  if (!durationSeconds) throw new NotAVideoError('The uploaded file is not a video: it has no duration');
  if (!stream.width || !stream.height) throw new NotAVideoError('The uploaded file is not a video: its frames have no size');
  return {
    durationSeconds,
    frameRate: Math.round(frameRate * 1000) / 1000,
    exactFrameRate,
    width: stream.width,
    height: stream.height,
    codec: stream.codec_name ?? 'unknown',
    streamDurationSeconds: finiteOr(Number(stream.duration), durationSeconds),
    streamStartSeconds: finiteOr(Number(stream.start_time), 0),
    fileStartSeconds: finiteOr(Number(output.format?.start_time), finiteOr(Number(stream.start_time), 0)),
  };
}

const finiteOr = (value: number, fallback: number): number => (Number.isFinite(value) ? value : fallback);
