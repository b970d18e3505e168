// Running the framewise CLI as a user does: its own process, configured only through what the test passes.
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const TSX = join(ROOT, 'node_modules/.bin/tsx');
export const CLI_ENTRY = join(ROOT, 'cli/framewise.ts');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command line with only the given FRAMEWISE_* settings (none inherited from this process). */
export function run(command: string, args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): Promise<Run> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FRAMEWISE_')));
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: opts.cwd ?? ROOT, env: { ...env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** `framewise <args>` through tsx. */
export const runFramewise = (args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): Promise<Run> =>
  run(TSX, [CLI_ENTRY, ...args], opts);

/**
 * `framewise <args>` through tsx, started: `onLine` sees each stdout line as it comes and may signal the process
 * (a user's Ctrl-C). Resolves when it exits.
 */
export function runFramewiseWatched(
  args: string[],
  onLine: (line: string, child: ChildProcess) => void,
  opts: { env?: Record<string, string>; cwd?: string } = {},
): Promise<Run> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FRAMEWISE_')));
  return new Promise((done, fail) => {
    const child = spawn(TSX, [CLI_ENTRY, ...args], { cwd: opts.cwd ?? ROOT, env: { ...env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines) onLine(line, child);
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}
