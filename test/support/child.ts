// A TypeScript entry point in its own Node process (tsx), for tests that kill a process the way a crash would.
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

export interface Child {
  readonly process: ChildProcess;
  /** Everything it wrote to stdout and stderr so far (for failure messages). */
  output(): string;
  /** Resolves when it has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `entry` with `args` and resolves with the first stdout line that parses as JSON. */
export async function startChild<T>(entry: string, args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<Child & { ready: T }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--disable-warning=ExperimentalWarning', join(ROOT, entry), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let stdout = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.on('exit', (code, signal) => done({ code, signal })));
  const ready = await new Promise<T>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`${entry} not ready after ${timeoutMs} ms:\n${out}`)), timeoutMs);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      stdout += d.toString();
      const lines = stdout.split('\n');
      stdout = lines.pop()!;
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        clearTimeout(timer);
        done(JSON.parse(line) as T);
      }
    });
    void exited.then(({ code, signal }) => fail(new Error(`${entry} exited (${code ?? signal}) before it was ready:\n${out}`)));
  });
  return { process: child, ready, exited, output: () => out };
}
