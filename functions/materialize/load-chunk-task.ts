// materialize-load-chunk (Task inside the Map of bulk-upload): one chunk into every table, once (the ledger).
import { z } from 'zod';
import { logger } from '../lib/logger.ts';
import { taskHandler } from '../lib/task.ts';
import { finishStep } from '../jobs/store.ts';
import { ChunkSchema, DATASTACK, loadChunk, MappingText, UploadFileSchema } from './bulk.ts';

const Input = z.object({
  jobId: z.string().min(1),
  datastack: z.string().regex(DATASTACK),
  uploadId: z.string().min(1),
  bucket: z.string().min(1),
  table: z.string().min(1),
  schema: z.string().min(1),
  columnMapping: MappingText,
  files: z.array(UploadFileSchema).min(1),
  chunk: ChunkSchema,
});

export const handler = taskHandler(Input, async ({ jobId, ...load }) => {
  logger.appendKeys({ jobId, datastack: load.datastack, table: load.table, chunk: load.chunk.index });
  const loaded = await loadChunk(load);
  // Counted once: a chunk found in the ledger was counted by the call that loaded it.
  if (loaded) await finishStep(jobId, 'load', 1);
  logger.info(loaded ? 'chunk loaded' : 'chunk already loaded', { rows: load.chunk.rows });
  return { chunk: load.chunk.index, loaded };
});
