// detgroups-start (det-group queue): a computation request becomes a queued job and a det-group run.
import type { SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { logger } from '../lib/logger.ts';
import { sqsHandler } from '../lib/sqs.ts';
import { parse } from '../lib/validate.ts';
import { detGroupJobId } from '../jobs/job.ts';
import { createAndStartJob } from '../jobs/workflow.ts';

const Request = z.object({ detGroupId: z.uuid(), requestId: z.string().min(1).max(64) });

async function handleRecord(record: SQSRecord): Promise<void> {
  const { detGroupId, requestId } = parse(Request, JSON.parse(record.body));
  const jobId = detGroupJobId(detGroupId, requestId);
  logger.appendKeys({ jobId, detGroupId });
  const { started } = await createAndStartJob({ jobId, kind: 'det-group', detGroupId, input: { detGroupId } });
  if (started) logger.info('det_group computation started');
}

export const handler = sqsHandler(handleRecord);
