// The local Step Functions engine on its own: real definitions run on aws-local-stepfunctions, with plain
// functions as the Lambdas, and the history and outcome it writes into the execution's record.
import { describe, expect, it } from 'vitest';
import { SfnError } from '../../infra/local/stepfunctions/definition.ts';
import { createEngine, type ExecutionEngine } from '../../infra/local/stepfunctions/engine.ts';
import type { ExecutionRecord, MachineRecord } from '../../infra/local/stepfunctions/store.ts';

const fnArn = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;
const failure = (name: string, message: string) => Object.assign(new Error(message), { name });

type Fn = (payload: never) => unknown;

/** An engine whose Task states call `functions`; `calls` lists each call as `name payload`. */
function setup(functions: Record<string, Fn>) {
  const calls: string[] = [];
  let changes = 0;
  const engine = createEngine({
    invoke: async (fn, payload) => {
      calls.push(`${fn} ${JSON.stringify(payload)}`);
      return (functions[fn] as (p: unknown) => unknown)(payload);
    },
    scale: { retryInterval: 0.01, wait: 0.01 },
    changed: () => void changes++,
    log: () => undefined,
  });
  return { engine, calls, changes: () => changes };
}

function machine(name: string, definition: object): MachineRecord {
  const arn = `arn:aws:states:us-east-1:000000000000:stateMachine:${name}`;
  return { arn, name, definition: JSON.stringify(definition), roleArn: 'arn:aws:iam::000000000000:role/test', type: 'STANDARD', creationDate: 0 };
}

function start(engine: ExecutionEngine, m: MachineRecord, input: unknown, recorded: Promise<void> = Promise.resolve()): ExecutionRecord {
  const x: ExecutionRecord = {
    arn: `arn:aws:states:us-east-1:000000000000:execution:${m.name}:run-1`,
    stateMachineArn: m.arn,
    name: 'run-1',
    status: 'RUNNING',
    startDate: Date.now(),
    input: JSON.stringify(input),
    events: [],
  };
  engine.start(m, engine.program(m), x, input, recorded);
  return x;
}

/** Each history event as its type and the one detail that tells it apart (state name, iteration index or error). */
const history = (x: ExecutionRecord) =>
  x.events.map((e) => {
    const details = Object.values(e).find((v) => typeof v === 'object' && v !== null) as Record<string, unknown> | undefined;
    const label = details?.name !== undefined ? `${String(details.name)}${details.index !== undefined ? `[${String(details.index)}]` : ''}` : details?.error;
    return label === undefined ? e.type : `${e.type} ${String(label)}`;
  });

// Squares each item, one at a time; a Retry per item, and a Catch that records why the Map failed.
const squares = machine('squares', {
  StartAt: 'Squares',
  States: {
    Squares: {
      Type: 'Map',
      ItemsPath: '$.items',
      MaxConcurrency: 1,
      ItemSelector: { 'n.$': '$$.Map.Item.Value' },
      ItemProcessor: {
        StartAt: 'Square',
        States: {
          Square: { Type: 'Task', Resource: fnArn('square'), Retry: [{ ErrorEquals: ['Throttled', 'Broken'], IntervalSeconds: 1, MaxAttempts: 2 }], End: true },
        },
      },
      Catch: [{ ErrorEquals: ['Broken'], ResultPath: '$.error', Next: 'Record' }],
      Next: 'Done',
    },
    Record: { Type: 'Task', Resource: fnArn('record'), Next: 'Failed' },
    Failed: { Type: 'Fail', Error: 'SquaresFailed', Cause: 'an item cannot be squared' },
    Done: { Type: 'Succeed' },
  },
});

/** 2 is throttled on its first call only; 3 is always broken. */
function squareFunctions() {
  const attempts = new Map<number, number>();
  return {
    square: (p: { n: number }) => {
      const attempt = (attempts.get(p.n) ?? 0) + 1;
      attempts.set(p.n, attempt);
      if (p.n === 2 && attempt === 1) throw failure('Throttled', 'slow down');
      if (p.n === 3) throw failure('Broken', `${p.n} cannot be squared`);
      return p.n * p.n;
    },
    record: (p: unknown) => ({ recorded: p }),
  };
}

describe('local Step Functions engine', () => {
  it('runs a Map whose item succeeds on retry to SUCCEEDED, with the history AWS would show', async () => {
    const { engine, calls, changes } = setup(squareFunctions());
    const x = start(engine, squares, { items: [1, 2] });
    await engine.waitForIdle();

    expect(x).toMatchObject({ status: 'SUCCEEDED', output: '[1,4]' });
    expect(x.error).toBeUndefined();
    expect(calls).toEqual(['square {"n":1}', 'square {"n":2}', 'square {"n":2}']);
    expect(history(x)).toEqual([
      'ExecutionStarted',
      'MapStateEntered Squares',
      'MapIterationStarted Squares[0]',
      'TaskStateEntered Square',
      'TaskStateExited Square',
      'MapIterationSucceeded Squares[0]',
      'MapIterationStarted Squares[1]',
      'TaskStateEntered Square',
      'TaskFailed Throttled',
      'TaskStateExited Square',
      'MapIterationSucceeded Squares[1]',
      'MapStateExited Squares',
      'SucceedStateEntered Done',
      'SucceedStateExited Done',
      'ExecutionSucceeded',
    ]);
    expect(x.events.map((e) => [e.id, e.previousEventId])).toEqual(x.events.map((_, i) => [i + 1, i]));
    expect(x.events.at(-1)).toMatchObject({ executionSucceededEventDetails: { output: '[1,4]' } });
    expect(changes()).toBe(1); // the end, to be saved
  });

  it('retries an item that keeps failing (3 calls), then the Map fails and its Catch routes to a Fail state', async () => {
    const { engine, calls } = setup(squareFunctions());
    const x = start(engine, squares, { items: [1, 2, 3] });
    await engine.waitForIdle();

    expect(x).toMatchObject({ status: 'FAILED', error: 'SquaresFailed', cause: 'an item cannot be squared' });
    expect(x.output).toBeUndefined();
    const caught = { items: [1, 2, 3], error: { Error: 'Broken', Cause: '3 cannot be squared' } };
    expect(calls).toEqual([
      'square {"n":1}',
      'square {"n":2}',
      'square {"n":2}',
      ...Array<string>(3).fill('square {"n":3}'),
      `record ${JSON.stringify(caught)}`,
    ]);
    expect(history(x)).toEqual([
      'ExecutionStarted',
      'MapStateEntered Squares',
      'MapIterationStarted Squares[0]',
      'TaskStateEntered Square',
      'TaskStateExited Square',
      'MapIterationSucceeded Squares[0]',
      'MapIterationStarted Squares[1]',
      'TaskStateEntered Square',
      'TaskFailed Throttled',
      'TaskStateExited Square',
      'MapIterationSucceeded Squares[1]',
      'MapIterationStarted Squares[2]',
      'TaskStateEntered Square',
      'TaskFailed Broken',
      'TaskFailed Broken',
      'TaskFailed Broken',
      'MapIterationFailed Squares[2]',
      'MapStateFailed',
      'MapStateExited Squares',
      'TaskStateEntered Record',
      'TaskStateExited Record',
      'FailStateEntered Failed',
      'ExecutionFailed SquaresFailed',
    ]);
    const exited = x.events.find((e) => e.type === 'MapStateExited')!;
    expect(JSON.parse((exited.stateExitedEventDetails as { output: string }).output)).toEqual(caught);
    expect(x.events.at(-1)).toMatchObject({ executionFailedEventDetails: { error: 'SquaresFailed', cause: 'an item cannot be squared' } });
  });

  it('calls no task before the execution is recorded', async () => {
    const { engine, calls } = setup({ record: (p: unknown) => p });
    let record!: () => void;
    const recorded = new Promise<void>((resolve) => (record = resolve));
    const x = start(engine, machine('one', { StartAt: 'R', States: { R: { Type: 'Task', Resource: fnArn('record'), End: true } } }), { a: 1 }, recorded);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(calls).toEqual([]);
    expect(x.status).toBe('RUNNING');
    record();
    await engine.waitForIdle();
    expect(calls).toEqual(['record {"a":1}']);
    expect(x).toMatchObject({ status: 'SUCCEEDED', output: '{"a":1}' });
  });

  it('stops a running execution ABORTED with the given error and cause, and retries nothing after', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const { engine, calls, changes } = setup({
      hang: async () => {
        await released;
        throw failure('Throttled', 'gave up');
      },
    });
    const hanging = machine('hanging', {
      StartAt: 'Hang',
      States: { Hang: { Type: 'Task', Resource: fnArn('hang'), Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 3 }], End: true } },
    });
    const x = start(engine, hanging, {});
    while (calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(engine.running()).toEqual([x.arn]);

    engine.stop(x, 'Operator', 'stopped by hand');
    release();
    await engine.waitForIdle();

    expect(x).toMatchObject({ status: 'ABORTED', error: 'Operator', cause: 'stopped by hand' });
    expect(x.stopDate).toBeTypeOf('number');
    expect(calls).toEqual(['hang {}']);
    expect(engine.running()).toEqual([]);
    expect(x.events.filter((e) => e.type === 'ExecutionAborted')).toEqual([
      expect.objectContaining({ executionAbortedEventDetails: { error: 'Operator', cause: 'stopped by hand' } }),
    ]);
    expect(x.events.at(-1)?.type).toBe('ExecutionAborted');
    expect(changes()).toBeGreaterThanOrEqual(1);

    engine.stop(x, 'Again', 'ignored'); // an ended execution stays as it ended
    expect(x).toMatchObject({ status: 'ABORTED', error: 'Operator' });
  });

  it('ends an execution that outlives its TimeoutSeconds TIMED_OUT', async () => {
    const { engine } = setup({ hang: () => new Promise(() => undefined) });
    const x = start(engine, machine('slow', { TimeoutSeconds: 1, StartAt: 'Hang', States: { Hang: { Type: 'Task', Resource: fnArn('hang'), End: true } } }), {});
    await engine.waitForIdle();
    expect(x).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout', cause: 'The execution exceeded its TimeoutSeconds' });
    expect(history(x).at(-1)).toBe('ExecutionTimedOut States.Timeout');
  });

  it('refuses a definition the library or the local cloud cannot run, as InvalidDefinition', () => {
    const { engine } = setup({});
    const invalid = (definition: object) => {
      try {
        engine.compile(JSON.stringify(definition));
      } catch (e) {
        expect(e).toBeInstanceOf(SfnError);
        return (e as SfnError).type;
      }
      throw new Error('compiled');
    };
    expect(invalid({ StartAt: 'A', States: { A: { Type: 'Pass', Next: 'Nowhere' } } })).toBe('InvalidDefinition');
    expect(invalid({ StartAt: 'A', States: { A: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage', End: true } } })).toBe('InvalidDefinition');
    expect(engine.compile(JSON.stringify({ StartAt: 'A', States: { A: { Type: 'Pass', End: true } } })).tasks.size).toBe(0);
  });
});
