import { ExecutionAlreadyExists, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { sfn } from '../lib/aws.ts';
import { config } from '../lib/config.ts';
import { executionName, type Job } from './job.ts';
import { createJob, requireJob, setExecution } from './store.ts';

/** The workflow of each kind of job, and the input it starts with. */
function workflowOf(job: Job): { stateMachineArn: string; input: Record<string, string> } {
  switch (job.kind) {
    case 'video-ingest':
      return {
        stateMachineArn: config.videoIngestStateMachineArn(),
        input: { jobId: job.jobId, videoId: job.videoId!, bucket: job.input.bucket!, key: job.input.key! },
      };
    case 'det-group':
      return { stateMachineArn: config.detGroupStateMachineArn(), input: { jobId: job.jobId, detGroupId: job.detGroupId! } };
    case 'bulk-upload':
      return { stateMachineArn: config.bulkUploadStateMachineArn(), input: { jobId: job.jobId, ...job.input } };
    case 'materialize-version':
      return { stateMachineArn: config.materializeVersionStateMachineArn(), input: { jobId: job.jobId, ...job.input } };
    case 'ingest-annotations':
      return { stateMachineArn: config.ingestAnnotationsStateMachineArn(), input: { jobId: job.jobId, datastack: job.input.datastack! } };
    case 'materialize':
      return { stateMachineArn: config.materializeStateMachineArn(), input: { jobId: job.jobId, ...job.input } };
    case 'update-roots':
      return { stateMachineArn: config.updateRootsStateMachineArn(), input: { jobId: job.jobId, datastack: job.input.datastack!, full: job.input.full ?? 'false' } };
  }
}

/** Starts the job's workflow run; a run already started under that name (a redelivery) is that run. */
async function startWorkflow(job: Job): Promise<string> {
  const { stateMachineArn, input } = workflowOf(job);
  const name = executionName(job.jobId, job.requeues);
  try {
    const out = await sfn().send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
    return out.executionArn!;
  } catch (err) {
    if (!(err instanceof ExecutionAlreadyExists)) throw err;
    return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  }
}

/** Starts the job's workflow and records the run on the job. */
export async function startJob(job: Job): Promise<Job> {
  const executionArn = await startWorkflow(job);
  await setExecution(job.jobId, executionArn);
  return { ...job, executionArn };
}

/**
 * Creates the job unless it exists, and starts its run unless one has started already (a redelivered event or
 * a repeated request is the same job). `beforeStart` runs only when the run is about to start.
 */
export async function createAndStartJob(
  fields: Parameters<typeof createJob>[0],
  beforeStart?: () => Promise<void>,
): Promise<{ job: Job; started: boolean }> {
  await createJob(fields);
  const job = await requireJob(fields.jobId);
  if (job.executionArn) return { job, started: false };
  await beforeStart?.();
  return { job: await startJob(job), started: true };
}
