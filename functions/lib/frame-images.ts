// Where a video's extracted frames are stored: the ingest writes frame n of a video at frames/{videoId}/{n:06d}.jpg,
// and the analytics API reads them back to draw a det_group's boxes on its best frames. Here, below both contexts,
// because analytics stands below ingest and may not import it. Pure.

/** A frame's file name: its number, zero-padded to six digits. */
export const frameFileName = (frame: number): string => `${String(frame).padStart(6, '0')}.jpg`;

/** The object key of frame `frame` of a video in the media bucket. */
export const frameKey = (videoId: string, frame: number): string => `frames/${videoId}/${frameFileName(frame)}`;
