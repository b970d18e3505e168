// The Step Functions API actions the local cloud answers, on the store and the engine: each takes the action's JSON
// input and returns its JSON output, or throws an SfnError with AWS's error type. A request that changes state
// (CreateStateMachine, StartExecution, StopExecution, ...) is answered once that change is on disk and fsynced.

import { randomUUID } from 'node:crypto';
import { executionArn, isValidName, paginate, parseArn, parseDefinition, SfnError, stateMachineArn } from './definition.ts';
import type { ExecutionEngine } from './engine.ts';
import { STATUSES, type ExecutionRecord, type MachineRecord, type Status, type StepFunctionsStore } from './store.ts';

type Json = Record<string, unknown>;
export type Action = (input: Json) => unknown;

export interface ActionContext {
  store: StepFunctionsStore;
  engine: ExecutionEngine;
  region: string;
  account: string;
  defaultRoleArn: string;
}

/** Actions whose reply waits until the state they changed is on disk. */
const CHANGES = new Set(['CreateStateMachine', 'UpdateStateMachine', 'DeleteStateMachine', 'StartExecution', 'StopExecution']);

const seconds = (ms: number | undefined): number | undefined => (ms === undefined ? undefined : ms / 1000);
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

/** Creates the state machine, or (`replace`) gives it this definition; the same definition again changes nothing. */
export function putStateMachine(
  ctx: ActionContext,
  name: string,
  definition: object | string,
  roleArn: string,
  type: string,
  replace: boolean,
): MachineRecord {
  if (!isValidName(name)) throw new SfnError('InvalidName', `Invalid Name: '${name}'`);
  const text = typeof definition === 'string' ? definition : JSON.stringify(definition, null, 2);
  const arn = stateMachineArn(ctx.region, ctx.account, name);
  const existing = ctx.store.machines.get(arn);
  // The same definition again (each start of the local cloud puts every one): validated when it was first put.
  if (existing && sameDefinition(existing.definition, text)) return existing;
  const program = ctx.engine.compile(text);
  if (existing && !replace) throw new SfnError('StateMachineAlreadyExists', `State Machine Already Exists: '${arn}'`);
  const record = { arn, name, definition: text, roleArn, type, creationDate: existing?.creationDate ?? Date.now() };
  ctx.store.machines.set(arn, record);
  ctx.engine.keep(record, program);
  void ctx.store.save();
  return record;
}

function startExecution(ctx: ActionContext, m: MachineRecord, name: string, input: string): ExecutionRecord {
  const arn = executionArn(ctx.region, ctx.account, m.name, name);
  if (ctx.store.executions.has(arn)) throw new SfnError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
  let parsedInput: unknown;
  try {
    parsedInput = JSON.parse(input);
  } catch {
    throw new SfnError('InvalidExecutionInput', `Invalid State Machine Execution Input: '${input}'`);
  }
  const program = ctx.engine.program(m);
  const x: ExecutionRecord = { arn, stateMachineArn: m.arn, name, status: 'RUNNING', startDate: Date.now(), input, events: [] };
  ctx.store.executions.set(arn, x);
  ctx.engine.start(m, program, x, parsedInput, ctx.store.save());
  return x;
}

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

/** The actions by name (the `X-Amz-Target` after `AWSStepFunctions.`). */
export function stepFunctionsActions(ctx: ActionContext): Record<string, Action> {
  const { store, engine } = ctx;
  const actions: Record<string, Action> = {
    CreateStateMachine(input) {
      const m = putStateMachine(ctx, field(input, 'name'), field(input, 'definition'), field(input, 'roleArn', true) ?? ctx.defaultRoleArn, field(input, 'type', true) ?? 'STANDARD', false);
      return { stateMachineArn: m.arn, creationDate: seconds(m.creationDate) };
    },
    UpdateStateMachine(input) {
      const m = store.machine(field(input, 'stateMachineArn'));
      putStateMachine(ctx, m.name, field(input, 'definition', true) ?? m.definition, field(input, 'roleArn', true) ?? m.roleArn, m.type, true);
      return { updateDate: Date.now() / 1000 };
    },
    ListStateMachines(input) {
      const sorted = [...store.machines.values()].sort((a, b) => a.name.localeCompare(b.name));
      const { items, nextToken } = paginate(sorted, input.maxResults, input.nextToken);
      const stateMachines = items.map((m) => ({ stateMachineArn: m.arn, name: m.name, type: m.type, creationDate: seconds(m.creationDate) }));
      return { stateMachines, nextToken };
    },
    DescribeStateMachine: (input) => describeMachine(store.machine(field(input, 'stateMachineArn'))),
    DescribeStateMachineForExecution(input) {
      const x = store.execution(field(input, 'executionArn'));
      const m = store.machine(x.stateMachineArn);
      return { stateMachineArn: m.arn, name: m.name, definition: m.definition, roleArn: m.roleArn, updateDate: seconds(m.creationDate) };
    },
    DeleteStateMachine(input) {
      const arn = field(input, 'stateMachineArn');
      if (parseArn(arn).kind !== 'stateMachine') throw new SfnError('InvalidArn', `Invalid Arn: '${arn}'`);
      for (const x of store.executions.values()) {
        if (x.stateMachineArn !== arn) continue;
        engine.stop(x, undefined, 'state machine deleted');
        store.executions.delete(x.arn);
      }
      store.machines.delete(arn);
      void store.save();
      return {};
    },
    StartExecution(input) {
      const m = store.machine(field(input, 'stateMachineArn'));
      const name = field(input, 'name', true) ?? randomUUID();
      if (!isValidName(name)) throw new SfnError('InvalidName', `Invalid Name: '${name}'`);
      // Answered once on disk (CHANGES), as AWS acknowledges a started execution: a process that dies right after
      // still finds it at its next start (ABORTED, see store.ts).
      const x = startExecution(ctx, m, name, field(input, 'input', true) ?? '{}');
      return { executionArn: x.arn, startDate: seconds(x.startDate) };
    },
    DescribeExecution(input) {
      const x = store.execution(field(input, 'executionArn'));
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
      const m = store.machine(field(input, 'stateMachineArn'));
      const status = field(input, 'statusFilter', true);
      if (status !== undefined && !STATUSES.includes(status as Status)) {
        throw new SfnError('ValidationException', `Value '${status}' at 'statusFilter' must be one of ${STATUSES.join(', ')}`);
      }
      const matching = [...store.executions.values()]
        .filter((x) => x.stateMachineArn === m.arn && (status === undefined || x.status === status))
        .reverse() // newest first, like AWS
        .sort((a, b) => b.startDate - a.startDate);
      const { items, nextToken } = paginate(matching, input.maxResults, input.nextToken);
      return { executions: items.map(summary), nextToken };
    },
    StopExecution(input) {
      const x = store.execution(field(input, 'executionArn'));
      engine.stop(x, field(input, 'error', true), field(input, 'cause', true));
      return { stopDate: seconds(x.stopDate) };
    },
    GetExecutionHistory(input) {
      const x = store.execution(field(input, 'executionArn'));
      const events = input.reverseOrder === true ? [...x.events].reverse() : x.events;
      const { items, nextToken } = paginate(events, input.maxResults, input.nextToken);
      return { events: items, nextToken };
    },
  };
  for (const name of CHANGES) {
    const change = actions[name]!;
    actions[name] = async (input) => {
      const output = change(input);
      await store.durable(); // what the reply acknowledges is on disk
      return output;
    };
  }
  return actions;
}
