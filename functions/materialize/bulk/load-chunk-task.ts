// materialize-load-chunk (Task inside the Map of bulk-upload): one chunk into every staging table, once (the ledger).
import { z } from 'zod';
import { logger } from '../../lib/logger.ts';
import { partTask } from '../../jobs/step-task.ts';
import { ChunkSchema, loadChunk, UploadFileSchema, UploadTaskInput } from './upload.ts';

const Input = UploadTaskInput.extend({ files: z.array(UploadFileSchema).min(1), chunk: ChunkSchema });

const parts = {
  step: 'load',
  part: ({ chunk }: z.output<typeof Input>) => String(chunk.index),
  subject: ({ datastack, table, chunk }: z.output<typeof Input>) => ({ datastack, table, chunk: chunk.index }),
  // Counted once: a chunk found in the ledger was counted by the call that loaded it.
  did: ({ loaded }: { loaded: boolean }) => loaded,
} as const;

export const handler = partTask(Input, parts, async ({ jobId: _jobId, ...load }) => {
  const loaded = await loadChunk(load);
  logger.info(loaded ? 'chunk loaded' : 'chunk already loaded', { rows: load.chunk.rows });
  return { chunk: load.chunk.index, loaded };
});
