// `npm run bench:tiles`: the slide pyramid against Debian's libvips tools on the same generated JPEG, in one run:
//   dice (Deep Zoom only)   against `vips dzsave --tile-size 256 --overlap 1 --suffix .jpg[Q=85]`, like for like
//   dice (Deep Zoom + IIIF) our whole dice step, against the same dzsave run
//   thumbnail (256 px)      against `vipsthumbnail --size 256`
// Every step runs in a process of its own under /usr/bin/time, for its peak resident memory; our time is the step's
// own (without Node's start), the reference's the whole command's; CPU seconds are the whole processes' (a figure
// other load on a shared machine hardly moves). ROUNDS rounds (default 3) in alternating order,
// medians reported. BENCH_SIZES=8000,20000 adds the 20000 × 20000 image (default 8000 only).
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeTestSlide } from '../test/support/slide-images.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const SIZES = (process.env.BENCH_SIZES ?? '8000').split(',').map(Number);
const dir = mkdtempSync(join(tmpdir(), 'framewise-bench-tiles-'));

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

interface Measure {
  ms: number;
  peakMb: number;
  /** user + system CPU seconds of the whole process (ours includes Node's start, about 0.3 s) */
  cpuS: number;
  files?: number;
  bytes?: number;
}

/** Runs `command` under /usr/bin/time; its wall time (or the step's own, when it prints one) and peak RSS. */
async function measured(command: string, args: string[], out: string): Promise<Measure> {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const report = join(dir, 'time.txt');
  const started = performance.now();
  const { stdout } = await run('/usr/bin/time', ['-f', '%M %U %S', '-o', report, command, ...args], { maxBuffer: 1 << 20 });
  const wall = performance.now() - started;
  const own = /^\{"ms".*\}$/m.exec(stdout);
  const step = own ? (JSON.parse(own[0]) as { ms: number; files: number; bytes: number }) : undefined;
  const [peakKb, user, system] = readFileSync(report, 'utf8').trim().split('\n').pop()!.split(' ').map(Number) as [number, number, number];
  rmSync(out, { recursive: true, force: true });
  return { ms: step?.ms ?? wall, peakMb: peakKb / 1024, cpuS: user + system, files: step?.files, bytes: step?.bytes };
}

const ours = (step: string, input: string) =>
  measured(process.execPath, ['--import', 'tsx', '--disable-warning=ExperimentalWarning', join(ROOT, 'bench/tiles-run.ts'), step, input, join(dir, `ours-${step}`)], join(dir, `ours-${step}`));
const dzsave = (input: string) => {
  const out = join(dir, 'ref-dz');
  return measured('vips', ['dzsave', input, join(out, 'image'), '--tile-size', '256', '--overlap', '1', '--depth', 'onepixel', '--suffix', '.jpg[Q=85]'], out);
};
const vipsthumbnail = (input: string) => {
  const out = join(dir, 'ref-thumb');
  return measured('vipsthumbnail', [input, '--size', '256', '-o', join(out, 'thumbnail.jpg[Q=85]')], out);
};

const summary = (xs: Measure[]): Measure => ({ ...xs[0]!, ms: median(xs.map((x) => x.ms)), cpuS: median(xs.map((x) => x.cpuS)), peakMb: Math.max(...xs.map((x) => x.peakMb)) });
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

try {
  execFileSync('sh', [join(ROOT, 'scripts/setup-libvips-tools.sh')], { stdio: 'inherit' });
  const vipsVersion = execFileSync('vips', ['--version'], { encoding: 'utf8' }).trim();
  const sharpVersions = (await import('sharp')).default.versions;
  console.log(`${cpus().length} cores, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB; reference ${vipsVersion}; ours sharp ${sharpVersions.sharp} (libvips ${sharpVersions.vips}); ${ROUNDS} rounds`);
  const idle = await measured(process.execPath, ['--import', 'tsx', '-e', '0'], join(dir, 'idle'));
  console.log(`(a Node process with tsx and nothing else peaks at ${idle.peakMb.toFixed(0)} MB; included in ours below)`);

  for (const size of SIZES) {
    const input = join(dir, `slide-${size}.jpg`);
    const made = performance.now();
    await writeTestSlide(input, size, size);
    console.log(`\n${size} × ${size} JPEG, ${(statSync(input).size / 1024 ** 2).toFixed(1)} MB, made in ${seconds(performance.now() - made)}`);
    const results: Record<string, Measure[]> = { dz: [], dice: [], dzsave: [], thumbnail: [], vipsthumbnail: [] };
    for (let round = 0; round < ROUNDS; round += 1) {
      const order: [string, () => Promise<Measure>][] = [
        ['dzsave', () => dzsave(input)],
        ['dz', () => ours('dz', input)],
        ['dice', () => ours('dice', input)],
        ['vipsthumbnail', () => vipsthumbnail(input)],
        ['thumbnail', () => ours('thumbnail', input)],
      ];
      if (round % 2 === 1) order.reverse();
      for (const [name, step] of order) results[name]!.push(await step());
    }
    const [dz, dice, ref, thumb, refThumb] = (['dz', 'dice', 'dzsave', 'thumbnail', 'vipsthumbnail'] as const).map((k) => summary(results[k]!));
    const line = (what: string, m: Measure, against?: Measure) => {
      const ratio = against ? `  ratio ${(against.ms / m.ms).toFixed(2)}` : '';
      const wrote = m.files ? `  (${m.files} files, ${(m.bytes! / 1024 ** 2).toFixed(0)} MB)` : '';
      console.log(`  ${what.padEnd(30)} ${seconds(m.ms).padStart(9)}  cpu ${m.cpuS.toFixed(2).padStart(6)} s  peak ${m.peakMb.toFixed(0).padStart(5)} MB${ratio}${wrote}`);
    };
    line('vips dzsave', ref!);
    line('ours: dice, Deep Zoom only', dz!, ref);
    line('ours: dice, Deep Zoom + IIIF', dice!, ref);
    line('vipsthumbnail 256', refThumb!);
    line('ours: thumbnail 256', thumb!, refThumb);
    console.log(`  ratios (reference time / ours; target ≥ 1.0): dice ${(ref!.ms / dz!.ms).toFixed(2)}, thumbnail ${(refThumb!.ms / thumb!.ms).toFixed(2)}`);
    rmSync(input, { force: true });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
