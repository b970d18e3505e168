import { ExecutionAlreadyExists, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { sfn } from '../lib/aws.ts';
import { config } from '../lib/config.ts';
import { executionName, type Job } from './job.ts';

export interface VideoIngestInput {
  readonly jobId: string;
  readonly videoId: string;
  readonly bucket: string;
  readonly key: string;
}

/** Starts the job's workflow run; a run already started under that name (a redelivery) is that run. */
export async function startVideoIngest(job: Job): Promise<string> {
  const stateMachineArn = config.videoIngestStateMachineArn();
  const name = executionName(job.jobId, job.requeues);
  const input: VideoIngestInput = { jobId: job.jobId, videoId: job.videoId, bucket: job.input.bucket!, key: job.input.key! };
  try {
    const out = await sfn().send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
    return out.executionArn!;
  } catch (err) {
    if (!(err instanceof ExecutionAlreadyExists)) throw err;
    return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  }
}
