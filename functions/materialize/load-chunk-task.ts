// materialize-load-chunk (Task inside the Map of bulk-upload): one chunk into every staging table, once (the ledger).
import { z } from 'zod';
import { logger } from '../lib/logger.ts';
import { taskHandler } from '../lib/task.ts';
import { finishStep, startPart } from '../jobs/store.ts';
import { ChunkSchema, loadChunk, UploadFileSchema, UploadTaskInput } from './bulk.ts';

const Input = UploadTaskInput.extend({ files: z.array(UploadFileSchema).min(1), chunk: ChunkSchema });

export const handler = taskHandler(Input, async ({ jobId, ...load }) => {
  logger.appendKeys({ jobId, datastack: load.datastack, table: load.table, chunk: load.chunk.index });
  await startPart(jobId, 'load', String(load.chunk.index));
  const loaded = await loadChunk(load);
  // Counted once: a chunk found in the ledger was counted by the call that loaded it.
  if (loaded) await finishStep(jobId, 'load', 1);
  logger.info(loaded ? 'chunk loaded' : 'chunk already loaded', { rows: load.chunk.rows });
  return { chunk: load.chunk.index, loaded };
});
