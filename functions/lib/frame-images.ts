// Where a video's extracted frames are stored: each ingest run (its job's id) writes the frames of each segment in one
// frame pack (frame-pack.ts) at frames/{videoId}/{run}/{firstFrame:06d}.zip, holding frame n as {n:06d}.jpg, and the
// analytics API reads frames back from them to draw a det_group's boxes on its best frames. Here, below both
// contexts, because analytics stands below ingest and may not import it. Pure.
//
// Before packs, frame n of a video was one object, frames/{videoId}/{n:06d}.jpg, shared by the video's runs (the
// last run's); the analytics API still reads such frames, nothing writes them.

/** A frame's file name: its number, zero-padded to six digits. */
export const frameFileName = (frame: number): string => `${String(frame).padStart(6, '0')}.jpg`;

/** Frame `frame` of a video as stored before packs (read only). */
export const unpackedFrameKey = (videoId: string, frame: number): string => `frames/${videoId}/${frameFileName(frame)}`;

/** Every pack of one ingest run of a video lies under this prefix. */
export const framePacksPrefix = (videoId: string, run: string): string => `frames/${videoId}/${run}/`;

/** The object key of the pack of the segment that begins at frame `firstFrame`. */
export const framePackKey = (videoId: string, run: string, firstFrame: number): string =>
  `${framePacksPrefix(videoId, run)}${String(firstFrame).padStart(6, '0')}.zip`;

/** The first frame of the pack at `key` (under `prefix`), or undefined for any other object. */
export function packFirstFrame(prefix: string, key: string): number | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const m = /^(\d{6,})\.zip$/.exec(key.slice(prefix.length));
  return m ? Number(m[1]) : undefined;
}

/** Of packs (keys under `prefix`), the one holding frame `frame`: the one beginning last at or before it. */
export function packHolding<P extends { readonly key: string }>(prefix: string, packs: readonly P[], frame: number): (P & { firstFrame: number }) | undefined {
  let best: (P & { firstFrame: number }) | undefined;
  for (const p of packs) {
    const firstFrame = packFirstFrame(prefix, p.key);
    if (firstFrame !== undefined && firstFrame <= frame && (!best || firstFrame > best.firstFrame)) best = { ...p, firstFrame };
  }
  return best;
}
