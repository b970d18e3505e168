// A TypeScript entry point in its own Node process (tsx), for tests that kill a process the way a crash would.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Endpoints } from '../../infra/local/cloud.ts';
import { ROOT } from './processes.ts';

export interface Child {
  readonly process: ChildProcess;
  /** Kills it and every process it started (its process group: the local cloud's PostgreSQL too), as a crash would. */
  killAll(signal?: NodeJS.Signals): void;
  /** Resolves when no process of its group is left (a restart must not find the old PostgreSQL still there). */
  allGone(): Promise<void>;
  /** Everything it wrote to stdout and stderr so far (for failure messages). */
  output(): string;
  /** Resolves when it has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the TypeScript `entry` with `args` and resolves with the first stdout line that is JSON. */
export function startChild<T>(entry: string, args: string[]): Promise<Child & { ready: T }> {
  const argv = ['--import', 'tsx', '--disable-warning=ExperimentalWarning', join(ROOT, entry), ...args];
  return startProcess(process.execPath, argv, (line) => (line.startsWith('{') ? (JSON.parse(line) as T) : undefined));
}

/** Starts `command` and resolves when `readyWhen` makes something of a line it prints. */
export async function startProcess<T>(command: string, args: string[], readyWhen: (line: string) => T | undefined, timeoutMs = 90_000): Promise<Child & { ready: T }> {
  const entry = [command, ...args].join(' ');
  const child = spawn(command, args, {
    cwd: ROOT,
    env: process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // a process group of its own, so that killAll reaches its children
  });
  const killAll = (signal: NodeJS.Signals = 'SIGKILL') => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  };
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
        const value = readyWhen(line);
        if (value === undefined) continue;
        clearTimeout(timer);
        done(value);
      }
    });
    void exited.then(({ code, signal }) => fail(new Error(`${entry} exited (${code ?? signal}) before it was ready:\n${out}`)));
  });
  const allGone = async () => {
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      try {
        process.kill(-child.pid!, 0);
      } catch {
        return;
      }
    }
    throw new Error(`processes of ${entry} still running 30 s after it was killed`);
  };
  return { process: child, killAll, allGone, ready, exited, output: () => out };
}

export interface CloudProcess extends Child {
  readonly endpoints: Endpoints;
  readonly adminApiKey: string;
}

/** `npm start -- --dir <dir>`: the whole local cloud in its own process, as a user runs it; `process` is npm's. */
export async function startCloudProcess(dir: string): Promise<CloudProcess> {
  const child = await startProcess('npm', ['start', '--', '--dir', dir], (line) => (line.includes('local cloud is up') ? true : undefined));
  const endpoints = JSON.parse(readFileSync(join(dir, 'endpoints.json'), 'utf8')) as Endpoints;
  const { adminApiKey } = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')) as { adminApiKey: string };
  return { ...child, endpoints, adminApiKey };
}

