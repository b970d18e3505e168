import { ExecutionAlreadyExists, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { sfn } from '../lib/aws.ts';
import { config } from '../lib/config.ts';
import { afterRunEnded, executionName, workingSteps, type Job, type JobWait } from './job.ts';
import { createJob, endWait, getJob, moveJob, recordNextRun, requireJob, setExecution } from './store.ts';

/**
 * The workflow of each kind of job, and the input it starts with. A workflow with a closing run records a failure
 * through its own failure path when started with `abandoned` (the video-ingest workflow tells the video).
 */
function workflowOf(job: Job): { stateMachineArn: string; input: Record<string, string>; closingRun?: true } {
  switch (job.kind) {
    case 'video-ingest':
      return {
        stateMachineArn: config.videoIngestStateMachineArn(),
        input: { jobId: job.jobId, videoId: job.videoId!, bucket: job.input.bucket!, key: job.input.key! },
        closingRun: true,
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
    case 'annotation-content':
      return { stateMachineArn: config.annotationContentStateMachineArn(), input: { jobId: job.jobId, uploadId: job.input.uploadId! }, closingRun: true };
    case 'annotation-dataset':
      return { stateMachineArn: config.annotationDatasetStateMachineArn(), input: { jobId: job.jobId, name: job.input.name!, version: job.input.version! } };
    case 'slide-image':
      return { stateMachineArn: config.slideImageStateMachineArn(), input: { jobId: job.jobId, imageId: job.input.imageId! }, closingRun: true };
    case 'update-roots':
      return { stateMachineArn: config.updateRootsStateMachineArn(), input: { jobId: job.jobId, datastack: job.input.datastack!, full: job.input.full ?? 'false' } };
  }
}

/** The execution of the job's `resumes`-th run since its start or requeue: Step Functions names an execution once. */
function runOf(job: Job, resumes: number): { stateMachineArn: string; name: string; executionArn: string } {
  const { stateMachineArn } = workflowOf(job);
  const name = executionName(job.jobId, job.requeues, resumes);
  return { stateMachineArn, name, executionArn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}` };
}

/** Starts a run; one already started under that name (a redelivery, a sweep that died halfway) is that run. */
async function startRun(job: Job, resumes: number, extra: Record<string, unknown> = {}): Promise<string> {
  const { stateMachineArn, name, executionArn } = runOf(job, resumes);
  try {
    await sfn().send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify({ ...workflowOf(job).input, ...extra }) }));
  } catch (err) {
    if (!(err instanceof ExecutionAlreadyExists)) throw err;
  }
  return executionArn;
}

/**
 * Records the run on the job, then starts it: a process that dies in between leaves a job whose execution is
 * missing or ended, which the sweeper runs again (the other order could leave a run the job does not know).
 */
export async function startJob(job: Job): Promise<Job> {
  const { executionArn } = runOf(job, job.resumes ?? 0);
  await setExecution(job.jobId, executionArn);
  await startRun(job, job.resumes ?? 0);
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

/** Creates the job (unless it exists) queued without a run: it waits for `waitsFor`, and startWaitingJob starts it. */
export async function createWaitingJob(fields: Omit<Parameters<typeof createJob>[0], 'waitsFor'>, waitsFor: JobWait): Promise<Job> {
  await createJob({ ...fields, waitsFor });
  return requireJob(fields.jobId);
}

/**
 * Starts the run of a job that waited, once: the wait is ended and the run recorded by one conditional write (as
 * startJob records first), so a second caller starts nothing. Returns the job started, or undefined.
 */
export async function startWaitingJob(jobId: string): Promise<Job | undefined> {
  const job = await getJob(jobId);
  if (!job?.waitsFor || job.executionArn) return undefined;
  const started = await endWait(jobId, runOf(job, job.resumes ?? 0).executionArn);
  if (!started) return undefined;
  await startRun(started, started.resumes ?? 0);
  return started;
}

/**
 * The job's run ended as `ended` without recording an outcome (its process died, it timed out, it was stopped):
 * the job runs again while it has runs left (steps and parts done are skipped or idempotent), then fails, through
 * its workflow's failure path where it has one. Returns what was done, or undefined if the job moved on meanwhile.
 */
export async function continueAfterRunEnded(job: Job, ended: string): Promise<'resumed' | 'closing' | 'failed' | undefined> {
  const next = afterRunEnded(job, Boolean(workflowOf(job).closingRun));
  const runs = (job.resumes ?? 0) + 1;
  const error = { code: 'ExecutionEnded', message: `the workflow run ended as ${ended} without recording an outcome (${runs} runs)` };
  if (next === 'fail') {
    const failed = await moveJob(job.jobId, 'failed', { error, endSteps: { steps: workingSteps(job), state: 'failed' } });
    return failed && 'failed';
  }
  const extra = next === 'close' ? { abandoned: true, error: { Error: error.code, Cause: error.message } } : {};
  // Recorded first, as startJob does; a closing run leaves the interrupted steps working for its outcome to fail them.
  const recorded = await recordNextRun(job, runOf(job, runs).executionArn, next === 'close' ? [] : workingSteps(job));
  if (!recorded) return undefined;
  await startRun(recorded, runs, extra);
  return next === 'close' ? 'closing' : 'resumed';
}
