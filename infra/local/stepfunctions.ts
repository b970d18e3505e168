// The local cloud's AWS Step Functions: the Step Functions JSON 1.0 API on 127.0.0.1, so functions and
// the `aws` CLI use @aws-sdk/client-sfn / `--endpoint-url` unchanged. Executions run on
// aws-local-stepfunctions; every Task state calls the caller's `invoke(functionName, payload)`.
// Split as LocalStack splits its providers, in stepfunctions/: the store (state machines, executions and their
// history, persisted to `<dataDir>/state.json`), the engine (runs executions), the actions (the API on both) and
// the protocol (AWS JSON 1.0 over HTTP); this module puts them together.
// Hand-written on node:http: the protocol is ten JSON actions, and no maintained npm emulator serves
// it without Docker or Java.

import type { Request } from '../grants.ts';
import { putStateMachine, stepFunctionsActions, type ActionContext } from './stepfunctions/actions.ts';
import { stateMachineArn } from './stepfunctions/definition.ts';
import { createEngine } from './stepfunctions/engine.ts';
import { serveProtocol } from './stepfunctions/protocol.ts';
import { openStore } from './stepfunctions/store.ts';

export interface StepFunctionsOptions {
  /** 0 or absent: a free port. */
  port?: number;
  /** Directory for `state.json`, created if missing. */
  dataDir: string;
  region?: string;
  accountId?: string;
  /** Runs the function a Task state names (the last segment of its ARN, without qualifier). */
  invoke: (functionName: string, payload: unknown) => Promise<unknown>;
  /** Multiplies every Retry `IntervalSeconds`/`MaxDelaySeconds` (default 1; tests use e.g. 0.01). */
  retryIntervalScale?: number;
  /** Multiplies every Wait state's `Seconds` (default 1). */
  waitScale?: number;
  log?: (line: object) => void;
  /** Why IAM would refuse the call (signed with `accessKeyId`), or undefined to let it run; see access.ts. */
  refusal?: (accessKeyId: string | undefined, request: Request) => string | undefined;
  /** Told of each state transition, by its state machine's name (usage.ts). */
  transition?: (stateMachine: string) => void;
}

export interface LocalStepFunctions {
  endpoint: string;
  port: number;
  stateMachineArn(name: string): string;
  /** Creates the state machine, or replaces its definition if it exists; returns its ARN. */
  createStateMachine(name: string, definition: object | string): Promise<string>;
  /** Resolves when no execution is running. */
  waitForIdle(): Promise<void>;
  /** How many executions of the state machine named `name` are running now. */
  runningExecutions(name: string): number;
  /** Aborts running executions, closes the server, flushes state. */
  stop(): Promise<void>;
}

const STOPPED_CAUSE = 'local cloud stopped';

export async function startStepFunctions(opts: StepFunctionsOptions): Promise<LocalStepFunctions> {
  const region = opts.region ?? 'us-east-1';
  const account = opts.accountId ?? '000000000000';
  const log = (line: Record<string, unknown>) => opts.log?.({ service: 'stepfunctions', ...line });

  const store = await openStore(opts.dataDir, log);
  const engine = createEngine({
    invoke: opts.invoke,
    scale: { retryInterval: opts.retryIntervalScale ?? 1, wait: opts.waitScale ?? 1 },
    changed: () => void store.save(),
    log,
    transition: opts.transition,
  });
  const ctx: ActionContext = { store, engine, region, account, defaultRoleArn: `arn:aws:iam::${account}:role/local-stepfunctions` };
  const server = await serveProtocol({ port: opts.port, actions: stepFunctionsActions(ctx), refusal: opts.refusal, log });
  log({ level: 'info', msg: 'listening', endpoint: server.endpoint, dataDir: opts.dataDir });

  return {
    endpoint: server.endpoint,
    port: server.port,
    stateMachineArn: (name) => stateMachineArn(region, account, name),
    createStateMachine: async (name, definition) => putStateMachine(ctx, name, definition, ctx.defaultRoleArn, 'STANDARD', true).arn,
    waitForIdle: () => engine.waitForIdle(),
    runningExecutions: (name) => {
      const machine = stateMachineArn(region, account, name);
      return engine.running().filter((arn) => store.executions.get(arn)?.stateMachineArn === machine).length;
    },
    async stop() {
      for (const x of store.executions.values()) engine.stop(x, undefined, STOPPED_CAUSE);
      await engine.waitForIdle();
      await server.close();
      await store.save();
      log({ level: 'info', msg: 'stopped' });
    },
  };
}
