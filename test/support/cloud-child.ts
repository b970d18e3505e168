// A local cloud in a process of its own, for tests that kill it (FRAMEWISE_FAULT_POINT) and start it again on the
// same data, with the shared test cloud's options. With CLOUD_WAIT set it loads its code and then waits for `start`
// on stdin, so a test can have the next start of a cloud loaded while the one before still runs. It says
// `@@cloud ready {endpoints, adminApiKey}` on stdout when up; on stdin, `fault <point>` sets FRAMEWISE_FAULT_POINT
// (answering `@@cloud armed`), `sweep` fires the jobs sweeper's schedule (answering `@@cloud swept {...}`) and `stop`
// stops it. CLOUD_ENVIRONMENT (JSON) adds variables to every function's environment.
import { createInterface } from 'node:readline';
import { startLocalCloud } from '../../infra/local/cloud.ts';
import { TEST_CLOUD_OPTIONS } from './cloud-options.ts';

const dir = process.env.CLOUD_DIR;
if (!dir) throw new Error('CLOUD_DIR is not set');
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
if (process.env.CLOUD_WAIT) {
  for (;;) {
    const next = await lines.next();
    if (next.done) process.exit(0); // not needed after all
    if (next.value === 'start') break;
  }
}
const environment = process.env.CLOUD_ENVIRONMENT ? (JSON.parse(process.env.CLOUD_ENVIRONMENT) as Record<string, string>) : undefined;
const cloud = await startLocalCloud({ dir, ...TEST_CLOUD_OPTIONS, environment });
const say = (what: string, body: unknown) => process.stdout.write(`\n@@cloud ${what} ${JSON.stringify(body)}\n`);
say('ready', { endpoints: cloud.endpoints, adminApiKey: cloud.credentials.adminApiKey });

for (;;) {
  const next = await lines.next();
  if (next.done) break;
  const line = next.value;
  if (line.startsWith('fault ')) {
    process.env.FRAMEWISE_FAULT_POINT = line.slice('fault '.length);
    say('armed', process.env.FRAMEWISE_FAULT_POINT);
  }
  if (line === 'sweep') say('swept', await cloud.router.fireSchedule('sweep-stuck-jobs'));
  if (line === 'stop') break;
}
await cloud.stop();
process.exit(0);
