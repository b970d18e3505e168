// `npm start [-- --dir <folder>] [-- --verbose]`: the local cloud in the foreground until Ctrl-C or SIGTERM.
import { join } from 'node:path';
import { startLocalCloud } from './cloud.ts';
import { startFailureText } from './service-error.ts';

const started = Date.now();
const verbose = process.argv.includes('--verbose');
const dirFlag = process.argv.indexOf('--dir');
const cloud = await startLocalCloud({
  dir: dirFlag > 0 ? process.argv[dirFlag + 1] : undefined,
  log: (line) => {
    if (verbose || (line as { level?: string }).level === 'ERROR' || 'error' in line) console.log(JSON.stringify(line));
  },
}).catch((err: unknown) => {
  console.error(startFailureText(err));
  process.exit(1);
});

console.log(`Framewise local cloud is up in ${((Date.now() - started) / 1000).toFixed(1)} s (data in ${cloud.dir})`);
for (const [name, url] of Object.entries(cloud.endpoints)) console.log(`  ${name.padEnd(14)} ${url}`);
console.log(`  admin API key  ${cloud.credentials.adminApiKey}  (also in ${join(cloud.dir, 'credentials.json')})`);
console.log(`Endpoints are in ${join(cloud.dir, 'endpoints.json')}. Ctrl-C stops everything.`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping the local cloud`);
  await cloud.stop();
  console.log('stopped');
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
