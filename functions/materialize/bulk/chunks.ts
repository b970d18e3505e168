// Chunk plans (runs of rows, 100,000 by default, as CAVE's materialization does) and, per chunk and `.npy`
// file, the byte ranges to read from S3. Pure.
import type { NpyHeader } from '../npy.ts';

export const DEFAULT_CHUNK_ROWS = 100_000;

export interface Chunk {
  /** 0-based position in the plan; stable for a given (rows, chunkRows), so it can key idempotent loads. */
  index: number;
  firstRow: number;
  rows: number;
}

/** Rows [0, rows) cut into chunks of chunkRows (the last one shorter). No rows, no chunks. */
export function planChunks({ rows, chunkRows = DEFAULT_CHUNK_ROWS }: { rows: number; chunkRows?: number }): Chunk[] {
  if (!Number.isSafeInteger(rows) || rows < 0) throw new RangeError(`rows must be a non-negative integer, got ${rows}`);
  if (!Number.isSafeInteger(chunkRows) || chunkRows < 1) throw new RangeError(`chunkRows must be a positive integer, got ${chunkRows}`);
  const chunks: Chunk[] = [];
  for (let firstRow = 0, index = 0; firstRow < rows; firstRow += chunkRows, index++) {
    chunks.push({ index, firstRow, rows: Math.min(chunkRows, rows - firstRow) });
  }
  return chunks;
}

export interface ByteRange {
  /** Absolute offset in the object. */
  offset: number;
  length: number;
  /** The array column this range holds, or undefined when it holds all columns interleaved row by row (C order). */
  column?: number;
}

/** The HTTP Range header for a range (inclusive end), e.g. `bytes=128-927`. Only for non-empty ranges. */
export function rangeHeader(range: ByteRange): string {
  if (range.length < 1) throw new RangeError('an empty range has no Range header');
  return `bytes=${range.offset}-${range.offset + range.length - 1}`;
}

/**
 * The byte ranges of one chunk of one file. C order (and any 1-D array): one contiguous range holding the chunk's
 * rows with their columns interleaved. Fortran order with k > 1 columns: k ranges, one per column (column j of an
 * (N, k) array is stored at [j × N, (j + 1) × N) elements), in column order.
 */
export function byteRanges(
  header: Pick<NpyHeader, 'dtype' | 'fortranOrder' | 'rows' | 'columns'>,
  dataOffset: number,
  chunk: Pick<Chunk, 'firstRow' | 'rows'>,
): ByteRange[] {
  const { rows, columns, fortranOrder } = header;
  const size = header.dtype.itemSize;
  if (chunk.firstRow < 0 || chunk.rows < 0 || chunk.firstRow + chunk.rows > rows) {
    throw new RangeError(`chunk rows [${chunk.firstRow}, ${chunk.firstRow + chunk.rows}) are outside the array's ${rows} rows`);
  }
  if (!fortranOrder || columns === 1) {
    return [{ offset: dataOffset + chunk.firstRow * columns * size, length: chunk.rows * columns * size }];
  }
  return Array.from({ length: columns }, (_, j) => ({
    offset: dataOffset + (j * rows + chunk.firstRow) * size,
    length: chunk.rows * size,
    column: j,
  }));
}
