// Runs the topology's functions as Lambda would: each invocation in an instance of its function (a worker thread
// with its own module state, logger and environment: exactly the function's, see infra/environment.ts), one
// invocation per instance at a time; an idle instance is reused (warm), a new one started when all are busy, up to
// the function's reserved concurrency and LOCAL_MAX_INSTANCES. A fresh context per invocation, the function's timeout enforced (a timed-out
// instance is ended, as Lambda ends it).
// The instances still share this machine's cores, so work that must not slow other work down can be deferred while
// that other work runs (see deferWhile).
import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { topology as defaultTopology, type FunctionDef, type Topology } from '../topology.ts';
import { FunctionBundles } from './function-bundles.ts';
import { revive, type InstanceData, type Invocation, type Outcome } from './function-instance.ts';
import type { UsageMeter } from './usage.ts';

export interface InvocationLog {
  readonly fn: string;
  readonly requestId: string;
  readonly ms: number;
  readonly error?: string;
}

/** Counts running invocations of one function; past its reserved concurrency, callers wait their turn. */
class Gate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async enter(): Promise<void> {
    if (this.running < this.limit) {
      this.running++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }
  leave(): void {
    const next = this.waiting.shift();
    if (next) next(); // the slot passes straight to the next caller
    else this.running--;
  }
}

/** A deferred invocation waits at most this long for the work it yields to, then runs anyway. */
const MAX_DEFER_MS = 30_000;
const DEFER_POLL_MS = 50;

/** Invocations waiting for `busy()` to turn false, checked for all of them on one timer. */
class Deferral {
  private readonly waiting: { busy: () => boolean; until: number; go: () => void }[] = [];
  private timer: NodeJS.Timeout | undefined;

  wait(busy: () => boolean): Promise<void> {
    return new Promise((go) => {
      this.waiting.push({ busy, until: Date.now() + MAX_DEFER_MS, go });
      this.timer ??= setInterval(() => this.check(), DEFER_POLL_MS);
    });
  }

  /** Lets every waiting invocation go now (they find the functions stopped). */
  release(): void {
    for (const w of this.waiting.splice(0)) w.go();
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private check(): void {
    const now = Date.now();
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      const w = this.waiting[i]!;
      if (w.busy() && now < w.until) continue;
      this.waiting.splice(i, 1);
      w.go();
    }
    if (this.waiting.length > 0) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/**
 * Instances of a function at most, whatever its reserved concurrency (Lambda would start more): each is a thread with
 * its own copy of the function's modules, and one machine is not a region. ingest-frames reserves 40 for one wave of
 * a 3-hour game on AWS; here 40 ffmpeg runs on a few cores would only contend, so the Map's items past this wait.
 */
const LOCAL_MAX_INSTANCES = 10;
/** An instance idle this long is ended, as Lambda reclaims idle instances (its next invocation starts cold). */
const IDLE_MS = 120_000;

/** One instance of a function: a worker that runs one invocation at a time. */
class Instance {
  private readonly worker: Worker;
  /** Set while the instance is idle: ends it after IDLE_MS. */
  idleTimer: NodeJS.Timeout | undefined;
  private current: { resolve: (o: Outcome) => void; reject: (e: Error) => void } | undefined;
  ended = false;
  readonly fn: string;
  /** Resolves when the worker has exited. */
  readonly exited: Promise<void>;

  constructor(bundle: string, data: InstanceData, env: Record<string, string>) {
    this.fn = data.fn;
    this.worker = new Worker(bundle, { workerData: data, env, execArgv: ['--enable-source-maps'], stdout: true, stderr: true });
    // Copied chunk by chunk rather than piped: a pipe per instance would add listeners to this process's streams.
    this.worker.stdout.on('data', (chunk: Buffer) => process.stdout.write(chunk));
    this.worker.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    // An instance that dies (an uncaught error, an exit) fails the invocation it was running, as Lambda's would.
    this.worker.on('message', (outcome: Outcome) => this.settle((c) => c.resolve(outcome)));
    this.worker.on('error', (err) => this.end(err));
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', (code) => {
        this.end(Object.assign(new Error(`the instance of ${data.fn} exited with code ${code}`), { name: 'Runtime.ExitError' }));
        resolve();
      }),
    );
  }

  run(invocation: Invocation): Promise<Outcome> {
    return new Promise((resolve, reject) => {
      this.current = { resolve, reject };
      this.worker.postMessage(invocation);
    });
  }

  private settle(how: (c: NonNullable<Instance['current']>) => void): void {
    const c = this.current;
    this.current = undefined;
    if (c) how(c);
  }

  /** Ends the instance; the invocation it runs fails with `err`. */
  end(err: Error): void {
    if (!this.ended) {
      this.ended = true;
      void this.worker.terminate();
    }
    this.settle((c) => c.reject(err));
  }
}

export interface LocalFunctionsOptions {
  readonly root: string;
  readonly region: string;
  /** The environment of each function's instances. */
  readonly environment: (fn: FunctionDef) => Record<string, string>;
  readonly topology?: Topology;
  readonly log?: (line: InvocationLog) => void;
  /** Hears of every invocation's duration (what Lambda bills). */
  readonly usage?: UsageMeter;
}

export class LocalFunctions {
  /** Each function's idle instances, the most recently used last. */
  private readonly idle = new Map<string, Instance[]>();
  private readonly instances = new Set<Instance>();
  private readonly gates = new Map<string, Gate>();
  private readonly inFlight = new Map<string, number>();
  private readonly deferred = new Map<string, () => boolean>();
  private readonly deferral = new Deferral();
  private readonly runs = new Set<Promise<unknown>>();
  private stopped = false;
  private readonly interceptors: ((name: string, event: unknown) => Promise<void> | void)[] = [];
  private readonly topology: Topology;
  private readonly log: (line: InvocationLog) => void;
  private readonly bundles: FunctionBundles;
  /** The fault point of the invocations now and its visits in every instance (one count: only its function counts). */
  private faultPoint: string | undefined;
  private readonly faultVisits = new Int32Array(new SharedArrayBuffer(4));

  constructor(private readonly o: LocalFunctionsOptions) {
    this.topology = o.topology ?? defaultTopology;
    this.log = o.log ?? (() => undefined);
    this.bundles = new FunctionBundles(o.root);
  }

  private find(name: string): FunctionDef {
    const fn = this.topology.functions.find((f) => f.name === name);
    if (!fn) throw new Error(`no function named ${name} in the topology`);
    return fn;
  }

  /** An idle instance of `fn` (warm), or a new one. The gate keeps their number within reserved concurrency. */
  private async instance(fn: FunctionDef): Promise<Instance> {
    const warm = this.idle.get(fn.name)?.pop();
    if (warm) {
      clearTimeout(warm.idleTimer);
      return warm;
    }
    const bundle = await this.bundles.bundle(fn.entry);
    const instance = new Instance(
      bundle,
      { fn: fn.name, invokedFunctionArn: `arn:aws:lambda:${this.o.region}:000000000000:function:${fn.name}`, memoryMb: fn.memoryMb, faultVisits: this.faultVisits.buffer as SharedArrayBuffer },
      { ...this.o.environment(fn), NODE_COMPILE_CACHE: this.bundles.compileCacheDir },
    );
    this.instances.add(instance);
    return instance;
  }

  private release(fn: FunctionDef, instance: Instance): void {
    if (instance.ended || this.stopped) {
      this.instances.delete(instance);
      if (!instance.ended) instance.end(new Error('the local cloud is stopping'));
      return;
    }
    let idle = this.idle.get(fn.name);
    if (!idle) this.idle.set(fn.name, (idle = []));
    idle.push(instance);
    instance.idleTimer = setTimeout(() => {
      idle.splice(idle.indexOf(instance), 1);
      this.instances.delete(instance);
      instance.end(new Error('idle instance reclaimed'));
    }, IDLE_MS);
    instance.idleTimer.unref();
  }

  /**
   * Invokes `name` with `event`; rejects with the handler's error or a timeout, as a Lambda invoke would.
   * Beyond the function's reserved concurrency (and LOCAL_MAX_INSTANCES) the call waits (where Lambda throttles and
   * the caller retries).
   */
  async invoke(name: string, event: unknown): Promise<unknown> {
    const fn = this.find(name);
    for (const intercept of this.interceptors) await intercept(fn.name, event);
    let gate = this.gates.get(fn.name);
    if (!gate) this.gates.set(fn.name, (gate = new Gate(Math.min(fn.reservedConcurrency ?? LOCAL_MAX_INSTANCES, LOCAL_MAX_INSTANCES))));
    await gate.enter();
    try {
      // Deferred with its slot taken: invocations queued behind the slots must not start past a deferral either.
      await this.deferIfBusy(fn.name);
      return await this.run(fn, event);
    } finally {
      gate.leave();
    }
  }

  private async deferIfBusy(name: string): Promise<void> {
    const busy = this.deferred.get(name);
    if (busy?.()) await this.deferral.wait(busy);
    if (this.stopped) throw new Error(`the local cloud is stopping: ${name} not invoked`);
  }

  /** Invocations of `functions` start only when `busy()` is false (or after waiting MAX_DEFER_MS). */
  deferWhile(functions: readonly string[], busy: () => boolean): void {
    for (const f of functions) this.deferred.set(f, busy);
  }

  /** Invocations of `name` running now. */
  running(name: string): number {
    return this.inFlight.get(name) ?? 0;
  }

  /** Instances of `name` started and not ended (idle or busy). */
  instanceCount(name: string): number {
    return [...this.instances].filter((i) => !i.ended && i.fn === name).length;
  }

  /** Runs `intercept` before every invocation (tests use it to act at a chosen step of a workflow). */
  intercept(intercept: (name: string, event: unknown) => Promise<void> | void): void {
    this.interceptors.push(intercept);
  }

  private async run(fn: FunctionDef, event: unknown): Promise<unknown> {
    this.inFlight.set(fn.name, this.running(fn.name) + 1);
    const run = this.runOnce(fn, event);
    this.runs.add(run);
    try {
      return await run;
    } finally {
      this.runs.delete(run);
      this.inFlight.set(fn.name, this.running(fn.name) - 1);
    }
  }

  /** Invokes nothing more, waits for the invocations still running (at most `waitMs`), and ends every instance. */
  async stop(waitMs = 10_000): Promise<void> {
    this.stopped = true;
    this.deferral.release();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise((r) => (timer = setTimeout(r, waitMs)));
    await Promise.race([Promise.allSettled([...this.runs]), late]);
    clearTimeout(timer);
    for (const instance of this.instances) {
      clearTimeout(instance.idleTimer);
      instance.end(new Error('the local cloud stopped'));
    }
    await Promise.all([...this.instances].map((i) => i.exited));
    this.idle.clear();
  }

  /** FRAMEWISE_FAULT_POINT as set now; its visits are counted from 0 again when it changes. */
  private faultPointNow(): string | undefined {
    const point = process.env.FRAMEWISE_FAULT_POINT || undefined;
    if (point !== this.faultPoint) {
      this.faultPoint = point;
      Atomics.store(this.faultVisits, 0, 0);
    }
    return point;
  }

  private async runOnce(fn: FunctionDef, event: unknown): Promise<unknown> {
    const instance = await this.instance(fn);
    const requestId = randomUUID();
    const started = Date.now();
    const billedFrom = performance.now();
    const deadline = started + fn.timeoutSeconds * 1000;
    const timer = setTimeout(() => {
      const err = new Error(`Task timed out after ${fn.timeoutSeconds} seconds`);
      err.name = 'Sandbox.Timedout';
      instance.end(err);
    }, fn.timeoutSeconds * 1000);
    try {
      const outcome = await instance.run({ requestId, event, deadline, faultPoint: this.faultPointNow() });
      if (!outcome.ok) throw revive(outcome.error);
      this.log({ fn: fn.name, requestId, ms: Date.now() - started });
      return outcome.result;
    } catch (err) {
      this.log({ fn: fn.name, requestId, ms: Date.now() - started, error: (err as Error).message });
      throw err;
    } finally {
      this.o.usage?.recordInvocation(fn.name, fn.memoryMb, performance.now() - billedFrom);
      clearTimeout(timer);
      this.release(fn, instance);
    }
  }
}
