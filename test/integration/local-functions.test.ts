// Local functions run as Lambda runs them: each invocation in an instance (a worker) of its function with exactly
// the function's environment, one invocation per instance at a time, idle instances reused, no more instances than
// the reserved concurrency, a timed-out instance ended, errors carried back with their name.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { topology, type FunctionDef, type Topology } from '../../infra/topology.ts';
import { LocalFunctions } from '../../infra/local/functions.ts';
import { PROJECT_ROOT } from '../../infra/cdk/names.ts';

const fn = (name: string, extra: Partial<FunctionDef> = {}): FunctionDef => ({
  name,
  purpose: 'reports its instance',
  entry: 'test/support/instance-handler.ts',
  memoryMb: 128,
  timeoutSeconds: 30,
  layers: [],
  triggers: [{ kind: 'task' }],
  uses: {},
  ...extra,
});
const testTopology: Topology = {
  ...topology,
  functions: [fn('reporter'), fn('capped', { reservedConcurrency: 2 }), fn('wide', { reservedConcurrency: 40 }), fn('quick', { timeoutSeconds: 1 })],
};
const functions = new LocalFunctions({
  root: PROJECT_ROOT,
  region: 'us-east-1',
  topology: testTopology,
  environment: (def) => ({ ONLY_THIS: def.name }),
});
afterAll(() => functions.stop());

interface Report {
  threadId: number;
  invocations: number;
  env: Record<string, string>;
  remainingMs: number;
  compileCacheDir: string | undefined;
}
const invoke = (name: string, event: object) => functions.invoke(name, event) as Promise<Report>;

describe('local function instances', () => {
  it('gives each instance exactly its function environment, none of this process', async () => {
    const report = await invoke('reporter', { action: 'report' });
    expect(report.env).toEqual({ ONLY_THIS: 'reporter' });
    expect(process.env.PATH).toBeDefined();
    expect(report.remainingMs).toBeGreaterThan(20_000);
    expect(report.remainingMs).toBeLessThanOrEqual(30_000);
  });

  it("starts an instance with V8's code of its bundle kept beside the bundles, not compiled anew", async () => {
    const report = await invoke('reporter', { action: 'report' });
    const kept = join(PROJECT_ROOT, 'node_modules', '.cache', 'framewise-functions', 'compiled');
    expect(report.compileCacheDir?.startsWith(kept), report.compileCacheDir).toBe(true); // Node adds a folder per version
    expect(readdirSync(kept).length).toBeGreaterThan(0);
  });

  it('runs concurrent invocations in instances of their own and reuses an idle one', async () => {
    const [a, b] = await Promise.all([invoke('reporter', { action: 'wait', ms: 300 }), invoke('reporter', { action: 'wait', ms: 300 })]);
    expect(a!.threadId).not.toBe(b!.threadId);
    const warm = await invoke('reporter', { action: 'report' });
    expect([a!.threadId, b!.threadId]).toContain(warm.threadId);
    // Module state lives as long as its instance: the warm one counts what it ran before.
    expect(warm.invocations).toBeGreaterThan(1);
    expect(functions.instanceCount('reporter')).toBe(2);
  });

  it('starts no more instances than the reserved concurrency', async () => {
    const reports = await Promise.all(Array.from({ length: 5 }, () => invoke('capped', { action: 'wait', ms: 200 })));
    expect(new Set(reports.map((r) => r.threadId)).size).toBe(2);
    expect(functions.instanceCount('capped')).toBe(2);
    expect(reports.reduce((sum, r) => Math.max(sum, r.invocations), 0)).toBeGreaterThanOrEqual(3);
  });

  it('starts at most 10 instances of a function without reserved concurrency', async () => {
    const reports = await Promise.all(Array.from({ length: 12 }, () => invoke('reporter', { action: 'wait', ms: 300 })));
    expect(new Set(reports.map((r) => r.threadId)).size).toBe(10);
    expect(functions.instanceCount('reporter')).toBe(10);
  });

  it('starts at most 10 instances of a function that reserves more (one machine runs them on its few cores)', async () => {
    const reports = await Promise.all(Array.from({ length: 12 }, () => invoke('wide', { action: 'wait', ms: 300 })));
    expect(reports).toHaveLength(12);
    expect(new Set(reports.map((r) => r.threadId)).size).toBe(10);
    expect(functions.instanceCount('wide')).toBe(10);
  });

  it('carries a failure back with its name, message, stack and fields', async () => {
    const err = (await functions.invoke('reporter', { action: 'fail' }).catch((e: unknown) => e)) as Error & { code?: number };
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('InstanceToldToFail');
    expect(err.message).toBe('the instance was told to fail');
    expect(err.code).toBe(42);
    expect(err.stack).toContain('instance-handler.ts');
  });

  it('fails a timed-out invocation and ends its instance; the next one starts afresh', async () => {
    const err = (await functions.invoke('quick', { action: 'hang' }).catch((e: unknown) => e)) as Error;
    expect(err.name).toBe('Sandbox.Timedout');
    expect(functions.instanceCount('quick')).toBe(0);
    const next = await invoke('quick', { action: 'report' });
    expect(next.invocations).toBe(1);
  });

  it('ends every instance when stopped', async () => {
    const own = new LocalFunctions({ root: PROJECT_ROOT, region: 'us-east-1', topology: testTopology, environment: () => ({}) });
    await own.invoke('reporter', { action: 'report' });
    expect(own.instanceCount('reporter')).toBe(1);
    await own.stop();
    expect(own.instanceCount('reporter')).toBe(0);
    await expect(own.invoke('reporter', { action: 'report' })).rejects.toThrow(/stopping/);
  });
});
