// The local Step Functions service, driven through the real @aws-sdk/client-sfn and the `aws` CLI.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
  type DescribeExecutionCommandOutput,
  type ExecutionStatus,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStepFunctions, type LocalStepFunctions } from '../../infra/local/stepfunctions.ts';
import { functionArnPlaceholder, topology } from '../../infra/topology.ts';

const fnArn = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;

class VideoBroken extends Error {
  override name = 'VideoBroken';
}

// The "functions" the Task states call, and what they received.
const calls: { fn: string; payload: unknown }[] = [];
// each function declares the payload it expects; `invoke` hands over whatever the state machine sent
const functions: Record<string, (payload: never) => unknown> = {
  classify: (p: { items: number[] }) => ({ kind: 'numbers', count: p.items.length }),
  square: async (p: { n: number }) => p.n * p.n,
  sum: (p: { value: number }[]) => p.reduce((total, x) => total + x.value, 0),
  flaky: () => {
    throw new VideoBroken('frame 7 is corrupt');
  },
  crash: () => {
    throw new Error('plain failure');
  },
  record: (p: unknown) => ({ recorded: p }),
  'ingest-probe': (p: { videoId: string }) => {
    if (p.videoId === 'broken') throw new VideoBroken('moov atom not found');
    return { durationSeconds: 12.5 };
  },
  'jobs-outcome': (p: unknown) => p,
};
async function invoke(fn: string, payload: unknown): Promise<unknown> {
  calls.push({ fn, payload });
  const f = functions[fn];
  if (!f) throw Object.assign(new Error(`no function ${fn}`), { name: 'ResourceNotFoundException' });
  return (f as (p: unknown) => unknown)(payload);
}
const callsOf = (fn: string) => calls.filter((c) => c.fn === fn);

// Task -> Choice -> Wait -> Map (lambda:invoke with an alias) -> Parallel -> Succeed
const pipeline = {
  Comment: 'happy path',
  StartAt: 'Classify',
  States: {
    Classify: { Type: 'Task', Resource: fnArn('classify'), ResultPath: '$.classified', Next: 'Route' },
    Route: {
      Type: 'Choice',
      Choices: [{ Variable: '$.classified.kind', StringEquals: 'numbers', Next: 'Pause' }],
      Default: 'Unexpected',
    },
    Unexpected: { Type: 'Fail', Error: 'Unexpected' },
    Pause: { Type: 'Wait', Seconds: 5, Next: 'Squares' }, // 50 ms at waitScale 0.01
    Squares: {
      Type: 'Map',
      ItemsPath: '$.items',
      ItemSelector: { 'n.$': '$$.Map.Item.Value' },
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'Square',
        States: {
          Square: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke',
            Parameters: { FunctionName: fnArn('square:live'), 'Payload.$': '$' },
            ResultSelector: { 'value.$': '$.Payload' },
            End: true,
          },
        },
      },
      ResultPath: '$.squares',
      Next: 'Both',
    },
    Both: {
      Type: 'Parallel',
      Branches: [
        { StartAt: 'Total', States: { Total: { Type: 'Task', Resource: fnArn('sum'), InputPath: '$.squares', End: true } } },
        { StartAt: 'Label', States: { Label: { Type: 'Pass', Result: 'done', End: true } } },
      ],
      ResultPath: '$.parallel',
      Next: 'Done',
    },
    Done: { Type: 'Succeed' },
  },
};

// A task that always fails: retried twice (3 calls), then caught and routed to a Fail state.
const failing = {
  StartAt: 'Probe',
  States: {
    Probe: {
      Type: 'Task',
      Resource: fnArn('flaky'),
      Retry: [{ ErrorEquals: ['VideoBroken'], IntervalSeconds: 1, MaxAttempts: 2, BackoffRate: 2 }],
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailure' }],
      Next: 'Ok',
    },
    Ok: { Type: 'Succeed' },
    RecordFailure: { Type: 'Task', Resource: fnArn('record'), ResultPath: null, Next: 'Failed' },
    Failed: { Type: 'Fail', Error: 'VideoIngestFailed', Cause: 'probe failed after 3 attempts' },
  },
};

const uncaught = {
  StartAt: 'Crash',
  States: {
    Crash: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: 'crash', 'Payload.$': '$' },
      Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 1 }],
      End: true,
    },
  },
};

const sleeper = { StartAt: 'Sleep', States: { Sleep: { Type: 'Wait', Seconds: 86_400, End: true } } };

let dataDir: string;
let sfn: LocalStepFunctions;
let client: SFNClient;

async function start(dir: string): Promise<void> {
  sfn = await startStepFunctions({ port: 0, dataDir: dir, invoke, retryIntervalScale: 0.01, waitScale: 0.01 });
  client = new SFNClient({ endpoint: sfn.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
}

async function until(executionArn: string, statuses: ExecutionStatus[], timeoutMs = 5000): Promise<DescribeExecutionCommandOutput> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const described = await client.send(new DescribeExecutionCommand({ executionArn }));
    if (statuses.includes(described.status!)) return described;
    if (Date.now() > deadline) throw new Error(`${executionArn} is still ${described.status}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function errorOf(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'framewise-sfn-'));
  await start(dataDir);
});

afterAll(async () => {
  await sfn?.stop();
  client?.destroy();
  await rm(dataDir, { recursive: true, force: true });
});

describe('local Step Functions via @aws-sdk/client-sfn', () => {
  let pipelineArn: string;
  let pipelineExecution: string;

  it('creates a state machine, idempotently for the same definition', async () => {
    const created = await client.send(
      new CreateStateMachineCommand({ name: 'pipeline', definition: JSON.stringify(pipeline), roleArn: 'arn:aws:iam::000000000000:role/sfn' }),
    );
    pipelineArn = created.stateMachineArn!;
    expect(pipelineArn).toBe(sfn.stateMachineArn('pipeline'));
    expect(created.creationDate).toBeInstanceOf(Date);
    const again = await client.send(new CreateStateMachineCommand({ name: 'pipeline', definition: JSON.stringify(pipeline), roleArn: 'r' }));
    expect(again.stateMachineArn).toBe(pipelineArn);

    const described = await client.send(new DescribeStateMachineCommand({ stateMachineArn: pipelineArn }));
    expect(described).toMatchObject({ name: 'pipeline', status: 'ACTIVE', type: 'STANDARD' });
    expect(JSON.parse(described.definition!)).toEqual(pipeline);

    const conflict = await errorOf(client.send(new CreateStateMachineCommand({ name: 'pipeline', definition: JSON.stringify(sleeper), roleArn: 'r' })));
    expect(conflict.name).toBe('StateMachineAlreadyExists');
  });

  it('runs Task -> Choice -> Wait -> Map -> Parallel -> Succeed to SUCCEEDED with the right output', async () => {
    const started = await client.send(
      new StartExecutionCommand({ stateMachineArn: pipelineArn, name: 'run-1', input: JSON.stringify({ items: [1, 2, 3] }) }),
    );
    pipelineExecution = started.executionArn!;
    expect(pipelineExecution).toBe('arn:aws:states:us-east-1:000000000000:execution:pipeline:run-1');

    const done = await until(pipelineExecution, ['SUCCEEDED', 'FAILED', 'ABORTED', 'TIMED_OUT']);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toEqual({
      items: [1, 2, 3],
      classified: { kind: 'numbers', count: 3 },
      squares: [{ value: 1 }, { value: 4 }, { value: 9 }],
      parallel: [14, 'done'],
    });
    expect(done.startDate).toBeInstanceOf(Date);
    expect(done.stopDate!.getTime()).toBeGreaterThanOrEqual(done.startDate!.getTime());
    expect(JSON.parse(done.input!)).toEqual({ items: [1, 2, 3] });
    // lambda:invoke hands the function its Payload; the alias is stripped from the function name
    expect(callsOf('square').map((c) => c.payload)).toEqual(expect.arrayContaining([{ n: 1 }, { n: 2 }, { n: 3 }]));
  });

  it('rejects a second execution with the same name', async () => {
    const error = await errorOf(client.send(new StartExecutionCommand({ stateMachineArn: pipelineArn, name: 'run-1', input: '{"items":[]}' })));
    expect(error.name).toBe('ExecutionAlreadyExists');
    expect(error.$metadata?.httpStatusCode).toBe(400);
  });

  it('records the execution history', async () => {
    const { events } = await client.send(new GetExecutionHistoryCommand({ executionArn: pipelineExecution }));
    const types = events!.map((e) => e.type);
    expect(types[0]).toBe('ExecutionStarted');
    expect(types.at(-1)).toBe('ExecutionSucceeded');
    for (const t of ['TaskStateEntered', 'TaskStateExited', 'ChoiceStateEntered', 'WaitStateExited', 'MapStateEntered', 'MapIterationStarted', 'ParallelStateExited', 'SucceedStateEntered']) {
      expect(types).toContain(t);
    }
    const ids = events!.map((e) => e.id!);
    expect(ids).toEqual(ids.map((_, i) => i + 1));
    expect(events![0]!.timestamp).toBeInstanceOf(Date);
    expect(events!.find((e) => e.type === 'TaskStateEntered')?.stateEnteredEventDetails?.name).toBe('Classify');

    const page = await client.send(new GetExecutionHistoryCommand({ executionArn: pipelineExecution, maxResults: 2, reverseOrder: true }));
    expect(page.events!.map((e) => e.type)).toEqual(['ExecutionSucceeded', 'SucceedStateExited']);
    expect(page.nextToken).toBeTruthy();
  });

  it('retries a failing task twice (3 invocations), then Catch routes to a Fail state', async () => {
    const { stateMachineArn } = await client.send(new CreateStateMachineCommand({ name: 'failing', definition: JSON.stringify(failing), roleArn: 'r' }));
    const t0 = Date.now();
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn, input: JSON.stringify({ videoId: 'v1' }) }));
    expect(executionArn).toMatch(/^arn:aws:states:us-east-1:000000000000:execution:failing:[0-9a-f-]{36}$/);

    const done = await until(executionArn!, ['SUCCEEDED', 'FAILED']);
    expect(Date.now() - t0).toBeLessThan(2000); // retry waits of 1 s and 2 s, scaled by 0.01
    expect(done).toMatchObject({ status: 'FAILED', error: 'VideoIngestFailed', cause: 'probe failed after 3 attempts' });
    expect(callsOf('flaky')).toHaveLength(3);
    expect(callsOf('record').map((c) => c.payload)).toEqual([{ videoId: 'v1', error: { Error: 'VideoBroken', Cause: 'frame 7 is corrupt' } }]);

    const { events } = await client.send(new GetExecutionHistoryCommand({ executionArn }));
    expect(events!.filter((e) => e.type === 'TaskFailed').map((e) => e.taskFailedEventDetails?.error)).toEqual(['VideoBroken', 'VideoBroken', 'VideoBroken']);
    expect(events!.at(-1)).toMatchObject({ type: 'ExecutionFailed', executionFailedEventDetails: { error: 'VideoIngestFailed' } });
  });

  it('fails an execution whose task throws a plain Error with error "Error" and the message as cause', async () => {
    const { stateMachineArn } = await client.send(new CreateStateMachineCommand({ name: 'uncaught', definition: JSON.stringify(uncaught), roleArn: 'r' }));
    const before = callsOf('crash').length;
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn }));
    const done = await until(executionArn!, ['SUCCEEDED', 'FAILED']);
    expect(done).toMatchObject({ status: 'FAILED', error: 'Error', cause: 'plain failure' });
    expect(callsOf('crash').length - before).toBe(2); // States.ALL retried once
  });

  it('StopExecution aborts a long Wait', async () => {
    const { stateMachineArn } = await client.send(new CreateStateMachineCommand({ name: 'sleeper', definition: JSON.stringify(sleeper), roleArn: 'r' }));
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn, name: 'nap' }));
    expect((await client.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('RUNNING');

    const stopped = await client.send(new StopExecutionCommand({ executionArn, error: 'Operator', cause: 'no more waiting' }));
    expect(stopped.stopDate).toBeInstanceOf(Date);
    const done = await until(executionArn!, ['ABORTED']);
    expect(done).toMatchObject({ error: 'Operator', cause: 'no more waiting' });
    await sfn.waitForIdle();
    const { events } = await client.send(new GetExecutionHistoryCommand({ executionArn }));
    expect(events!.at(-1)).toMatchObject({ type: 'ExecutionAborted', executionAbortedEventDetails: { error: 'Operator', cause: 'no more waiting' } });
  });

  it('ListExecutions filters by status and pages', async () => {
    const list = async (name: string, statusFilter?: ExecutionStatus) =>
      (await client.send(new ListExecutionsCommand({ stateMachineArn: sfn.stateMachineArn(name), statusFilter }))).executions!.map((e) => e.name);
    expect(await list('pipeline', 'SUCCEEDED')).toEqual(['run-1']);
    expect(await list('pipeline', 'RUNNING')).toEqual([]);
    expect(await list('sleeper', 'ABORTED')).toEqual(['nap']);
    expect(await list('sleeper', 'SUCCEEDED')).toEqual([]);
    expect((await list('failing')).length).toBe(1);

    const { stateMachineArn } = await client.send(new CreateStateMachineCommand({ name: 'quick', definition: JSON.stringify({ StartAt: 'P', States: { P: { Type: 'Pass', End: true } } }), roleArn: 'r' }));
    for (const name of ['q1', 'q2', 'q3']) await client.send(new StartExecutionCommand({ stateMachineArn, name }));
    await sfn.waitForIdle();
    const first = await client.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 2 }));
    expect(first.executions!.map((e) => e.name)).toEqual(['q3', 'q2']); // newest first
    const second = await client.send(new ListExecutionsCommand({ stateMachineArn, maxResults: 2, nextToken: first.nextToken }));
    expect(second.executions!.map((e) => e.name)).toEqual(['q1']);
    expect(second.nextToken).toBeUndefined();
  });

  it('answers with the AWS error types', async () => {
    const missing = 'arn:aws:states:us-east-1:000000000000:execution:pipeline:nope';
    expect((await errorOf(client.send(new DescribeExecutionCommand({ executionArn: missing })))).name).toBe('ExecutionDoesNotExist');
    expect((await errorOf(client.send(new DescribeStateMachineCommand({ stateMachineArn: sfn.stateMachineArn('nope') })))).name).toBe(
      'StateMachineDoesNotExist',
    );
    expect((await errorOf(client.send(new StartExecutionCommand({ stateMachineArn: sfn.stateMachineArn('nope') })))).name).toBe(
      'StateMachineDoesNotExist',
    );
    expect((await errorOf(client.send(new DescribeExecutionCommand({ executionArn: 'not-an-arn' })))).name).toBe('InvalidArn');
    expect((await errorOf(client.send(new DescribeExecutionCommand({ executionArn: sfn.stateMachineArn('pipeline') })))).name).toBe('InvalidArn');
    expect((await errorOf(client.send(new CreateStateMachineCommand({ name: 'bad name', definition: JSON.stringify(sleeper), roleArn: 'r' })))).name).toBe(
      'InvalidName',
    );
    expect((await errorOf(client.send(new CreateStateMachineCommand({ name: 'broken', definition: '{"StartAt":"X","States":{}}', roleArn: 'r' })))).name).toBe(
      'InvalidDefinition',
    );
    const clash = {
      StartAt: 'Work',
      States: {
        Work: { Type: 'Task', Resource: fnArn('classify'), Next: 'Each' },
        Each: { Type: 'Map', ItemProcessor: { StartAt: 'Work', States: { Work: { Type: 'Task', Resource: fnArn('square'), End: true } } }, End: true },
      },
    };
    const error = await errorOf(client.send(new CreateStateMachineCommand({ name: 'clash', definition: JSON.stringify(clash), roleArn: 'r' })));
    expect(error.name).toBe('InvalidDefinition');
    expect(error.message).toContain("share the name 'Work'");
    expect((await errorOf(client.send(new StartExecutionCommand({ stateMachineArn: sfn.stateMachineArn('pipeline'), input: '{oops' })))).name).toBe(
      'InvalidExecutionInput',
    );
    const raw = await fetch(sfn.endpoint, { method: 'POST', headers: { 'x-amz-target': 'AWSStepFunctions.Nope', 'content-type': 'application/x-amz-json-1.0' }, body: '{}' });
    expect(raw.status).toBe(400);
    expect(await raw.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });

  it.skipIf(spawnSync('aws', ['--version']).error !== undefined)('works with the aws CLI', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1' };
    delete env.AWS_PROFILE;
    const aws = async (...args: string[]) =>
      JSON.parse((await promisify(execFile)('aws', ['--endpoint-url', sfn.endpoint, '--output', 'json', 'stepfunctions', ...args], { env })).stdout);

    const listed = await aws('list-state-machines');
    expect(listed.stateMachines.map((m: { name: string }) => m.name)).toContain('pipeline');
    const started = await aws('start-execution', '--state-machine-arn', sfn.stateMachineArn('pipeline'), '--name', 'from-cli', '--input', '{"items":[4]}');
    expect(started.executionArn).toBe('arn:aws:states:us-east-1:000000000000:execution:pipeline:from-cli');
    await until(started.executionArn, ['SUCCEEDED']);
    const described = await aws('describe-execution', '--execution-arn', started.executionArn);
    expect(described.status).toBe('SUCCEEDED');
    expect(JSON.parse(described.output).parallel).toEqual([16, 'done']);
  });

  it("runs the project's video-ingest.asl.json, placeholders filled with function ARNs", async () => {
    const sm = topology.stateMachines.find((m) => m.name === 'video-ingest')!;
    let asl = await readFile(sm.definitionFile, 'utf8');
    for (const fn of sm.functions) asl = asl.replaceAll(`\${${functionArnPlaceholder(fn)}}`, fnArn(fn));
    const stateMachineArn = await sfn.createStateMachine(sm.name, asl);
    expect(await sfn.createStateMachine(sm.name, asl)).toBe(stateMachineArn); // createStateMachine is an upsert

    const input = (videoId: string) => JSON.stringify({ jobId: `job-${videoId}`, videoId, bucket: 'framewise-media', key: `videos/${videoId}.mp4` });
    const ok = await client.send(new StartExecutionCommand({ stateMachineArn, name: 'job-good', input: input('good') }));
    const bad = await client.send(new StartExecutionCommand({ stateMachineArn, name: 'job-broken', input: input('broken') }));
    expect(await until(ok.executionArn!, ['SUCCEEDED', 'FAILED'])).toMatchObject({ status: 'SUCCEEDED' });
    expect(await until(bad.executionArn!, ['SUCCEEDED', 'FAILED'])).toMatchObject({ status: 'FAILED', error: 'VideoIngestFailed' });
    expect(callsOf('ingest-probe').filter((c) => (c.payload as { videoId: string }).videoId === 'broken')).toHaveLength(3);
    expect(callsOf('jobs-outcome').map((c) => c.payload)).toEqual(
      expect.arrayContaining([
        { jobId: 'job-good', outcome: 'succeeded', result: { durationSeconds: 12.5 } },
        { jobId: 'job-broken', outcome: 'failed', error: { Error: 'VideoBroken', Cause: 'moov atom not found' } },
      ]),
    );
  });

  it('keeps state machines and finished executions across a restart; running ones come back ABORTED', async () => {
    const { executionArn: napping } = await client.send(new StartExecutionCommand({ stateMachineArn: sfn.stateMachineArn('sleeper'), name: 'long-nap' }));
    await sfn.stop();
    client.destroy();
    await start(dataDir);

    const names = (await client.send(new ListStateMachinesCommand({}))).stateMachines!.map((m) => m.name);
    expect(names).toEqual(expect.arrayContaining(['pipeline', 'failing', 'sleeper', 'uncaught', 'quick']));
    const finished = await client.send(new DescribeExecutionCommand({ executionArn: pipelineExecution }));
    expect(finished.status).toBe('SUCCEEDED');
    expect(JSON.parse(finished.output!).parallel).toEqual([14, 'done']);
    expect((await client.send(new GetExecutionHistoryCommand({ executionArn: pipelineExecution }))).events!.at(-1)?.type).toBe('ExecutionSucceeded');
    expect(await client.send(new DescribeExecutionCommand({ executionArn: napping }))).toMatchObject({ status: 'ABORTED', cause: 'local cloud stopped' });

    // and the restarted service still runs executions
    const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn: sfn.stateMachineArn('pipeline'), input: '{"items":[2]}' }));
    expect((await until(executionArn!, ['SUCCEEDED'])).status).toBe('SUCCEEDED');
  });

  it('marks executions left RUNNING by a crash as ABORTED on load', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'framewise-sfn-crash-'));
    try {
      const arn = 'arn:aws:states:us-east-1:000000000000:execution:sleeper:crashed';
      const state = {
        version: 1,
        stateMachines: [{ arn: sfn.stateMachineArn('sleeper'), name: 'sleeper', definition: JSON.stringify(sleeper), roleArn: 'r', type: 'STANDARD', creationDate: 1 }],
        executions: [{ arn, stateMachineArn: sfn.stateMachineArn('sleeper'), name: 'crashed', status: 'RUNNING', startDate: 1000, input: '{}', events: [] }],
      };
      await writeFile(join(dir, 'state.json'), JSON.stringify(state));
      const other = await startStepFunctions({ dataDir: dir, invoke });
      const otherClient = new SFNClient({ endpoint: other.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
      try {
        expect(await otherClient.send(new DescribeExecutionCommand({ executionArn: arn }))).toMatchObject({ status: 'ABORTED', cause: 'local cloud stopped' });
        const aborted = await otherClient.send(new ListExecutionsCommand({ stateMachineArn: other.stateMachineArn('sleeper'), statusFilter: 'ABORTED' }));
        expect(aborted.executions!.map((e) => e.name)).toEqual(['crashed']);
      } finally {
        otherClient.destroy();
        await other.stop();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
