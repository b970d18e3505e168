// jobs-sweeper (schedule): a job still queued or working whose execution has ended will never get an outcome from
// it (the process died, the run timed out or was stopped). It runs again, up to the job's runs, and then fails
// (see continueAfterRunEnded). A job waiting for something before its run (a restore) has no run to check.
import { DescribeExecutionCommand, ExecutionDoesNotExist } from '@aws-sdk/client-sfn';
import { sfn } from '../lib/aws.ts';
import { logger } from '../lib/logger.ts';
import { getJob, listJobs } from './store.ts';
import type { Job } from './job.ts';
import { continueAfterRunEnded } from './workflow.ts';

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

export interface Sweep {
  checked: number;
  resumed: string[];
  failed: string[];
}

export async function sweep(now = Date.now()): Promise<Sweep> {
  const done: Sweep = { checked: 0, resumed: [], failed: [] };
  for (const state of ['queued', 'working'] as const) {
    let cursor: string | undefined;
    do {
      const page = await listJobs({ state, limit: 100, cursor });
      cursor = page.cursor;
      for (const listed of page.jobs) {
        done.checked++;
        if (listed.waitsFor) continue; // no run yet, by design: started when its wait ends
        const status = await executionStatus(listed);
        if (status === 'RUNNING') continue;
        // An execution that has ended gets no more outcome; one not (yet) found may be about to start.
        if ((status === 'NOT_STARTED' || status === 'MISSING') && now - Date.parse(listed.updatedAt) < GRACE_MS) continue;
        // Read again after the execution was seen ended: its outcome may have been recorded since the listing.
        const job = await getJob(listed.jobId);
        if (!job || !['queued', 'working'].includes(job.state) || job.executionArn !== listed.executionArn) continue;
        const next = await continueAfterRunEnded(job, status);
        if (next === 'resumed' || next === 'closing') done.resumed.push(job.jobId);
        if (next === 'failed') done.failed.push(job.jobId);
      }
    } while (cursor);
  }
  logger.info('swept jobs whose run ended without an outcome', { ...done });
  return done;
}

export const handler = async (): Promise<Sweep> => sweep();
