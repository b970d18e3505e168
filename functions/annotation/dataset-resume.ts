// annotation-dataset-resume (schedule, every 5 minutes): the warm start. A dataset version whose build stopped
// (its process died or timed out, its job ran out of runs) and has not moved for a while is continued here, from
// where it stopped, with the same plan; a version whose builds keep failing is marked failed.
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { logger } from '../lib/logger.ts';
import { listUnfinishedDatasets, recordDatasetFailure } from './annotation-store.ts';
import { buildDatasetVersion, failDatasetVersion } from './dataset-build.ts';

const Input = z.object({ graceSeconds: z.coerce.number().nonnegative().default(120) }).loose();
/** A version whose builds failed this often is given up. */
const MAX_FAILURES = 3;
const RESERVE_MS = 10_000;

export interface Resumed {
  checked: number;
  resumed: { name: string; version: number; complete: boolean }[];
  failed: string[];
}

export async function resumeDatasets(graceSeconds: number, deadline: number, now = Date.now()): Promise<Resumed> {
  const out: Resumed = { checked: 0, resumed: [], failed: [] };
  for (const doc of await listUnfinishedDatasets()) {
    out.checked++;
    if (Date.parse(doc.updatedAt) > now - graceSeconds * 1000) continue; // moving, or just created
    if (Date.now() > deadline) break;
    try {
      const summary = await buildDatasetVersion({ name: doc.dataset, version: doc.version, deadline });
      if (!summary.waiting) out.resumed.push({ name: doc.dataset, version: doc.version, complete: summary.complete });
    } catch (err) {
      const error = { code: (err as Error).name || 'Error', message: (err as Error).message };
      logger.error('dataset build failed', { name: doc.dataset, version: doc.version, error });
      if ((await recordDatasetFailure(doc.dataset, doc.version, error)) >= MAX_FAILURES) {
        await failDatasetVersion(doc.dataset, doc.version, error);
        out.failed.push(`${doc.dataset}/v${doc.version}`);
      }
    }
  }
  return out;
}

export const handler = async (event: unknown, context: Context): Promise<Resumed> => {
  const { graceSeconds } = Input.parse(event ?? {});
  const result = await resumeDatasets(graceSeconds, Date.now() + context.getRemainingTimeInMillis() - RESERVE_MS);
  logger.info('unfinished dataset builds checked', { ...result });
  return result;
};
