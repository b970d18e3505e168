// A frame rate as ffmpeg takes it (a rational number) and the time of an output frame. Pure; shared by frame
// extraction, which decides the frames, and the metrics, which place them in time.

export interface FrameRate {
  readonly num: number;
  readonly den: number;
}

/** ffmpeg parses a decimal frame rate into a fraction with terms up to this bound (av_parse_video_rate). */
const MAX_RATE_TERM = 1_001_000;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** A decimal rate as ffmpeg turns it into a fraction (av_d2q, then av_reduce with terms <= max). */
function toFraction(d: number, max: number): FrameRate {
  const exponent = Math.max(Math.floor(Math.log2(d)), 0) // frexp's exponent - 1;
  let num = BigInt(Math.floor(d * 2 ** (61 - exponent) + 0.5));
  let den = 1n << BigInt(61 - exponent);
  const big = BigInt(max);
  const g = bigGcd(num, den);
  num /= g;
  den /= g;
  let [a0n, a0d, a1n, a1d] = [0n, 1n, 1n, 0n];
  if (num <= big && den <= big) return { num: Number(num), den: Number(den) };
  while (den) {
    let x = num / den;
    const nextDen = num - den * x;
    const [a2n, a2d] = [x * a1n + a0n, x * a1d + a0d];
    if (a2n > big || a2d > big) {
      if (a1n) x = (big - a0n) / a1n;
      if (a1d) x = [x, (big - a0d) / a1d].reduce((a, b) => (a < b ? a : b));
      if (den * (2n * x * a1d + a0d) > num * a1d) [a1n, a1d] = [x * a1n + a0n, x * a1d + a0d];
      break;
    }
    [a0n, a0d, a1n, a1d] = [a1n, a1d, a2n, a2d];
    [num, den] = [den, nextDen];
  }
  return { num: Number(a1n), den: Number(a1d) };
}

function bigGcd(a: bigint, b: bigint): bigint {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** 5 → 5/1, 0.5 → 1/2, "30000/1001" → 30000/1001. Throws on anything that is not a positive rate. */
export function parseFrameRate(fps: number | string): FrameRate {
  let num: number;
  let den: number;
  if (typeof fps === 'string' && /^\s*\d+\s*\/\s*\d+\s*$/.test(fps)) {
    [num, den] = fps.split('/').map((p) => Number(p.trim())) as [number, number];
  } else {
    const x = typeof fps === 'number' ? fps : Number(fps.trim());
    if (!Number.isFinite(x) || x <= 0) throw new RangeError(`invalid frame rate ${JSON.stringify(fps)}`);
    ({ num, den } = toFraction(x, MAX_RATE_TERM));
  }
  if (!Number.isSafeInteger(num) || !Number.isSafeInteger(den) || num <= 0 || den <= 0 || num > MAX_RATE_TERM * 1000 || den > MAX_RATE_TERM * 1000) {
    throw new RangeError(`invalid frame rate ${JSON.stringify(fps)}`);
  }
  const g = gcd(num, den);
  return { num: num / g, den: den / g };
}

export function formatFrameRate(rate: FrameRate): string {
  return `${rate.num}/${rate.den}`;
}

/** Output time of frame n in seconds from the file's start. */
export function frameTime(frame: number, fps: number | string): number {
  const rate = parseFrameRate(fps);
  return (frame * rate.den) / rate.num;
}
