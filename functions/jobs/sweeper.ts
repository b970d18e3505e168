// jobs-sweeper (schedule): a job still queued or working whose execution has ended will never get an
// outcome (the run timed out, was aborted, or died before its last task). Fail it so an admin sees it.
import { DescribeExecutionCommand, ExecutionDoesNotExist } from '@aws-sdk/client-sfn';
import { sfn } from '../lib/aws.ts';
import { logger } from '../lib/logger.ts';
import { listJobs, moveJob } from './store.ts';
import type { Job } from './job.ts';

/** Jobs younger than this may not have started their execution yet. */
const GRACE_MS = 2 * 60 * 1000;

async function executionStatus(job: Job): Promise<string> {
  if (!job.executionArn) return 'NOT_STARTED';
  try {
    return (await sfn().send(new DescribeExecutionCommand({ executionArn: job.executionArn }))).status ?? 'UNKNOWN';
  } catch (err) {
    if (err instanceof ExecutionDoesNotExist) return 'MISSING';
    throw err;
  }
}

export async function sweep(now = Date.now()): Promise<{ checked: number; failed: string[] }> {
  const failed: string[] = [];
  let checked = 0;
  for (const state of ['queued', 'working'] as const) {
    let cursor: string | undefined;
    do {
      const page = await listJobs({ state, limit: 100, cursor });
      cursor = page.cursor;
      for (const job of page.jobs) {
        if (now - Date.parse(job.updatedAt) < GRACE_MS) continue;
        checked++;
        const status = await executionStatus(job);
        if (status === 'RUNNING') continue;
        const moved = await moveJob(job.jobId, 'failed', {
          error: { code: 'ExecutionEnded', message: `the workflow run ended as ${status} without recording an outcome` },
        });
        if (moved) failed.push(job.jobId);
      }
    } while (cursor);
  }
  logger.info('swept stuck jobs', { checked, failed });
  return { checked, failed };
}

export const handler = async (): Promise<{ checked: number; failed: string[] }> => sweep();
