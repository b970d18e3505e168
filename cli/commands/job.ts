// `framewise job <jobId> [--json]`: follows one job to its end with a display of its steps, then gives the
// final status (success / failure / error) and exit code. Also used by `framewise ingest` once its job exists.
import { clearScreenDown, moveCursor } from 'node:readline';
import { ApiError } from '../api.ts';
import { changedLines, isFinished, renderJob, type Job } from '../progress.ts';
import type { Outcome } from '../status.ts';
import { abortable, finish, outcomeOf, sleep, timingOf, type CommandContext, type Output } from './common.ts';

export interface JobOptions {
  readonly jobId: string;
  readonly json?: boolean;
}

export interface JobDisplay {
  update(job: Job): void;
}

/**
 * The live display of a job. On a terminal the job's lines are redrawn in place; otherwise only the lines that
 * changed are printed (state changes and every 10% of a step's progress), so a log stays short.
 */
export function jobDisplay(output: Output): JobDisplay {
  const term = output.terminal;
  if (!term) {
    let prev: Job | undefined;
    return {
      update(job) {
        for (const line of changedLines(prev, job)) output.out(line);
        prev = job;
      },
    };
  }
  let drawn = 0;
  let last = '';
  return {
    update(job) {
      const width = Math.max(20, (term.columns || 80) - 1);
      const lines = renderJob(job).map((l) => (l.length > width ? `${l.slice(0, width - 3)}...` : l));
      const text = lines.join('\n');
      if (text === last) return;
      if (drawn > 0) {
        moveCursor(term, 0, -drawn);
        clearScreenDown(term);
      }
      term.write(`${text}\n`);
      drawn = lines.length;
      last = text;
    },
  };
}

/** Network errors, 429 and 5xx may pass while a job is followed; anything else ends the following. */
const isTransient = (err: unknown): boolean =>
  err instanceof ApiError && (err.status === 0 || err.status === 429 || err.status >= 500);

/** Polls the job until it ends; returns the outcome (a job, an API error, or an interruption). */
export async function followJob(jobId: string, ctx: CommandContext, display?: JobDisplay): Promise<Outcome> {
  const timing = timingOf(ctx);
  const now = ctx.now ?? Date.now;
  let lastAnswer = now();
  let warned = false;
  try {
    for (;;) {
      let job: Job;
      try {
        job = await abortable(ctx.api.get<Job>(`/v1/jobs/${encodeURIComponent(jobId)}`), ctx.signal);
        lastAnswer = now();
        warned = false;
      } catch (err) {
        if (!isTransient(err) || now() - lastAnswer > timing.transientMs) throw err;
        if (!warned) ctx.output.err(`warning: ${(err as Error).message}; retrying`);
        warned = true;
        await sleep(timing.pollMs, ctx.signal);
        continue;
      }
      display?.update(job);
      if (isFinished(job)) return { kind: 'job', job };
      await sleep(timing.pollMs, ctx.signal);
    }
  } catch (err) {
    return outcomeOf(err, jobId);
  }
}

export async function runJob(opts: JobOptions, ctx: CommandContext): Promise<number> {
  const outcome = await followJob(opts.jobId, ctx, opts.json ? undefined : jobDisplay(ctx.output));
  if (opts.json && outcome.kind === 'job') ctx.output.out(JSON.stringify(outcome.job, null, 2));
  return finish(outcome, ctx.output, opts);
}
