// One instance of one function, in a worker thread of its own (see functions.ts): the runtime bundled in front of
// the function's handler (function-bundles.ts), which its worker loads once (a warm instance keeps its module
// state), running one invocation at a time with a Lambda context.
import { parentPort, workerData } from 'node:worker_threads';
import type { Context } from 'aws-lambda';
import { shareFaultVisits } from '../../functions/lib/fault.ts';

export interface InstanceData {
  readonly fn: string;
  readonly invokedFunctionArn: string;
  readonly memoryMb: number;
  /** The visits of the fault point set now, one count for every instance (functions/lib/fault.ts). */
  readonly faultVisits: SharedArrayBuffer;
}

export interface Invocation {
  readonly requestId: string;
  readonly event: unknown;
  /** Epoch milliseconds at which the invocation times out. */
  readonly deadline: number;
  /** The local cloud's fault point now (crash tests set it while the cloud runs; see functions/lib/fault.ts). */
  readonly faultPoint: string | undefined;
}

/** An error as it crosses threads: its name (Step Functions' Retry and Catch match on it), message, stack and own fields. */
export interface CarriedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly fields: Record<string, unknown>;
}

export type Outcome = { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: CarriedError };

type Handler = (event: unknown, context: Context) => Promise<unknown>;

export function carry(err: unknown): CarriedError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err), fields: {} };
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(err)) {
    try {
      fields[k] = structuredClone(v);
    } catch {
      // a field that cannot cross threads stays behind
    }
  }
  return { name: err.name, message: err.message, stack: err.stack, fields };
}

export function revive(carried: CarriedError): Error {
  const err = Object.assign(new Error(carried.message), carried.fields);
  err.name = carried.name;
  if (carried.stack) err.stack = carried.stack;
  return err;
}

/** Serves the invocations the main thread posts to this worker with `handler` (exported by `entry`). */
export function serve(handler: Handler | undefined, entry: string): void {
  const port = parentPort;
  if (!port) throw new Error('a function instance runs in a worker thread');
  const data = workerData as InstanceData;
  // Read once the bundle has loaded (function-bundles.ts): the function sees its own environment only, as do its children.
  delete process.env.NODE_COMPILE_CACHE;
  shareFaultVisits(new Int32Array(data.faultVisits));
  port.on('message', (invocation: Invocation) => {
    if (invocation.faultPoint) process.env.FRAMEWISE_FAULT_POINT = invocation.faultPoint;
    else delete process.env.FRAMEWISE_FAULT_POINT;
    const context: Context = {
      callbackWaitsForEmptyEventLoop: false,
      functionName: data.fn,
      functionVersion: '$LATEST',
      invokedFunctionArn: data.invokedFunctionArn,
      memoryLimitInMB: String(data.memoryMb),
      awsRequestId: invocation.requestId,
      logGroupName: `/aws/lambda/${data.fn}`,
      logStreamName: `local/${invocation.requestId}`,
      getRemainingTimeInMillis: () => Math.max(0, invocation.deadline - Date.now()),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
    Promise.resolve()
      .then(() => {
        if (typeof handler !== 'function') throw new Error(`${entry} does not export a handler`);
        return handler(invocation.event, context);
      })
      .then(
        (result): Outcome => ({ ok: true, result }),
        (err: unknown): Outcome => ({ ok: false, error: carry(err) }),
      )
      .then((outcome) => {
        try {
          port.postMessage(outcome);
        } catch {
          // what a handler returns reaches its caller as JSON, as Lambda's response does
          port.postMessage(outcome.ok ? { ok: true, result: JSON.parse(JSON.stringify(outcome.result ?? null)) } : outcome);
        }
      });
  });
}
