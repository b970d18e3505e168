// What the benches measure with: the median of rounds, and the CPU time of finished child processes.
import { readFileSync } from 'node:fs';

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** CPU seconds of finished child processes (ffmpeg), from /proc: a figure other load on the machine hardly moves. */
export const childCpuSeconds = (): number => {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100; // cutime + cstime, in USER_HZ (100) ticks
  } catch {
    return Number.NaN;
  }
};
