// Runs the topology's functions in this process, as Lambda would: a fresh context per invocation, the
// function's timeout enforced, one handler module loaded once (a warm container).
// Lambda runs each function in instances of its own; here every function shares one event loop, so work that
// must not slow other work down can be deferred while that other work runs (see deferWhile).
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { findFunction, type FunctionDef } from '../topology.ts';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

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

export class LocalFunctions {
  private readonly handlers = new Map<string, Promise<Handler>>();
  private readonly gates = new Map<string, Gate>();
  private readonly inFlight = new Map<string, number>();
  private readonly deferred = new Map<string, () => boolean>();
  private readonly deferral = new Deferral();
  private readonly runs = new Set<Promise<unknown>>();
  private stopped = false;
  private readonly interceptors: ((name: string, event: unknown) => Promise<void> | void)[] = [];

  constructor(
    private readonly root: string,
    private readonly region: string,
    private readonly log: (line: InvocationLog) => void = () => undefined,
  ) {}

  private handler(fn: FunctionDef): Promise<Handler> {
    let loaded = this.handlers.get(fn.name);
    if (!loaded) {
      loaded = import(pathToFileURL(join(this.root, fn.entry)).href).then((m: { handler?: Handler }) => {
        if (typeof m.handler !== 'function') throw new Error(`${fn.entry} does not export a handler`);
        return m.handler;
      });
      this.handlers.set(fn.name, loaded);
    }
    return loaded;
  }

  /**
   * Invokes `name` with `event`; rejects with the handler's error or a timeout, as a Lambda invoke would.
   * Beyond the function's reserved concurrency the call waits (where Lambda throttles and the caller retries).
   */
  async invoke(name: string, event: unknown): Promise<unknown> {
    const fn = findFunction(name);
    for (const intercept of this.interceptors) await intercept(fn.name, event);
    if (fn.reservedConcurrency === undefined) {
      await this.deferIfBusy(fn.name);
      return this.run(fn, event);
    }
    let gate = this.gates.get(fn.name);
    if (!gate) this.gates.set(fn.name, (gate = new Gate(fn.reservedConcurrency)));
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

  /** Invokes nothing more and resolves when the invocations still running have ended (at most `waitMs`). */
  async stop(waitMs = 10_000): Promise<void> {
    this.stopped = true;
    this.deferral.release();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise((r) => (timer = setTimeout(r, waitMs)));
    await Promise.race([Promise.allSettled([...this.runs]), late]);
    clearTimeout(timer);
  }

  private async runOnce(fn: FunctionDef, event: unknown): Promise<unknown> {
    const handler = await this.handler(fn);
    const requestId = randomUUID();
    const started = Date.now();
    const deadline = started + fn.timeoutSeconds * 1000;
    const context: Context = {
      callbackWaitsForEmptyEventLoop: false,
      functionName: fn.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:${this.region}:000000000000:function:${fn.name}`,
      memoryLimitInMB: String(fn.memoryMb),
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${fn.name}`,
      logStreamName: `local/${requestId}`,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new Error(`Task timed out after ${fn.timeoutSeconds} seconds`);
        err.name = 'Sandbox.Timedout';
        reject(err);
      }, fn.timeoutSeconds * 1000);
    });
    try {
      const result = await Promise.race([handler(event, context), timeout]);
      this.log({ fn: fn.name, requestId, ms: Date.now() - started });
      return result;
    } catch (err) {
      this.log({ fn: fn.name, requestId, ms: Date.now() - started, error: (err as Error).message });
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}
