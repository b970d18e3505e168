// The jobs API's response schemas: what GET /v1/jobs and the routes that start or requeue a job answer.
import { ErrorBody } from '../lib/openapi.ts';
import { z } from '../lib/zod.ts';
import { JOB_KINDS, JOB_STATES, JOB_WAITS } from './job.ts';

const Step = z.object({
  state: z.enum(['pending', 'working', 'succeeded', 'failed']),
  attempts: z.number().int(),
  done: z.number().int().optional().openapi({ description: 'For steps made of parts (frames: segments): parts done' }),
  total: z.number().int().optional(),
});

export const JobSchema = z
  .object({
    jobId: z.string(),
    kind: z.enum(JOB_KINDS),
    state: z.enum(JOB_STATES),
    videoId: z.uuid().optional(),
    detGroupId: z.uuid().optional(),
    input: z.record(z.string(), z.string()),
    attempts: z.number().int(),
    steps: z.record(z.string(), Step),
    currentStep: z.string().optional(),
    requeues: z.number().int(),
    resumes: z.number().int().optional(),
    executionArn: z.string().optional(),
    waitsFor: z.enum(JOB_WAITS).optional().openapi({
      description: 'A queued job whose run has not started yet: `source-restore` waits for its archived source video to be restored (hours in AWS)',
    }),
    error: ErrorBody.shape.error.pick({ code: true, message: true }).optional(),
    result: z.record(z.string(), z.unknown()).optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Job');

export const JobPage = z
  .object({ jobs: z.array(JobSchema), cursor: z.string().optional().openapi({ description: 'Pass as cursor for the next page' }) })
  .openapi('JobPage');

