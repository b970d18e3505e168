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
class SegmentBroken extends Error {
  override name = 'SegmentBroken';
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
  // the project's workflows: video-ingest ...
  'ingest-probe': (p: { videoId: string }) => {
    if (p.videoId === 'broken') throw new VideoBroken('moov atom not found');
    return { durationSeconds: 12.5, streamDurationSeconds: 12, streamStartSeconds: 0, fileStartSeconds: 0 };
  },
  'ingest-localizations': () => ({ frames: 300, matched: ['Nike'], unmatched: [] }),
  'ingest-plan': (p: { probe: { streamDurationSeconds: number } }) => ({
    fps: '5/1',
    frameRate: 5,
    frameCount: p.probe.streamDurationSeconds * 5,
    segments: [0, 1, 2].map((index) => ({ index, firstFrame: index * 20, frameCount: 20, last: index === 2, seekSeconds: index * 4 })),
  }),
  'ingest-frames': (p: { videoId: string; segment: { index: number; frameCount: number } }) => {
    if (p.videoId === 'bad-frames' && p.segment.index === 1) throw new SegmentBroken('segment 1 cannot be decoded');
    return { frames: p.segment.frameCount };
  },
  'ingest-metrics': () => ({ detGroups: ['dg-1'] }),
  'ingest-failed': (p: { videoId: string }) => ({ videoId: p.videoId, status: 'failed' }),
  // ... and det-group
  'detgroups-videos': (p: { detGroupId: string }) => ({ videos: p.detGroupId === 'dg-unused' ? [] : ['v1', 'v2', 'v3'] }),
  'detgroups-compute': (p: { detGroupId: string; videoId: string }) => {
    if (p.detGroupId === 'dg-broken' && p.videoId === 'v2') throw new SegmentBroken('frames of v2 are missing');
    return { videoId: p.videoId, computed: true };
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

  /** The project's state machine with the placeholders filled as the local cloud and CDK fill them. */
  async function projectStateMachine(name: string): Promise<string> {
    const sm = topology.stateMachines.find((m) => m.name === name)!;
    let asl = await readFile(sm.definitionFile, 'utf8');
    for (const fn of sm.functions) asl = asl.replaceAll(`\${${functionArnPlaceholder(fn)}}`, fnArn(fn));
    expect(asl).not.toMatch(/\$\{/);
    const stateMachineArn = await sfn.createStateMachine(sm.name, asl);
    expect(await sfn.createStateMachine(sm.name, asl)).toBe(stateMachineArn); // createStateMachine is an upsert
    return stateMachineArn;
  }
  const payloadsOf = (fn: string, jobId: string) => callsOf(fn).map((c) => c.payload as { jobId: string }).filter((p) => p.jobId === jobId);

  it("runs the project's video-ingest.asl.json, placeholders filled with function ARNs", async () => {
    const stateMachineArn = await projectStateMachine('video-ingest');
    const input = (videoId: string) => ({ jobId: `job-${videoId}`, videoId, bucket: 'framewise-media', key: `videos/${videoId}/source` });
    const closing = { abandoned: true, error: { Error: 'ExecutionEnded', Cause: 'the workflow run ended as ABORTED without recording an outcome (3 runs)' } };
    const runs = await Promise.all(
      ['good', 'broken', 'bad-frames', 'closed'].map(async (videoId) => {
        const body = { ...input(videoId), ...(videoId === 'closed' && closing) };
        const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn, name: `job-${videoId}`, input: JSON.stringify(body) }));
        return until(executionArn!, ['SUCCEEDED', 'FAILED']);
      }),
    );
    const [good, broken, badFrames, closed] = runs;

    // success: every step once, each given what its function reads, in order; the Map runs one task per segment
    expect(good).toMatchObject({ status: 'SUCCEEDED' });
    const { jobId, videoId, bucket, key } = input('good');
    const probe = { durationSeconds: 12.5, streamDurationSeconds: 12, streamStartSeconds: 0, fileStartSeconds: 0 };
    expect(payloadsOf('ingest-probe', jobId)).toEqual([{ jobId, videoId, bucket, key }]);
    expect(payloadsOf('ingest-localizations', jobId)).toEqual([{ jobId, videoId }]);
    expect(payloadsOf('ingest-plan', jobId)).toEqual([{ jobId, videoId, probe }]);
    const segments = payloadsOf('ingest-frames', jobId) as unknown as { segment: { index: number } }[];
    expect(segments.map((p) => p.segment.index).sort()).toEqual([0, 1, 2]);
    expect(segments[0]).toEqual({ jobId, videoId, bucket, key, fps: '5/1', segment: expect.objectContaining({ firstFrame: expect.any(Number), frameCount: 20 }) });
    expect(payloadsOf('ingest-metrics', jobId)).toEqual([{ jobId, videoId, frameCount: 60 }]);
    expect(payloadsOf('jobs-outcome', jobId)).toEqual([{ jobId, outcome: 'succeeded' }]);
    const { events } = await client.send(new GetExecutionHistoryCommand({ executionArn: good!.executionArn }));
    const entered = events!.filter((e) => e.type?.endsWith('StateEntered')).map((e) => e.stateEnteredEventDetails?.name);
    expect(entered.filter((s) => s !== 'ExtractSegment')).toEqual(['Abandoned', 'Probe', 'Localizations', 'PlanSegments', 'ExtractFrames', 'ComputeMetrics', 'RecordSuccess']);
    expect(payloadsOf('ingest-failed', jobId)).toEqual([]);

    // a closing run (its job's runs all ended without an outcome): the video fails, then the job, with the error it carries
    expect(closed).toMatchObject({ status: 'FAILED', error: 'VideoIngestFailed' });
    expect(payloadsOf('ingest-probe', 'job-closed')).toEqual([]);
    expect(payloadsOf('ingest-failed', 'job-closed')).toEqual([{ jobId: 'job-closed', videoId: 'closed' }]);
    expect(payloadsOf('jobs-outcome', 'job-closed')).toEqual([{ jobId: 'job-closed', outcome: 'failed', error: closing.error }]);

    // failure at the first step: 3 attempts, then the outcome records the error and the run fails
    expect(broken).toMatchObject({ status: 'FAILED', error: 'VideoIngestFailed' });
    expect(payloadsOf('ingest-probe', 'job-broken')).toHaveLength(3);
    expect(payloadsOf('ingest-localizations', 'job-broken')).toEqual([]);
    expect(payloadsOf('ingest-failed', 'job-broken')).toEqual([{ jobId: 'job-broken', videoId: 'broken' }]);
    expect(payloadsOf('jobs-outcome', 'job-broken')).toEqual([
      { jobId: 'job-broken', outcome: 'failed', error: { Error: 'VideoBroken', Cause: 'moov atom not found' } },
    ]);

    // failure of one segment inside the Map: that segment tries 3 times, then the Map's Catch records it
    expect(badFrames).toMatchObject({ status: 'FAILED', error: 'VideoIngestFailed' });
    const frames = payloadsOf('ingest-frames', 'job-bad-frames') as unknown as { segment: { index: number } }[];
    expect(frames.filter((p) => p.segment.index === 1)).toHaveLength(3);
    expect(payloadsOf('ingest-metrics', 'job-bad-frames')).toEqual([]);
    expect(payloadsOf('jobs-outcome', 'job-bad-frames')).toEqual([
      { jobId: 'job-bad-frames', outcome: 'failed', error: { Error: 'SegmentBroken', Cause: 'segment 1 cannot be decoded' } },
    ]);
  });

  it("runs the project's det-group.asl.json: every video computed, none, or a failure recorded", async () => {
    const stateMachineArn = await projectStateMachine('det-group');
    const runs = await Promise.all(
      ['dg-good', 'dg-unused', 'dg-broken'].map(async (detGroupId) => {
        const input = { jobId: `job-${detGroupId}`, detGroupId };
        const { executionArn } = await client.send(new StartExecutionCommand({ stateMachineArn, name: input.jobId, input: JSON.stringify(input) }));
        return until(executionArn!, ['SUCCEEDED', 'FAILED']);
      }),
    );
    const [good, unused, broken] = runs;

    expect(good).toMatchObject({ status: 'SUCCEEDED' });
    expect(payloadsOf('detgroups-videos', 'job-dg-good')).toEqual([{ jobId: 'job-dg-good', detGroupId: 'dg-good' }]);
    const computed = payloadsOf('detgroups-compute', 'job-dg-good') as unknown as { videoId: string }[];
    expect(computed.sort((a, b) => a.videoId.localeCompare(b.videoId))).toEqual(
      ['v1', 'v2', 'v3'].map((videoId) => ({ jobId: 'job-dg-good', detGroupId: 'dg-good', videoId })),
    );
    expect(payloadsOf('jobs-outcome', 'job-dg-good')).toEqual([{ jobId: 'job-dg-good', outcome: 'succeeded' }]);
    expect(JSON.parse(good!.output!)).toEqual({ jobId: 'job-dg-good', outcome: 'succeeded' }); // what jobs-outcome returned

    // a det_group that applies to no video yet: an empty Map, and success
    expect(unused).toMatchObject({ status: 'SUCCEEDED' });
    expect(payloadsOf('detgroups-compute', 'job-dg-unused')).toEqual([]);
    expect(payloadsOf('jobs-outcome', 'job-dg-unused')).toEqual([{ jobId: 'job-dg-unused', outcome: 'succeeded' }]);

    // one video failing 3 times fails the run, with the error on the job
    expect(broken).toMatchObject({ status: 'FAILED', error: 'DetGroupComputationFailed' });
    const attempts = (payloadsOf('detgroups-compute', 'job-dg-broken') as unknown as { videoId: string }[]).filter((p) => p.videoId === 'v2');
    expect(attempts).toHaveLength(3);
    expect(payloadsOf('jobs-outcome', 'job-dg-broken')).toEqual([
      { jobId: 'job-dg-broken', outcome: 'failed', error: { Error: 'SegmentBroken', Cause: 'frames of v2 are missing' } },
    ]);
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

  it('writes an execution to disk before its first task runs, so that a crash in the task leaves it to find', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'framewise-sfn-durable-'));
    const onDisk: boolean[] = [];
    const durable = await startStepFunctions({
      dataDir: dir,
      invoke: async () => {
        const state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8').catch(() => '{"executions":[]}')) as { executions: { name: string }[] };
        onDisk.push(state.executions.some((x) => x.name === 'first-task'));
        return {};
      },
    });
    try {
      const arn = await durable.createStateMachine('one-task', {
        StartAt: 'T',
        States: { T: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:any', End: true } },
      });
      const c = new SFNClient({ endpoint: durable.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
      await c.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'first-task' }));
      await durable.waitForIdle();
      c.destroy();
      expect(onDisk).toEqual([true]);
    } finally {
      await durable.stop();
      await rm(dir, { recursive: true, force: true });
    }
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
        expect(await otherClient.send(new DescribeExecutionCommand({ executionArn: arn }))).toMatchObject({
          status: 'ABORTED',
          error: 'States.Runtime',
          cause: 'the local cloud died while the execution was running',
        });
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
