// The framewise CLI as a user runs it: a child process against the local cloud, configured through
// FRAMEWISE_API_URL / FRAMEWISE_API_KEY. (ingest and metrics are covered by the pipeline's own tests.)
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../infra/local/ports.ts';
import { apiClient } from '../support/api.ts';
import { CLI_ENTRY, ROOT, run as runProcess, TSX } from '../support/processes.ts';

const work = mkdtempSync(join(tmpdir(), 'framewise-cli-'));
const admin = apiClient();

const run = (command: string, args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}) => runProcess(command, args, { cwd: work, ...opts });

const asAdmin = () => ({ FRAMEWISE_API_URL: inject('endpoints').api, FRAMEWISE_API_KEY: inject('adminApiKey') });
const framewise = (args: string[], opts: { env?: Record<string, string>; cwd?: string } = { env: asAdmin() }) => run(TSX, [CLI_ENTRY, ...args], opts);

const stamp = `${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
let acme: { id: string; name: string };
let bolt: { id: string; name: string };

beforeAll(async () => {
  for (const name of [`Acme Cola ${stamp}`, `Bolt Energy ${stamp}`]) {
    const res = await admin('POST', '/v1/detectables', { name });
    expect(res.status).toBe(201);
  }
  const list = await admin('GET', '/v1/detectables?limit=500');
  const byName = (n: string) => list.body.items.find((d: { name: string }) => d.name === n);
  acme = byName(`Acme Cola ${stamp}`);
  bolt = byName(`Bolt Energy ${stamp}`);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('framewise detectables', () => {
  it('lists the detectables as a table of id and name', async () => {
    const r = await framewise(['detectables']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^id\s+name$/);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${acme.id}\\s+${acme.name}$`)));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${bolt.id}\\s+${bolt.name}$`)));
    expect(lines.at(-1)).toBe('status: success');
  });

  it('prints them as JSON with --json (status on stderr), also through the npx launcher', async () => {
    const r = await framewise(['detectables', '--json']);
    expect(r.code).toBe(0);
    const parsed = JSON.parse(r.stdout) as { id: string; name: string }[];
    expect(parsed).toEqual(expect.arrayContaining([acme, bolt].map((d) => ({ id: d.id, name: d.name }))));
    expect(r.stderr.trim()).toBe('status: success');

    // cli/bin/framewise.js is what `npx framewise` runs
    const viaBin = await run(process.execPath, [join(ROOT, 'cli/bin/framewise.js'), 'detectables', '--json'], { env: asAdmin() });
    expect(viaBin.code).toBe(0);
    expect(JSON.parse(viaBin.stdout)).toEqual(parsed);
  });
});

describe('framewise labels match', () => {
  it('matches labels by name in any case, lists the unmatched one and writes the mapping', async () => {
    const dir = mkdtempSync(join(work, 'labels-'));
    const map = join(dir, 'label_mapping.txt');
    const unknown = `no such brand ${stamp}`;
    writeFileSync(map, `# detector v3\n0 ${acme.name.toUpperCase()}\n1 ${unknown}\n\n2   ${bolt.name.toLowerCase()}\n`);
    const r = await framewise(['labels', 'match', map, '--out', join(dir, 'out.json')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/matched 2 of 3 labels:/);
    expect(r.stdout).toMatch(new RegExp(`0\\s+${acme.name.toUpperCase()}\\s+->\\s+${acme.name}\\s+\\(${acme.id}\\)`));
    expect(r.stdout).toMatch(new RegExp(`2\\s+${bolt.name.toLowerCase()}\\s+->\\s+${bolt.name}\\s+\\(${bolt.id}\\)`));
    expect(r.stdout).toMatch(new RegExp(`unmatched \\(1\\):\\n\\s+1\\s+${unknown}\\n`));
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('status: success');
    expect(r.stderr).toMatch(new RegExp(`warning: 1 label matches no detectable \\(${unknown}\\)`));
    expect(JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8'))).toEqual({
      mapping: { 0: { label: acme.name.toUpperCase(), detectableId: acme.id }, 2: { label: bolt.name.toLowerCase(), detectableId: bolt.id } },
      unmatched: [unknown],
    });
  });

  it('writes label_mapping.matched.json in the current directory by default', async () => {
    const dir = mkdtempSync(join(work, 'labels-'));
    writeFileSync(join(dir, 'labels.txt'), `7 ${acme.name}\n`);
    const r = await framewise(['labels', 'match', 'labels.txt'], { env: asAdmin(), cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(JSON.parse(readFileSync(join(dir, 'label_mapping.matched.json'), 'utf8'))).toEqual({
      mapping: { 7: { label: acme.name, detectableId: acme.id } },
      unmatched: [],
    });
  });

  it('refuses a malformed label map, naming the line, without writing anything', async () => {
    const dir = mkdtempSync(join(work, 'labels-'));
    writeFileSync(join(dir, 'labels.txt'), `0 ${acme.name}\nnot a line\n0 again\n`);
    const r = await framewise(['labels', 'match', 'labels.txt'], { env: asAdmin(), cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/status: error\n {2}error: the label map labels.txt is malformed/);
    expect(r.stdout).toMatch(/line 2: expected "<index> <label>"/);
    expect(r.stdout).toMatch(/line 3: index 0 appears twice/);
    expect(() => readFileSync(join(dir, 'label_mapping.matched.json'))).toThrow();
  });
});

describe('framewise errors', () => {
  it('ends with status: error and exit code 2 for a bad key', async () => {
    const r = await framewise(['detectables', '--api-key', 'fw_bad'], { env: { FRAMEWISE_API_URL: inject('endpoints').api } });
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^status: error\n {2}error: Unauthorized \(HTTP 401\): /);
    expect(r.stdout).toMatch(/hint: the API key was refused/);
  });

  it('lets a flag override the environment, and gives status: error, exit 2 for an unreachable API', async () => {
    const port = await freePort(); // free: nothing listens there
    const r = await framewise(['detectables', '--json', '--api-url', `http://127.0.0.1:${port}`]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^status: error\n {2}error: Unreachable: cannot reach the API at http:\/\/127\.0\.0\.1:\d+/);
  });

  it('says how to configure it when neither flags, environment nor .local/ give the API', async () => {
    const r = await framewise(['detectables'], { cwd: mkdtempSync(join(work, 'empty-')) });
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/status: error\n {2}error: missing the API URL \(--api-url, FRAMEWISE_API_URL/);
  });

  it('reports an unknown job as status: error (NotFound), exit 2', async () => {
    const r = await framewise(['job', 'ingest-nope-0000']);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/status: error\n {2}error: NotFound \(HTTP 404\)/);
  });

  it('on Ctrl-C while following a job, says how to follow it again and exits 130', async () => {
    // a stand-in API whose job never ends
    const server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jobId: 'ingest-x-1', videoId: 'x', state: 'working', attempts: 1, steps: { probe: { state: 'working' } } }));
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const env = { FRAMEWISE_API_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, FRAMEWISE_API_KEY: 'k' };
      const child = spawn(TSX, [CLI_ENTRY, 'job', 'ingest-x-1'], { cwd: work, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      const following = new Promise<void>((done) =>
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
          if (stdout.includes('probe')) done();
        }),
      );
      await following;
      child.kill('SIGINT');
      const [code] = (await once(child, 'close')) as [number | null];
      expect(code).toBe(130);
      expect(stdout).toMatch(/job ingest-x-1: working\n/);
      expect(stdout).toMatch(/interrupted: job ingest-x-1 keeps running on the server\nfollow it again with: framewise job ingest-x-1\n$/);
      expect(stdout).not.toMatch(/status:/);
    } finally {
      server.close();
    }
  });
});
