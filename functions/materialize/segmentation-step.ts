// One invocation of a segmentation refresh step (ingest, update) as a job step: started by the first invocation,
// finished by the one that completes it. In the complete workflow a datastack without a segmentation source
// passes the step: it has no volume to look up and no roots to refresh, but still gets its versions.
import { finishStep, startStep } from '../jobs/store.ts';
import { getSource } from './segmentation-source.ts';

export type Skipped = { readonly complete: true; readonly skipped: 'no segmentation source' };

export async function runSegmentationStep<S extends { readonly complete: boolean }>(
  step: 'ingest' | 'update',
  input: { jobId: string; datastack: string; continuing: boolean; ifSourceRegistered: boolean },
  run: () => Promise<S>,
): Promise<S | Skipped> {
  if (!input.continuing) await startStep(input.jobId, step);
  if (input.ifSourceRegistered && !(await getSource(input.datastack))) {
    await finishStep(input.jobId, step);
    return { complete: true, skipped: 'no segmentation source' };
  }
  const summary = await run();
  if (summary.complete) await finishStep(input.jobId, step);
  return summary;
}
