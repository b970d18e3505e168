// `npm run bench:probe`: the ingest probe (ffprobe reading a presigned S3 URL, as ingest-probe does) against
// the same ffprobe binary reading the same file from disk. Prints both times and the ratio from one run.
import { execFile } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { startS3Sqs } from '../infra/local/s3sqs.ts';
import { makeTestVideo } from '../cli/sample-video.ts';
import { probeVideo } from '../functions/ingest/ffprobe.ts';

const run = promisify(execFile);
const ffprobe = (createRequire(import.meta.url)('@ffprobe-installer/ffprobe') as { path: string }).path;
process.env.FFPROBE_PATH = ffprobe;
const ROUNDS = Number(process.env.ROUNDS ?? 20);

const dir = mkdtempSync(join(tmpdir(), 'framewise-bench-'));
const file = join(dir, 'game.mp4');
await makeTestVideo(file, { seconds: 60, width: 1280, height: 720, fps: 25 });
const s3local = await startS3Sqs({ dataDir: join(dir, 's3'), port: 0, region: 'us-east-1', notificationsFor: () => [] });
const s3 = new S3Client({ endpoint: s3local.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'b', secretAccessKey: 'b' } });
s3local.createBucket('bench');
await new Upload({ client: s3, params: { Bucket: 'bench', Key: 'game.mp4', Body: createReadStream(file) }, partSize: 8 * 1024 * 1024 }).done();
const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'bench', Key: 'game.mp4' }), { expiresIn: 600 });

async function time(label: string, once: () => Promise<unknown>): Promise<number> {
  await once(); // warm
  const started = process.hrtime.bigint();
  for (let i = 0; i < ROUNDS; i++) await once();
  const ms = Number(process.hrtime.bigint() - started) / 1e6 / ROUNDS;
  console.log(`${label.padEnd(44)} ${ms.toFixed(1)} ms`);
  return ms;
}

try {
  const direct = await time('ffprobe on the local file (reference)', () =>
    run(ffprobe, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file]),
  );
  const pipeline = await time('ingest probe over a presigned S3 URL', () => probeVideo(url));
  console.log(`ratio (reference / pipeline): ${(direct / pipeline).toFixed(2)}  — 1.0 means no cost for probing over S3`);
} finally {
  await s3local.stop();
  rmSync(dir, { recursive: true, force: true });
}
