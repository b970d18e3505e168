// A det_group's computation is asked for through the det-group queue, so that bursts of new det_groups wait
// their turn there instead of crowding out video ingestion.
import { randomUUID } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { sqs } from '../lib/aws.ts';
import { config } from '../lib/config.ts';

export interface ComputeRequest {
  readonly detGroupId: string;
  /** Identifies this request: a redelivered message makes the same job. */
  readonly requestId: string;
}

export async function requestComputation(detGroupId: string): Promise<ComputeRequest> {
  const request: ComputeRequest = { detGroupId, requestId: randomUUID().slice(0, 8) };
  await sqs().send(new SendMessageCommand({ QueueUrl: config.detGroupQueueUrl(), MessageBody: JSON.stringify(request) }));
  return request;
}
