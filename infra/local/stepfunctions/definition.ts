// Pure helpers of the local Step Functions service (infra/local/stepfunctions.ts and its parts here): ARNs and names,
// the walk that binds every Task state of an ASL definition to a local function, the copy the library
// runs (Retry and Wait timings scaled, Task timeouts as on AWS), and the translation of
// aws-local-stepfunctions events into GetExecutionHistory events. No I/O here.

/** An error the service answers with HTTP 400 and `{ "__type": type, "message": message }`. */
export class SfnError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = type;
  }
}

// ---- ARNs and names ----

export const stateMachineArn = (region: string, account: string, name: string): string =>
  `arn:aws:states:${region}:${account}:stateMachine:${name}`;

export const executionArn = (region: string, account: string, stateMachine: string, execution: string): string =>
  `arn:aws:states:${region}:${account}:execution:${stateMachine}:${execution}`;

export type ParsedArn =
  | { kind: 'stateMachine'; region: string; account: string; name: string }
  | { kind: 'execution'; region: string; account: string; stateMachine: string; name: string };

/** Parses a state machine or execution ARN; anything else is an `InvalidArn`. */
export function parseArn(arn: string): ParsedArn {
  const parts = arn.split(':');
  const [prefix, partition, service, region, account, kind] = parts;
  const ok = prefix === 'arn' && partition?.startsWith('aws') && service === 'states' && region && account;
  if (ok && kind === 'stateMachine' && parts.length === 7 && parts[6]) {
    return { kind, region, account, name: parts[6] };
  }
  if (ok && kind === 'execution' && parts.length === 8 && parts[6] && parts[7]) {
    return { kind, region, account, stateMachine: parts[6], name: parts[7] };
  }
  throw new SfnError('InvalidArn', `Invalid Arn: '${arn}'`);
}

/** AWS names of state machines and executions: 1-80 characters, no whitespace, brackets, wildcards or punctuation. */
export const isValidName = (name: string): boolean =>
  // eslint-disable-next-line no-control-regex
  /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/u.test(name);

/**
 * The function name in a Lambda ARN, partial ARN or plain name, without alias or version:
 * `arn:aws:lambda:us-east-1:1:function:f:prod`, `1:function:f`, `f:prod` and `f` all name `f`.
 */
export function functionNameFromArn(arnOrName: string): string {
  const parts = arnOrName.split(':');
  const i = parts.indexOf('function');
  return (i >= 0 ? parts[i + 1] : parts[0]) ?? '';
}

// ---- definitions ----

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A definition from an API call (a JSON string) or from code (an object), as a plain object. */
export function parseDefinition(definition: object | string): Json {
  let parsed: unknown = definition;
  if (typeof definition === 'string') {
    try {
      parsed = JSON.parse(definition);
    } catch (e) {
      throw new SfnError('InvalidDefinition', `Invalid State Machine Definition: not JSON (${(e as Error).message})`);
    }
  }
  if (!isObject(parsed) || !isObject(parsed.States) || typeof parsed.StartAt !== 'string') {
    throw new SfnError('InvalidDefinition', 'Invalid State Machine Definition: needs StartAt and States');
  }
  return parsed;
}

/** The nested state machines of a Map or Parallel state, with a label for messages. */
function subMachines(state: Json): { label: string; machine: Json }[] {
  if (state.Type === 'Map') {
    const key = 'ItemProcessor' in state ? 'ItemProcessor' : 'Iterator';
    return isObject(state[key]) ? [{ label: key, machine: state[key] }] : [];
  }
  if (state.Type === 'Parallel' && Array.isArray(state.Branches)) {
    return state.Branches.filter(isObject).map((machine, i) => ({ label: `Branches[${i}]`, machine }));
  }
  return [];
}

/** Calls `visit` for every state, nested ones included; `path` locates the state for messages. */
export function walkStates(definition: Json, visit: (name: string, state: Json, path: string) => void, path = ''): void {
  for (const [name, state] of Object.entries(isObject(definition.States) ? definition.States : {})) {
    if (!isObject(state)) continue;
    const here = path ? `${path}.${name}` : name;
    visit(name, state, here);
    for (const sub of subMachines(state)) walkStates(sub.machine, visit, `${here}.${sub.label}`);
  }
}

export const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9$_-]+)?$/;

/**
 * What a Task state calls. `lambda`: `Resource` is the function's ARN, the state input is the payload
 * and the result is the function's return value. `lambda:invoke`: the optimized integration, where
 * `Parameters` give `FunctionName` and `Payload` and the result is `{ Payload, StatusCode, ... }`;
 * `functionName` is null when `FunctionName.$` picks it at run time.
 */
export interface TaskTarget {
  integration: 'lambda' | 'lambda:invoke';
  functionName: string | null;
  /** Where the state sits, e.g. `Fan.ItemProcessor.Resize`. */
  path: string;
}

/**
 * Binds every Task state (nested in Map and Parallel too) to the function it calls, keyed by state
 * name, because aws-local-stepfunctions keys its task overrides by state name. Throws
 * `InvalidDefinition` for a resource the local cloud cannot run, for a Distributed Map, and for two
 * Task states with one name that call different functions.
 */
export function bindTasks(definition: Json): Map<string, TaskTarget> {
  const tasks = new Map<string, TaskTarget>();
  const invalid = (message: string) => new SfnError('InvalidDefinition', `Invalid State Machine Definition: ${message}`);
  walkStates(definition, (name, state, path) => {
    if (state.Type === 'Map' && isObject(state.ItemProcessor) && isObject(state.ItemProcessor.ProcessorConfig)) {
      if (state.ItemProcessor.ProcessorConfig.Mode === 'DISTRIBUTED') {
        throw invalid(`Map state ${path} is a Distributed Map, which the local cloud does not run`);
      }
    }
    if (state.Type !== 'Task') return;
    const resource = String(state.Resource);
    let target: TaskTarget;
    if (LAMBDA_ARN.test(resource)) {
      target = { integration: 'lambda', functionName: functionNameFromArn(resource), path };
    } else if (resource === LAMBDA_INVOKE) {
      const params = isObject(state.Parameters) ? state.Parameters : {};
      if (typeof params.FunctionName === 'string') {
        target = { integration: 'lambda:invoke', functionName: functionNameFromArn(params.FunctionName), path };
      } else if (typeof params['FunctionName.$'] === 'string') {
        target = { integration: 'lambda:invoke', functionName: null, path };
      } else {
        throw invalid(`Task state ${path} uses ${LAMBDA_INVOKE} without Parameters.FunctionName`);
      }
    } else {
      throw invalid(
        `Task state ${path} has Resource '${resource}'; the local cloud runs only Lambda function ARNs and ${LAMBDA_INVOKE}`,
      );
    }
    const seen = tasks.get(name);
    if (seen && (seen.integration !== target.integration || seen.functionName !== target.functionName)) {
      throw invalid(
        `Task states ${seen.path} and ${path} share the name '${name}' but call different functions ` +
          `(${seen.functionName ?? 'dynamic'} via ${seen.integration}, ${target.functionName ?? 'dynamic'} via ${target.integration}); ` +
          'the local cloud binds tasks by state name, so rename one',
      );
    }
    tasks.set(name, seen ?? target);
  });
  return tasks;
}

/** A Lambda function runs at most 15 minutes, so on AWS that bounds a Task state without TimeoutSeconds. */
export const LAMBDA_MAX_SECONDS = 900;

/**
 * The copy of a definition that aws-local-stepfunctions runs: Retry intervals (`IntervalSeconds`,
 * default 1, and `MaxDelaySeconds`) and Wait `Seconds` multiplied by the given scales so tests need not
 * sleep for real (backoff and attempt counts untouched; `SecondsPath`, `Timestamp` and `TimestampPath`
 * waits cannot be scaled statically and run in real time), and Task states without a timeout given
 * {@link LAMBDA_MAX_SECONDS} instead of the library's default of 60 s.
 */
export function runtimeDefinition(definition: Json, scale: { retryInterval: number; wait: number }): Json {
  const copy = structuredClone(definition);
  walkStates(copy, (_name, state) => {
    if (state.Type === 'Task' && state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) {
      state.TimeoutSeconds = LAMBDA_MAX_SECONDS;
    }
    if (Array.isArray(state.Retry) && scale.retryInterval !== 1) {
      for (const retrier of state.Retry.filter(isObject)) {
        retrier.IntervalSeconds = (typeof retrier.IntervalSeconds === 'number' ? retrier.IntervalSeconds : 1) * scale.retryInterval;
        if (typeof retrier.MaxDelaySeconds === 'number') retrier.MaxDelaySeconds *= scale.retryInterval;
      }
    }
    if (state.Type === 'Wait' && typeof state.Seconds === 'number') state.Seconds *= scale.wait;
  });
  return copy;
}

// ---- execution history ----

/** One GetExecutionHistory event before it gets its id: `timestamp` in epoch seconds, details keyed as AWS keys them. */
export interface HistoryEventBody {
  type: string;
  timestamp: number;
  [details: string]: unknown;
}

/** The aws-local-stepfunctions event fields this module reads. */
export interface LibraryEvent {
  type: string;
  timestamp: number;
  input?: unknown;
  output?: unknown;
  Error?: string;
  Cause?: unknown;
  index?: number;
  state?: { name: string; type: string; input?: unknown; output?: unknown };
  parentState?: { name: string };
}

const json = (v: unknown): string => JSON.stringify(v ?? null);
const text = (v: unknown): string | undefined => (v === undefined ? undefined : typeof v === 'string' ? v : json(v));

/**
 * Translates one aws-local-stepfunctions event into the AWS history event it stands for, or null where
 * AWS has none (retries, catches and Parallel branches show up as the surrounding state events).
 */
export function toHistoryEvent(event: LibraryEvent, roleArn: string): HistoryEventBody | null {
  const timestamp = event.timestamp / 1000;
  const state = event.state;
  const failure = { error: event.Error, cause: text(event.Cause) };
  switch (event.type) {
    case 'ExecutionStarted':
      return { type: 'ExecutionStarted', timestamp, executionStartedEventDetails: { input: json(event.input), inputDetails: { truncated: false }, roleArn } };
    case 'ExecutionSucceeded':
      return { type: 'ExecutionSucceeded', timestamp, executionSucceededEventDetails: { output: json(event.output), outputDetails: { truncated: false } } };
    case 'ExecutionFailed':
      return { type: 'ExecutionFailed', timestamp, executionFailedEventDetails: failure };
    case 'ExecutionAborted':
      return { type: 'ExecutionAborted', timestamp, executionAbortedEventDetails: {} };
    case 'ExecutionTimeout':
      return { type: 'ExecutionTimedOut', timestamp, executionTimedOutEventDetails: { error: 'States.Timeout' } };
    case 'StateEntered':
      return state ? { type: `${state.type}StateEntered`, timestamp, stateEnteredEventDetails: { name: state.name, input: json(state.input), inputDetails: { truncated: false } } } : null;
    case 'StateExited':
      return state ? { type: `${state.type}StateExited`, timestamp, stateExitedEventDetails: { name: state.name, output: json(state.output), outputDetails: { truncated: false } } } : null;
    case 'StateFailed':
      if (state?.type === 'Task') return { type: 'TaskFailed', timestamp, taskFailedEventDetails: { resourceType: 'lambda', resource: 'invoke', ...failure } };
      if (state?.type === 'Map' || state?.type === 'Parallel') return { type: `${state.type}StateFailed`, timestamp };
      return null;
    case 'MapIterationStarted':
    case 'MapIterationSucceeded':
    case 'MapIterationFailed': {
      const key = `${event.type.charAt(0).toLowerCase()}${event.type.slice(1)}EventDetails`;
      return { type: event.type, timestamp, [key]: { name: event.parentState?.name, index: event.index } };
    }
    default:
      return null;
  }
}

/** The error a Task state sees when its function throws: the thrown error's `name` (Retry/Catch match on it) and `message` (the Cause). */
export function taskError(thrown: unknown): Error {
  const error = new Error(thrown instanceof Error ? thrown.message : String(thrown));
  error.name = thrown instanceof Error && thrown.name ? thrown.name : 'Error';
  return error;
}

/** One page of a listing; `nextToken` is the offset of the next page, opaque to clients. */
export function paginate<T>(items: readonly T[], maxResults: unknown, nextToken: unknown, defaultMax = 100): { items: T[]; nextToken?: string } {
  const max = typeof maxResults === 'number' && maxResults > 0 ? Math.min(maxResults, 1000) : defaultMax;
  let start = 0;
  if (nextToken !== undefined && nextToken !== null) {
    const decoded = Buffer.from(String(nextToken), 'base64url').toString();
    if (!/^\d+$/.test(decoded)) throw new SfnError('InvalidToken', `Invalid Token: '${String(nextToken)}'`);
    start = Number(decoded);
  }
  const end = start + max;
  return { items: items.slice(start, end), ...(end < items.length ? { nextToken: Buffer.from(String(end)).toString('base64url') } : {}) };
}
