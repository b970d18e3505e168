// A function for the tests of local function instances: it reports its instance (thread), its module state and
// its environment, waits, fails or hangs as asked.
import { getCompileCacheDir } from 'node:module';
import { threadId } from 'node:worker_threads';
import type { Context } from 'aws-lambda';

let invocations = 0;

type Event = { action: 'report' } | { action: 'wait'; ms: number } | { action: 'fail' } | { action: 'hang' };

export const handler = async (event: Event, context: Context) => {
  invocations++;
  const report = { threadId, invocations, env: { ...process.env }, remainingMs: context.getRemainingTimeInMillis(), requestId: context.awsRequestId, compileCacheDir: getCompileCacheDir() };
  if (event.action === 'wait') await new Promise((r) => setTimeout(r, event.ms));
  if (event.action === 'fail') throw Object.assign(new Error('the instance was told to fail'), { name: 'InstanceToldToFail', code: 42 });
  if (event.action === 'hang') await new Promise(() => undefined);
  return report;
};
