// A sample game for demos and tests: a test-pattern video with logo boxes moving across it, drawn by ffmpeg,
// and the localizations a perfect detector would report for it. Box positions are one formula, used both in
// ffmpeg's overlay expressions and here, so the localizations match the drawn boxes (to ffmpeg's rounding of
// overlay positions to whole, even pixels).
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ffmpeg = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;

export interface SampleLogo {
  readonly label: string;
  /** Class index in the detector's label map. */
  readonly classIndex: number;
  readonly color: string;
  /** Size as a fraction of the frame. */
  readonly w: number;
  readonly h: number;
  /** Start position (fraction of the free width/height) and speed (fractions per second); positions wrap. */
  readonly x0: number;
  readonly y0: number;
  readonly vx: number;
  readonly vy: number;
  /** Seconds during which the logo is on screen: [from, to). */
  readonly from: number;
  readonly to: number;
  readonly score: number;
}

export const SAMPLE_LOGOS: readonly SampleLogo[] = [
  { label: 'Nike', classIndex: 0, color: 'red', w: 0.12, h: 0.08, x0: 0.05, y0: 0.1, vx: 0.05, vy: 0.01, from: 0, to: 1e9, score: 0.93 },
  { label: 'Adidas', classIndex: 1, color: 'blue', w: 0.1, h: 0.1, x0: 0.6, y0: 0.5, vx: -0.03, vy: 0.02, from: 2, to: 70, score: 0.81 },
  { label: 'Puma', classIndex: 2, color: 'yellow', w: 0.08, h: 0.06, x0: 0.3, y0: 0.8, vx: 0.02, vy: -0.04, from: 4, to: 1e9, score: 0.44 },
  { label: 'Heineken', classIndex: 3, color: 'green', w: 0.15, h: 0.07, x0: 0.4, y0: 0.3, vx: 0.04, vy: 0.0, from: 25, to: 95, score: 0.88 },
  { label: 'Unknown Sponsor', classIndex: 4, color: 'white', w: 0.06, h: 0.06, x0: 0.8, y0: 0.1, vx: 0.0, vy: 0.05, from: 0, to: 30, score: 0.7 },
];

/** The label map the sample detector uses: `<index> <label>` lines. */
export const sampleLabelMapping = (logos = SAMPLE_LOGOS): string => logos.map((l) => `${l.classIndex} ${l.label}`).join('\n') + '\n';

interface Geometry {
  readonly width: number;
  readonly height: number;
}

const px = (logo: SampleLogo, g: Geometry) => ({ w: 2 * Math.round((logo.w * g.width) / 2), h: 2 * Math.round((logo.h * g.height) / 2) });

/** The logo's top-left corner at time t, as the overlay filter places it (truncated to an even pixel). */
export function logoPosition(logo: SampleLogo, g: Geometry, t: number): { x: number; y: number } {
  const { w, h } = px(logo, g);
  const freeW = g.width - w;
  const freeH = g.height - h;
  const wrap = (v: number, m: number) => ((v % m) + m) % m;
  const x = wrap((logo.x0 + logo.vx * t) * freeW, freeW);
  const y = wrap((logo.y0 + logo.vy * t) * freeH, freeH);
  return { x: Math.trunc(x) & ~1, y: Math.trunc(y) & ~1 };
}

function overlayExpression(logo: SampleLogo, g: Geometry): { x: string; y: string; enable: string } {
  const { w, h } = px(logo, g);
  const freeW = g.width - w;
  const freeH = g.height - h;
  // mod() of a negative value is negative in ffmpeg: add the modulus once more, as `wrap` does.
  const wrap = (p0: number, v: number, m: number) => `mod(mod((${p0}+(${v})*t)*${m}\\,${m})+${m}\\,${m})`;
  return { x: wrap(logo.x0, logo.vx, freeW), y: wrap(logo.y0, logo.vy, freeH), enable: `between(t\\,${logo.from}\\,${logo.to - 0.0001})` };
}

export interface SampleGame {
  readonly seconds: number;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  readonly logos?: readonly SampleLogo[];
}

/** Draws the sample game video into `file` (H.264, yuv420p). */
export async function drawSampleGame(file: string, game: SampleGame): Promise<void> {
  const logos = game.logos ?? SAMPLE_LOGOS;
  const g = { width: game.width, height: game.height };
  const sources = [`testsrc2=size=${g.width}x${g.height}:rate=${game.fps},format=yuv420p[bg]`];
  let last = 'bg';
  logos.forEach((logo, i) => {
    const { w, h } = px(logo, g);
    const e = overlayExpression(logo, g);
    sources.push(`color=c=${logo.color}:size=${w}x${h}:rate=${game.fps}[l${i}]`);
    sources.push(`[${last}][l${i}]overlay=x='${e.x}':y='${e.y}':enable='${e.enable}':shortest=1[o${i}]`);
    last = `o${i}`;
  });
  const graph = sources.join(';').replace(/\[o\d+\]$/, '');
  await run(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', graph, '-t', String(game.seconds),
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', file], { maxBuffer: 1024 * 1024 });
}

/**
 * The localizations of the sample game: one entry per source frame, detections given by class index (resolve
 * them with sampleLabelMapping). Every 7th detection of a logo scores 0.3, below the default threshold.
 */
export function sampleLocalizations(game: SampleGame): unknown {
  const logos = game.logos ?? SAMPLE_LOGOS;
  const g = { width: game.width, height: game.height };
  const frames = [];
  const count = Math.round(game.seconds * game.fps);
  for (let n = 0; n < count; n++) {
    const t = n / game.fps;
    const detections = logos
      .filter((l) => t >= l.from && t < l.to)
      .map((l) => {
        const { x, y } = logoPosition(l, g, t);
        const { w, h } = px(l, g);
        return { class: l.classIndex, score: n % 7 === 0 ? 0.3 : l.score, box: [x, y, w, h] };
      });
    frames.push({ frame: n, time: Math.round(t * 1e6) / 1e6, detections });
  }
  return { video: { width: g.width, height: g.height }, frames };
}
