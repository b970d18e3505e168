// materialize-schedule-versions (schedules materialize-daily-version, -weekly-, -monthly-): starts the complete
// workflow (ingest new annotations, update root ids, create a version) for every datastack with annotation tables. The schedule's constant input names the
// cadence and how long its versions live (topology settings). The job id carries the period, so a schedule
// delivered twice in one period (EventBridge retries) starts one version per datastack.
import { z } from 'zod';
import { logger } from '../../lib/logger.ts';
import { taskHandler } from '../../lib/task.ts';
import { materializeJobId } from '../../jobs/job.ts';
import { createAndStartJob } from '../../jobs/workflow.ts';
import { datastacksWithTables } from './store.ts';
import { cadencePeriod, expiryDaysFor, MAX_EXPIRES_IN_DAYS, SCHEDULED_CADENCES, type ScheduledCadence } from './lifecycle.ts';

const Input = z.object({
  cadence: z.enum(SCHEDULED_CADENCES),
  expiresInDays: z.coerce.number().int().min(1).max(MAX_EXPIRES_IN_DAYS).optional(),
});

export interface ScheduledVersions {
  cadence: ScheduledCadence;
  /** Jobs started now, and jobs of this period that had started before. */
  started: string[];
  existing: string[];
}

/** Starts the period's run for every datastack with annotation tables (or for the ones named). */
export async function startScheduledVersions(
  cadence: ScheduledCadence,
  requestedDays: number | undefined,
  now: Date,
  datastacks?: readonly string[],
): Promise<ScheduledVersions> {
  const expiresInDays = expiryDaysFor(cadence, requestedDays);
  const period = cadencePeriod(cadence, now);
  const out: ScheduledVersions = { cadence, started: [], existing: [] };
  const failures: string[] = [];
  for (const datastack of datastacks ?? (await datastacksWithTables())) {
    const jobId = materializeJobId(datastack, `${cadence}-${period}`);
    try {
      const { started } = await createAndStartJob({ jobId, kind: 'materialize', input: { datastack, cadence, expiresInDays: String(expiresInDays) } });
      (started ? out.started : out.existing).push(jobId);
    } catch (err) {
      // One datastack's failure does not hold up the others; the schedule's retry picks it up (same job id).
      logger.error('scheduled version not started', { datastack, jobId, error: err as Error });
      failures.push(datastack);
    }
  }
  logger.info('scheduled versions', { ...out, expiresInDays, failures });
  if (failures.length > 0) throw new Error(`versions of ${failures.join(', ')} could not be started`);
  return out;
}

export const handler = taskHandler(Input, ({ cadence, expiresInDays }) => startScheduledVersions(cadence, expiresInDays, new Date()));
