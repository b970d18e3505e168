// `npm start [-- --dir <folder>] [-- --verbose]`: the local cloud in the foreground until Ctrl-C or SIGTERM.
import { join } from 'node:path';
import type { LocalCloud } from './cloud.ts';

const startedAt = Date.now();
const verbose = process.argv.includes('--verbose');
const dirFlag = process.argv.indexOf('--dir');

// Listening before anything is loaded or started: a signal during the start (or while the lines below are printed)
// would otherwise end the process at once, leaving PostgreSQL running. The cloud is stopped once its start is over.
let starting: Promise<LocalCloud | undefined> = Promise.resolve(undefined);
let stopping: Promise<never> | undefined;
function shutdown(signal: string): void {
  stopping ??= (async () => {
    console.log(`${signal}: stopping the local cloud`);
    const cloud = await starting.catch(() => undefined); // a start that failed has stopped what it started
    await cloud?.stop();
    console.log('stopped');
    process.exit(0);
  })();
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));

const [{ startLocalCloud }, { startFailureText }] = await Promise.all([import('./cloud.ts'), import('./service-error.ts')]);
if (stopping) await stopping;
starting = startLocalCloud({
  dir: dirFlag > 0 ? process.argv[dirFlag + 1] : undefined,
  log: (line) => {
    if (verbose || (line as { level?: string }).level === 'ERROR' || 'error' in line) console.log(JSON.stringify(line));
  },
});
const cloud = await starting.catch(async (err: unknown) => {
  if (stopping) return stopping;
  console.error(startFailureText(err));
  process.exit(1);
});
if (cloud && !stopping) {
  console.log(`Framewise local cloud is up in ${((Date.now() - startedAt) / 1000).toFixed(1)} s (data in ${cloud.dir})`);
  for (const [name, url] of Object.entries(cloud.endpoints)) console.log(`  ${name.padEnd(14)} ${url}`);
  console.log(`  admin API key  ${cloud.credentials.adminApiKey}  (also in ${join(cloud.dir, 'credentials.json')})`);
  console.log(`Endpoints are in ${join(cloud.dir, 'endpoints.json')}. Ctrl-C stops everything.`);
}
