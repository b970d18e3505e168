// jobs-outcome (last Task of a workflow): the job succeeded, or failed with the error the Catch handed over.
import { z } from 'zod';
import { logger } from '../lib/logger.ts';
import { taskHandler } from '../lib/task.ts';
import { jobErrorFromCatch, workingSteps } from './job.ts';
import { getJob, moveJob } from './store.ts';

const Input = z.discriminatedUnion('outcome', [
  z.object({ jobId: z.string().min(1), outcome: z.literal('succeeded'), result: z.unknown().optional() }),
  z.object({ jobId: z.string().min(1), outcome: z.literal('failed'), error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }) }),
]);

/** A run's report is kept on its job when it is an object (a summary); anything else is left out. */
const reportOf = (result: unknown): Record<string, unknown> | undefined =>
  typeof result === 'object' && result !== null && !Array.isArray(result) ? (result as Record<string, unknown>) : undefined;

export const handler = taskHandler(Input, async (input) => {
  logger.appendKeys({ jobId: input.jobId });
  // The steps still working end with the run, in the same write as the job's state.
  const before = await getJob(input.jobId);
  const steps = before ? workingSteps(before) : [];
  const job =
    input.outcome === 'succeeded'
      ? await moveJob(input.jobId, 'succeeded', { result: reportOf(input.result), endSteps: { steps, state: 'succeeded' } })
      : await moveJob(input.jobId, 'failed', { error: jobErrorFromCatch(input.error), endSteps: { steps, state: 'failed' } });
  logger.info('job outcome recorded', { outcome: input.outcome, recorded: Boolean(job) });
  return { jobId: input.jobId, state: job?.state ?? 'unchanged' };
});
