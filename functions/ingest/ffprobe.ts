import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { config } from '../lib/config.ts';
import { NotAVideoError, videoProbeFrom, type VideoProbe } from './probe-result.ts';

const run = promisify(execFile);

/** Probes a video by URL (a presigned S3 GET): ffprobe reads only the bytes it needs. */
export async function probeVideo(url: string): Promise<VideoProbe> {
  let stdout: string;
  try {
    ({ stdout } = await run(config.ffprobePath(), ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', url], {
      maxBuffer: 16 * 1024 * 1024,
      timeout: 90_000,
    }));
  } catch (err) {
    const e = err as { stderr?: string; code?: number | string | null; killed?: boolean; signal?: string | null };
    if (e.killed) throw new Error('ffprobe did not finish within 90 s');
    if (e.signal) {
      // The bundled ffprobe build is known to crash on MPEG-TS input.
      throw new NotAVideoError(`ffprobe crashed (${e.signal}) reading the upload; if it is MPEG-TS, remux it to MP4 and upload again`);
    }
    if (typeof e.code !== 'number') throw err; // ffprobe itself could not run: an operational error
    const reason = (e.stderr ?? '').trim().split('\n').pop()?.replace(/^.*?: /, '') || `ffprobe exited with ${e.code}`;
    throw new NotAVideoError(`The uploaded file is not a video ffprobe can read: ${reason}`);
  }
  return videoProbeFrom(JSON.parse(stdout) as Parameters<typeof videoProbeFrom>[0]);
}
