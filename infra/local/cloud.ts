// The local cloud: the topology materialized on embedded services, on 127.0.0.1, with data under one folder.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, rmSync, statSync, mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { functionEnvironment, type PlatformEnvironment, type ResourceLocations } from '../environment.ts';
import { BROWSER_BUCKET_CORS, dlqName, functionArnPlaceholder, httpRoutes, topology as defaultTopology, type FunctionDef, type Topology } from '../topology.ts';
import { isApiKeyForm } from '../../functions/lib/auth.ts';
import { closeAwsClients, SECRET_NOT_SET } from '../../functions/lib/aws.ts';
import { closeDb } from '../../functions/lib/pg.ts';
import { closeMongo } from '../../functions/lib/mongo.ts';
import { AccessPolicy, functionCredentials } from './access.ts';
import { startApi } from './api.ts';
import { startDynamo } from './dynamodb.ts';
import { writePrivateFileSync } from './files.ts';
import { LocalFunctions } from './functions.ts';
import { startMongo } from './mongodb.ts';
import { ACCOUNT, localFunctionArn, localName, localQueueUrl, localSecretName, localStateMachineArn, REGION } from './names.ts';
import { startPostgres } from './postgres.ts';
import { Router } from './router.ts';
import { LOCAL_ACCESS_KEY } from './s3-presign-check.ts';
import { startS3Sqs } from './s3sqs.ts';
import { startSecretsManager } from './secretsmanager.ts';
import { serviceStartError } from './service-error.ts';
import { startStepFunctions } from './stepfunctions.ts';
import { UsageMeter, type UsageSnapshot } from './usage.ts';

export { ACCOUNT, localFunctionArn, localName, localStateMachineArn, REGION } from './names.ts';
const ROOT = resolve(import.meta.dirname, '../..');

export interface Endpoints {
  s3: string;
  sqs: string;
  dynamodb: string;
  stepfunctions: string;
  api: string;
  postgres: string;
  mongodb: string;
  secretsmanager: string;
}

/** What the functions reach (the API is what reaches them). */
export type ServiceEndpoints = Omit<Endpoints, 'api'>;

export interface Credentials {
  adminApiKey: string;
  postgresPassword: string;
}

export interface LocalCloud {
  readonly dir: string;
  readonly endpoints: Endpoints;
  readonly credentials: Credentials;
  readonly functions: LocalFunctions;
  readonly router: Router;
  /** Resolves when no workflow execution is running. */
  waitForIdle(): Promise<void>;
  /** Resolves when every MongoDB write is on disk and no compaction is running: a bench measures after it. */
  flush(): Promise<void>;
  /**
   * What the cloud has done since it started, in the units AWS bills (usageDiff of two tells what happened between);
   * only a cloud started with `metering` counts (the others reject).
   */
  usage(): Promise<UsageSnapshot>;
  /**
   * Applies the buckets' archivals (S3 lifecycle transitions) as S3 would have by `at` (now by default): objects
   * older than a rule's days move to its storage class. Returns how many moved.
   */
  applyLifecycle(at?: Date): number;
  stop(): Promise<void>;
}

/** The secret the bootstrap keeps the first admin key in; `npm start` shows it and writes it to credentials.json. */
const ADMIN_KEY_SECRET = 'admin-api-key';

function binaryPath(pkg: string): string {
  const path = (createRequire(import.meta.url)(pkg) as { path: string }).path;
  // The ffprobe package ships its binary as 0744: make it executable for every user, as the Lambda layer does.
  if ((statSync(path).mode & 0o111) !== 0o111) chmodSync(path, 0o755);
  return path;
}

const localResources = (endpoints: ServiceEndpoints): ResourceLocations => ({
  bucketName: localName,
  tableName: localName,
  queueUrl: (q) => localQueueUrl(endpoints.sqs, q),
  stateMachineArn: localStateMachineArn,
  secretId: localSecretName,
});

/** The local platform around the resources, for a caller with `credentials`. */
const localPlatform = (endpoints: ServiceEndpoints, credentials: { accessKeyId: string; secretAccessKey: string }): PlatformEnvironment => ({
  all: {
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    AWS_ENDPOINT_URL_SFN: endpoints.stepfunctions,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoints.secretsmanager,
    S3_FORCE_PATH_STYLE: 'true',
  },
  bundleRoot: ROOT,
  postgres: { DATABASE_URL: endpoints.postgres },
  mongodb: { MONGODB_URI: endpoints.mongodb },
  layers: { ffmpeg: { FFMPEG_PATH: binaryPath('@ffmpeg-installer/ffmpeg'), FFPROBE_PATH: binaryPath('@ffprobe-installer/ffprobe') } },
});

/**
 * A function's environment in the local cloud: what infra/environment.ts gives it from its topology entry (with its
 * own credentials), what Lambda's runtime adds, and the operator's log level.
 */
export function localFunctionEnvironment(def: FunctionDef, endpoints: ServiceEndpoints, t: Topology = defaultTopology, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...functionEnvironment(def, t, localResources(endpoints), localPlatform(endpoints, functionCredentials(def.name))),
    AWS_LAMBDA_FUNCTION_NAME: def.name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(def.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    ...(process.env.PATH && { PATH: process.env.PATH }),
    ...(process.env.POWERTOOLS_LOG_LEVEL && { POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL }),
    ...extra,
  };
}

/**
 * The environment of what runs beside the functions with full access (the local cloud's own process, tests that call
 * function modules directly): every resource, with the local cloud's own credentials.
 */
export function localAdminEnvironment(endpoints: ServiceEndpoints, settings: Topology['settings'] = defaultTopology.settings): Record<string, string> {
  const t = defaultTopology;
  const everything: FunctionDef = {
    name: 'local-admin',
    purpose: 'everything',
    entry: '',
    memoryMb: 0,
    timeoutSeconds: 0,
    layers: ['ffmpeg'],
    triggers: [],
    uses: {
      buckets: t.buckets.map((b) => ({ name: b.name, access: 'readwrite', prefixes: [''] })),
      tables: t.tables.map((x) => ({ name: x.name, access: 'readwrite' })),
      queues: t.queues.map((q) => q.name),
      stateMachines: t.stateMachines.map((s) => s.name),
      postgres: true,
      mongodb: true,
      secrets: t.secrets.map((x) => x.name),
    },
  };
  return functionEnvironment(everything, { ...t, settings }, localResources(endpoints), localPlatform(endpoints, LOCAL_ACCESS_KEY));
}

/** credentials.json: the PostgreSQL password from the first start on; the admin key once the bootstrap made it. */
const credentialsFile = (dir: string): string => join(dir, 'credentials.json');

function loadOrCreateCredentials(dir: string): Partial<Credentials> & Pick<Credentials, 'postgresPassword'> {
  const file = credentialsFile(dir);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Credentials;
  const credentials = { postgresPassword: randomBytes(18).toString('base64url') };
  writePrivateFileSync(file, `${JSON.stringify(credentials, null, 2)}\n`);
  return credentials;
}

/** ASL with every `${...}` placeholder replaced by the local ARN of the function it names. */
export async function localDefinition(file: string, functions: readonly string[]): Promise<string> {
  let text = await readFile(join(ROOT, file), 'utf8');
  for (const fn of functions) text = text.replaceAll(`\${${functionArnPlaceholder(fn)}}`, localFunctionArn(fn));
  const left = /\$\{[A-Za-z0-9]+\}/.exec(text);
  if (left) throw new Error(`${file}: placeholder ${left[0]} names no function of its state machine`);
  return text;
}

export interface StartOptions {
  /** Data folder; `.local` in the project by default. */
  dir?: string;
  /** Scales Step Functions retry intervals and waits (tests use a small factor). */
  retryIntervalScale?: number;
  /** Start schedule timers (off in tests, which fire schedules explicitly). */
  schedules?: boolean;
  /** Visibility timeout of every queue instead of the topology's (tests watch redelivery in seconds, not minutes). */
  queueVisibilityTimeoutSeconds?: number;
  /** Settings that differ from the topology's (tests use small multipart parts). */
  settings?: Partial<Topology['settings']>;
  /** Count what every stand-in serves in AWS's billing units (usage.ts): the cost bench and the meter's own tests. */
  metering?: boolean;
  /** The topology to run instead of the project's (a test takes one function's `uses` entry away and sees its call refused). */
  topology?: Topology;
  /** Variables added to every function's environment (tests tune the cache with them). */
  environment?: Record<string, string>;
  /** How long a restore of an archived object takes (hours in AWS; two seconds by default). */
  restoreDelayMs?: number;
  log?: (line: object) => void;
}

export async function startLocalCloud(options: StartOptions = {}): Promise<LocalCloud> {
  const dir = resolve(options.dir ?? join(ROOT, '.local'));
  mkdirSync(dir, { recursive: true });
  const log = options.log ?? (() => undefined);
  const stored = loadOrCreateCredentials(dir);
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((err: Error) => log({ level: 'ERROR', message: 'stop failed', error: err.message }));
  };

  try {
    const topology: Topology = { ...defaultTopology, ...options.topology, settings: { ...(options.topology ?? defaultTopology).settings, ...options.settings } };
    const policy = new AccessPolicy(topology, log);
    const meter: { storedBytes?: () => Record<string, number>; postgresUrl?: string } = {};
    // Unmetered, no stand-in hears of a request (DynamoDB calls then go to dynalite as they were made).
    const usage = options.metering ? new UsageMeter({ storedBytes: () => meter.storedBytes?.() ?? {}, postgresUrl: () => meter.postgresUrl }) : undefined;
    // Known once the services are up; no instance starts before the first invocation.
    const up: { endpoints?: ServiceEndpoints } = {};
    const functions = new LocalFunctions({
      root: ROOT,
      region: REGION,
      topology,
      environment: (def) => localFunctionEnvironment(def, up.endpoints!, topology, options.environment),
      log: (l) => log({ ...l, kind: 'invocation' }),
      usage,
    });
    // S3 reports writes from its first moment; the router that turns them into notifications comes later.
    const notify: { router?: Router } = {};

    // Each service's failure to start names the service and what to do; the ones that did start are stopped.
    const service = <T extends { stop(): Promise<void> }>(name: string, folder: string, start: (dataDir: string) => Promise<T>): Promise<T> =>
      start(join(dir, folder)).then(
        (started) => (stops.push(started.stop), started),
        (err: unknown) => {
          throw serviceStartError(name, join(dir, folder), err);
        },
      );
    const starting = [
      service('PostgreSQL', 'postgres', (dataDir) =>
        startPostgres({ dataDir, port: 0, password: stored.postgresPassword, database: topology.settings.postgresDatabase }),
      ),
      service('MongoDB', 'mongodb', (dataDir) => startMongo({ dataDir, port: 0, log, usage })),
      service('DynamoDB', 'dynamodb', (dataDir) => startDynamo({ dataDir, port: 0, region: REGION, policy, usage })),
      service('S3 and SQS', 's3sqs', (dataDir) =>
        startS3Sqs({
          dataDir, port: 0, region: REGION, notificationsFor: (e) => notify.router?.notificationsFor(e) ?? [], log, policy, usage,
          restoreDelayMs: options.restoreDelayMs,
          archivals: topology.buckets.flatMap((b) => (b.archivals ?? []).map((a) => ({ bucket: localName(b.name), ...a }))),
          cors: (bucket) => (topology.buckets.some((b) => b.browserUploads && localName(b.name) === bucket) ? BROWSER_BUCKET_CORS : undefined),
        }),
      ),
      service('Secrets Manager', 'secretsmanager', (dataDir) => startSecretsManager({ dataDir, region: REGION, accountId: ACCOUNT })),
    ] as const;
    await Promise.allSettled(starting);
    const [postgres, mongo, dynamo, s3sqs, secrets] = await Promise.all(starting);
    Object.assign(meter, { storedBytes: () => s3sqs.storedBytes(), postgresUrl: postgres.url });
    // Stopped in reverse: the event sources, then the workflows, then the invocations still running, and only
    // then the functions' connections (an invocation still running would open them again) and the services.
    stops.push(closeDb, closeMongo, async () => closeAwsClients(), () => functions.stop());

    const sfn = await service('Step Functions', 'stepfunctions', (dataDir) =>
      startStepFunctions({
        port: 0,
        dataDir,
        region: REGION,
        accountId: ACCOUNT,
        invoke: (fn, payload) => functions.invoke(fn.replace(/^.*:function:/, '').split(':')[0]!, payload),
        retryIntervalScale: options.retryIntervalScale ?? 1,
        log,
        refusal: (accessKeyId, request) => policy.refusal(accessKeyId, [request]),
        transition: usage && ((machine) => usage.recordStateTransition(machine)),
      }),
    );

    // det_group work has its own queue and concurrency so that it cannot starve video ingestion; in AWS its
    // instances also run on capacity of their own. Here all instances share this machine's cores, so det_group
    // computation tasks wait while a video is being ingested (from its notification to its outcome).
    const ingest = topology.stateMachines.find((s) => s.name === 'video-ingest')!;
    const detGroupTasks = topology.stateMachines.find((s) => s.name === 'det-group')!.functions.filter((f) => !ingest.functions.includes(f));
    functions.deferWhile(detGroupTasks, () => sfn.runningExecutions(localName(ingest.name)) > 0 || functions.running('ingest-upload') > 0);

    const services: ServiceEndpoints = (up.endpoints = {
      s3: s3sqs.endpoint,
      sqs: s3sqs.endpoint,
      dynamodb: dynamo.endpoint,
      stepfunctions: sfn.endpoint,
      postgres: postgres.url,
      mongodb: mongo.uri,
      secretsmanager: secrets.endpoint,
    });
    // This process is no function: it (and the tests' helpers that call function modules directly) has every resource.
    Object.assign(process.env, localAdminEnvironment(services, topology.settings));

    // Resources, as CloudFormation would create them.
    for (const b of topology.buckets) s3sqs.createBucket(localName(b.name));
    const queueArns = new Map<string, string>();
    for (const q of topology.queues) {
      const dlq = s3sqs.createQueue(localName(dlqName(q.name)), { MessageRetentionPeriod: String(14 * 24 * 3600) });
      const main = s3sqs.createQueue(localName(q.name), {
        VisibilityTimeout: String(options.queueVisibilityTimeoutSeconds ?? q.visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: q.maxReceiveCount }),
      });
      queueArns.set(q.name, main.arn);
    }
    for (const t of topology.tables) await dynamo.createTable(localName(t.name), t);
    for (const s of topology.stateMachines) {
      await sfn.createStateMachine(localName(s.name), await localDefinition(s.definitionFile, s.functions));
    }
    // A data folder from before the secret existed keeps its admin key: the new secret starts out holding it.
    for (const x of topology.secrets) {
      const carried = x.name === ADMIN_KEY_SECRET && stored.adminApiKey ? stored.adminApiKey : SECRET_NOT_SET;
      await secrets.ensureSecret(localSecretName(x.name), carried, x.purpose);
    }
    // What a deploy runs before the API serves: the migrations and the first admin key (platform-bootstrap).
    for (const f of topology.functions.filter((fn) => fn.triggers.some((t) => t.kind === 'deploy'))) {
      log({ level: 'INFO', message: 'deploy function', fn: f.name, result: await functions.invoke(f.name, {}) });
    }
    const adminApiKey = secrets.currentValue(localSecretName(ADMIN_KEY_SECRET)) ?? '';
    if (!isApiKeyForm(adminApiKey)) throw new Error(`the secret ${localSecretName(ADMIN_KEY_SECRET)} holds no admin API key after the bootstrap`);
    const credentials: Credentials = { adminApiKey, postgresPassword: stored.postgresPassword };
    writePrivateFileSync(credentialsFile(dir), `${JSON.stringify(credentials, null, 2)}\n`);

    const api = await startApi({ port: 0, routes: httpRoutes(), functions, site: { def: topology.site, root: ROOT, objectOrigin: services.s3 } });
    stops.push(api.stop);
    const endpoints: Endpoints = { ...services, api: api.endpoint };

    const router = new Router({
      sqsEndpoint: s3sqs.endpoint,
      region: REGION,
      functions,
      log,
      queues: topology.functions.flatMap((f) =>
        f.triggers.flatMap((t) =>
          t.kind === 'queue'
            ? [{ fn: f.name, queueUrl: localQueueUrl(s3sqs.endpoint, t.queue), queueArn: queueArns.get(t.queue)!, batchSize: t.batchSize, maxConcurrency: t.maxConcurrency }]
            : [],
        ),
      ),
      notifications: topology.buckets.flatMap((b) =>
        b.notifications.map((n) => ({ bucket: localName(b.name), prefix: n.prefix, queueUrl: localQueueUrl(s3sqs.endpoint, n.queue), events: n.events })),
      ),
      schedules: topology.functions.flatMap((f) =>
        f.triggers.flatMap((t) => (t.kind === 'schedule' ? [{ name: t.name, fn: f.name, everySeconds: t.everySeconds, input: t.input }] : [])),
      ),
    });
    notify.router = router;
    router.start(options.schedules !== false);
    s3sqs.startNotifications((m) => router.sendNotification(m));
    stops.push(() => router.stop());

    // Where the CLI and `aws --endpoint-url` find the services, while they run (it holds the superuser's password).
    const endpointsFile = join(dir, 'endpoints.json');
    writePrivateFileSync(endpointsFile, `${JSON.stringify(endpoints, null, 2)}\n`);
    stops.push(async () => rmSync(endpointsFile, { force: true }));

    return {
      dir, endpoints, credentials, functions, router, waitForIdle: sfn.waitForIdle, flush: mongo.flush,
      usage: () => (usage ? usage.snapshot() : Promise.reject(new Error('this local cloud does not meter: start it with metering: true'))),
      applyLifecycle: (at = new Date()) => s3sqs.applyLifecycle(at),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
