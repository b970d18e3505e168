// ingest-frames (Task inside the ExtractFrames Map of video-ingest): extracts one segment's frames with ffmpeg
// and stores them at frames/{videoId}/{frame:06d}.jpg. A retry rewrites the same keys; a resumed run skips a
// segment done whole.
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { z } from 'zod';
import { s3 } from '../lib/aws.ts';
import { config } from '../lib/config.ts';
import { partTask } from '../jobs/step-task.ts';
import { frameKey } from '../lib/frame-images.ts';
import { extractSegment, threadsForMemory } from './extract.ts';

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

/** Uploads run this many at a time: enough to hide S3 latency, few enough for Lambda's sockets. */
const UPLOAD_CONCURRENCY = 16;

// A resumed run skips the segments an earlier run stored whole.
const parts = {
  step: 'frames',
  part: ({ segment }: { segment: { index: number } }) => String(segment.index),
  subject: ({ videoId, segment }: { videoId: string; segment: { index: number } }) => ({ videoId, segment: segment.index }),
  done: ({ segment }: { segment: { index: number; frameCount: number } }) => ({ segment: segment.index, frames: segment.frameCount }),
} as const;

export const handler = partTask(Input, parts, async ({ videoId, bucket, key, fps, segment }, context) => {
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
    let next = 0;
    const upload = async () => {
      while (next < frames.length) {
        const f = frames[next++]!;
        await s3().send(
          new PutObjectCommand({ Bucket: bucket, Key: frameKey(videoId, f.frame), Body: createReadStream(f.file), ContentType: 'image/jpeg' }),
        );
      }
    };
    await Promise.all(Array.from({ length: UPLOAD_CONCURRENCY }, upload));
    return { segment: segment.index, frames: frames.length };
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
});
