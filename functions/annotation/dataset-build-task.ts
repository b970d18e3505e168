// annotation-dataset-build (Task of annotation-dataset): builds a dataset version until its deadline, then reports
// complete: false and runs again (the workflow loops) until the version is built. A version another builder holds
// (the resume schedule) is waited for.
import { z } from 'zod';
import { stepTask } from '../jobs/step-task.ts';
import { buildDatasetVersion } from './dataset-build.ts';

const Input = z.object({ jobId: z.string(), name: z.string(), version: z.coerce.number().int().positive(), continuing: z.boolean().default(false) });
const RESERVE_MS = 10_000;

export const handler = stepTask(
  Input,
  { step: 'build', subject: (i) => ({ dataset: i.name, version: i.version }) },
  (input, context) => buildDatasetVersion({ name: input.name, version: input.version, deadline: Date.now() + context.getRemainingTimeInMillis() - RESERVE_MS }),
);
