// Task functions that do one step of a job, or one part of a step made of parts: every such task records the
// step on its job the same way, here. The job's logs carry its subject; a step is started before the work and
// finished after it; a part an earlier run finished is not done again (a resumed run skips it).
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { logger } from '../lib/logger.ts';
import { taskHandler } from '../lib/task.ts';
import type { StepName } from './job.ts';
import { finishPart, finishStep, startPart, startStep } from './store.ts';

type JobInput = { readonly jobId: string };

export interface StepOptions<I, R> {
  readonly step: StepName;
  /** What the logs say the job is about, besides its id (video, det_group, datastack ...). */
  readonly subject: (input: I) => Record<string, unknown>;
  /** A step made of parts ends with its last part: the task after it finishes it before starting its own. */
  readonly after?: StepName;
  /**
   * The step after this one, when this step decides how many parts it has (it is started with that total); undefined
   * when this run's result has no such step.
   */
  readonly next?: (result: R) => { readonly step: StepName; readonly parts: number } | undefined;
  /**
   * A step done over several invocations, each going on where the one before stopped: the first starts it, and the
   * one whose result says so finishes it.
   */
  readonly invocations?: { readonly first: (input: I) => boolean; readonly complete: (result: R) => boolean };
}

export function stepTask<S extends z.ZodType<JobInput>, R>(
  schema: S,
  options: StepOptions<z.output<S>, R>,
  run: (input: z.output<S>, context: Context) => Promise<R>,
) {
  return taskHandler(schema, async (input, context) => {
    logger.appendKeys({ jobId: input.jobId, ...options.subject(input) });
    if (options.after) await finishStep(input.jobId, options.after);
    if (options.invocations?.first(input) ?? true) await startStep(input.jobId, options.step);
    const result = await run(input, context);
    if (options.invocations?.complete(result) ?? true) await finishStep(input.jobId, options.step);
    const next = options.next?.(result);
    if (next) await startStep(input.jobId, next.step, next.parts);
    return result;
  });
}

export type PartOptions<I, R> = {
  readonly step: StepName;
  readonly part: (input: I) => string;
  readonly subject: (input: I) => Record<string, unknown>;
} & (
  | {
      /** What the task answers for a part an earlier run finished (the job records the parts done). */
      readonly done: (input: I) => R;
    }
  | {
      /**
       * The work keeps its own record of the parts done and does nothing for one done before: whether this run did
       * the part, which only then counts.
       */
      readonly did: (result: R) => boolean;
    }
);

export function partTask<S extends z.ZodType<JobInput>, R>(
  schema: S,
  options: PartOptions<z.output<S>, R>,
  run: (input: z.output<S>, context: Context) => Promise<R>,
) {
  return taskHandler(schema, async (input, context) => {
    logger.appendKeys({ jobId: input.jobId, ...options.subject(input) });
    const part = options.part(input);
    const started = await startPart(input.jobId, options.step, part);
    if ('did' in options) {
      const result = await run(input, context);
      if (options.did(result)) await finishStep(input.jobId, options.step, 1);
      return result;
    }
    if (started?.done) return options.done(input);
    const result = await run(input, context);
    await finishPart(input.jobId, options.step, part);
    return result;
  });
}
