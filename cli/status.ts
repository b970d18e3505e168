// The one final status of a command, and its exit code. Pure.
//   success (0)  every step ran
//   failure (1)  the CLI talked to the API, but something the pipeline did failed (a step, or the upload was
//                never received); the failing steps are listed with the job's error
//   error   (2)  the CLI could not do its part: the API unreachable, a bad key (401/403), another 4xx/5xx
//                before the job exists, missing configuration, bad local input
//   Ctrl-C (130) while following a job: no status, but how to follow it again
import { orderedSteps, isFinished, type Job } from './progress.ts';

export type Status = 'success' | 'failure' | 'error';

export const EXIT_CODES = { success: 0, failure: 1, error: 2, interrupted: 130 } as const;

export type Outcome =
  /** A command that does not follow a job did its work. */
  | { readonly kind: 'done' }
  /** A followed job ended (or was found ended). */
  | { readonly kind: 'job'; readonly job: Job }
  /** The upload went to S3 but no job appeared for it in time. */
  | { readonly kind: 'not-received'; readonly videoId: string; readonly waitedSeconds: number }
  /** The API answered with an error, or could not be reached (status 0). */
  | { readonly kind: 'api-error'; readonly status: number; readonly code: string; readonly message: string; readonly details?: unknown }
  /** The CLI could not start: missing configuration or bad local input (nothing was sent). */
  | { readonly kind: 'invalid'; readonly message: string; readonly details?: readonly string[] }
  /** Sending a file to its presigned URL failed. */
  | { readonly kind: 'upload-failed'; readonly message: string }
  /** Ctrl-C; `jobId` when a job exists that keeps running, `uploadedVideoId` when the upload finished before its job was seen. */
  | { readonly kind: 'interrupted'; readonly jobId?: string; readonly uploadedVideoId?: string };

export interface Decision {
  /** undefined for an interruption, which has no status line. */
  readonly status?: Status;
  readonly exitCode: number;
  /** The status line (`status: …`) first, then what explains it; for an interruption, what to do next. */
  readonly lines: readonly string[];
}

const MAX_MESSAGE = 500;
const MAX_DETAILS = 20;

const clip = (s: string, max = MAX_MESSAGE): string => {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 3)}...` : one;
};

/** The API's error details as lines: `{ path, message }` issues one per line, anything else as JSON. */
export function detailLines(details: unknown): string[] {
  if (details === undefined || details === null) return [];
  const list = Array.isArray(details) ? details : [details];
  const lines = list.slice(0, MAX_DETAILS).map((d) => {
    if (d && typeof d === 'object' && 'message' in d) {
      const { path, message } = d as { path?: unknown; message?: unknown };
      const where = Array.isArray(path) ? path.join('.') : typeof path === 'string' ? path : '';
      return where ? `${where}: ${String(message)}` : String(message);
    }
    return clip(typeof d === 'string' ? d : JSON.stringify(d), 200);
  });
  if (list.length > MAX_DETAILS) lines.push(`... ${list.length - MAX_DETAILS} more`);
  return lines;
}

function hint(status: number): string | undefined {
  if (status === 0) return 'is the API running, and is the URL right? (--api-url, FRAMEWISE_API_URL)';
  if (status === 401) return 'the API key was refused (--api-key, FRAMEWISE_API_KEY)';
  if (status === 403) return 'this API key may not do this; use a key with the right role';
  return undefined;
}

function stepText(s: { name: string; done?: number; total?: number }): string {
  return s.total !== undefined ? `${s.name} (${s.done ?? 0}/${s.total})` : s.name;
}

function jobDecision(job: Job): Decision {
  if (!isFinished(job)) {
    return { status: 'error', exitCode: EXIT_CODES.error, lines: ['status: error', `  job ${job.jobId} has not finished (${job.state})`] };
  }
  const steps = orderedSteps(job);
  const failed = steps.filter((s) => s.state === 'failed');
  if (job.state === 'succeeded' && failed.length === 0) return { status: 'success', exitCode: EXIT_CODES.success, lines: ['status: success'] };

  const lines = ['status: failure'];
  if (failed.length > 0) {
    for (const s of failed) lines.push(`  failed step: ${stepText(s)}`);
  } else {
    // the job failed without marking a step: name the one it was at (currentStep), else those still running
    const current = steps.find((s) => s.name === job.currentStep);
    const running = current ? [current] : steps.filter((s) => s.state === 'working');
    if (running.length > 0) for (const s of running) lines.push(`  failed step: ${stepText(s)} (was running)`);
    else if (job.currentStep) lines.push(`  failed step: ${job.currentStep} (was running)`);
    else lines.push('  failed step: (none recorded)');
  }
  if (job.error) lines.push(`  error: ${job.error.code}: ${clip(job.error.message)}`);
  else if (job.state === 'failed') lines.push('  error: (the job gives no error)');
  if (job.attempts > 1) lines.push(`  attempts: ${job.attempts}`);
  lines.push(`  job: ${job.jobId}`);
  return { status: 'failure', exitCode: EXIT_CODES.failure, lines };
}

export function decide(outcome: Outcome): Decision {
  switch (outcome.kind) {
    case 'done':
      return { status: 'success', exitCode: EXIT_CODES.success, lines: ['status: success'] };
    case 'job':
      return jobDecision(outcome.job);
    case 'not-received':
      return {
        status: 'failure',
        exitCode: EXIT_CODES.failure,
        lines: [
          'status: failure',
          `  the upload was not received: no ingest job appeared for video ${outcome.videoId} within ${outcome.waitedSeconds} s`,
        ],
      };
    case 'api-error': {
      const what = outcome.status === 0 ? outcome.code : `${outcome.code} (HTTP ${outcome.status})`;
      const lines = ['status: error', `  error: ${what}: ${clip(outcome.message)}`];
      for (const d of detailLines(outcome.details)) lines.push(`    ${d}`);
      const h = hint(outcome.status);
      if (h) lines.push(`  hint: ${h}`);
      return { status: 'error', exitCode: EXIT_CODES.error, lines };
    }
    case 'invalid':
      return {
        status: 'error',
        exitCode: EXIT_CODES.error,
        lines: ['status: error', `  error: ${clip(outcome.message)}`, ...(outcome.details ?? []).map((d) => `    ${d.startsWith('  ') ? `  ${clip(d)}` : clip(d)}`)],
      };
    case 'upload-failed':
      return { status: 'error', exitCode: EXIT_CODES.error, lines: ['status: error', `  error: ${clip(outcome.message)}`] };
    case 'interrupted':
      return {
        exitCode: EXIT_CODES.interrupted,
        lines: outcome.jobId
          ? [`interrupted: job ${outcome.jobId} keeps running on the server`, `follow it again with: framewise job ${outcome.jobId}`]
          : outcome.uploadedVideoId
            ? [
                `interrupted after the upload, before its job was seen: video ${outcome.uploadedVideoId} may still be ingested`,
                `find its job with: GET /v1/jobs?videoId=${outcome.uploadedVideoId}, then follow it with: framewise job <jobId>`,
              ]
            : ['interrupted during the upload: nothing was ingested; run the command again to upload'],
      };
  }
}
