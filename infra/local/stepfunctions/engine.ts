// The engine of the local Step Functions: runs executions of a state machine on aws-local-stepfunctions and
// writes what happens into the execution's record (history events, then status and output or error). Every Task
// state calls `invoke(functionName, payload)`; Retry, Catch, Map, Parallel, Wait and timeouts are the library's.
// It knows no protocol and no file: the caller creates the record and says when it is on disk.

import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  StateMachine,
  type RunOptions,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import {
  SfnError,
  bindTasks,
  functionNameFromArn,
  parseDefinition,
  runtimeDefinition,
  taskError,
  toHistoryEvent,
  type TaskTarget,
} from './definition.ts';
import { appendEvent, markAborted, type ExecutionRecord, type MachineRecord } from './store.ts';

export interface EngineOptions {
  /** Runs the function a Task state names (the last segment of its ARN, without qualifier). */
  invoke: (functionName: string, payload: unknown) => Promise<unknown>;
  /** Multiplies every Retry `IntervalSeconds`/`MaxDelaySeconds` and every Wait state's `Seconds`. */
  scale: { retryInterval: number; wait: number };
  /** Told when a record changed for good: an execution ended or was stopped. */
  changed: () => void;
  log: (line: Record<string, unknown>) => void;
  /** Told of each state transition (a state entered, or retried), by its state machine's name: what AWS bills. */
  transition?: (stateMachine: string) => void;
}

/** A definition ready to run: the library's state machine and the function each Task state calls. */
export interface Program {
  machine: StateMachine;
  tasks: Map<string, TaskTarget>;
}

export interface ExecutionEngine {
  /**
   * Validates a definition (JSONPaths, ARNs, reachability, what the local cloud runs); `InvalidDefinition` if not.
   * `validated`: one validated when it was put, whose library checks (the slow part) are not run again.
   */
  compile(definition: string, validated?: boolean): Program;
  /** Runs executions of `m` with `program` from now on. */
  keep(m: MachineRecord, program: Program): void;
  /** What runs executions of `m`: the program kept for it, else its definition compiled now. */
  program(m: MachineRecord): Program;
  /**
   * Runs the execution `x` (RUNNING, no events yet) of `m` on `input`. No Task runs before `recorded` resolves, so
   * that a process that dies in a task leaves the execution on disk to find.
   */
  start(m: MachineRecord, program: Program, x: ExecutionRecord, input: unknown, recorded: Promise<void>): void;
  /** Ends a RUNNING execution ABORTED with this error and cause; nothing for one that has ended. */
  stop(x: ExecutionRecord, error: string | undefined, cause: string | undefined): void;
  /** The ARNs of the executions running now. */
  running(): string[];
  /** Resolves when no execution is running. */
  waitForIdle(): Promise<void>;
}

type TaskHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;
type JsonValue = Parameters<StateMachine['run']>[0];
const cloneJson = (v: unknown): JsonValue => JSON.parse(JSON.stringify(v ?? null)) as JsonValue;

export function createEngine(opts: EngineOptions): ExecutionEngine {
  const programs = new WeakMap<MachineRecord, Program>();
  const running = new Map<string, { abort: () => void; done: Promise<void> }>();

  function compile(definition: string, validated = false): Program {
    const parsed = parseDefinition(definition);
    const tasks = bindTasks(parsed);
    try {
      if (!validated) new StateMachine(parsed as unknown as StateMachineDefinition); // validates (JSONPaths, ARNs, reachability)
    } catch (e) {
      throw new SfnError('InvalidDefinition', (e as Error).message);
    }
    const runnable = runtimeDefinition(parsed, opts.scale) as unknown as StateMachineDefinition;
    return { machine: new StateMachine(runnable, { validationOptions: { noValidate: true } }), tasks };
  }

  async function callTask(x: ExecutionRecord, target: TaskTarget, input: JsonValue, recorded: Promise<void>): Promise<JsonValue> {
    await recorded;
    if (x.status !== 'RUNNING') throw new Error('execution is no longer running'); // e.g. a Retry after StopExecution
    const params = (input ?? {}) as Record<string, unknown>;
    const fn = target.integration === 'lambda' ? target.functionName! : functionNameFromArn(String(params.FunctionName));
    const payload = target.integration === 'lambda' ? input : (params.Payload ?? {});
    let result: unknown;
    try {
      result = await opts.invoke(fn, cloneJson(payload));
    } catch (e) {
      throw taskError(e);
    }
    const output = cloneJson(result);
    return target.integration === 'lambda' ? output : { ExecutedVersion: '$LATEST', Payload: output, StatusCode: 200 };
  }

  function finish(x: ExecutionRecord, outcome: { output: unknown } | { error: unknown }): void {
    if (x.status === 'RUNNING') {
      x.stopDate = Date.now();
      if ('output' in outcome) {
        Object.assign(x, { status: 'SUCCEEDED', output: JSON.stringify(outcome.output ?? null) });
      } else if (outcome.error instanceof ExecutionTimeoutError) {
        Object.assign(x, { status: 'TIMED_OUT', error: 'States.Timeout', cause: 'The execution exceeded its TimeoutSeconds' });
      } else if (outcome.error instanceof ExecutionAbortedError) {
        Object.assign(x, { status: 'ABORTED' });
      } else {
        const e = (outcome.error instanceof ExecutionError ? outcome.error.cause : outcome.error) as Error;
        Object.assign(x, { status: 'FAILED', error: e?.name ?? 'States.Runtime', cause: e?.message ?? String(e) });
      }
    }
    opts.log({ level: x.status === 'SUCCEEDED' ? 'info' : 'warn', msg: 'execution ended', executionArn: x.arn, status: x.status, error: x.error, cause: x.cause });
    opts.changed();
  }

  function start(m: MachineRecord, program: Program, x: ExecutionRecord, input: unknown, recorded: Promise<void>): void {
    const handlers: TaskHandlers = {};
    for (const [state, target] of program.tasks) handlers[state] = (taskInput) => callTask(x, target, taskInput, recorded);
    const run = program.machine.run(input as JsonValue, {
      overrides: { taskResourceLocalHandlers: handlers },
      context: { Execution: { Id: x.arn, Name: x.name, RoleArn: m.roleArn }, StateMachine: { Id: m.arn, Name: m.name } },
    });
    const history = (async () => {
      for await (const event of run.eventLogs) {
        if (event.type === 'StateEntered' || event.type === 'StateRetried') opts.transition?.(m.name);
        const body = toHistoryEvent(event, m.roleArn);
        if (body?.type === 'ExecutionAborted') body.executionAbortedEventDetails = { error: x.error, cause: x.cause };
        appendEvent(x, body);
      }
    })();
    const outcome = run.result.then(
      (output) => ({ output }),
      (error: unknown) => ({ error }),
    );
    const done = Promise.all([outcome, history.catch(() => undefined)])
      .then(([o]) => finish(x, o))
      .finally(() => running.delete(x.arn));
    running.set(x.arn, { abort: run.abort, done });
    opts.log({ level: 'info', msg: 'execution started', executionArn: x.arn });
  }

  return {
    compile,
    keep: (m, program) => void programs.set(m, program),
    program(m) {
      let program = programs.get(m);
      // a stored definition was validated when it was put
      if (!program) programs.set(m, (program = compile(m.definition, true)));
      return program;
    },
    start,
    stop(x, error, cause) {
      if (x.status !== 'RUNNING') return;
      // the library's own ExecutionAborted event follows while it runs; one not running here gets it now
      markAborted(x, error, cause, Date.now(), !running.has(x.arn));
      running.get(x.arn)?.abort();
      opts.changed();
    },
    running: () => [...running.keys()],
    async waitForIdle() {
      while (running.size > 0) await Promise.all([...running.values()].map((r) => r.done));
    },
  };
}
