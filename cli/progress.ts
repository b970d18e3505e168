// A job as the CLI shows it: pure functions from a job to the lines that describe it. The live display
// (cli/commands/job.ts) redraws these lines in place on a terminal, or prints the lines that changed otherwise.

export const STEP_ORDER = ['probe', 'localizations', 'plan', 'frames', 'metrics'] as const;

export type JobState = 'queued' | 'working' | 'succeeded' | 'failed';
export type StepState = 'pending' | 'working' | 'succeeded' | 'failed';

export interface StepProgress {
  readonly state: StepState;
  readonly attempts?: number;
  readonly done?: number;
  readonly total?: number;
}

/** The job as `GET /v1/jobs/{id}` returns it (the fields the CLI uses). */
export interface Job {
  readonly jobId: string;
  readonly videoId?: string;
  readonly state: JobState;
  readonly attempts: number;
  readonly error?: { readonly code: string; readonly message: string };
  readonly steps?: Readonly<Record<string, StepProgress>>;
  /** The step that runs (or ran last). */
  readonly currentStep?: string;
  readonly createdAt?: string;
  readonly updatedAt?: string;
}

export interface StepView {
  readonly name: string;
  readonly state: StepState;
  readonly attempts?: number;
  readonly done?: number;
  readonly total?: number;
}

export const isFinished = (job: Pick<Job, 'state'>): boolean => job.state === 'succeeded' || job.state === 'failed';

/** Every step in workflow order (steps the job has not reached are `pending`); unknown steps follow, as given. */
export function orderedSteps(job: Job): StepView[] {
  const steps = job.steps ?? {};
  const known: readonly string[] = STEP_ORDER;
  const names = [...STEP_ORDER, ...Object.keys(steps).filter((n) => !known.includes(n))];
  return names.map((name) => {
    const s = steps[name];
    if (!s) return { name, state: 'pending' };
    return {
      name,
      state: s.state,
      ...(s.attempts !== undefined && { attempts: s.attempts }),
      ...(s.done !== undefined && { done: s.done }),
      ...(s.total !== undefined && { total: s.total }),
    };
  });
}

/** Whole percent of done/total, or undefined when the step reports no total. */
export function percent(step: Pick<StepView, 'done' | 'total'>): number | undefined {
  if (step.total === undefined || step.total <= 0) return undefined;
  return Math.min(100, Math.max(0, Math.floor(((step.done ?? 0) / step.total) * 100)));
}

const NAME_WIDTH = Math.max(...STEP_ORDER.map((n) => n.length)) + 1;
const BAR_WIDTH = 20;

function bar(pct: number): string {
  const filled = Math.round((pct / 100) * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
}

/** One step as a line, e.g. `  frames         working    [######--------------]  120/400  30%`. */
export function renderStep(step: StepView, opts: { bar?: boolean } = {}): string {
  let line = `  ${step.name.padEnd(NAME_WIDTH)} ${step.state.padEnd(9)}`;
  const pct = percent(step);
  if (pct !== undefined) {
    line += `${opts.bar === false ? '' : ` ${bar(pct)}`} ${`${step.done ?? 0}/${step.total}`.padStart(9)} ${`${pct}%`.padStart(4)}`;
  } else if (step.done !== undefined) {
    line += ` ${String(step.done).padStart(9)}`;
  }
  if (step.attempts !== undefined && step.attempts > 1) line += `  (attempt ${step.attempts})`;
  return line.trimEnd();
}

/** The job's header line, e.g. `job ingest-… working (attempt 2)`. */
export function renderHeader(job: Job): string {
  const attempt = job.state === 'working' && job.attempts > 1 ? ` (attempt ${job.attempts})` : '';
  const error = job.state === 'failed' && job.error ? `: ${job.error.code}` : '';
  return `job ${job.jobId}: ${job.state}${attempt}${error}`;
}

/** The whole display of a job: its header, then every step. */
export function renderJob(job: Job, opts: { bar?: boolean } = {}): string[] {
  return [renderHeader(job), ...orderedSteps(job).map((s) => renderStep(s, opts))];
}

// ---- the log form (not a terminal): only what changed, progress in steps of 10% ----

/** What identifies a line in the log form: equal keys mean nothing worth printing changed. */
function lineKeys(job: Job): Map<string, string> {
  const keys = new Map<string, string>([['', `${job.state}/${job.attempts}`]]);
  for (const s of orderedSteps(job)) {
    const pct = percent(s);
    keys.set(s.name, `${s.state}/${pct === undefined ? '' : Math.floor(pct / 10)}/${s.attempts ?? ''}`);
  }
  return keys;
}

/**
 * The lines to print when a job moves from `prev` (undefined: nothing printed yet) to `next`: the header when
 * the job's state or attempt changed, and each step whose state changed or whose progress crossed a 10% mark.
 * Steps that are still pending are not printed.
 */
export function changedLines(prev: Job | undefined, next: Job): string[] {
  const before = prev ? lineKeys(prev) : new Map<string, string>();
  const after = lineKeys(next);
  const lines: string[] = [];
  if (before.get('') !== after.get('')) lines.push(renderHeader(next));
  for (const s of orderedSteps(next)) {
    if (s.state === 'pending') continue;
    if (before.get(s.name) !== after.get(s.name)) lines.push(renderStep(s, { bar: false }));
  }
  return lines;
}
