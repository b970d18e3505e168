// A video's extracted frames as the media bucket holds them: every frame pack under frames/{videoId}/, read whole and
// opened with the pack reader, by run and frame. Every object there must be a pack of a run.
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { packFirstFrame } from '../../functions/lib/frame-images.ts';
import { entryBytes, entryRange, parseDirectory, parseEndRecord } from '../../functions/lib/frame-pack.ts';

export interface StoredPack {
  readonly run: string;
  readonly firstFrame: number;
  readonly key: string;
  /** Each frame's JPEG, in the pack's order. */
  readonly frames: Map<number, Buffer>;
}

/** Every frame pack of a video, by key; throws on an object under frames/{videoId}/ that is not one. */
export async function storedPacks(s3: S3Client, bucket: string, videoId: string): Promise<StoredPack[]> {
  const prefix = `frames/${videoId}/`;
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key!));
    token = page.NextContinuationToken;
  } while (token);
  const packs: StoredPack[] = [];
  for (const key of keys.sort()) {
    const run = key.slice(prefix.length).split('/')[0]!;
    const firstFrame = packFirstFrame(`${prefix}${run}/`, key);
    if (firstFrame === undefined) throw new Error(`${key} is not a frame pack`);
    const bytes = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray());
    const end = parseEndRecord(bytes, bytes.length);
    const frames = new Map<number, Buffer>();
    for (const entry of parseDirectory(bytes.subarray(end.offset, end.offset + end.size), end).values()) {
      const { start, end: last } = entryRange(entry);
      frames.set(entry.frame, entryBytes(bytes.subarray(start, last + 1), entry));
    }
    packs.push({ run, firstFrame, key, frames });
  }
  return packs;
}

/** The frames of a video's packs, by run: each run's frames from all its packs, in frame order. */
export async function storedFrames(s3: S3Client, bucket: string, videoId: string): Promise<Map<string, Map<number, Buffer>>> {
  const runs = new Map<string, Map<number, Buffer>>();
  for (const pack of await storedPacks(s3, bucket, videoId)) {
    const frames = runs.get(pack.run) ?? new Map<number, Buffer>();
    for (const [frame, jpeg] of pack.frames) {
      if (frames.has(frame)) throw new Error(`frame ${frame} of run ${pack.run} is in two packs`);
      frames.set(frame, jpeg);
    }
    runs.set(pack.run, new Map([...frames].sort(([a], [b]) => a - b)));
  }
  return runs;
}
