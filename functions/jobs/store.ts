// Jobs in DynamoDB: one item per job, single-item conditional writes only (no transactions).
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { dynamo } from '../lib/aws.ts';
import { config } from '../lib/config.ts';
import { conflict, invalidCursor, notFound } from '../lib/errors.ts';
import { decodeJobCursor, encodeJobCursor, initialSteps, statesBefore, type Job, type JobError, type JobKind, type JobState, type StepName } from './job.ts';

const now = () => new Date().toISOString();

/** Creates the job unless it exists; returns false when it already did (a redelivered event). */
export async function createJob(job: Omit<Job, 'createdAt' | 'updatedAt' | 'attempts' | 'requeues' | 'state' | 'steps'>): Promise<boolean> {
  const at = now();
  try {
    await dynamo().send(
      new PutCommand({
        TableName: config.jobsTable(),
        Item: { ...job, state: 'queued', attempts: 0, requeues: 0, resumes: 0, steps: initialSteps(job.kind), createdAt: at, updatedAt: at },
        ConditionExpression: 'attribute_not_exists(jobId)',
      }),
    );
    return true;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return false;
    throw err;
  }
}

export async function getJob(jobId: string): Promise<Job | undefined> {
  const out = await dynamo().send(new GetCommand({ TableName: config.jobsTable(), Key: { jobId }, ConsistentRead: true }));
  return out.Item as Job | undefined;
}

export async function requireJob(jobId: string): Promise<Job> {
  const job = await getJob(jobId);
  if (!job) throw notFound('job', jobId);
  return job;
}

/**
 * Moves a job to `to` if its current state allows it, setting `fields`; returns the new job, or undefined
 * when the job is already past that point (e.g. a late retry after the job was failed).
 */
export async function moveJob(
  jobId: string,
  to: JobState,
  fields: {
    error?: JobError;
    result?: Record<string, unknown>;
    executionArn?: string;
    countRequeue?: boolean;
    resetStepsOf?: JobKind;
    /** Steps that end with the job, in the same write: the job and its steps agree at every moment. */
    endSteps?: { steps: readonly StepName[]; state: 'failed' | 'succeeded' };
  } = {},
): Promise<Job | undefined> {
  const from = statesBefore(to);
  const names: Record<string, string> = { '#state': 'state', '#error': 'error' };
  const values: Record<string, unknown> = { ':to': to, ':at': now() };
  from.forEach((s, i) => (values[`:from${i}`] = s));
  const sets = ['#state = :to', 'updatedAt = :at'];
  fields.endSteps?.steps.forEach((s, i) => {
    names[`#end${i}`] = s;
    sets.push(`steps.#end${i}.#state = :stepEnd`);
    values[':stepEnd'] = fields.endSteps!.state;
  });
  if (fields.error) {
    sets.push('#error = :error');
    values[':error'] = fields.error;
  }
  if (fields.result) {
    sets.push('#result = :result');
    names['#result'] = 'result';
    values[':result'] = fields.result;
  }
  if (fields.executionArn) {
    sets.push('executionArn = :execution');
    values[':execution'] = fields.executionArn;
  }
  if (fields.countRequeue) {
    values[':one'] = 1;
    values[':zero'] = 0;
  }
  if (fields.resetStepsOf) {
    sets.push('attempts = :reset', 'resumes = :reset', 'steps = :steps');
    values[':reset'] = 0;
    values[':steps'] = initialSteps(fields.resetStepsOf);
  }
  if (fields.countRequeue) sets.push('requeues = if_not_exists(requeues, :zero) + :one');
  // An error belongs to the failed state only; any other move clears it. A job that moves waits no more.
  const update = `SET ${sets.join(', ')} REMOVE waitsFor${fields.error ? '' : ', #error'}`;
  return updateIfAllowed(jobId, {
    UpdateExpression: update,
    ConditionExpression: `attribute_exists(jobId) AND #state IN (${from.map((_, i) => `:from${i}`).join(', ')})`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  });
}

/** A conditional update of one job; undefined when its condition does not hold (the job moved on). */
async function updateIfAllowed(
  jobId: string,
  update: Pick<UpdateCommandInput, 'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'>,
): Promise<Job | undefined> {
  try {
    const out = await dynamo().send(new UpdateCommand({ TableName: config.jobsTable(), Key: { jobId }, ...update, ReturnValues: 'ALL_NEW' }));
    return out.Attributes as Job;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return undefined;
    throw err;
  }
}

/**
 * A Task begins (or retries) its step: the job is working, the step is working with one more attempt, and the
 * job's `attempts` are the step's. A step made of parts gets its `total`; the parts done so far stay counted (a
 * resumed run skips them). Returns undefined if the job has already ended (a late retry).
 */
export async function startStep(jobId: string, step: StepName, total?: number): Promise<Job | undefined> {
  const values: Record<string, unknown> = { ':working': 'working', ':at': now(), ':one': 1, ':queued': 'queued' };
  const sets = [
    '#state = :working', 'updatedAt = :at', 'currentStep = :step',
    'attempts = steps.#step.attempts + :one', 'steps.#step.attempts = steps.#step.attempts + :one', 'steps.#step.#state = :working',
  ];
  values[':step'] = step;
  if (total !== undefined) {
    sets.push(
      'steps.#step.#total = :total', 'steps.#step.#done = if_not_exists(steps.#step.#done, :zero)',
      'steps.#step.#partsDone = if_not_exists(steps.#step.#partsDone, :empty)', 'steps.#step.#partAttempts = if_not_exists(steps.#step.#partAttempts, :empty)',
    );
    Object.assign(values, { ':total': total, ':zero': 0, ':empty': {} });
  }
  return updateIfAllowed(jobId, {
    UpdateExpression: `SET ${sets.join(', ')}`,
    ConditionExpression: '#state IN (:queued, :working)',
    ExpressionAttributeNames: {
      '#state': 'state', '#step': step,
      ...(total !== undefined && { '#total': 'total', '#done': 'done', '#partsDone': 'partsDone', '#partAttempts': 'partAttempts' }),
    },
    ExpressionAttributeValues: values,
  });
}

/**
 * A part of a step begins (or retries): its own attempts count up, and the step's and the job's `attempts` are
 * those of its most tried part. Returns whether the part was done already (by an earlier run), or undefined when
 * the job has ended or its step has no parts planned.
 */
export async function startPart(jobId: string, step: StepName, part: string): Promise<{ done: boolean } | undefined> {
  const names = { '#state': 'state', '#step': step, '#partAttempts': 'partAttempts', '#part': part };
  const job = await updateIfAllowed(jobId, {
    UpdateExpression: 'SET steps.#step.#partAttempts.#part = if_not_exists(steps.#step.#partAttempts.#part, :zero) + :one, updatedAt = :at',
    ConditionExpression: '#state IN (:queued, :working) AND attribute_exists(steps.#step.#partAttempts)',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':at': now(), ':queued': 'queued', ':working': 'working' },
  });
  const state = job?.steps[step];
  if (!state) return undefined;
  const tried = state.partAttempts?.[part] ?? 1;
  if (tried > state.attempts) {
    await updateIfAllowed(jobId, {
      UpdateExpression: 'SET attempts = :n, steps.#step.attempts = :n, currentStep = :step',
      ConditionExpression: 'steps.#step.attempts < :n',
      ExpressionAttributeNames: { '#step': step },
      ExpressionAttributeValues: { ':n': tried, ':step': step },
    });
  }
  return { done: Boolean(state.partsDone?.[part]) };
}

/** A part of a step is done: counted once, however often it ran (retries, resumed runs). */
export async function finishPart(jobId: string, step: StepName, part: string): Promise<void> {
  await updateIfAllowed(jobId, {
    UpdateExpression: 'SET steps.#step.#partsDone.#part = :true, updatedAt = :at ADD steps.#step.#done :one',
    ConditionExpression: 'attribute_exists(steps.#step.#partsDone) AND attribute_not_exists(steps.#step.#partsDone.#part)',
    ExpressionAttributeNames: { '#step': step, '#partsDone': 'partsDone', '#part': part, '#done': 'done' },
    ExpressionAttributeValues: { ':true': true, ':one': 1, ':at': now() },
  });
}

/**
 * A Task finished its step (or, with `parts`, some parts of it). A step made of parts that succeeds as a whole
 * has all its parts done.
 */
export async function finishStep(jobId: string, step: StepName, parts?: number): Promise<void> {
  const names: Record<string, string> = { '#state': 'state', '#step': step };
  const values: Record<string, unknown> = { ':done': 'succeeded', ':at': now() };
  let update = 'SET steps.#step.#state = :done, updatedAt = :at';
  if (parts === undefined) {
    const total = (await getJob(jobId))?.steps[step]?.total;
    if (total !== undefined) {
      update += ', steps.#step.#count = :total';
      names['#count'] = 'done';
      values[':total'] = total;
    }
  }
  await dynamo().send(
    new UpdateCommand({
      TableName: config.jobsTable(),
      Key: { jobId },
      ...(parts === undefined
        ? { UpdateExpression: update, ExpressionAttributeValues: values }
        : { UpdateExpression: 'SET updatedAt = :at ADD steps.#step.#done :n', ExpressionAttributeValues: { ':n': parts, ':at': now() } }),
      ExpressionAttributeNames: parts === undefined ? names : { '#step': step, '#done': 'done' },
      ConditionExpression: 'attribute_exists(jobId)',
    }),
  );
}

/**
 * Records the next run of a job whose run ended without an outcome: its execution, the runs resumed so far, and
 * the steps the ended run left working as pending again (they run again). Undefined when the job moved on since
 * it was read (an outcome, another sweep).
 */
export async function recordNextRun(job: Job, executionArn: string, interrupted: readonly StepName[]): Promise<Job | undefined> {
  const names: Record<string, string> = { '#state': 'state' };
  const values: Record<string, unknown> = { ':x': executionArn, ':n': (job.resumes ?? 0) + 1, ':at': now(), ':queued': 'queued', ':working': 'working' };
  const sets = ['executionArn = :x', 'resumes = :n', 'updatedAt = :at'];
  interrupted.forEach((s, i) => {
    names[`#s${i}`] = s;
    sets.push(`steps.#s${i}.#state = :pending`);
    values[':pending'] = 'pending';
  });
  let condition = '#state IN (:queued, :working)';
  if (job.executionArn) {
    condition += ' AND executionArn = :from';
    values[':from'] = job.executionArn;
  } else condition += ' AND attribute_not_exists(executionArn)';
  return updateIfAllowed(job.jobId, { UpdateExpression: `SET ${sets.join(', ')}`, ConditionExpression: condition, ExpressionAttributeNames: names, ExpressionAttributeValues: values });
}

/**
 * Ends a queued job's wait by recording its run's execution, if it still waits: the one caller that does gets the
 * job (and starts the run), any other (a duplicated notification, the sweep) undefined.
 */
export async function endWait(jobId: string, executionArn: string): Promise<Job | undefined> {
  return updateIfAllowed(jobId, {
    UpdateExpression: 'SET executionArn = :e, updatedAt = :at REMOVE waitsFor',
    ConditionExpression: 'attribute_exists(waitsFor) AND attribute_not_exists(executionArn) AND #state = :queued',
    ExpressionAttributeNames: { '#state': 'state' },
    ExpressionAttributeValues: { ':e': executionArn, ':at': now(), ':queued': 'queued' },
  });
}

/** Sets the execution of a queued job; refuses if the job moved on in between. */
export async function setExecution(jobId: string, executionArn: string): Promise<void> {
  await dynamo().send(
    new UpdateCommand({
      TableName: config.jobsTable(),
      Key: { jobId },
      UpdateExpression: 'SET executionArn = :e',
      ConditionExpression: 'attribute_exists(jobId)',
      ExpressionAttributeValues: { ':e': executionArn },
    }),
  );
}

/**
 * Jobs by video or state (newest change first), or all of them; `kind` filters each page after it is read, so a page
 * may hold fewer than `limit` jobs (even none) and still have a cursor: follow it to the end.
 */
export async function listJobs(opts: { state?: JobState; videoId?: string; kind?: JobKind; limit: number; cursor?: string }): Promise<{ jobs: Job[]; cursor?: string }> {
  const start = opts.cursor === undefined ? undefined : decodeJobCursor(opts.cursor, opts);
  if (opts.cursor !== undefined && !start) throw invalidCursor();
  const filters: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  if (opts.state && opts.videoId) {
    filters.push('#state = :s');
    names['#state'] = 'state';
    values[':s'] = opts.state;
  }
  if (opts.kind) {
    filters.push('#kind = :k');
    names['#kind'] = 'kind';
    values[':k'] = opts.kind;
  }
  const filter = filters.length ? { FilterExpression: filters.join(' AND ') } : {};
  const out = opts.videoId
    ? await dynamo().send(
        new QueryCommand({
          TableName: config.jobsTable(),
          IndexName: 'byVideo',
          KeyConditionExpression: 'videoId = :v',
          ...filter,
          ...(Object.keys(names).length && { ExpressionAttributeNames: names }),
          ExpressionAttributeValues: { ':v': opts.videoId, ...values },
          ScanIndexForward: false,
          Limit: opts.limit,
          ExclusiveStartKey: start,
        }),
      )
    : opts.state
    ? await dynamo().send(
        new QueryCommand({
          TableName: config.jobsTable(),
          IndexName: 'byState',
          KeyConditionExpression: '#state = :s',
          ...filter,
          ExpressionAttributeNames: { '#state': 'state', ...names },
          ExpressionAttributeValues: { ':s': opts.state, ...values },
          ScanIndexForward: false,
          Limit: opts.limit,
          ExclusiveStartKey: start,
        }),
      )
    : await dynamo().send(
        new ScanCommand({
          TableName: config.jobsTable(), Limit: opts.limit, ExclusiveStartKey: start, ...filter,
          ...(Object.keys(names).length && { ExpressionAttributeNames: names, ExpressionAttributeValues: values }),
        }),
      );
  const jobs = (out.Items ?? []) as Job[];
  if (!opts.state && !opts.videoId) jobs.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
  return {
    jobs,
    ...(out.LastEvaluatedKey && { cursor: encodeJobCursor(out.LastEvaluatedKey) }),
  };
}

export function assertRequeueable(job: Job): void {
  if (job.state !== 'failed') throw conflict(`job ${job.jobId} is ${job.state}; only a failed job can be requeued`);
}
