// ingest-frames (Task inside the ExtractFrames Map of video-ingest): extracts one segment's frames with ffmpeg
// and stores them in one frame pack, frames/{videoId}/{run}/{firstFrame:06d}.zip (the run: the job's id), with one
// PUT. A retry rewrites the same key with the same bytes; a resumed run skips a segment done whole.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { z } from 'zod';
import { s3 } from '../lib/aws.ts';
import { config } from '../lib/config.ts';
import { partTask } from '../jobs/step-task.ts';
import { framePackKey } from '../lib/frame-images.ts';
import { packLayout, type PackedFrame } from '../lib/frame-pack.ts';
import { extractSegment, threadsForMemory, type ExtractedFrame } from './extract.ts';

const Input = z.object({
  jobId: z.string().min(1),
  videoId: z.uuid(),
  bucket: z.string().min(3),
  key: z.string().min(1),
  fps: z.string().min(1),
  segment: z.object({
    index: z.number().int().min(0),
    firstFrame: z.number().int().min(0),
    frameCount: z.number().int().min(1),
    last: z.boolean(),
    seekSeconds: z.number().min(0),
  }),
});

/**
 * Written once and read rarely (a det_group's best frames, each drawn once and then kept drawn): Glacier Instant
 * Retrieval stores them at a fraction of Standard's price and still reads them in milliseconds.
 */
const FRAMES_STORAGE_CLASS = 'GLACIER_IR';

/** The pack of the frames ffmpeg wrote, streamed from their files: its size is known before its first byte. */
async function framePack(frames: readonly ExtractedFrame[]): Promise<{ body: Readable; size: number }> {
  const packed: PackedFrame[] = [];
  for (const f of frames) {
    const jpeg = await readFile(f.file);
    packed.push({ frame: f.frame, size: jpeg.length, crc32: crc32(jpeg) });
  }
  const layout = packLayout(packed);
  async function* bytes() {
    for (const [i, f] of frames.entries()) {
      yield layout.headers[i]!;
      const jpeg = await readFile(f.file);
      // the file is ffmpeg's, read twice: it must not have changed in between, or the header would lie
      if (jpeg.length !== packed[i]!.size) throw new Error(`frame ${f.frame} changed while it was being packed`);
      yield jpeg;
    }
    yield layout.trailer;
  }
  return { body: Readable.from(bytes(), { objectMode: false }), size: layout.size };
}

// A resumed run skips the segments an earlier run stored whole.
const parts = {
  step: 'frames',
  part: ({ segment }: { segment: { index: number } }) => String(segment.index),
  subject: ({ videoId, segment }: { videoId: string; segment: { index: number } }) => ({ videoId, segment: segment.index }),
  done: ({ segment }: { segment: { index: number; frameCount: number } }) => ({ segment: segment.index, frames: segment.frameCount }),
} as const;

export const handler = partTask(Input, parts, async ({ jobId, videoId, bucket, key, fps, segment }, context) => {
  const outDir = await mkdtemp(join(tmpdir(), `frames-${segment.index}-`));
  try {
    // ffmpeg reads the video straight from S3, seeking with range requests.
    const input = await getSignedUrl(s3(), new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 3600 });
    const frames = await extractSegment({
      ffmpegPath: config.ffmpegPath(),
      input,
      fps,
      segment,
      outDir,
      threads: threadsForMemory(Number(context.memoryLimitInMB)),
      timeoutMs: Math.max(10_000, context.getRemainingTimeInMillis() - 60_000),
    });
    const pack = await framePack(frames);
    await s3().send(
      new PutObjectCommand({
        Bucket: bucket, Key: framePackKey(videoId, jobId, segment.firstFrame), Body: pack.body, ContentLength: pack.size,
        ContentType: 'application/zip', StorageClass: FRAMES_STORAGE_CLASS,
      }),
    );
    return { segment: segment.index, frames: frames.length };
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
});
