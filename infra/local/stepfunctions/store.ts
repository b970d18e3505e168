// The state of the local Step Functions: state machines and executions (with their history), kept in memory and
// written whole to `<dataDir>/state.json` (tmp + rename) after each change. What a reply acknowledges is made
// durable with `durable()`; the progress of executions in between is written, not fsynced.
// An execution found RUNNING when the store opens (the process died under it) is ABORTED: unlike AWS, where a Task
// outlives a dead Lambda and times out or retries, nothing of it survives here; a workflow's owner resumes it
// with a new run.

import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makePrivateDir, PRIVATE_FILE, syncPath } from '../files.ts';
import { parseArn, SfnError, type HistoryEventBody } from './definition.ts';

export type Status = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
export const STATUSES: readonly Status[] = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];

export interface MachineRecord {
  arn: string;
  name: string;
  definition: string;
  roleArn: string;
  type: string;
  creationDate: number; // epoch ms, like every date kept here
}

export type HistoryEvent = HistoryEventBody & { id: number; previousEventId: number };

export interface ExecutionRecord {
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
  events: HistoryEvent[];
}

export interface StepFunctionsStore {
  readonly machines: Map<string, MachineRecord>;
  readonly executions: Map<string, ExecutionRecord>;
  /** The state machine with this ARN, or the AWS error for a wrong or unknown one. */
  machine(arn: string): MachineRecord;
  /** The execution with this ARN, or the AWS error for a wrong or unknown one. */
  execution(arn: string): ExecutionRecord;
  /** Writes the whole state soon (one write for changes made meanwhile); resolves once this change is written. */
  save(): Promise<void>;
  /** Resolves once everything saved so far is written and fsynced. */
  durable(): Promise<void>;
}

const DIED_CAUSE = 'the local cloud died while the execution was running';

/** Adds the next event to an execution's history, numbered as GetExecutionHistory numbers them. */
export function appendEvent(x: ExecutionRecord, body: HistoryEventBody | null): void {
  if (!body) return;
  const id = x.events.length + 1;
  x.events.push({ ...body, id, previousEventId: id - 1 });
}

/**
 * Ends an execution ABORTED. `withEvent`: also records its ExecutionAborted event, which an execution the engine
 * still runs gets from the engine instead.
 */
export function markAborted(x: ExecutionRecord, error: string | undefined, cause: string | undefined, at: number, withEvent: boolean): void {
  Object.assign(x, { status: 'ABORTED', stopDate: at, error, cause });
  if (withEvent) appendEvent(x, { type: 'ExecutionAborted', timestamp: at / 1000, executionAbortedEventDetails: { error, cause } });
}

/** Opens the store in `dataDir` (created if missing), from its `state.json` when there is one. */
export async function openStore(dataDir: string, log: (line: Record<string, unknown>) => void): Promise<StepFunctionsStore> {
  makePrivateDir(dataDir);
  const file = join(dataDir, 'state.json');
  const machines = new Map<string, MachineRecord>();
  const executions = new Map<string, ExecutionRecord>();

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
    if (x.status === 'RUNNING') markAborted(x, 'States.Runtime', DIED_CAUSE, Date.now(), true);
  }

  let saved: Promise<void> = Promise.resolve();
  let dirty = false;
  const save = (): Promise<void> => {
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
    return saved;
  };
  void save(); // records the executions aborted on load

  return {
    machines,
    executions,
    machine(arn) {
      if (parseArn(arn).kind !== 'stateMachine') throw new SfnError('InvalidArn', `Invalid Arn: '${arn}' is not a state machine ARN`);
      const m = machines.get(arn);
      if (!m) throw new SfnError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
      return m;
    },
    execution(arn) {
      if (parseArn(arn).kind !== 'execution') throw new SfnError('InvalidArn', `Invalid Arn: '${arn}' is not an execution ARN`);
      const x = executions.get(arn);
      if (!x) throw new SfnError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
      return x;
    },
    save,
    durable: () =>
      saved.then(async () => {
        await syncPath(file);
        await syncPath(dataDir);
      }),
  };
}
