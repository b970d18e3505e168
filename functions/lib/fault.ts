// Fault injection for crash tests: FRAMEWISE_FAULT_POINT=<function>:<before|after>[:n] kills this whole process
// (SIGKILL, as a power cut would) the n-th time (default: the first) that function reaches that point. Nothing sets
// it in AWS; the crash test sets it on a local cloud it runs in a child process.

export type FaultAt = 'before' | 'after';

const reached = new Map<string, number>();

/** Where a fault point names: the function, the side of its side effects, and the visit that fires it. */
export function parseFaultPoint(text: string | undefined): { fn: string; at: FaultAt; nth: number } | undefined {
  const m = /^([a-z0-9-]+):(before|after)(?::([1-9][0-9]*))?$/.exec(text ?? '');
  return m ? { fn: m[1]!, at: m[2] as FaultAt, nth: Number(m[3] ?? 1) } : undefined;
}

export function faultPoint(fn: string, at: FaultAt): void {
  const point = parseFaultPoint(process.env.FRAMEWISE_FAULT_POINT);
  if (!point || point.fn !== fn || point.at !== at) return;
  const visits = (reached.get(`${fn}:${at}`) ?? 0) + 1;
  reached.set(`${fn}:${at}`, visits);
  if (visits === point.nth) process.kill(process.pid, 'SIGKILL');
}
