// `npm run bench:metrics`: metric computation against JSON.parse of the same localizations file, in one run.
// A synthetic localizations file (2 minutes at 25 fps, ~8 detections per frame over 12 labels, some overlapping,
// a third of them by class through a label map) is written to a temp dir and read back. Each round times
//   (a) the reference: JSON.parse of the file text;
//   (b) the pipeline on the parsed value: parseLocalizations + matchFrames (extraction at 5 fps)
//       + computeFrameSeries for 3 det_groups + rollup at every resolution.
// Prints the median of ROUNDS rounds (default 15) and the ratio pipeline / JSON.parse.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { EventWindow } from '../functions/analytics/metrics.ts';
import { computeVideoResults } from '../functions/analytics/results.ts';
import { parseLabelMapping } from '../shared/label-map.ts';
import { parseLocalizations } from '../functions/analytics/localizations.ts';
import { seededRandom } from '../test/support/random.ts';
import { median } from './measure.ts';

const ROUNDS = Number(process.env.ROUNDS ?? 15);
const SECONDS = 120;
const SOURCE_FPS = 25;
const EXTRACT_FPS = 5;
const WIDTH = 1280;
const HEIGHT = 720;
const LABELS = ['Nike', 'Adidas', 'Puma', 'Coca Cola', 'Pepsi', 'Red Bull', 'Emirates', 'Visa', 'Heineken', 'Sony', 'Qatar Airways', 'Kia'];


/** Logos drift across the frame; each frame shows ~8 of them, and every 5th detection overlaps the one before. */
function syntheticLocalizations(): unknown {
  const rnd = seededRandom(2025);
  const logos = LABELS.map((_, i) => ({ x: rnd() * WIDTH, y: rnd() * HEIGHT, vx: (rnd() - 0.5) * 8, vy: (rnd() - 0.5) * 4, w: 60 + rnd() * 180, h: 30 + rnd() * 90, i }));
  type Det = { label?: string; class?: number; score: number; box: number[] };
  const frames: { frame: number; time: number; detections: Det[] }[] = [];
  for (let n = 0; n < SECONDS * SOURCE_FPS; n++) {
    const detections: Det[] = [];
    for (const logo of logos) {
      logo.x = (logo.x + logo.vx + WIDTH) % WIDTH;
      logo.y = (logo.y + logo.vy + HEIGHT) % HEIGHT;
      if (rnd() > 8 / LABELS.length) continue;
      const prev = detections.at(-1);
      const [x, y] = prev && detections.length % 5 === 4 ? [prev.box[0]! + 20, prev.box[1]! + 10] : [logo.x - logo.w / 2, logo.y - logo.h / 2];
      const box = [x, y, logo.w, logo.h].map((v) => Math.round(v * 10) / 10);
      const score = Math.round((0.3 + rnd() * 0.7) * 1000) / 1000;
      detections.push(logo.i % 3 === 0 ? { class: logo.i, score, box } : { label: LABELS[logo.i]!, score, box });
    }
    frames.push({ frame: n, time: Math.round((n / SOURCE_FPS) * 1e6) / 1e6, detections });
  }
  return { video: { width: WIDTH, height: HEIGHT }, frames };
}

const labelMapText = LABELS.map((l, i) => `${i} ${l}`).join('\n');
const detGroups = [
  new Set(['nike', 'adidas', 'puma']),
  new Set(['coca cola', 'pepsi', 'red bull', 'heineken']),
  new Set(LABELS.map((l) => l.toLowerCase())),
].map((labels, i) => ({ detGroupId: `dg-${i}`, labels }));
const events: EventWindow[] = [
  { time: 12, weight: 2, windowSeconds: 10 },
  { time: 47.5, weight: 3, windowSeconds: 15 },
  { time: 50, weight: 1.5, windowSeconds: 30 },
  { time: 88, weight: 2, windowSeconds: 5 },
  { time: 110, weight: 1.2, windowSeconds: 20 },
];
const EXTRACTED_FRAMES = SECONDS * EXTRACT_FPS;

/** Runs the pipeline's own computation (what ingest-metrics runs per video); returns its buckets and the ms spent validating the file. */
function pipeline(json: unknown): { buckets: number; parseMs: number } {
  const started = performance.now();
  const labelMap = parseLabelMapping(labelMapText);
  const localizations = parseLocalizations(json, labelMap);
  const parseMs = performance.now() - started;
  const results = computeVideoResults({ localizations, frameCount: EXTRACTED_FRAMES, fps: EXTRACT_FPS, threshold: 0.5, events }, detGroups);
  const buckets = results.reduce((n, r) => n + [...r.rollups.values()].reduce((m, b) => m + b.length, 0), 0);
  return { buckets, parseMs };
}


const dir = mkdtempSync(join(tmpdir(), 'framewise-bench-metrics-'));
try {
  const file = join(dir, 'localizations.json');
  writeFileSync(file, JSON.stringify(syntheticLocalizations()));
  const text = readFileSync(file, 'utf8');
  const parsed = JSON.parse(text) as { frames: { detections: unknown[] }[] };
  const detections = parsed.frames.reduce((n, f) => n + f.detections.length, 0);
  console.log(
    `localizations: ${parsed.frames.length} frames, ${detections} detections (${(detections / parsed.frames.length).toFixed(1)}/frame), ` +
      `${(text.length / 1e6).toFixed(2)} MB; extraction ${EXTRACTED_FRAMES} frames at ${EXTRACT_FPS} fps; ${detGroups.length} det_groups; ${ROUNDS} rounds`,
  );
  const expectedBuckets = pipeline(JSON.parse(text)).buckets; // warm-up
  JSON.parse(text);
  const reference: number[] = [];
  const ours: number[] = [];
  const parsing: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let t = performance.now();
    const json: unknown = JSON.parse(text);
    reference.push(performance.now() - t);
    t = performance.now();
    const { buckets, parseMs } = pipeline(json);
    ours.push(performance.now() - t);
    parsing.push(parseMs);
    if (buckets !== expectedBuckets) throw new Error('the pipeline is not deterministic');
  }
  const a = median(reference);
  const b = median(ours);
  console.log(`${'JSON.parse of the file text (reference)'.padEnd(64)} ${a.toFixed(1)} ms`);
  console.log(`${'parse + match + 3 frame series + 4 rollups each (pipeline)'.padEnd(64)} ${b.toFixed(1)} ms`);
  console.log(`${'  of which validation (parseLabelMapping + parseLocalizations)'.padEnd(64)} ${median(parsing).toFixed(1)} ms`);
  console.log(`ratio (pipeline / JSON.parse): ${(b / a).toFixed(2)}  (medians; ${expectedBuckets} buckets per run)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
