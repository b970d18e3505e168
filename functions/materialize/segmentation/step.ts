// A segmentation refresh step (ingest, update) of a job, done over several invocations: the first starts it, the one
// that completes the run finishes it. In the complete workflow a datastack without a segmentation source passes the
// step: it has no volume to look up and no roots to refresh, but still gets its versions.
import { getSource } from './source.ts';

export type Skipped = { readonly complete: true; readonly skipped: 'no segmentation source' };

type StepInput = { readonly datastack: string; readonly continuing: boolean; readonly ifSourceRegistered: boolean };

/** The step options (jobs/step-task.ts) of a refresh step. */
export const refreshStep = <S extends 'ingest' | 'update'>(step: S) =>
  ({
    step,
    subject: ({ datastack }: StepInput) => ({ datastack }),
    invocations: { first: ({ continuing }: StepInput) => !continuing, complete: ({ complete }: { readonly complete: boolean }) => complete },
  }) as const;

/** The run, unless the step passes for want of a segmentation source. */
export async function unlessNoSource<S extends { readonly complete: boolean }>(input: StepInput, run: () => Promise<S>): Promise<S | Skipped> {
  if (input.ifSourceRegistered && !(await getSource(input.datastack))) return { complete: true, skipped: 'no segmentation source' };
  return run();
}
