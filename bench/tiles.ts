// `npm run bench:tiles`: the slide pyramid against Debian's libvips tools on the same generated JPEG, in one run.
// Like for like, each of ours against the reference tools cutting the same tiles:
//   Deep Zoom only       diceDeepZoom  against `vips dzsave --tile-size 256 --overlap 1 --suffix .jpg[Q=85]`
//   dice step            dice (Deep Zoom + IIIF) against that dzsave and `vips dzsave --layout iiif3`, one after the
//                        other, as a script using the tools cuts both layouts
//   thumbnail (256 px)   writeThumbnail against `vipsthumbnail --size 256`
// For context only: one dzsave against the dice step, and the two dzsaves side by side (two processes at once, as
// the dice step runs its two passes).
// Every step runs in a process of its own under /usr/bin/time, for its peak resident memory; our time and CPU seconds
// are the step's own (without Node's start), the reference's the whole commands'. CPU seconds are user + system of
// every thread, a figure other load on a shared machine moves less than wall time. ROUNDS rounds (default 3) in
// alternating order, medians reported. BENCH_SIZES=8000,20000 adds the 20000 × 20000 image (default 8000 only).
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
  /** peak resident memory; of processes running at once, the sum of their peaks */
  peakMb: number;
  cpuS: number;
  files?: number;
  bytes?: number;
}

type Command = [command: string, ...args: string[]];

/** Runs one command under /usr/bin/time: its wall time and CPU seconds (the step's own, when it prints them) and peak RSS. */
async function timed([command, ...args]: Command, report: string): Promise<Measure> {
  const started = performance.now();
  const { stdout } = await run('/usr/bin/time', ['-f', '%M %U %S', '-o', report, command, ...args], { maxBuffer: 1 << 20 });
  const wall = performance.now() - started;
  const own = /^\{"ms".*\}$/m.exec(stdout);
  const step = own ? (JSON.parse(own[0]) as { ms: number; cpuS: number; files: number; bytes: number }) : undefined;
  const [peakKb, user, system] = readFileSync(report, 'utf8').trim().split('\n').pop()!.split(' ').map(Number) as [number, number, number];
  return { ms: step?.ms ?? wall, peakMb: peakKb / 1024, cpuS: step?.cpuS ?? user + system, files: step?.files, bytes: step?.bytes };
}

/** Runs the commands one after the other (`together` false) or all at once, into a fresh `out`. */
async function measured(commands: Command[], out: string, together = false): Promise<Measure> {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const started = performance.now();
  const parts: Measure[] = [];
  if (together) parts.push(...(await Promise.all(commands.map((c, i) => timed(c, join(dir, `time-${i}.txt`))))));
  else for (const [i, c] of commands.entries()) parts.push(await timed(c, join(dir, `time-${i}.txt`)));
  const wall = performance.now() - started;
  rmSync(out, { recursive: true, force: true });
  const sum = (f: (m: Measure) => number) => parts.reduce((s, m) => s + f(m), 0);
  return {
    ms: parts.length === 1 ? parts[0]!.ms : wall,
    peakMb: together ? sum((m) => m.peakMb) : Math.max(...parts.map((m) => m.peakMb)),
    cpuS: sum((m) => m.cpuS),
    files: parts[0]!.files,
    bytes: parts[0]!.bytes,
  };
}

const ours = (step: string, input: string) => {
  const out = join(dir, `ours-${step}`);
  return measured([[process.execPath, '--import', 'tsx', '--disable-warning=ExperimentalWarning', join(ROOT, 'bench/tiles-run.ts'), step, input, out]], out);
};
const DZSAVE_TILES = ['--tile-size', '256', '--suffix', '.jpg[Q=85]'];
const dzsaveDeepZoom = (input: string, out: string): Command => ['vips', 'dzsave', input, join(out, 'image'), ...DZSAVE_TILES, '--overlap', '1', '--depth', 'onepixel'];
const dzsaveIiif = (input: string, out: string): Command => ['vips', 'dzsave', input, join(out, 'iiif'), ...DZSAVE_TILES, '--overlap', '0', '--layout', 'iiif3', '--id', 'https://bench.invalid'];
const referenceOut = join(dir, 'ref');
const dzsave = (input: string) => measured([dzsaveDeepZoom(input, referenceOut)], referenceOut);
const dzsaveBoth = (input: string, together = false) => measured([dzsaveDeepZoom(input, referenceOut), dzsaveIiif(input, referenceOut)], referenceOut, together);
const vipsthumbnail = (input: string) => measured([['vipsthumbnail', input, '--size', '256', '-o', join(referenceOut, 'thumbnail.jpg[Q=85]')]], referenceOut);

const summary = (xs: Measure[]): Measure => ({ ...xs[0]!, ms: median(xs.map((x) => x.ms)), cpuS: median(xs.map((x) => x.cpuS)), peakMb: Math.max(...xs.map((x) => x.peakMb)) });
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

try {
  execFileSync('sh', [join(ROOT, 'scripts/setup-libvips-tools.sh')], { stdio: 'inherit' });
  const vipsVersion = execFileSync('vips', ['--version'], { encoding: 'utf8' }).trim();
  const sharpVersions = (await import('sharp')).default.versions;
  console.log(`${cpus().length} cores, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB; reference ${vipsVersion}; ours sharp ${sharpVersions.sharp} (libvips ${sharpVersions.vips}); ${ROUNDS} rounds`);
  const idle = await measured([[process.execPath, '--import', 'tsx', '-e', '0']], join(dir, 'idle'));
  console.log(`(a Node process with tsx and nothing else peaks at ${idle.peakMb.toFixed(0)} MB; included in our peaks below)`);

  for (const size of SIZES) {
    const input = join(dir, `slide-${size}.jpg`);
    const made = performance.now();
    await writeTestSlide(input, size, size);
    console.log(`\n${size} × ${size} JPEG, ${(statSync(input).size / 1024 ** 2).toFixed(1)} MB, made in ${seconds(performance.now() - made)}`);
    const steps = {
      dzsave: () => dzsave(input),
      dz: () => ours('dz', input),
      dzsaveBoth: () => dzsaveBoth(input),
      dice: () => ours('dice', input),
      dzsaveTogether: () => dzsaveBoth(input, true),
      vipsthumbnail: () => vipsthumbnail(input),
      thumbnail: () => ours('thumbnail', input),
    };
    type Step = keyof typeof steps;
    const results = Object.fromEntries(Object.keys(steps).map((k) => [k, [] as Measure[]])) as Record<Step, Measure[]>;
    for (let round = 0; round < ROUNDS; round += 1) {
      const order = Object.keys(steps) as Step[];
      if (round % 2 === 1) order.reverse();
      for (const name of order) results[name].push(await steps[name]());
    }
    const m = Object.fromEntries(Object.entries(results).map(([k, xs]) => [k, summary(xs)])) as Record<Step, Measure>;
    const line = (what: string, x: Measure) => {
      const wrote = x.files ? `  (${x.files} files, ${(x.bytes! / 1024 ** 2).toFixed(0)} MB)` : '';
      console.log(`  ${what.padEnd(44)} ${seconds(x.ms).padStart(8)}  cpu ${x.cpuS.toFixed(2).padStart(6)} s  peak ${x.peakMb.toFixed(0).padStart(5)} MB${wrote}`);
    };
    line('vips dzsave (Deep Zoom)', m.dzsave);
    line('ours: Deep Zoom only', m.dz);
    line('vips dzsave Deep Zoom, then iiif3', m.dzsaveBoth);
    line('vips dzsave Deep Zoom and iiif3 side by side', m.dzsaveTogether);
    line('ours: dice step (Deep Zoom + IIIF)', m.dice);
    line('vipsthumbnail 256', m.vipsthumbnail);
    line('ours: thumbnail 256', m.thumbnail);
    const ratio = (what: string, ours: Measure, reference: Measure, target: string) =>
      console.log(`  ${what.padEnd(64)} time ${(reference.ms / ours.ms).toFixed(2)}  cpu ${(reference.cpuS / ours.cpuS).toFixed(2)}  ${target}`);
    console.log('  ratios, reference / ours (above 1: ours faster or cheaper):');
    ratio('Deep Zoom only / vips dzsave (like for like)', m.dz, m.dzsave, 'target ≥ 1.0');
    ratio('dice step / dzsave Deep Zoom then iiif3 (like for like)', m.dice, m.dzsaveBoth, 'target ≥ 1.0');
    ratio('thumbnail / vipsthumbnail (like for like)', m.thumbnail, m.vipsthumbnail, 'target ≥ 1.0');
    ratio('dice step / the two dzsaves side by side (context)', m.dice, m.dzsaveTogether, 'no target');
    ratio('dice step / one dzsave, half the tiles (context)', m.dice, m.dzsave, 'no target');
    rmSync(input, { force: true });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
