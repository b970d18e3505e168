// `npm run bench:api`: GET /v1/seasons/{id}/metrics?resolution=60 on the local cloud, for a season of 40 games
// (90 minutes each, one video) and 10 det_groups granted to one client, documents written straight into MongoDB.
//   warm:    autocannon (in a worker thread) for DURATION seconds with one connection, then with CONNECTIONS: every
//            response from the cache;
//   cold:    ROUNDS single autocannon requests, each after every det_group was touched (new fragment keys and a
//            new client version: nothing cached, all 400 fragments read from MongoDB and stored);
//   rebuild: ROUNDS single requests, each after one new video (10 det_groups' documents) was released: the
//            response is rebuilt from 400 cached fragments and 10 new ones.
// Prints p50 / p99 latency and throughput side by side, and the ratio rebuild / cold.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { MongoClient } from 'mongodb';
import { startLocalCloud } from '../infra/local/cloud.ts';
import { SeasonFixture } from '../test/support/season-fixture.ts';

process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
const GAMES = 40;
const DET_GROUPS = 10;
const SECONDS = 90 * 60;
const ROUNDS = Number(process.env.ROUNDS ?? 8);
const DURATION = Number(process.env.DURATION ?? 10);
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 10);

interface Figures { p50: number; p99: number; rps: number; n: number }

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'framewise-bench-api-'));
  const cloud = await startLocalCloud({ dir, schedules: false });
  const mongo = new MongoClient(cloud.endpoints.mongodb);
  const fx = await SeasonFixture.connect(cloud.endpoints.postgres, mongo);
  try {
    const t0 = Date.now();
    const { seasonId } = await fx.season('Bench');
    const client = await fx.client('Bench client');
    await fx.grant(client, { seasonId });
    const detGroups: string[] = [];
    for (let d = 0; d < DET_GROUPS; d++) {
      detGroups.push(await fx.detGroup(`Brand ${d}`));
      await fx.grant(client, { detGroupId: detGroups[d] });
    }
    const games: string[] = [];
    let seed = 1;
    for (let g = 0; g < GAMES; g++) {
      const game = await fx.game(seasonId, `Game ${g + 1}`, new Date(Date.UTC(2026, 0, 1 + 7 * g, 15)));
      games.push(game);
      const video = await fx.video(game, `Game ${g + 1}`, { seconds: SECONDS });
      for (const dg of detGroups) await fx.metrics(video, dg, { seconds: SECONDS, seed: seed++, resolutions: [60, 'video'] });
    }
    const key = await fx.clientKey(client);
    console.log(`generated ${GAMES} games x ${DET_GROUPS} det_groups (${GAMES * DET_GROUPS} rollups at 60 s) in ${Date.now() - t0} ms`);

    const url = `${cloud.endpoints.api}/v1/seasons/${seasonId}/metrics?resolution=60`;
    // What browsers send by default: the stored gzip body (spliced from cached game sections) is served as it is;
    // ACCEPT_ENCODING=br measures a client that takes only brotli (its form is made once and cached).
    const headers = { authorization: `Bearer ${key}`, 'accept-encoding': process.env.ACCEPT_ENCODING ?? 'gzip, deflate, br' };
    const probe = await fetch(url, { headers });
    const json = await probe.text();
    const raw = await fetch(url, { headers: { authorization: headers.authorization, 'accept-encoding': 'identity' } }).then((r) => r.headers.get('content-length'));
    console.log(`response: ${(Number(raw ?? json.length) / 1e6).toFixed(2)} MB JSON, ${(Number(probe.headers.get('content-length')) / 1e6).toFixed(2)} MB as ${probe.headers.get('content-encoding')} on the wire`);

    const single = async (): Promise<{ ms: number }> => {
      const res = await autocannon({ url, headers, connections: 1, amount: 1 });
      if (res.non2xx > 0 || res.errors > 0) throw new Error(`request failed: ${JSON.stringify(res.statusCodeStats)}`);
      return { ms: res.latency.max };
    };
    const sequential = async (prepare: () => Promise<void>): Promise<Figures> => {
      const ms: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        await prepare();
        ms.push((await single()).ms);
      }
      ms.sort((a, b) => a - b);
      const mean = ms.reduce((s, x) => s + x, 0) / ms.length;
      return { p50: percentile(ms, 50), p99: percentile(ms, 99), rps: 1000 / mean, n: ms.length };
    };

    // warm: one connection (a request's own latency) and CONNECTIONS connections (requests queue behind each other)
    await cloud.flush();
    await fetch(url, { headers }).then((r) => r.arrayBuffer());
    const setupClient = fileURLToPath(new URL('./autocannon-discard-bodies.cjs', import.meta.url));
    const warmRun = async (connections: number): Promise<Figures> => {
      // The load generator runs in its own thread (on two cores it must not take the server's CPU); in workers mode
      // autocannon takes the path of a module where it otherwise takes the function.
      const run = await autocannon({ url, headers, connections, duration: DURATION, workers: 1, setupClient: setupClient as unknown as () => void });
      if (run.non2xx > 0 || run.errors > 0) throw new Error(`warm run had failures: ${JSON.stringify(run.statusCodeStats)}`);
      return { p50: run.latency.p50, p99: run.latency.p99, rps: run.requests.average, n: run.requests.total };
    };
    const warm1 = await warmRun(1);
    const warmN = await warmRun(CONNECTIONS);

    // cold: every det_group touched -> new fragment keys and a new client version
    const cold = await sequential(async () => {
      await fx.db.query('UPDATE det_group SET updated_at = now() WHERE id = ANY ($1::uuid[])', [detGroups]);
      await cloud.flush();
    });

    // rebuild: one new released video in a game, with the documents of every det_group
    let round = 0;
    const adminKey = cloud.credentials.adminApiKey;
    const rebuild = await sequential(async () => {
      const game = games[round++ % GAMES]!;
      const video = await fx.video(game, `Extra ${round}`, { seconds: SECONDS, released: false });
      for (const dg of detGroups) await fx.metrics(video, dg, { seconds: SECONDS, seed: 10_000 + round * 100 + detGroups.indexOf(dg), resolutions: [60, 'video'] });
      const res = await fetch(`${cloud.endpoints.api}/v1/videos/${video}/release`, { method: 'POST', headers: { authorization: `Bearer ${adminKey}` } });
      if (res.status !== 200) throw new Error(`release failed: ${res.status}`);
      await cloud.flush();
    });

    const row = (name: string, f: Figures) =>
      `${name.padEnd(10)} ${f.p50.toFixed(1).padStart(9)} ${f.p99.toFixed(1).padStart(9)} ${f.rps.toFixed(1).padStart(10)} ${String(f.n).padStart(8)}`;
    console.log(`\nGET /v1/seasons/{id}/metrics?resolution=60, ${GAMES} games x ${DET_GROUPS} det_groups, accept-encoding: ${headers['accept-encoding']}`);
    console.log(`${'cache'.padEnd(10)} ${'p50 ms'.padStart(9)} ${'p99 ms'.padStart(9)} ${'req/s'.padStart(10)} ${'requests'.padStart(8)}`);
    console.log(row('warm x1', warm1));
    console.log(row(`warm x${CONNECTIONS}`, warmN));
    console.log(row('cold', cold));
    console.log(row('rebuild', rebuild));
    console.log(`\nrebuild / cold (p50): ${(rebuild.p50 / cold.p50).toFixed(3)}   target <= 0.2`);
    console.log(`warm p99: ${warm1.p99.toFixed(1)} ms with one connection, ${warmN.p99.toFixed(1)} ms with ${CONNECTIONS}   target < 15 ms`);
  } finally {
    await fx.close();
    await mongo.close();
    await cloud.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
