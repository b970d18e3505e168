import { readFileSync, existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONTEXTS, contextOf, dlqName, functionArnPlaceholder, topology } from '../../infra/topology.ts';

describe('topology', () => {
  const fnNames = new Set(topology.functions.map((f) => f.name));

  it('names every resource once', () => {
    for (const list of [topology.buckets, topology.cdns, topology.tables, topology.queues, topology.secrets, topology.functions, topology.stateMachines]) {
      const names = list.map((x) => x.name);
      expect(new Set(names).size).toBe(names.length);
    }
    expect(topology.queues.map((q) => dlqName(q.name)).every((d) => !topology.queues.some((q) => q.name === d))).toBe(true);
  });

  it('points every reference at something declared', () => {
    const queues = new Set(topology.queues.map((q) => q.name));
    const tables = new Set(topology.tables.map((t) => t.name));
    const buckets = new Set(topology.buckets.map((b) => b.name));
    const machines = new Set(topology.stateMachines.map((s) => s.name));
    for (const b of topology.buckets) for (const n of b.notifications) expect(queues).toContain(n.queue);
    for (const c of topology.cdns) expect(buckets).toContain(c.bucket);
    for (const f of topology.functions) {
      expect(existsSync(f.entry), f.entry).toBe(true);
      for (const t of f.triggers) if (t.kind === 'queue') expect(queues).toContain(t.queue);
      for (const t of f.uses.tables ?? []) expect(tables).toContain(t.name);
      for (const b of f.uses.buckets ?? []) expect(buckets).toContain(b.name);
      for (const s of f.uses.stateMachines ?? []) expect(machines).toContain(s);
      for (const s of f.uses.secrets ?? []) expect(topology.secrets.map((x) => x.name)).toContain(s);
      for (const c of f.uses.cdns ?? []) expect(topology.cdns.map((x) => x.name)).toContain(c);
      for (const folder of f.bundledFolders ?? []) expect(existsSync(folder), folder).toBe(true);
    }
    for (const s of topology.stateMachines) for (const fn of s.functions) expect(fnNames).toContain(fn);
  });

  it('runs on deploy only functions of the platform context, which stands on lib alone', () => {
    const onDeploy = topology.functions.filter((f) => f.triggers.some((t) => t.kind === 'deploy'));
    expect(onDeploy.map((f) => f.name)).toEqual(['platform-bootstrap']);
    for (const f of onDeploy) expect(contextOf(f)).toBe('platform');
    expect(CONTEXTS[0]).toBe('platform');
  });

  it('gives each consumed queue a visibility timeout longer than its consumer may run, and 3 receives', () => {
    for (const f of topology.functions) {
      for (const t of f.triggers) {
        if (t.kind !== 'queue') continue;
        const q = topology.queues.find((x) => x.name === t.queue)!;
        expect(q.visibilityTimeoutSeconds).toBeGreaterThan(f.timeoutSeconds);
        expect(q.maxReceiveCount).toBe(3);
      }
    }
  });

  it('uses in each state machine exactly the placeholders of its functions', () => {
    for (const s of topology.stateMachines) {
      const text = readFileSync(s.definitionFile, 'utf8');
      const used = new Set([...text.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]));
      expect(used).toEqual(new Set(s.functions.map(functionArnPlaceholder)));
    }
  });

  it("runs as many items of a Map at once as the reserved concurrency of the function they invoke, so none waits throttled", () => {
    type State = { Type: string; Resource?: string; MaxConcurrency?: number; ItemProcessor?: { States: Record<string, State> } };
    const byPlaceholder = new Map(topology.functions.map((f) => [`\${${functionArnPlaceholder(f.name)}}`, f]));
    const maps = (states: Record<string, State>): State[] =>
      Object.values(states).flatMap((st) => (st.Type === 'Map' ? [st, ...maps(st.ItemProcessor!.States)] : []));
    const checked: string[] = [];
    for (const s of topology.stateMachines) {
      const def = JSON.parse(readFileSync(s.definitionFile, 'utf8')) as { States: Record<string, State> };
      for (const map of maps(def.States)) {
        const invoked = Object.values(map.ItemProcessor!.States).flatMap((st) => (st.Resource && byPlaceholder.has(st.Resource) ? [byPlaceholder.get(st.Resource)!] : []));
        for (const fn of invoked.filter((f) => f.reservedConcurrency !== undefined)) {
          expect(map.MaxConcurrency, `${s.name}: the Map of ${fn.name}`).toBe(fn.reservedConcurrency);
          checked.push(fn.name);
        }
      }
    }
    expect(checked).toEqual(expect.arrayContaining(['annotation-task', 'slides-dice-region']));
  });

  it('retries every Task state 3 times in all on its own errors, and longer when Lambda throttles', () => {
    type State = { Type: string; Retry?: { ErrorEquals: string[]; MaxAttempts: number }[]; ItemProcessor?: { States: Record<string, State> } };
    const tasks = (states: Record<string, State>): [string, State][] =>
      Object.entries(states).flatMap(([name, st]) => (st.Type === 'Task' ? [[name, st]] : st.ItemProcessor ? tasks(st.ItemProcessor.States) : []));
    for (const s of topology.stateMachines) {
      const def = JSON.parse(readFileSync(s.definitionFile, 'utf8')) as { States: Record<string, State> };
      const all = tasks(def.States);
      expect(all.length).toBeGreaterThan(0);
      for (const [name, state] of all) {
        expect(state.Retry?.find((r) => r.ErrorEquals.includes('States.ALL'))?.MaxAttempts, name).toBe(2);
        expect(state.Retry?.[0]?.ErrorEquals, name).toContain('Lambda.TooManyRequestsException');
      }
    }
  });
});
