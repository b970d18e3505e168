// What every command shares: where output goes, how errors become an outcome, how the final status is printed.
import { setTimeout as delay } from 'node:timers/promises';
import { ApiError, type Api } from '../api.ts';
import { decide, type Outcome } from '../status.ts';

/** Where a command writes. The process's stdout/stderr in the CLI; memory in tests. */
export interface Output {
  /** A line for stdout. */
  out(line: string): void;
  /** A line for stderr (warnings; status lines when stdout carries JSON). */
  err(line: string): void;
  /** A terminal to draw live displays on (a progress bar, a job redrawn in place); undefined: print log lines. */
  readonly terminal?: NodeJS.WriteStream;
}

export interface Timing {
  /** Between polls of a job (0.5–1 s). */
  readonly pollMs: number;
  /** Between polls for the job of a new upload. */
  readonly receiptPollMs: number;
  /** How long a new upload may take to show up as a job. */
  readonly receiptTimeoutMs: number;
  /** How long a followed job may stay unreachable (network errors, 5xx, 429) before the CLI gives up. */
  readonly transientMs: number;
}

export const DEFAULT_TIMING: Timing = { pollMs: 750, receiptPollMs: 1000, receiptTimeoutMs: 60_000, transientMs: 30_000 };

export interface CommandContext {
  readonly api: Api;
  readonly output: Output;
  /** Aborted on Ctrl-C. */
  readonly signal?: AbortSignal;
  readonly timing?: Partial<Timing>;
  readonly now?: () => number;
}

export const timingOf = (ctx: CommandContext): Timing => ({ ...DEFAULT_TIMING, ...ctx.timing });

export function processOutput(): Output {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    ...(process.stdout.isTTY && { terminal: process.stdout }),
  };
}

/** Bad local input: nothing was sent. */
export class InputError extends Error {
  constructor(
    message: string,
    readonly details: readonly string[] = [],
  ) {
    super(message);
  }
}

/** Sending a file to S3 failed. */
export class UploadError extends Error {}

/** Ctrl-C. */
export class Interrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

/** Waits, or throws Interrupted when the signal fires. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) throw new Interrupted();
  try {
    await delay(ms, undefined, { signal });
  } catch (err) {
    if (signal?.aborted) throw new Interrupted();
    throw err;
  }
}

/** The promise's value, or Interrupted as soon as the signal fires (the work itself is not stopped). */
export function abortable<T>(work: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(new Interrupted());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Interrupted());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e as Error);
      },
    );
  });
}

/** Turns what a command threw into its outcome. */
export function outcomeOf(err: unknown, jobId?: string, uploadedVideoId?: string): Outcome {
  if (err instanceof Interrupted) return { kind: 'interrupted', ...(jobId && { jobId }), ...(uploadedVideoId && { uploadedVideoId }) };
  if (err instanceof ApiError) return { kind: 'api-error', status: err.status, code: err.code, message: err.message, details: err.details };
  if (err instanceof InputError) return { kind: 'invalid', message: err.message, details: err.details };
  if (err instanceof UploadError) return { kind: 'upload-failed', message: err.message };
  return { kind: 'invalid', message: `unexpected error: ${err instanceof Error ? err.message : String(err)}` };
}

/**
 * Prints the outcome's status line and what explains it, and returns the exit code. The lines go to stdout,
 * or to stderr when stdout carries JSON.
 */
export function finish(outcome: Outcome, output: Output, opts: { json?: boolean } = {}): number {
  const decision = decide(outcome);
  const write = opts.json ? output.err : output.out;
  for (const line of decision.lines) write(line);
  return decision.exitCode;
}

/** Runs a command body that ends in an outcome; anything it throws becomes one too. */
export async function run(output: Output, opts: { json?: boolean }, body: () => Promise<Outcome>): Promise<number> {
  let outcome: Outcome;
  try {
    outcome = await body();
  } catch (err) {
    outcome = outcomeOf(err);
  }
  return finish(outcome, output, opts);
}

/** Human-readable bytes: 512 B, 1.5 KiB, 12.3 MiB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

/** Pads a table of strings into aligned columns: `right` columns (numbers) align right, the rest left. */
export function table(rows: readonly (readonly string[])[], right: ReadonlySet<number> = new Set()): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) =>
    row
      .map((cell, i) => (right.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}
