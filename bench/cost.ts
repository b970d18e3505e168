// `npm run bench:cost`: what one game costs on AWS, from what the pipeline really does. A local cloud ingests a
// generated game (BENCH_MINUTES long, default 10; 1280×720, 25 fps) with its localizations through the API at 5 fps,
// from the upload to released metrics; the local cloud's usage meter (infra/local/usage.ts) counts every
// invocation, request, transition and write of that run. The bench prints those counts, then the bill of one
// game-hour (the run's counts scaled linearly to 60 minutes of game) from AWS's us-east-1 prices (aws-prices.ts),
// line by line, next to the bill of extracting the same frames with MediaConvert frame capture, and the targets
// as ratios. BENCH_VIDEO=path reuses a video of that length.
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drawSampleGame, sampleLabelMapping, sampleLocalizations, type SampleGame } from '../cli/sample-game.ts';
import { uploadFile, type UploadPlan } from '../cli/upload.ts';
import { extractWhole } from '../functions/ingest/extract.ts';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { localName, startLocalCloud } from '../infra/local/cloud.ts';
import { LOCAL_ACCESS_KEY } from '../infra/local/s3-presign-check.ts';
import { topology } from '../infra/topology.ts';
import { usageDiff, type UsageSnapshot } from '../infra/local/usage.ts';
import { parseLabelMapping } from '../shared/label-map.ts';
import { AWS_PRICES as P, PRICES_READ_ON, PRICES_REGION } from './aws-prices.ts';
import { childCpuSeconds } from './measure.ts';

const ffmpegPath = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
const MINUTES = Number(process.env.BENCH_MINUTES ?? 10);
const GAME: SampleGame = { seconds: MINUTES * 60, width: 1280, height: 720, fps: 25 };
const INGEST_FPS = 5;
/** A game-hour is this many runs. */
const SCALE = 60 / MINUTES;
/** Targets of a game-hour. */
const TARGET_USD = 0.02;
const TARGET_TIMES_CHEAPER = 20;
/** Upload to metrics, at most this many times ffmpeg's own extraction of the same frames. */
const TARGET_END_TO_END = 1.4;
/** Lambda gives a function one vCPU per this much memory (and at most 6). */
const LAMBDA_MB_PER_VCPU = 1769;
/** PostgreSQL reports a backend's row counters within this long once it is idle. */
const PG_COUNTERS_SETTLE_MS = 11_000;
/** The run is over when no function has started for this long after the metrics step. */
const QUIET_MS = 5_000;
const MAX_WAIT_MS = 30 * 60_000;

const usd = (n: number) => (n >= 0.01 ? `$${n.toFixed(4)}` : `$${n.toFixed(6)}`);
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const line = (label: string, amount: string, cost: number) => console.log(`  ${label.padEnd(44)} ${amount.padStart(22)}  ${usd(cost).padStart(11)}`);

function api(base: string, key: string) {
  return async <T = any>(method: string, path: string, body?: unknown): Promise<T> => { // eslint-disable-line @typescript-eslint/no-explicit-any
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
}

const dir = mkdtempSync(join(tmpdir(), 'framewise-bench-cost-'));
const cloud = await startLocalCloud({ dir: join(dir, 'cloud'), schedules: false, metering: true });
try {
  const call = api(cloud.endpoints.api, cloud.credentials.adminApiKey);
  // BENCH_VIDEO names a video to reuse, drawn there and kept if it is missing.
  const video = process.env.BENCH_VIDEO || join(dir, 'game.mp4');
  if (!existsSync(video)) {
    const started = Date.now();
    await drawSampleGame(video, GAME);
    console.log(`drew a ${MINUTES}-minute ${GAME.width}×${GAME.height} ${GAME.fps} fps game in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  const locFile = join(dir, 'loc.json');
  writeFileSync(locFile, JSON.stringify(sampleLocalizations(GAME)));
  const labelMapping = Object.fromEntries([...parseLabelMapping(sampleLabelMapping())].map(([k, v]) => [String(k), v]));

  // The catalog a customer has before its games arrive (not part of a game's cost).
  const ids: Record<string, string> = {};
  for (const name of ['Nike', 'Adidas', 'Puma', 'Heineken']) ids[name] = (await call<{ id: string }>('POST', '/v1/detectables', { name })).id;
  await call('POST', '/v1/det-groups', { name: 'Sportswear', detectableIds: [ids.Nike, ids.Adidas, ids.Puma] });
  await call('POST', '/v1/det-groups', { name: 'Drinks', detectableIds: [ids.Heineken] });
  const sport = await call<{ id: string }>('POST', '/v1/sports', { name: 'Football' });
  const league = await call<{ id: string }>('POST', '/v1/leagues', { sportId: sport.id, name: 'League' });
  const season = await call<{ id: string }>('POST', '/v1/seasons', { leagueId: league.id, name: '2026' });
  const game = await call<{ id: string }>('POST', '/v1/games', { seasonId: season.id, title: 'A v B', startsAt: '2026-11-21T15:00:00Z' });
  const videoId = (await call<{ id: string }>('POST', '/v1/videos', { gameId: game.id, title: 'A v B' })).id;
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
  const started = performance.now();
  const loc = await call<UploadPlan>('POST', `/v1/videos/${videoId}/localizations/upload`, { sizeBytes: statSync(locFile).size, labelMapping });
  await uploadFile(loc, locFile);
  const plan = await call<UploadPlan>('POST', `/v1/videos/${videoId}/upload`, {
    filename: 'game.mp4', contentType: 'video/mp4', sizeBytes: statSync(video).size, frameRate: INGEST_FPS, threshold: 0.5,
  });
  const parts = await uploadFile(plan, video);
  if (plan.method === 'multipart') await call('POST', `/v1/videos/${videoId}/upload/complete`, { uploadId: plan.uploadId, parts });
  const uploaded = performance.now();
  const uploadedAt = Date.now();
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
  await reportStorage(videoId);

  // The same frames extracted by the same ffmpeg run directly on the local file, for the end-to-end target.
  const direct = performance.now();
  await extractWhole({ ffmpegPath, input: video, fps: INGEST_FPS, outDir: join(dir, 'direct') });
  const directSeconds = (performance.now() - direct) / 1000;

  report(run, { uploadSeconds: (uploaded - started) / 1000, ingestSeconds: (Date.parse(job.updatedAt) - uploadedAt) / 1000, directSeconds, ffmpegCpuSeconds });
} finally {
  await cloud.stop();
  rmSync(dir, { recursive: true, force: true });
}

/** Bytes of the game's objects by what they are (read after the counts are taken). */
async function reportStorage(videoId: string): Promise<void> {
  const s3 = new S3Client({ endpoint: cloud.endpoints.s3, region: PRICES_REGION, forcePathStyle: true, credentials: LOCAL_ACCESS_KEY });
  const kinds: string[] = [];
  for (const prefix of ['videos/', 'localizations/', `frames/${videoId}/`]) {
    let bytes = 0;
    let objects = 0;
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: localName('media'), Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        bytes += o.Size ?? 0;
        objects++;
      }
      token = page.NextContinuationToken;
    } while (token);
    kinds.push(`${prefix} ${objects} objects, ${(bytes / 1e6).toFixed(1)} MB`);
  }
  s3.destroy();
  console.log(`\nstored: ${kinds.join('; ')}`);
}

function report(u: UsageSnapshot, times: { uploadSeconds: number; ingestSeconds: number; directSeconds: number; ffmpegCpuSeconds: number }): void {
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

  // The bill of one game-hour.
  const storedBytes = Object.values(u.s3.storedBytes).reduce((s, n) => s + n, 0);
  const lambdaGbS = functions.reduce((s, [, f]) => s + gbSeconds(f), 0) * SCALE;
  const invocations = functions.reduce((s, [, f]) => s + f.invocations, 0) * SCALE;
  // Assumed: a DocumentDB write costs one I/O per 4 KB written and at least one per document; an Aurora write one
  // I/O per 4 KB of log (Aurora writes only its log), and reads are served from the buffer cache.
  const docDbIo = Math.max(mongoDocs, Math.ceil(m.bytesWritten / 4096)) * SCALE;
  const auroraIo = Math.ceil(p.walBytes / 4096) * SCALE;
  const bill: [string, string, number][] = [
    ['Lambda compute', `${lambdaGbS.toFixed(1)} GB-s`, lambdaGbS * P.lambdaGbSecondX86.usd],
    ['Lambda requests', int(invocations), invocations * P.lambdaRequest.usd],
    ['S3 PUT/COPY/POST/LIST', int(u.s3.tier1 * SCALE), u.s3.tier1 * SCALE * P.s3PutCopyPostList.usd],
    ['S3 GET and other', int(u.s3.tier2 * SCALE), u.s3.tier2 * SCALE * P.s3GetAndOther.usd],
    ['S3 storage, one month', `${((storedBytes * SCALE) / 1e9).toFixed(2)} GB`, ((storedBytes * SCALE) / 1e9) * P.s3StandardGbMonth.usd],
    ['SQS requests', int(u.sqs.requests * SCALE), u.sqs.requests * SCALE * P.sqsRequest.usd],
    ['Step Functions transitions', int(u.stepFunctions.transitions * SCALE), u.stepFunctions.transitions * SCALE * P.stepFunctionsTransition.usd],
    ['DynamoDB read units', int(u.dynamodb.readUnits * SCALE), u.dynamodb.readUnits * SCALE * P.dynamoReadUnit.usd],
    ['DynamoDB write units', int(u.dynamodb.writeUnits * SCALE), u.dynamodb.writeUnits * SCALE * P.dynamoWriteUnit.usd],
    ['DocumentDB I/O (estimated from writes)', int(docDbIo), docDbIo * P.documentDbIo.usd],
    ['Aurora PostgreSQL I/O (estimated from WAL)', int(auroraIo), auroraIo * P.auroraIo.usd],
  ];
  const total = bill.reduce((s, [, , c]) => s + c, 0);
  console.log(`\nbill of one game-hour (${SCALE.toFixed(1)} × this run), AWS ${PRICES_REGION} prices read on ${PRICES_READ_ON}`);
  for (const [label, amount, cost] of bill) line(label, amount, cost);
  line('total', '', total);
  // The functions' durations are wall time on this machine, every instance sharing its cores (the frame segments run
  // at once): on Lambda each instance has its own share of a core. What ffmpeg itself needed is its CPU time.
  const extract = functions.find(([name]) => name === 'ingest-frames')?.[1];
  if (extract) {
    const vcpu = Math.min(6, extract.memoryMb / LAMBDA_MB_PER_VCPU);
    const framesGbS = gbSeconds(extract) * SCALE;
    const uncontendedGbS = ((times.ffmpegCpuSeconds * SCALE) / vcpu) * (extract.memoryMb / 1024);
    const uncontended = total - (framesGbS - uncontendedGbS) * P.lambdaGbSecondX86.usd;
    console.log(
      `  ingest-frames is ${((framesGbS * P.lambdaGbSecondX86.usd * 100) / total).toFixed(0)}% of it, billed at its wall time here; ffmpeg needed ${int(times.ffmpegCpuSeconds * SCALE)} CPU-s ` +
        `per game-hour: at ${extract.memoryMb} MB (${vcpu.toFixed(2)} vCPU) that is ${int(uncontendedGbS)} GB-s, and the total ${usd(uncontended)} (an estimate, not counted)`,
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

  console.log('\ntargets');
  console.log(`  game-hour all included: ${usd(total)} against ${usd(TARGET_USD)}: ${(total / TARGET_USD).toFixed(2)}× the target (${total <= TARGET_USD ? 'met' : 'not met'})`);
  const cheaper = refTotal / total;
  console.log(`  MediaConvert reference / game-hour: ${cheaper.toFixed(1)}× cheaper, target ≥ ${TARGET_TIMES_CHEAPER}× (${cheaper >= TARGET_TIMES_CHEAPER ? 'met' : 'not met'})`);
  const endToEnd = times.uploadSeconds + times.ingestSeconds;
  const slower = endToEnd / times.directSeconds;
  console.log(
    `  local ingest, upload to metrics: ${endToEnd.toFixed(1)} s against ${times.directSeconds.toFixed(1)} s of ffmpeg extracting the same frames directly: ` +
      `${slower.toFixed(2)}×, target ≤ ${TARGET_END_TO_END}× (${slower <= TARGET_END_TO_END ? 'met' : 'not met'})`,
  );
  const largest = [...bill].sort((a, b) => b[2] - a[2]).slice(0, 3);
  console.log(`  largest lines: ${largest.map(([l, , c]) => `${l} ${((c / total) * 100).toFixed(0)}%`).join(', ')}`);
}
