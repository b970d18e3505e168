// `npm run invoke -- <function> <event.json>` runs one function on a sample event, against the running local
// cloud (`npm start`). `npm run invoke -- --schedule <name>` fires a schedule now.
import { readFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { findFunction, topology } from '../topology.ts';
import { localFunctionEnvironment, REGION, type Endpoints } from './cloud.ts';
import { scheduledEvent } from './events.ts';
import { LocalFunctions } from './functions.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const [first, second] = process.argv.slice(2);
const endpointsFile = join(ROOT, '.local', 'endpoints.json');
if (!first || !second) {
  console.error('usage: npm run invoke -- <function> <event.json>  |  npm run invoke -- --schedule <name>');
  console.error(`functions: ${topology.functions.map((f) => f.name).join(', ')}`);
  process.exit(2);
}
if (!existsSync(endpointsFile)) {
  console.error('The local cloud is not running: start it with `npm start` in another terminal.');
  process.exit(2);
}
const endpoints = JSON.parse(readFileSync(endpointsFile, 'utf8')) as Endpoints;

let fn: string;
let event: unknown;
if (first === '--schedule') {
  const owner = topology.functions.find((f) => f.triggers.some((t) => t.kind === 'schedule' && t.name === second));
  if (!owner) throw new Error(`no schedule named ${second}`);
  fn = owner.name;
  const trigger = owner.triggers.find((t) => t.kind === 'schedule' && t.name === second);
  event = (trigger?.kind === 'schedule' && trigger.input) || scheduledEvent(second, REGION);
} else {
  fn = findFunction(first).name;
  event = JSON.parse(readFileSync(resolve(second), 'utf8'));
}
// The function runs as the local cloud runs it: in an instance of its own, with its environment and credentials.
const functions = new LocalFunctions({ root: ROOT, region: REGION, environment: (def) => localFunctionEnvironment(def, endpoints) });
try {
  const result = await functions.invoke(fn, event);
  console.log(JSON.stringify(result ?? null, null, 2));
} catch (err) {
  console.error(`${fn} failed: ${(err as Error).name}: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await functions.stop();
}
