// Fault injection for crash tests: FRAMEWISE_FAULT_POINT=<function>:<before|after>[:n] kills this process and its
// process group (SIGKILL, as a power cut would: locally the PostgreSQL server and ffmpeg die with the cloud) the n-th
// time (default: the first) that function reaches that point, in any of its instances. Nothing sets it in AWS; the
// crash test sets it on a local cloud it runs in a process group of its own.

export type FaultAt = 'before' | 'after';

/** Visits of the point set now; counting starts again when another point is set. */
let counted = { point: '', visits: 0 };
/**
 * The visits of the point set now, counted by every instance of the function together, where its runtime shares a
 * count among them (the local cloud's worker threads, which also start it again when the point changes): the n-th
 * visit of a function whose instances run side by side (a Map's items) is the n-th of them all, not of each.
 */
let shared: Int32Array | undefined;

export function shareFaultVisits(visits: Int32Array): void {
  shared = visits;
}

/** Where a fault point names: the function, the side of its side effects, and the visit that fires it. */
export function parseFaultPoint(text: string | undefined): { fn: string; at: FaultAt; nth: number } | undefined {
  const m = /^([a-z0-9-]+):(before|after)(?::([1-9][0-9]*))?$/.exec(text ?? '');
  return m ? { fn: m[1]!, at: m[2] as FaultAt, nth: Number(m[3] ?? 1) } : undefined;
}

export function faultPoint(fn: string, at: FaultAt): void {
  const text = process.env.FRAMEWISE_FAULT_POINT ?? '';
  const point = parseFaultPoint(text);
  if (!point || point.fn !== fn || point.at !== at) return;
  let visits: number;
  if (shared) visits = Atomics.add(shared, 0, 1) + 1;
  else {
    if (counted.point !== text) counted = { point: text, visits: 0 };
    visits = ++counted.visits;
  }
  if (visits === point.nth) process.kill(0, 'SIGKILL');
}
