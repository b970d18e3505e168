// `npm run bench:cost`: what one game costs on AWS, from what the pipeline really does. A local cloud ingests a
// generated game (BENCH_MINUTES long, default 10; 1280×720, 25 fps) with its localizations through the API at 5 fps,
// from the upload to released metrics; the local cloud's usage meter (infra/local/usage.ts) counts every
// invocation, request, transition and write of that run. The bench prints those counts, then the bill of one
// game-hour (the run's counts scaled linearly to 60 minutes of game) from AWS's us-east-1 prices (aws-prices.ts),
// line by line, next to the bill of extracting the same frames with MediaConvert frame capture, and the targets
// as ratios. BENCH_VIDEO=path reuses a video of that length.
// It then measures what the model of a 3-hour game on AWS needs (ingest-model.ts): segments of a few sizes extracted
// one at a time, and the durations of the run's other steps; and searches the segment plan that ingests that game
// fastest within a cost ceiling.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { drawSampleGame, sampleLabelMapping, type SampleGame } from '../cli/sample-game.ts';
import { extractSegment, extractWhole, threadsForMemory } from '../functions/ingest/extract.ts';
import { planUpload } from '../functions/lib/presigned-upload.ts';
import { DEFAULT_MAX_FRAMES_PER_SEGMENT, SEGMENTS_AT_ONCE, segmentAt } from '../functions/ingest/segments.ts';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { localName } from '../infra/local/cloud.ts';
import { LOCAL_ACCESS_KEY } from '../infra/local/s3-presign-check.ts';
import { topology } from '../infra/topology.ts';
import { usageDiff, type UsageSnapshot } from '../infra/local/usage.ts';
import { apiCaller, prepareGame, startMeteredCloud, startOf } from './game-catalog.ts';
import { AWS_PRICES as P, PRICES_READ_ON, PRICES_REGION } from './aws-prices.ts';
import { childCpuSeconds, median } from './measure.ts';
import { ASSUMED, concurrencyBound, fitSegmentTime, modelIngest, searchPlans, vcpuAt, type Game, type Measured, type MeasuredStep, type Modelled, type Prices } from './ingest-model.ts';

const ffmpegPath = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
const MINUTES = Number(process.env.BENCH_MINUTES ?? 10);
const GAME: SampleGame = { seconds: MINUTES * 60, width: 1280, height: 720, fps: 25 };
const INGEST_FPS = 5;
/** `framewise ingest --no-follow` in a process of its own: it returns once the pipeline has the upload. */
async function uploadWithCli(
  apiUrl: string,
  apiKey: string,
  o: { video: string; file: string; localizations: string; labelMapping: string; frameRate: number; threshold: number },
): Promise<void> {
  const args = [
    'cli/bin/framewise.js', 'ingest', '--video', o.video, '--file', o.file, '--localizations', o.localizations, '--label-mapping', o.labelMapping,
    '--frame-rate', String(o.frameRate), '--threshold', String(o.threshold), '--no-follow',
  ];
  const cli = spawn(process.execPath, args, { env: { ...process.env, FRAMEWISE_API_URL: apiUrl, FRAMEWISE_API_KEY: apiKey }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  cli.stdout.on('data', (d: Buffer) => (output += d.toString()));
  cli.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => cli.once('error', reject).once('close', resolve));
  if (code !== 0) throw new Error(`framewise ingest exited with ${code}:\n${output}`);
}

/** A game-hour is this many runs. */
const SCALE = 60 / MINUTES;
/** Targets of a game-hour. */
const TARGET_USD = 0.02;
const TARGET_TIMES_CHEAPER = 20;
/** Upload to metrics, at most this many times ffmpeg's own extraction of the same frames. */
const TARGET_END_TO_END = 1.4;
/** The storage classes the topology may archive the source video in, as the bill prices them. */
const ARCHIVE_CLASSES = {
  GLACIER_IR: { name: 'Glacier Instant Retrieval', gbMonth: P.s3GlacierIrGbMonth.usd, transition: P.s3GlacierIrTransition.usd, minimumDays: 90, restore: undefined },
  DEEP_ARCHIVE: {
    name: 'Deep Archive', gbMonth: P.s3DeepArchiveGbMonth.usd, transition: P.s3DeepArchiveTransition.usd, minimumDays: 180,
    restore: { standard: P.s3DeepArchiveRestoreStandard.usd, bulk: P.s3DeepArchiveRestoreBulk.usd },
  },
} as const;
const sourceArchival = (() => {
  const rule = topology.buckets.find((b) => b.name === 'media')?.archivals?.find((a) => a.prefix === 'videos/');
  if (!rule) throw new Error('the media bucket has no archival rule for videos/: the bill prices the source by it');
  return rule;
})();
const archive: { name: string; gbMonth: number; transition: number; minimumDays: number; restore?: { standard: number; bulk: number } } = (() => {
  const prices = ARCHIVE_CLASSES[sourceArchival.storageClass as keyof typeof ARCHIVE_CLASSES] as (typeof ARCHIVE_CLASSES)[keyof typeof ARCHIVE_CLASSES] | undefined;
  if (!prices) throw new Error(`the bill has no prices for ${sourceArchival.storageClass}, the class the topology archives source videos in (aws-prices.ts)`);
  return prices;
})();
/** PostgreSQL reports a backend's row counters within this long once it is idle. */
const PG_COUNTERS_SETTLE_MS = 11_000;
/** The run is over when no function has started for this long after the metrics step. */
const QUIET_MS = 5_000;
const MAX_WAIT_MS = 30 * 60_000;
/** The game the model ingests on AWS, and the target of its wall time (upload complete to metrics). */
const MODEL_GAME_SECONDS = 3 * 3600;
const TARGET_MODEL_SECONDS = 120;
/**
 * The most one game-hour's processing (everything the ingest runs once) may cost: half of the $0.02 game-hour target,
 * the other half left to the first month's storage of its source and frames. The plan search's ceiling is this per
 * hour of the modelled game, for the ingest workflow's own Lambda, Step Functions and S3 requests.
 */
const PROCESSING_SHARE_OF_TARGET = 0.5;
/** Segment sizes measured one at a time (frames at 5 fps: 10 s to 4 minutes of video), each at ROUNDS places in the video. */
const SEGMENT_SIZES = [50, 200, 600, 1200];
const ROUNDS = 2;
/** Frames-per-segment ceilings the plan search tries (bounded by what the function's /tmp holds). */
const FRAMES_PER_SEGMENT_GRID = [150, 300, 600, 900, 1200, 1500, 1800, 2400, 3000, 4500, 6000];
/** A segment's frames and their pack on /tmp at once, with room to spare: at most this share of the ephemeral storage. */
const TMP_USABLE_SHARE = 0.8;

const usd = (n: number) => (n >= 0.01 ? `$${n.toFixed(4)}` : `$${n.toFixed(6)}`);
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const line = (label: string, amount: string, cost: number) => console.log(`  ${label.padEnd(44)} ${amount.padStart(22)}  ${usd(cost).padStart(11)}`);

const dir = mkdtempSync(join(tmpdir(), 'framewise-bench-cost-'));
// Each invocation's duration, as the local functions report it (the model's per-step times).
const { cloud, invocations } = await startMeteredCloud(join(dir, 'cloud'));
try {
  const call = apiCaller(cloud.endpoints.api, cloud.credentials.adminApiKey);
  // BENCH_VIDEO names a video to reuse, drawn there and kept if it is missing.
  const video = process.env.BENCH_VIDEO || join(dir, 'game.mp4');
  if (!existsSync(video)) {
    const started = Date.now();
    await drawSampleGame(video, GAME);
    console.log(`drew a ${MINUTES}-minute ${GAME.width}×${GAME.height} ${GAME.fps} fps game in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  // The catalog a customer has before its games arrive (not part of a game's cost).
  const { videoId, locFile } = await prepareGame(call, dir, GAME);
  await cloud.waitForIdle();

  // The game: its localizations and its video uploaded, ingested, metrics computed. The run is over when the
  // metrics step has run and no function has started for QUIET_MS (what the ingest sets off after it included); the
  // bench then reads the job once, as a client would, rather than polling the API and adding its own calls.
  let lastInvocation = performance.now();
  let metricsRan = false;
  cloud.functions.intercept((name) => {
    lastInvocation = performance.now();
    if (name === 'ingest-metrics' || name === 'ingest-failed') metricsRan = true;
  });
  const before = await cloud.usage();
  const cpuBefore = childCpuSeconds();
  // Uploaded as a customer uploads: by the CLI, in a process of its own. The upload starts with its first request
  // (the CLI's own start is not the pipeline's) and ends when the upload's notification reaches ingest-upload.
  const spawned = performance.now();
  const labelMappingFile = join(dir, 'label-mapping.txt');
  writeFileSync(labelMappingFile, sampleLabelMapping());
  await uploadWithCli(cloud.endpoints.api, cloud.credentials.adminApiKey, {
    video: videoId, file: video, localizations: locFile, labelMapping: labelMappingFile, frameRate: INGEST_FPS, threshold: 0.5,
  });
  // (Invocations that began before, such as the det_groups' computations, are not the upload's.)
  const started = Math.min(...invocations.map(startOf).filter((start) => start >= spawned));
  const arrival = invocations.find((i) => startOf(i) >= spawned && i.fn === 'ingest-upload');
  if (!arrival) throw new Error('the upload reached no ingest-upload');
  const uploaded = startOf(arrival);
  const uploadedAt = Date.now() - (performance.now() - uploaded);
  const quiet = () => metricsRan && performance.now() - lastInvocation > QUIET_MS && topology.functions.every((f) => cloud.functions.running(f.name) === 0);
  while (!quiet()) {
    if (performance.now() - uploaded > MAX_WAIT_MS) throw new Error('the ingest did not finish in time');
    await new Promise((r) => setTimeout(r, 250));
    await cloud.waitForIdle();
  }
  const run = usageDiff(before, await cloud.usage());
  const ffmpegCpuSeconds = childCpuSeconds() - cpuBefore;
  await new Promise((r) => setTimeout(r, PG_COUNTERS_SETTLE_MS));
  run.postgres = usageDiff(before, await cloud.usage()).postgres;
  const job = (await call<{ jobs: { state: string; error?: unknown; updatedAt: string }[] }>('GET', `/v1/jobs?videoId=${videoId}&limit=10`)).jobs[0];
  if (job?.state !== 'succeeded') throw new Error(`the ingest did not succeed: ${JSON.stringify(job)}`);
  const stored = await reportStorage(videoId);
  // Each step's invocation in the run; jobs-outcome also records the det_group jobs deferred by the ingest: its step is
  // the invocation right after the metrics.
  const ran = invocations.filter((i) => i.end >= started);
  const metricsAt = ran.find((i) => i.fn === 'ingest-metrics')?.end ?? Infinity;
  const steps = Object.fromEntries(ran.map((i) => [i.fn, i.ms / 1000]));
  const outcome = ran.find((i) => i.fn === 'jobs-outcome' && i.end > metricsAt);
  if (outcome) steps['jobs-outcome'] = outcome.ms / 1000;
  const runSegments = run.functions['ingest-frames']?.invocations ?? 0;
  const loadAfterRun = loadavg();

  // The same frames extracted by the same ffmpeg run directly on the local file, for the end-to-end target.
  const direct = performance.now();
  await extractWhole({ ffmpegPath, input: video, fps: INGEST_FPS, outDir: join(dir, 'direct') });
  const directSeconds = (performance.now() - direct) / 1000;
  rmSync(join(dir, 'direct'), { recursive: true, force: true });

  const segments = await measureSegments(stored.videoKey);
  const targets = report(run, { uploadSeconds: (uploaded - started) / 1000, ingestSeconds: (Date.parse(job.updatedAt) - uploadedAt) / 1000, directSeconds, ffmpegCpuSeconds }, stored);
  targets(reportModel({ run, steps, runSegments, segments, stored, videoBytes: statSync(video).size, loadAfterRun }));
} finally {
  await cloud.stop();
  rmSync(dir, { recursive: true, force: true });
}

/** What the game stored, by what it is (read after the counts are taken): the storage bill prices each its own way. */
interface Stored {
  /** Bytes under each of videos/, localizations/, frames/. */
  readonly bytes: Record<'videos/' | 'localizations/' | 'frames/', number>;
  readonly objects: Record<'videos/' | 'localizations/' | 'frames/', number>;
  readonly videoKey: string;
}

async function reportStorage(videoId: string): Promise<Stored> {
  const s3 = new S3Client({ endpoint: cloud.endpoints.s3, region: PRICES_REGION, forcePathStyle: true, credentials: LOCAL_ACCESS_KEY });
  const bytes = { 'videos/': 0, 'localizations/': 0, 'frames/': 0 };
  const objects = { ...bytes };
  let videoKey = '';
  for (const prefix of ['videos/', 'localizations/', 'frames/'] as const) {
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: localName('media'), Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        bytes[prefix] += o.Size ?? 0;
        objects[prefix]++;
        if (prefix === 'videos/' && o.Key?.includes(videoId)) videoKey = o.Key;
      }
      token = page.NextContinuationToken;
    } while (token);
  }
  s3.destroy();
  if (!videoKey) throw new Error(`no object of video ${videoId} under videos/`);
  console.log(`\nstored: ${Object.keys(bytes).map((p) => `${p} ${objects[p as keyof typeof bytes]} objects, ${(bytes[p as keyof typeof bytes] / 1e6).toFixed(1)} MB`).join('; ')}`);
  return { bytes, objects, videoKey };
}

interface SegmentRun {
  readonly frames: number;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly gets: number;
}

/**
 * Segments of SEGMENT_SIZES extracted one at a time, nothing else running, by extractSegment (ingest-frames' own
 * extraction, its ffmpeg arguments) with ffmpeg on one thread: what one core of this machine takes. ffmpeg reads the
 * uploaded video through a presigned URL of the local S3, with range requests, as ingest-frames reads it on AWS; the
 * meter counts the GETs it makes. The segments start at places spread over the video (a seek decodes from the
 * keyframe before it: the fixed time includes half a GOP on average).
 */
async function measureSegments(videoKey: string): Promise<SegmentRun[]> {
  const s3 = new S3Client({ endpoint: cloud.endpoints.s3, region: PRICES_REGION, forcePathStyle: true, credentials: LOCAL_ACCESS_KEY });
  const input = await getSignedUrl(s3, new GetObjectCommand({ Bucket: localName('media'), Key: videoKey }), { expiresIn: 3600 });
  const total = GAME.seconds * INGEST_FPS;
  const runs: SegmentRun[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, size] of SEGMENT_SIZES.entries()) {
      const firstFrame = Math.floor(((total - size) * (round * SEGMENT_SIZES.length + i + 1)) / (ROUNDS * SEGMENT_SIZES.length + 1));
      const segment = segmentAt({ index: 0, firstFrame, frameCount: size, last: false, fps: INGEST_FPS });
      const outDir = join(dir, `segment-${round}-${size}`);
      const before = await cloud.usage();
      const cpu = childCpuSeconds();
      const t0 = performance.now();
      const frames = await extractSegment({ ffmpegPath, input, fps: INGEST_FPS, segment, outDir, threads: 1 });
      const seconds = (performance.now() - t0) / 1000;
      const cpuSeconds = childCpuSeconds() - cpu;
      const u = usageDiff(before, await cloud.usage());
      if (frames.length !== size) throw new Error(`segment of ${size} frames gave ${frames.length}`);
      runs.push({ frames: size, seconds, cpuSeconds, gets: u.s3.tier2 });
      rmSync(outDir, { recursive: true, force: true });
    }
  }
  s3.destroy();
  return runs;
}

/** Prints the counts, the bill and the reference; returns what prints the targets, given the model's chosen plan. */
function report(u: UsageSnapshot, times: { uploadSeconds: number; ingestSeconds: number; directSeconds: number; ffmpegCpuSeconds: number }, stored: Stored): (model: Modelled) => void {
  const functions = Object.entries(u.functions).filter(([, f]) => f.invocations > 0).sort(([a], [b]) => a.localeCompare(b));
  const gbSeconds = (f: { billedMs: number; memoryMb: number }) => (f.billedMs / 1000) * (f.memoryMb / 1024);
  const frames = GAME.seconds * INGEST_FPS;
  console.log(`\n${MINUTES}-minute game, ${frames} frames at ${INGEST_FPS} fps: upload ${times.uploadSeconds.toFixed(1)} s, upload complete to metrics ${times.ingestSeconds.toFixed(1)} s`);

  console.log('\nwhat the run did (counted by the local cloud)');
  console.log(`  ${'function'.padEnd(24)} ${'invocations'.padStart(11)} ${'billed s'.padStart(10)} ${'MB'.padStart(6)} ${'GB-s'.padStart(9)}`);
  for (const [name, f] of functions) {
    console.log(`  ${name.padEnd(24)} ${int(f.invocations).padStart(11)} ${(f.billedMs / 1000).toFixed(1).padStart(10)} ${String(f.memoryMb).padStart(6)} ${gbSeconds(f).toFixed(1).padStart(9)}`);
  }
  const actions = (counts: Record<string, number>) => Object.entries(counts).filter(([, n]) => n > 0).map(([a, n]) => `${a} ${int(n)}`).join(', ');
  console.log(`  S3: ${int(u.s3.tier1)} PUT/COPY/POST/LIST, ${int(u.s3.tier2)} GET/other (${actions(u.s3.byAction)})`);
  console.log(`      bytes added: ${Object.entries(u.s3.storedBytes).map(([b, n]) => `${b} ${(n / 1e6).toFixed(1)} MB`).join(', ')}`);
  console.log(`  SQS: ${int(u.sqs.requests)} billed requests (${actions(u.sqs.byAction)}); ${int(u.sqs.emptyReceives)} receives came back empty`);
  console.log('       (the local queue pollers wait 1 s per receive where Lambda\'s wait 20 s: the empty receives are the local ones)');
  console.log(`  Step Functions: ${int(u.stepFunctions.transitions)} state transitions (${actions(u.stepFunctions.byStateMachine)})`);
  console.log(`  DynamoDB: ${u.dynamodb.readUnits} read units, ${u.dynamodb.writeUnits} write units (${actions(u.dynamodb.byAction)})`);
  const m = u.mongodb;
  const mongoDocs = m.documentsInserted + m.documentsUpdated + m.documentsDeleted;
  console.log(`  MongoDB: ${int(m.documentsInserted)} documents inserted, ${int(m.documentsUpdated)} updated, ${int(m.documentsDeleted)} deleted, ${(m.bytesWritten / 1e6).toFixed(2)} MB written`);
  const p = u.postgres;
  console.log(`  PostgreSQL: ${int(p.rowsInserted)} rows inserted, ${int(p.rowsUpdated)} updated, ${int(p.rowsDeleted)} deleted, ${int(p.commits)} commits, ${(p.walBytes / 1e6).toFixed(2)} MB of WAL`);

  // The bill of one game-hour: processing (once) and storage. The frames are written as S3 Glacier Instant Retrieval
  // objects (their PUTs priced as such); the source video stays in S3 Standard as long as the topology's archival
  // rule for videos/ says, then is in that rule's class; everything else stays in Standard. The game-hour's source is
  // uploaded as one file, in the parts planUpload gives it (the run's own parts are a tenth of an hour's file's).
  const storedBytes = Object.values(u.s3.storedBytes).reduce((s, n) => s + n, 0);
  const gbOf = (bytes: number) => (bytes * SCALE) / 1e9;
  const videoGb = gbOf(stored.bytes['videos/']);
  const framesGb = gbOf(stored.bytes['frames/']);
  const standardGb = gbOf(storedBytes) - videoGb - framesGb;
  const framePuts = (u.s3.tier1ByPrefix['frames/'] ?? 0) * SCALE;
  const hourUpload = planUpload(stored.bytes['videos/'] * SCALE, topology.settings.multipartThresholdBytes, topology.settings.multipartPartBytes);
  const hourParts = hourUpload.method === 'multipart' ? hourUpload.partCount : 0;
  const standardPuts = (u.s3.tier1 - (u.s3.byAction.UploadPart ?? 0)) * SCALE - framePuts + hourParts;
  const transitions = stored.objects['videos/'] * SCALE;
  const lambdaGbS = functions.reduce((s, [, f]) => s + gbSeconds(f), 0) * SCALE;
  const invocations = functions.reduce((s, [, f]) => s + f.invocations, 0) * SCALE;
  // Assumed: a DocumentDB write costs one I/O per 4 KB written and at least one per document; an Aurora write one
  // I/O per 4 KB of log (Aurora writes only its log), and reads are served from the buffer cache.
  const docDbIo = Math.max(mongoDocs, Math.ceil(m.bytesWritten / 4096)) * SCALE;
  const auroraIo = Math.ceil(p.walBytes / 4096) * SCALE;
  const bill: [string, string, number][] = [
    ['Lambda compute', `${lambdaGbS.toFixed(1)} GB-s`, lambdaGbS * P.lambdaGbSecondX86.usd],
    ['Lambda requests', int(invocations), invocations * P.lambdaRequest.usd],
    ['S3 PUT/COPY/POST/LIST (Standard)', int(standardPuts), standardPuts * P.s3PutCopyPostList.usd],
    ['S3 PUT of frames (Glacier Instant Retrieval)', int(framePuts), framePuts * P.s3GlacierIrPut.usd],
    ['S3 GET and other', int(u.s3.tier2 * SCALE), u.s3.tier2 * SCALE * P.s3GetAndOther.usd],
    [`S3 lifecycle: video to ${archive.name}`, int(transitions), transitions * archive.transition],
    ['SQS requests', int(u.sqs.requests * SCALE), u.sqs.requests * SCALE * P.sqsRequest.usd],
    ['Step Functions transitions', int(u.stepFunctions.transitions * SCALE), u.stepFunctions.transitions * SCALE * P.stepFunctionsTransition.usd],
    ['DynamoDB read units', int(u.dynamodb.readUnits * SCALE), u.dynamodb.readUnits * SCALE * P.dynamoReadUnit.usd],
    ['DynamoDB write units', int(u.dynamodb.writeUnits * SCALE), u.dynamodb.writeUnits * SCALE * P.dynamoWriteUnit.usd],
    ['DocumentDB I/O (estimated from writes)', int(docDbIo), docDbIo * P.documentDbIo.usd],
    ['Aurora PostgreSQL I/O (estimated from WAL)', int(auroraIo), auroraIo * P.auroraIo.usd],
  ];
  const processing = bill.reduce((s, [, , c]) => s + c, 0);
  const month = 30;
  const storage: [string, string, number][] = [
    [`source video, ${sourceArchival.days} day${sourceArchival.days === 1 ? '' : 's'} in Standard`, `${videoGb.toFixed(2)} GB`, videoGb * P.s3StandardGbMonth.usd * (sourceArchival.days / month)],
    [`source video, ${month - sourceArchival.days} days in ${archive.name}`, `${videoGb.toFixed(2)} GB`, videoGb * archive.gbMonth * ((month - sourceArchival.days) / month)],
    ['frames in Glacier Instant Retrieval', `${framesGb.toFixed(2)} GB`, framesGb * P.s3GlacierIrGbMonth.usd],
    ['other objects in Standard', `${standardGb.toFixed(3)} GB`, standardGb * P.s3StandardGbMonth.usd],
  ];
  const firstMonth = storage.reduce((s, [, , c]) => s + c, 0);
  const total = processing + firstMonth;
  const recurring = videoGb * archive.gbMonth + framesGb * P.s3GlacierIrGbMonth.usd + standardGb * P.s3StandardGbMonth.usd;
  console.log(`\nbill of one game-hour (${SCALE.toFixed(1)} × this run), AWS ${PRICES_REGION} prices read on ${PRICES_READ_ON}`);
  console.log('  processing (once)');
  for (const [label, amount, cost] of bill) line(label, amount, cost);
  line('processing', '', processing);
  console.log('  storage, first month');
  for (const [label, amount, cost] of storage) line(label, amount, cost);
  line('storage, first month', '', firstMonth);
  line('total: processing and first month', '', total);
  console.log(
    `  then every month: ${usd(recurring)} (video ${videoGb.toFixed(2)} GB in ${archive.name}, billed ${archive.minimumDays} days at least; frames ${framesGb.toFixed(2)} GB in Glacier Instant Retrieval, ` +
      `billed 90 days at least; ${standardGb.toFixed(3)} GB in Standard); a frame read back costs a GET (${usd(P.s3GlacierIrGet.usd * 1000)} per 1,000) and ${usd(P.s3GlacierIrRetrievalGb.usd)} per GB`,
  );
  console.log(`  the game-hour's source in ${int(hourParts)} parts (the run's ${int(u.s3.byAction.UploadPart ?? 0)} × ${SCALE.toFixed(1)} would be ${int((u.s3.byAction.UploadPart ?? 0) * SCALE)})`);
  if (archive.restore) {
    console.log(
      `  a re-run after ${sourceArchival.days} day${sourceArchival.days === 1 ? '' : 's'} first restores the source: ${usd(videoGb * archive.restore.standard)} a game-hour in Standard retrieval (within 12 hours), ` +
        `${usd(videoGb * archive.restore.bulk)} in Bulk (within 48 hours)`,
    );
  }
  // The functions' durations are wall time on this machine, every instance sharing its cores (the frame segments run
  // at once): on Lambda each instance has its own share of a core. What ffmpeg itself needed is its CPU time.
  // The bill with ingest-frames at ffmpeg's CPU time at its vCPU share: what Lambda bills it, where no instance waits
  // for another's core. The targets are taken on it; the counted total above is an upper bound.
  const extract = functions.find(([name]) => name === 'ingest-frames')?.[1];
  let atCpuTime = total;
  if (extract) {
    const vcpu = Math.min(vcpuAt(extract.memoryMb), threadsForMemory(extract.memoryMb));
    const framesGbS = gbSeconds(extract) * SCALE;
    const cpuGbS = ((times.ffmpegCpuSeconds * SCALE) / vcpu) * (extract.memoryMb / 1024);
    atCpuTime = total - (framesGbS - cpuGbS) * P.lambdaGbSecondX86.usd;
    console.log(
      `  ingest-frames is ${((framesGbS * P.lambdaGbSecondX86.usd * 100) / total).toFixed(0)}% of it, billed at its wall time here; ffmpeg needed ${int(times.ffmpegCpuSeconds * SCALE)} CPU-s ` +
        `per game-hour: at ${extract.memoryMb} MB (ffmpeg using ${vcpu.toFixed(2)} vCPU) that is ${int(cpuGbS)} GB-s, and the total ${usd(atCpuTime)}`,
    );
  }
  console.log('  not in it: API Gateway requests (a handful per game), data transfer, logs, the database instances\' hourly charges,');
  console.log('  and the write units of DynamoDB\'s global secondary indexes (dynalite sizes the table\'s write only)');

  // The reference: MediaConvert frame capture of the same hour at the same rate, each frame an S3 object.
  const refMinutes = 60;
  const refFrames = 3600 * INGEST_FPS;
  const reference: [string, string, number][] = [
    ['MediaConvert frame capture (HD, ≤30 fps)', `${refMinutes} output min`, refMinutes * P.mediaConvertFrameCaptureMinute.usd],
    ['S3 PUT of each captured frame', int(refFrames), refFrames * P.s3PutCopyPostList.usd],
  ];
  const refTotal = reference.reduce((s, [, , c]) => s + c, 0);
  console.log('\nreference: the frames of one game-hour extracted by MediaConvert frame capture (Video on Demand on AWS)');
  for (const [label, amount, cost] of reference) line(label, amount, cost);
  line('total (frame extraction only)', '', refTotal);

  return (model: Modelled) => {
  console.log('\ntargets');
  // A game-hour is an hour of a customer's game (two to three hours): the modelled 3-hour game counts its per-game
  // steps (probe, plan, metrics' fixed part, the states) once, where this 10-minute run scaled six times counts them
  // six times. Its processing per hour, with the run's lines the model leaves out (the upload's requests, queues,
  // tables, databases: still six times) and the same storage, is the target's figure; the scaled run's is beside it.
  const modelledLines = new Set(['Lambda compute', 'Lambda requests', 'S3 PUT of frames (Glacier Instant Retrieval)', 'S3 GET and other', 'Step Functions transitions']);
  const notModelled = bill.filter(([label]) => !modelledLines.has(label)).reduce((sum, [, , c]) => sum + c, 0);
  const perModelledHour = model.cost.usd / (MODEL_GAME_SECONDS / 3600) + notModelled + firstMonth;
  console.log(
    `  game-hour all included, of a ${MODEL_GAME_SECONDS / 3600}-hour game (its ingest as modelled): ${usd(perModelledHour)} ` +
      `(processing ${usd(perModelledHour - firstMonth)}, storage ${usd(firstMonth)}) against ${usd(TARGET_USD)}: ` +
      `${(perModelledHour / TARGET_USD).toFixed(2)}× the target (${perModelledHour <= TARGET_USD ? 'met' : 'not met'})`,
  );
  console.log(
    `    an hour of ${MINUTES}-minute games (this run × ${SCALE.toFixed(1)}, ingest-frames at ffmpeg's CPU time; ${usd(total)} as counted here): ` +
      `${usd(atCpuTime)}, ${(atCpuTime / TARGET_USD).toFixed(2)}× the target`,
  );
  const cheaper = refTotal / atCpuTime;
  console.log(`  MediaConvert reference / game-hour: ${cheaper.toFixed(1)}× cheaper, target ≥ ${TARGET_TIMES_CHEAPER}× (${cheaper >= TARGET_TIMES_CHEAPER ? 'met' : 'not met'})`);
  const endToEnd = times.uploadSeconds + times.ingestSeconds;
  const slower = endToEnd / times.directSeconds;
  console.log(
    `  local ingest, upload to metrics: ${endToEnd.toFixed(1)} s against ${times.directSeconds.toFixed(1)} s of ffmpeg extracting the same frames directly: ` +
      `${slower.toFixed(2)}×, target ≤ ${TARGET_END_TO_END}× (${slower <= TARGET_END_TO_END ? 'met' : 'not met'})`,
  );
  const ratio = model.wallSeconds / TARGET_MODEL_SECONDS;
  console.log(
    `  ${MODEL_GAME_SECONDS / 3600}-hour game on AWS, upload complete to metrics (modelled, chosen plan): ${model.wallSeconds.toFixed(1)} s against ${TARGET_MODEL_SECONDS} s: ` +
      `${ratio.toFixed(2)}× the target (${ratio <= 1 ? 'met' : 'not met'})`,
  );
  const largest = [...bill, ...storage].sort((a, b) => b[2] - a[2]).slice(0, 3);
  console.log(`  largest lines: ${largest.map(([l, , c]) => `${l} ${((c / total) * 100).toFixed(0)}%`).join(', ')}`);
  };
}

/**
 * The model of a MODEL_GAME_SECONDS game on AWS from this run's measurements (ingest-model.ts), the plan search, and
 * the code's default plan beside the chosen one. Returns the chosen plan, modelled.
 */
function reportModel(o: {
  run: UsageSnapshot;
  steps: Record<string, number>;
  runSegments: number;
  segments: SegmentRun[];
  stored: Stored;
  videoBytes: number;
  loadAfterRun: number[];
}): Modelled {
  // Fitted on ffmpeg's CPU time, what a core of its own would take: the machine is shared, and others' load lengthens
  // the wall time of a run here, not its CPU time (both are printed).
  const fit = fitSegmentTime(o.segments.map((r) => ({ frames: r.frames, seconds: r.cpuSeconds })));
  const frames = GAME.seconds * INGEST_FPS;
  const def = (name: string) => topology.functions.find((f) => f.name === name)!;
  const step = (fn: string, scales: MeasuredStep['scales']): MeasuredStep => {
    const seconds = o.steps[fn];
    if (seconds === undefined) throw new Error(`the run has no invocation of ${fn}`);
    return { fn, seconds, memoryMb: def(fn).memoryMb, scales };
  };
  const ingestTransitions = o.run.stepFunctions.byStateMachine[localName('video-ingest')] ?? 0;
  const m: Measured = {
    segment: fit,
    run: { seconds: GAME.seconds, frames },
    before: [step('ingest-probe', 'fixed'), step('ingest-localizations', 'duration'), step('ingest-plan', 'fixed')],
    after: [step('ingest-metrics', 'frames'), step('jobs-outcome', 'fixed')],
    start: step('ingest-upload', 'fixed'),
    getsPerSegment: median(o.segments.map((s) => s.gets)),
    transitionsFixed: ingestTransitions - o.runSegments,
    transitionsPerIteration: 1,
    sourceBytesPerSecond: o.videoBytes / GAME.seconds,
    frameBytes: o.stored.bytes['frames/'] / frames,
  };
  const framesDef = def('ingest-frames');
  const game: Game = { seconds: MODEL_GAME_SECONDS, fps: INGEST_FPS, framesMemoryMb: framesDef.memoryMb };
  const prices: Prices = {
    lambdaGbSecond: P.lambdaGbSecondX86.usd,
    lambdaRequest: P.lambdaRequest.usd,
    transition: P.stepFunctionsTransition.usd,
    packPut: P.s3GlacierIrPut.usd,
    sourceGet: P.s3GetAndOther.usd,
  };
  const hours = MODEL_GAME_SECONDS / 3600;
  const ceilingUsd = hours * TARGET_USD * PROCESSING_SHARE_OF_TARGET;
  const otherReserved = topology.functions.filter((f) => f !== framesDef).reduce((s, f) => s + (f.reservedConcurrency ?? 0), 0);
  const bound = concurrencyBound(otherReserved);
  const tmpMb = framesDef.ephemeralStorageMb ?? 512;
  const tmpFrames = Math.floor((tmpMb * 1e6 * TMP_USABLE_SHARE) / (2 * m.frameBytes));
  const grid = FRAMES_PER_SEGMENT_GRID.filter((f) => f <= tmpFrames);
  const search = searchPlans(game, m, prices, { ceilingUsd, maxConcurrency: bound.bound, framesPerSegmentGrid: grid });
  const ranked = search.ranked.length ? search.ranked : searchPlans(game, m, prices, { ceilingUsd: Infinity, maxConcurrency: bound.bound, framesPerSegmentGrid: grid }).ranked;
  const chosen = ranked[0]!;

  const s1 = (x: number) => x.toFixed(1);
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  console.log(`\nmodel of a ${hours}-hour game on AWS (${int(MODEL_GAME_SECONDS * INGEST_FPS)} frames at ${INGEST_FPS} fps; ingest-frames at ${framesDef.memoryMb} MB = ${vcpuAt(framesDef.memoryMb).toFixed(2)} vCPU)`);
  console.log(`  measured here (load average ${load(o.loadAfterRun)} after the run, ${load(loadavg())} after the segments; ${cpus().length} cores):`);
  console.log('    segments one at a time, ffmpeg -threads 1 (one core), from the uploaded video through a presigned URL of the local S3:');
  for (const size of SEGMENT_SIZES) {
    const runs = o.segments.filter((r) => r.frames === size);
    console.log(`      ${String(size).padStart(5)} frames: ${runs.map((r) => `CPU ${r.cpuSeconds.toFixed(2)} s (wall ${r.seconds.toFixed(2)} s, ${r.gets} GET)`).join(', ')}`);
  }
  console.log(`      fit of the CPU time: ${fit.fixedSeconds.toFixed(2)} s + ${(fit.perFrameSeconds * 1000).toFixed(2)} ms per frame (the fixed part: ffmpeg's start, the URL's first reads, the decode from the keyframe before the seek)`);
  console.log(`    S3 GETs per segment (ffmpeg's range reads): ${m.getsPerSegment}; source ${s1(m.sourceBytesPerSecond / 1e6 * 8)} Mbit/s; ${(m.frameBytes / 1000).toFixed(1)} KB per frame stored`);
  console.log(
    `    the run's steps (${MINUTES}-minute game, each scaled as noted): ` +
      [m.start, ...m.before, ...m.after].map((st) => `${st.fn} ${st.seconds.toFixed(2)} s${st.scales === 'fixed' ? '' : ` (× ${st.scales === 'frames' ? 'frames' : 'length'})`}`).join(', '),
  );
  console.log(`    state transitions of the ingest: ${m.transitionsFixed} + 1 per segment (counted: ${ingestTransitions} for ${o.runSegments} segments)`);
  console.log(
    `  assumed: cold start ${ASSUMED.coldStartSeconds} s per new instance (billed since August 2025); ${ASSUMED.stateSeconds * 1000} ms per state, ${ASSUMED.mapIterationSeconds * 1000} ms per Map iteration; ` +
      `notification to workflow ${ASSUMED.notificationSeconds} s; S3 ${ASSUMED.s3ReadMBps} MB/s read and ${ASSUMED.s3WriteMBps} MB/s write per instance; ` +
      `a core here = ${ASSUMED.vcpuPerCore} Lambda vCPU (1 per ${ASSUMED.lambdaMbPerVcpu} MB), ffmpeg with one thread per whole vCPU of the share (see ingest-model.ts)`,
  );
  console.log(
    `  plan search: at most ${grid.join(', ')} frames a segment (${tmpMb} MB of /tmp holds ${int(tmpFrames)} frames and their pack), ` +
      `1 to ${bound.bound} segments at once (${bound.why}); ceiling ${usd(ceilingUsd)} a game (${PROCESSING_SHARE_OF_TARGET * 100}% of ${usd(TARGET_USD)} a game-hour, for processing); ${search.overCeiling} plans over it`,
  );
  const describe = (p: Modelled) =>
    `≤${p.plan.maxFramesPerSegment} frames, ${p.plan.concurrency} at once: ${p.segments} segments of ≤${p.framesPerSegment} frames in ${p.waves} wave${p.waves > 1 ? 's' : ''} ` +
    `(${s1(p.segmentSeconds)} s each): ${s1(p.wallSeconds)} s, ${usd(p.cost.usd)}`;
  console.log(`  chosen: ${describe(chosen)}`);
  const w = chosen.wall;
  console.log(
    `    wall: notification ${s1(w.notification)} s, probe/localizations/plan ${s1(w.before)} s, Map ${s1(w.map)} s, metrics/outcome ${s1(w.after)} s, states ${s1(w.states)} s; ` +
      `${(chosen.wallSeconds / TARGET_MODEL_SECONDS).toFixed(2)}× the ${TARGET_MODEL_SECONDS / 60}-minute target`,
  );
  const c = chosen.cost;
  console.log(
    `    cost: ${c.lambdaGbS.toFixed(0)} GB-s, ${c.invocations} invocations, ${c.transitions} transitions, ${c.packPuts} frame packs, ${c.sourceGets} GETs of the source: ` +
      `${usd(c.usd)} (${((c.usd / ceilingUsd) * 100).toFixed(0)}% of the ceiling; per-segment overhead ${usd(c.perSegmentOverheadUsd)})`,
  );
  const seen = new Set([`${chosen.segments}/${chosen.plan.concurrency}`]);
  const runnersUp = ranked.filter((p) => !seen.has(`${p.segments}/${p.plan.concurrency}`) && seen.add(`${p.segments}/${p.plan.concurrency}`)).slice(0, 4);
  for (const p of runnersUp) console.log(`  runner-up: ${describe(p)}`);
  const fewer = ranked.find((p) => p.waves > 1);
  if (fewer) console.log(`  first plan in more than one wave: ${describe(fewer)}`);
  const before = modelIngest(game, { maxFramesPerSegment: 1500, concurrency: 8 }, m, prices);
  console.log(`  the plan this replaces (segments.ts and the topology until now): ${describe(before)}`);
  const asl = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'statemachines', 'video-ingest.asl.json'), 'utf8')) as { States: { ExtractFrames: { MaxConcurrency: number } } };
  const code = { maxFramesPerSegment: DEFAULT_MAX_FRAMES_PER_SEGMENT, concurrency: SEGMENTS_AT_ONCE };
  const same = code.maxFramesPerSegment === chosen.plan.maxFramesPerSegment && code.concurrency === chosen.plan.concurrency;
  const consistent = asl.States.ExtractFrames.MaxConcurrency === code.concurrency && framesDef.reservedConcurrency === code.concurrency;
  console.log(
    `  the code's default plan (segments.ts: ≤${code.maxFramesPerSegment} frames, ${code.concurrency} at once; the Map's MaxConcurrency ${asl.States.ExtractFrames.MaxConcurrency}, ` +
      `ingest-frames reserves ${framesDef.reservedConcurrency}): ${same ? 'is the chosen plan' : 'DIFFERS from the chosen plan'}${consistent ? '' : '; the Map, the reservation and segments.ts DISAGREE'}`,
  );
  return chosen;
}
