// The local cloud's AWS Step Functions: the Step Functions JSON 1.0 API on 127.0.0.1, so functions and
// the `aws` CLI use @aws-sdk/client-sfn / `--endpoint-url` unchanged. Executions run on
// aws-local-stepfunctions; every Task state calls the caller's `invoke(functionName, payload)`.
// State machines and executions (with their history) persist to `<dataDir>/state.json`, rewritten after each
// change; a request that changes them (CreateStateMachine, StartExecution, StopExecution, ...) is answered once
// that file is written with the change and fsynced (the progress of executions in between is not fsynced).
// An execution found RUNNING at start (the process died under it) is ABORTED: unlike AWS, where a Task outlives a
// dead Lambda and times out or retries, nothing of it survives here; a workflow's owner resumes it with a new run.
// Hand-written on node:http: the protocol is ten JSON actions, and no maintained npm emulator serves
// it without Docker or Java.

import { randomUUID } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
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
  executionArn,
  functionNameFromArn,
  isValidName,
  paginate,
  parseArn,
  parseDefinition,
  runtimeDefinition,
  stateMachineArn,
  taskError,
  toHistoryEvent,
  type HistoryEventBody,
  type TaskTarget,
} from './stepfunctions-definition.ts';
import { makePrivateDir, PRIVATE_FILE, syncPath } from './files.ts';
import type { Request } from '../grants.ts';
import { accessKeyIdOf } from './access.ts';
import { stepFunctionsRequest } from './access-stepfunctions.ts';

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

type Status = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
const STATUSES: readonly Status[] = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];

interface MachineRecord {
  arn: string;
  name: string;
  definition: string;
  roleArn: string;
  type: string;
  creationDate: number; // epoch ms, like every date kept here
}

interface ExecutionRecord {
  arn: string;
  stateMachineArn: string;
  name: string;
  status: Status;
  startDate: number;
  stopDate?: number;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  events: (HistoryEventBody & { id: number; previousEventId: number })[];
}

interface Compiled {
  machine: StateMachine;
  tasks: Map<string, TaskTarget>;
}

type Json = Record<string, unknown>;
type TaskHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;
type JsonValue = Parameters<StateMachine['run']>[0];

const STOPPED_CAUSE = 'local cloud stopped';
/** Actions whose reply waits until the state they changed is on disk. */
const CHANGES = new Set(['CreateStateMachine', 'UpdateStateMachine', 'DeleteStateMachine', 'StartExecution', 'StopExecution']);
const DIED_CAUSE = 'the local cloud died while the execution was running';
const MAX_BODY_BYTES = 8 * 1024 * 1024;
const seconds = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : ms / 1000);
const cloneJson = (v: unknown): JsonValue => JSON.parse(JSON.stringify(v ?? null)) as JsonValue;
const sameDefinition = (a: string, b: string): boolean =>
  JSON.stringify(parseDefinition(a)) === JSON.stringify(parseDefinition(b));

function field(input: Json, key: string): string;
function field(input: Json, key: string, optional: true): string | undefined;
function field(input: Json, key: string, optional = false): string | undefined {
  const value = input[key];
  if (value === undefined && optional) return undefined;
  if (typeof value !== 'string') {
    throw new SfnError('ValidationException', `1 validation error detected: Value at '${key}' failed to satisfy constraint: Member must be a string`);
  }
  return value;
}

export async function startStepFunctions(opts: StepFunctionsOptions): Promise<LocalStepFunctions> {
  const region = opts.region ?? 'us-east-1';
  const account = opts.accountId ?? '000000000000';
  const scale = { retryInterval: opts.retryIntervalScale ?? 1, wait: opts.waitScale ?? 1 };
  const log = (line: Json) => opts.log?.({ service: 'stepfunctions', ...line });
  const defaultRoleArn = `arn:aws:iam::${account}:role/local-stepfunctions`;

  const machines = new Map<string, MachineRecord>();
  const executions = new Map<string, ExecutionRecord>();
  const compiled = new Map<string, Compiled>();
  const running = new Map<string, { abort: () => void; done: Promise<void> }>();
  /** When each execution started by this process was first written to disk. */
  const recorded = new Map<string, Promise<void>>();

  // ---- persistence: the whole state as one JSON file, rewritten (tmp + rename) after each change ----

  makePrivateDir(opts.dataDir);
  const file = join(opts.dataDir, 'state.json');
  let saved: Promise<void> = Promise.resolve();
  let dirty = false;
  const persist = (): void => {
    dirty = true;
    saved = saved.then(async () => {
      if (!dirty) return;
      dirty = false;
      const text = JSON.stringify({ version: 1, stateMachines: [...machines.values()], executions: [...executions.values()] });
      try {
        await writeFile(`${file}.tmp`, text, { mode: PRIVATE_FILE });
        await rename(`${file}.tmp`, file);
      } catch (e) {
        log({ level: 'error', msg: 'cannot write state', file, error: (e as Error).message });
      }
    });
  };

  /** Makes the last state written durable: what a reply acknowledges (progress in between is written, not synced). */
  const syncState = async (): Promise<void> => {
    await syncPath(file);
    await syncPath(opts.dataDir);
  };

  const stored = await readFile(file, 'utf8').then(
    (text) => {
      try {
        return JSON.parse(text) as { stateMachines: MachineRecord[]; executions: ExecutionRecord[] };
      } catch (e) {
        throw new Error(`${file} is not valid JSON (${(e as Error).message}); move it away to start empty`);
      }
    },
    (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return { stateMachines: [], executions: [] };
      throw e;
    },
  );
  for (const m of stored.stateMachines) machines.set(m.arn, m);
  for (const x of stored.executions) {
    executions.set(x.arn, x);
    // Its in-flight Task died with the process, and the interpreter's state with it: the execution ends ABORTED
    // (as StopExecution would), and the jobs sweeper runs its job again.
    if (x.status === 'RUNNING') markAborted(x, 'States.Runtime', DIED_CAUSE, Date.now());
  }

  // ---- state machines ----

  function compile(definition: string): Compiled {
    const parsed = parseDefinition(definition);
    const tasks = bindTasks(parsed);
    try {
      new StateMachine(parsed as unknown as StateMachineDefinition); // validates (JSONPaths, ARNs, reachability)
    } catch (e) {
      throw new SfnError('InvalidDefinition', (e as Error).message);
    }
    const runnable = runtimeDefinition(parsed, scale) as unknown as StateMachineDefinition;
    return { machine: new StateMachine(runnable, { validationOptions: { noValidate: true } }), tasks };
  }

  function compiledFor(m: MachineRecord): Compiled {
    let c = compiled.get(m.arn);
    if (!c) compiled.set(m.arn, (c = compile(m.definition)));
    return c;
  }

  function putMachine(name: string, definition: object | string, roleArn: string, type: string, replace: boolean): MachineRecord {
    if (!isValidName(name)) throw new SfnError('InvalidName', `Invalid Name: '${name}'`);
    const text = typeof definition === 'string' ? definition : JSON.stringify(definition, null, 2);
    const c = compile(text);
    const arn = stateMachineArn(region, account, name);
    const existing = machines.get(arn);
    if (existing && sameDefinition(existing.definition, text)) return existing;
    if (existing && !replace) throw new SfnError('StateMachineAlreadyExists', `State Machine Already Exists: '${arn}'`);
    const record = { arn, name, definition: text, roleArn, type, creationDate: existing?.creationDate ?? Date.now() };
    machines.set(arn, record);
    compiled.set(arn, c);
    persist();
    return record;
  }

  function machineByArn(arn: string): MachineRecord {
    if (parseArn(arn).kind !== 'stateMachine') throw new SfnError('InvalidArn', `Invalid Arn: '${arn}' is not a state machine ARN`);
    const m = machines.get(arn);
    if (!m) throw new SfnError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return m;
  }

  function executionByArn(arn: string): ExecutionRecord {
    if (parseArn(arn).kind !== 'execution') throw new SfnError('InvalidArn', `Invalid Arn: '${arn}' is not an execution ARN`);
    const x = executions.get(arn);
    if (!x) throw new SfnError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return x;
  }

  // ---- executions ----

  function addEvent(x: ExecutionRecord, body: HistoryEventBody | null): void {
    if (!body) return;
    const id = x.events.length + 1;
    x.events.push({ ...body, id, previousEventId: id - 1 });
  }

  function markAborted(x: ExecutionRecord, error: string | undefined, cause: string | undefined, at: number): void {
    Object.assign(x, { status: 'ABORTED', stopDate: at, error, cause });
    // the library's own ExecutionAborted event follows when it is still running; a loaded one gets it here
    if (!running.has(x.arn)) addEvent(x, { type: 'ExecutionAborted', timestamp: at / 1000, executionAbortedEventDetails: { error, cause } });
  }

  async function callTask(x: ExecutionRecord, target: TaskTarget, input: JsonValue): Promise<JsonValue> {
    // No task runs before its execution is on disk: a process that dies in a task leaves an execution to find.
    await recorded.get(x.arn);
    if (x.status !== 'RUNNING') throw new Error('execution is no longer running'); // e.g. a Retry after StopExecution
    const params = (input ?? {}) as Json;
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
    log({ level: x.status === 'SUCCEEDED' ? 'info' : 'warn', msg: 'execution ended', executionArn: x.arn, status: x.status, error: x.error, cause: x.cause });
    persist();
  }

  function startExecution(m: MachineRecord, name: string, input: string): ExecutionRecord {
    const arn = executionArn(region, account, m.name, name);
    if (executions.has(arn)) throw new SfnError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
    let parsedInput: unknown;
    try {
      parsedInput = JSON.parse(input);
    } catch {
      throw new SfnError('InvalidExecutionInput', `Invalid State Machine Execution Input: '${input}'`);
    }
    const c = compiledFor(m);
    const x: ExecutionRecord = { arn, stateMachineArn: m.arn, name, status: 'RUNNING', startDate: Date.now(), input, events: [] };
    executions.set(arn, x);
    persist();
    recorded.set(arn, saved);

    const handlers: TaskHandlers = {};
    for (const [state, target] of c.tasks) handlers[state] = (taskInput) => callTask(x, target, taskInput);
    const run = c.machine.run(parsedInput as JsonValue, {
      overrides: { taskResourceLocalHandlers: handlers },
      context: { Execution: { Id: arn, Name: name, RoleArn: m.roleArn }, StateMachine: { Id: m.arn, Name: m.name } },
    });
    const history = (async () => {
      for await (const event of run.eventLogs) {
        const body = toHistoryEvent(event, m.roleArn);
        if (body?.type === 'ExecutionAborted') body.executionAbortedEventDetails = { error: x.error, cause: x.cause };
        addEvent(x, body);
      }
    })();
    const outcome = run.result.then(
      (output) => ({ output }),
      (error: unknown) => ({ error }),
    );
    const done = Promise.all([outcome, history.catch(() => undefined)])
      .then(([o]) => finish(x, o))
      .finally(() => (running.delete(arn), recorded.delete(arn)));
    running.set(arn, { abort: run.abort, done });
    log({ level: 'info', msg: 'execution started', executionArn: arn });
    return x;
  }

  function stopExecution(x: ExecutionRecord, error: string | undefined, cause: string | undefined): void {
    if (x.status !== 'RUNNING') return;
    markAborted(x, error, cause, Date.now());
    running.get(x.arn)?.abort();
    persist();
  }

  // ---- the API ----

  const summary = (x: ExecutionRecord) => ({
    executionArn: x.arn,
    stateMachineArn: x.stateMachineArn,
    name: x.name,
    status: x.status,
    startDate: seconds(x.startDate),
    stopDate: seconds(x.stopDate),
  });

  const describeMachine = (m: MachineRecord) => ({
    stateMachineArn: m.arn,
    name: m.name,
    status: 'ACTIVE',
    definition: m.definition,
    roleArn: m.roleArn,
    type: m.type,
    creationDate: seconds(m.creationDate),
    loggingConfiguration: { level: 'OFF', includeExecutionData: false },
    tracingConfiguration: { enabled: false },
  });

  const actions: Record<string, (input: Json) => unknown> = {
    CreateStateMachine(input) {
      const m = putMachine(field(input, 'name'), field(input, 'definition'), field(input, 'roleArn', true) ?? defaultRoleArn, field(input, 'type', true) ?? 'STANDARD', false);
      return { stateMachineArn: m.arn, creationDate: seconds(m.creationDate) };
    },
    UpdateStateMachine(input) {
      const m = machineByArn(field(input, 'stateMachineArn'));
      putMachine(m.name, field(input, 'definition', true) ?? m.definition, field(input, 'roleArn', true) ?? m.roleArn, m.type, true);
      return { updateDate: Date.now() / 1000 };
    },
    ListStateMachines(input) {
      const sorted = [...machines.values()].sort((a, b) => a.name.localeCompare(b.name));
      const { items, nextToken } = paginate(sorted, input.maxResults, input.nextToken);
      const stateMachines = items.map((m) => ({ stateMachineArn: m.arn, name: m.name, type: m.type, creationDate: seconds(m.creationDate) }));
      return { stateMachines, nextToken };
    },
    DescribeStateMachine: (input) => describeMachine(machineByArn(field(input, 'stateMachineArn'))),
    DescribeStateMachineForExecution(input) {
      const x = executionByArn(field(input, 'executionArn'));
      const m = machineByArn(x.stateMachineArn);
      return { stateMachineArn: m.arn, name: m.name, definition: m.definition, roleArn: m.roleArn, updateDate: seconds(m.creationDate) };
    },
    DeleteStateMachine(input) {
      const arn = field(input, 'stateMachineArn');
      if (parseArn(arn).kind !== 'stateMachine') throw new SfnError('InvalidArn', `Invalid Arn: '${arn}'`);
      for (const x of executions.values()) {
        if (x.stateMachineArn !== arn) continue;
        stopExecution(x, undefined, 'state machine deleted');
        executions.delete(x.arn);
      }
      machines.delete(arn);
      compiled.delete(arn);
      persist();
      return {};
    },
    StartExecution(input) {
      const m = machineByArn(field(input, 'stateMachineArn'));
      const name = field(input, 'name', true) ?? randomUUID();
      if (!isValidName(name)) throw new SfnError('InvalidName', `Invalid Name: '${name}'`);
      // Answered once on disk (CHANGES), as AWS acknowledges a started execution: a process that dies right after
      // still finds it at its next start (ABORTED, see above).
      const x = startExecution(m, name, field(input, 'input', true) ?? '{}');
      return { executionArn: x.arn, startDate: seconds(x.startDate) };
    },
    DescribeExecution(input) {
      const x = executionByArn(field(input, 'executionArn'));
      return {
        ...summary(x),
        input: x.input,
        inputDetails: { included: true },
        ...(x.output !== undefined ? { output: x.output, outputDetails: { included: true } } : {}),
        error: x.error,
        cause: x.cause,
      };
    },
    ListExecutions(input) {
      const m = machineByArn(field(input, 'stateMachineArn'));
      const status = field(input, 'statusFilter', true);
      if (status !== undefined && !STATUSES.includes(status as Status)) {
        throw new SfnError('ValidationException', `Value '${status}' at 'statusFilter' must be one of ${STATUSES.join(', ')}`);
      }
      const matching = [...executions.values()]
        .filter((x) => x.stateMachineArn === m.arn && (status === undefined || x.status === status))
        .reverse() // newest first, like AWS
        .sort((a, b) => b.startDate - a.startDate);
      const { items, nextToken } = paginate(matching, input.maxResults, input.nextToken);
      return { executions: items.map(summary), nextToken };
    },
    StopExecution(input) {
      const x = executionByArn(field(input, 'executionArn'));
      stopExecution(x, field(input, 'error', true), field(input, 'cause', true));
      return { stopDate: seconds(x.stopDate) };
    },
    GetExecutionHistory(input) {
      const x = executionByArn(field(input, 'executionArn'));
      const events = input.reverseOrder === true ? [...x.events].reverse() : x.events;
      const { items, nextToken } = paginate(events, input.maxResults, input.nextToken);
      return { events: items, nextToken };
    },
  };

  // ---- HTTP: AWS JSON 1.0 ----

  function send(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-requestid': randomUUID(),
      ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
    });
    res.end(JSON.stringify(body));
  }

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) throw new SfnError('ValidationException', 'Request body is too large');
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = String(req.headers['x-amz-target'] ?? '');
    const action = target.startsWith('AWSStepFunctions.') ? target.slice('AWSStepFunctions.'.length) : '';
    try {
      const run = req.method === 'POST' ? actions[action] : undefined;
      if (!run) throw new SfnError('UnknownOperationException', `Unknown operation: '${target}'`);
      const text = await readBody(req);
      let input: unknown;
      try {
        input = text ? JSON.parse(text) : {};
      } catch {
        throw new SfnError('SerializationException', 'Request body is not JSON');
      }
      if (typeof input !== 'object' || input === null || Array.isArray(input)) {
        throw new SfnError('SerializationException', 'Request body is not a JSON object');
      }
      const refusal = opts.refusal?.(accessKeyIdOf(req.headers, req.url ?? '/'), stepFunctionsRequest(action, input as Json));
      if (refusal) throw new SfnError('AccessDeniedException', refusal);
      const output = (await run(input as Json)) ?? {};
      if (CHANGES.has(action)) await saved.then(syncState); // what the reply acknowledges is on disk
      send(res, 200, output);
    } catch (e) {
      if (e instanceof SfnError) {
        send(res, 400, { __type: e.type, message: e.message }, e.type);
      } else {
        log({ level: 'error', msg: 'internal error', action, error: (e as Error).stack ?? String(e) });
        send(res, 500, { __type: 'InternalFailure', message: (e as Error).message }, 'InternalFailure');
      }
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const endpoint = `http://127.0.0.1:${port}`;
  log({ level: 'info', msg: 'listening', endpoint, dataDir: opts.dataDir });
  persist(); // records the executions aborted on load

  async function waitForIdle(): Promise<void> {
    while (running.size > 0) await Promise.all([...running.values()].map((r) => r.done));
  }

  return {
    endpoint,
    port,
    stateMachineArn: (name) => stateMachineArn(region, account, name),
    createStateMachine: async (name, definition) => putMachine(name, definition, defaultRoleArn, 'STANDARD', true).arn,
    waitForIdle,
    runningExecutions: (name) => {
      const machine = stateMachineArn(region, account, name);
      return [...running.keys()].filter((arn) => executions.get(arn)?.stateMachineArn === machine).length;
    },
    async stop() {
      for (const x of executions.values()) stopExecution(x, undefined, STOPPED_CAUSE);
      await waitForIdle();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      persist();
      await saved;
      log({ level: 'info', msg: 'stopped' });
    },
  };
}
