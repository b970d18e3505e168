import { describe, expect, it } from 'vitest';
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
  LAMBDA_MAX_SECONDS,
  stateMachineArn,
  taskError,
  toHistoryEvent,
  walkStates,
} from '../../infra/local/stepfunctions/definition.ts';

const fnArn = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;
const task = (resource: string, extra: object = {}) => ({ Type: 'Task', Resource: resource, End: true, ...extra });
const invokeTask = (functionName: string) =>
  task('arn:aws:states:::lambda:invoke', { Parameters: { FunctionName: functionName, 'Payload.$': '$' } });

function sfnError(fn: () => unknown): SfnError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SfnError);
    return e as SfnError;
  }
  throw new Error('expected an SfnError');
}

describe('ARNs and names', () => {
  it('builds and parses state machine and execution ARNs', () => {
    const sm = stateMachineArn('us-east-1', '000000000000', 'video-ingest');
    expect(sm).toBe('arn:aws:states:us-east-1:000000000000:stateMachine:video-ingest');
    expect(parseArn(sm)).toEqual({ kind: 'stateMachine', region: 'us-east-1', account: '000000000000', name: 'video-ingest' });
    const ex = executionArn('eu-west-1', '123456789012', 'video-ingest', 'job-1');
    expect(ex).toBe('arn:aws:states:eu-west-1:123456789012:execution:video-ingest:job-1');
    expect(parseArn(ex)).toEqual({ kind: 'execution', region: 'eu-west-1', account: '123456789012', stateMachine: 'video-ingest', name: 'job-1' });
  });

  it.each([
    'nope',
    '',
    'arn:aws:states:us-east-1:000000000000:stateMachine:',
    'arn:aws:lambda:us-east-1:000000000000:function:f',
    'arn:aws:states:us-east-1:000000000000:activity:a',
    'arn:aws:states:us-east-1:000000000000:execution:sm',
    'arn:aws:states:us-east-1:000000000000:stateMachine:a:b',
  ])('rejects %j as InvalidArn', (arn) => {
    expect(sfnError(() => parseArn(arn)).type).toBe('InvalidArn');
  });

  it('accepts AWS names and rejects bad ones', () => {
    expect(isValidName('video-ingest_2024.01')).toBe(true);
    expect(isValidName('a'.repeat(80))).toBe(true);
    for (const bad of ['', 'a'.repeat(81), 'has space', 'a:b', 'a/b', 'a*', 'a{b}', 'tab\there']) {
      expect(isValidName(bad), bad).toBe(false);
    }
  });

  it.each([
    ['arn:aws:lambda:us-east-1:000000000000:function:ingest-probe', 'ingest-probe'],
    ['arn:aws:lambda:us-east-1:000000000000:function:ingest-probe:live', 'ingest-probe'],
    ['arn:aws:lambda:us-east-1:000000000000:function:ingest-probe:$LATEST', 'ingest-probe'],
    ['000000000000:function:ingest-probe', 'ingest-probe'],
    ['ingest-probe:7', 'ingest-probe'],
    ['ingest-probe', 'ingest-probe'],
  ])('function name of %s is %s', (arn, name) => {
    expect(functionNameFromArn(arn)).toBe(name);
  });
});

describe('parseDefinition', () => {
  it('takes an object or a JSON string', () => {
    const def = { StartAt: 'A', States: { A: { Type: 'Succeed' } } };
    expect(parseDefinition(def)).toEqual(def);
    expect(parseDefinition(JSON.stringify(def))).toEqual(def);
  });

  it('rejects non-JSON and definitions without StartAt/States', () => {
    expect(sfnError(() => parseDefinition('{nope')).type).toBe('InvalidDefinition');
    expect(sfnError(() => parseDefinition({ States: {} })).type).toBe('InvalidDefinition');
    expect(sfnError(() => parseDefinition('[]')).type).toBe('InvalidDefinition');
  });
});

describe('bindTasks', () => {
  const nested = {
    StartAt: 'Probe',
    States: {
      Probe: task(fnArn('ingest-probe:live'), { End: undefined, Next: 'Fan' }),
      Fan: {
        Type: 'Map',
        ItemProcessor: { ProcessorConfig: { Mode: 'INLINE' }, StartAt: 'Resize', States: { Resize: invokeTask(fnArn('resize')) } },
        Next: 'Legacy',
      },
      Legacy: { Type: 'Map', Iterator: { StartAt: 'Old', States: { Old: task(fnArn('old')) } }, Next: 'Both' },
      Both: {
        Type: 'Parallel',
        Branches: [
          { StartAt: 'Left', States: { Left: invokeTask('left') } },
          { StartAt: 'Right', States: { Right: task('arn:aws:states:::lambda:invoke', { Parameters: { 'FunctionName.$': '$.fn' } }) } },
        ],
        End: true,
      },
    },
  };

  it('finds every Task state, nested in Map (ItemProcessor and Iterator) and Parallel branches', () => {
    const tasks = bindTasks(nested);
    expect(Object.fromEntries(tasks)).toEqual({
      Probe: { integration: 'lambda', functionName: 'ingest-probe', path: 'Probe' },
      Resize: { integration: 'lambda:invoke', functionName: 'resize', path: 'Fan.ItemProcessor.Resize' },
      Old: { integration: 'lambda', functionName: 'old', path: 'Legacy.Iterator.Old' },
      Left: { integration: 'lambda:invoke', functionName: 'left', path: 'Both.Branches[0].Left' },
      Right: { integration: 'lambda:invoke', functionName: null, path: 'Both.Branches[1].Right' },
    });
  });

  it('accepts one state name used twice for the same function', () => {
    const def = {
      StartAt: 'Work',
      States: {
        Work: task(fnArn('f'), { End: undefined, Next: 'Each' }),
        Each: { Type: 'Map', ItemProcessor: { StartAt: 'Work', States: { Work: task(fnArn('f:live')) } }, End: true },
      },
    };
    expect(bindTasks(def).get('Work')?.functionName).toBe('f');
  });

  it('rejects one state name bound to two functions, naming both places', () => {
    const def = {
      StartAt: 'Work',
      States: {
        Work: task(fnArn('f'), { End: undefined, Next: 'Each' }),
        Each: { Type: 'Map', ItemProcessor: { StartAt: 'Work', States: { Work: task(fnArn('g')) } }, End: true },
      },
    };
    const error = sfnError(() => bindTasks(def));
    expect(error.type).toBe('InvalidDefinition');
    expect(error.message).toContain("share the name 'Work'");
    expect(error.message).toContain('Each.ItemProcessor.Work');
  });

  it.each([
    ['an unresolved placeholder', '${IngestProbeFunctionArn}'],
    ['an SQS integration', 'arn:aws:states:::sqs:sendMessage'],
    ['a callback integration', 'arn:aws:states:::lambda:invoke.waitForTaskToken'],
    ['an activity', 'arn:aws:states:us-east-1:000000000000:activity:a'],
  ])('rejects %s', (_what, resource) => {
    const error = sfnError(() => bindTasks({ StartAt: 'T', States: { T: task(resource) } }));
    expect(error.type).toBe('InvalidDefinition');
    expect(error.message).toContain(resource);
  });

  it('rejects lambda:invoke without FunctionName and Distributed Map', () => {
    expect(sfnError(() => bindTasks({ StartAt: 'T', States: { T: task('arn:aws:states:::lambda:invoke', { Parameters: {} }) } })).message).toContain(
      'without Parameters.FunctionName',
    );
    const distributed = {
      StartAt: 'M',
      States: { M: { Type: 'Map', ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED' }, StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }, End: true } },
    };
    expect(sfnError(() => bindTasks(distributed)).message).toContain('Distributed Map');
  });
});

describe('runtimeDefinition', () => {
  const def = {
    StartAt: 'T',
    States: {
      T: {
        Type: 'Task',
        Resource: fnArn('f'),
        Next: 'W',
        Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 2, MaxDelaySeconds: 10 }, { ErrorEquals: ['Other'] }],
      },
      W: { Type: 'Wait', Seconds: 30, Next: 'P' },
      P: {
        Type: 'Parallel',
        Branches: [{ StartAt: 'N', States: { N: { Type: 'Task', Resource: fnArn('n'), Retry: [{ ErrorEquals: ['States.ALL'], IntervalSeconds: 4 }], End: true } } }],
        End: true,
      },
    },
  };

  it('scales Retry intervals (default 1 s included), MaxDelaySeconds and Wait Seconds, nested too, on a copy', () => {
    const scaled = runtimeDefinition(def, { retryInterval: 0.01, wait: 0.1 }) as typeof def;
    expect(scaled.States.T.Retry).toEqual([
      { ErrorEquals: ['States.ALL'], IntervalSeconds: 0.02, MaxDelaySeconds: 0.1 },
      { ErrorEquals: ['Other'], IntervalSeconds: 0.01 },
    ]);
    expect(scaled.States.W.Seconds).toBeCloseTo(3);
    expect(scaled.States.P.Branches[0]!.States.N.Retry[0]!.IntervalSeconds).toBeCloseTo(0.04);
    expect(def.States.T.Retry[0]!.IntervalSeconds).toBe(2); // the original is untouched
  });

  it('leaves timings alone at scale 1', () => {
    const same = runtimeDefinition(def, { retryInterval: 1, wait: 1 }) as typeof def;
    expect(same.States.T.Retry).toEqual(def.States.T.Retry);
    expect(same.States.W).toEqual(def.States.W);
  });

  it('gives Task states without a timeout the Lambda maximum instead of the library default of 60 s', () => {
    const withTimeouts = {
      StartAt: 'A',
      States: {
        A: { Type: 'Task', Resource: fnArn('a'), Next: 'B' },
        B: { Type: 'Task', Resource: fnArn('b'), TimeoutSeconds: 5, Next: 'C' },
        C: { Type: 'Task', Resource: fnArn('c'), TimeoutSecondsPath: '$.t', End: true },
      },
    };
    const states = (runtimeDefinition(withTimeouts, { retryInterval: 1, wait: 1 }) as { States: Record<string, Record<string, unknown>> }).States;
    expect(states.A!.TimeoutSeconds).toBe(LAMBDA_MAX_SECONDS);
    expect(states.B!.TimeoutSeconds).toBe(5);
    expect(states.C!.TimeoutSeconds).toBeUndefined();
  });

  it('walkStates visits nested states with their paths', () => {
    const seen: string[] = [];
    walkStates(def, (_name, _state, path) => seen.push(path));
    expect(seen).toEqual(['T', 'W', 'P', 'P.Branches[0].N']);
  });
});

describe('toHistoryEvent', () => {
  const role = 'arn:aws:iam::000000000000:role/r';

  it('maps execution events with epoch-second timestamps and JSON strings', () => {
    expect(toHistoryEvent({ type: 'ExecutionStarted', timestamp: 1_700_000_000_500, input: { a: 1 } }, role)).toEqual({
      type: 'ExecutionStarted',
      timestamp: 1_700_000_000.5,
      executionStartedEventDetails: { input: '{"a":1}', inputDetails: { truncated: false }, roleArn: role },
    });
    expect(toHistoryEvent({ type: 'ExecutionSucceeded', timestamp: 0, output: [1] }, role)?.executionSucceededEventDetails).toEqual({
      output: '[1]',
      outputDetails: { truncated: false },
    });
    expect(toHistoryEvent({ type: 'ExecutionFailed', timestamp: 0, Error: 'E', Cause: 'why' }, role)?.executionFailedEventDetails).toEqual({
      error: 'E',
      cause: 'why',
    });
    expect(toHistoryEvent({ type: 'ExecutionTimeout', timestamp: 0 }, role)?.type).toBe('ExecutionTimedOut');
    expect(toHistoryEvent({ type: 'ExecutionAborted', timestamp: 0 }, role)?.type).toBe('ExecutionAborted');
  });

  it('maps state events to <Type>StateEntered/Exited, task failures and map iterations', () => {
    const state = { name: 'Probe', type: 'Task', input: { x: 1 }, output: { y: 2 } };
    expect(toHistoryEvent({ type: 'StateEntered', timestamp: 0, state }, role)).toMatchObject({
      type: 'TaskStateEntered',
      stateEnteredEventDetails: { name: 'Probe', input: '{"x":1}' },
    });
    expect(toHistoryEvent({ type: 'StateExited', timestamp: 0, state: { ...state, type: 'Choice' } }, role)).toMatchObject({
      type: 'ChoiceStateExited',
      stateExitedEventDetails: { name: 'Probe', output: '{"y":2}' },
    });
    expect(toHistoryEvent({ type: 'StateFailed', timestamp: 0, state, Error: 'Boom', Cause: 'bad' }, role)).toMatchObject({
      type: 'TaskFailed',
      taskFailedEventDetails: { error: 'Boom', cause: 'bad' },
    });
    expect(toHistoryEvent({ type: 'MapIterationStarted', timestamp: 0, index: 2, parentState: { name: 'Fan' } }, role)).toMatchObject({
      type: 'MapIterationStarted',
      mapIterationStartedEventDetails: { name: 'Fan', index: 2 },
    });
  });

  it('drops events AWS has no counterpart for', () => {
    const state = { name: 'T', type: 'Task', input: null };
    for (const type of ['StateRetried', 'StateCaught', 'ParallelBranchStarted']) {
      expect(toHistoryEvent({ type, timestamp: 0, state }, role)).toBeNull();
    }
    expect(toHistoryEvent({ type: 'StateFailed', timestamp: 0, state: { ...state, type: 'Pass' } }, role)).toBeNull();
  });
});

describe('taskError', () => {
  it('keeps the thrown name and message (Retry/Catch match the name, Cause is the message)', () => {
    class VideoBroken extends Error {
      override name = 'VideoBroken';
    }
    expect(taskError(new VideoBroken('frame 7'))).toMatchObject({ name: 'VideoBroken', message: 'frame 7' });
    expect(taskError(new TypeError('x is undefined'))).toMatchObject({ name: 'TypeError', message: 'x is undefined' });
    expect(taskError('a string')).toMatchObject({ name: 'Error', message: 'a string' });
    expect(taskError(new Error('m', { cause: { deep: true } })).cause).toBeUndefined();
  });
});

describe('paginate', () => {
  const items = Array.from({ length: 5 }, (_, i) => i);

  it('pages with opaque tokens', () => {
    const first = paginate(items, 2, undefined);
    expect(first.items).toEqual([0, 1]);
    const second = paginate(items, 2, first.nextToken);
    expect(second.items).toEqual([2, 3]);
    const last = paginate(items, 2, second.nextToken);
    expect(last).toEqual({ items: [4] });
    expect(paginate(items, 0, undefined)).toEqual({ items });
  });

  it('rejects a bad token', () => {
    expect(sfnError(() => paginate(items, 2, '!!')).type).toBe('InvalidToken');
  });
});
