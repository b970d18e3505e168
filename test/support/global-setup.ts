// Starts one local cloud for the integration and e2e suites, in a fresh folder, and hands its endpoints to the tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startLocalCloud, type Endpoints } from '../../infra/local/cloud.ts';
import { startFailureText } from '../../infra/local/service-error.ts';
import { TEST_CLOUD_OPTIONS } from './cloud-options.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    endpoints: Endpoints;
    adminApiKey: string;
    cloudDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = mkdtempSync(join(tmpdir(), 'framewise-test-'));
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
  const started = Date.now();
  // A function refused by the access gate may turn the refusal into a quiet fallback (the cache does): say it aloud.
  const log = (line: { message?: unknown }) => String(line.message).startsWith('access denied') && console.error(JSON.stringify(line));
  const cloud = await startLocalCloud({ dir, ...TEST_CLOUD_OPTIONS, log }).catch((err: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    // Said here too: a runner may show only the first line of a setup's error.
    const text = `The integration and e2e tests need the local cloud. ${startFailureText(err)}`;
    console.error(text);
    throw new Error(text, { cause: err });
  });
  console.log(`local cloud up in ${Date.now() - started} ms`);
  project.provide('endpoints', cloud.endpoints);
  project.provide('adminApiKey', cloud.credentials.adminApiKey);
  project.provide('cloudDir', dir);
  return async () => {
    await cloud.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
