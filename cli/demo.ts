// `npm run demo`: Framewise end to end on the local cloud. Makes a sample game (a 2-minute 1280x720 video with
// moving logos, drawn by ffmpeg, and the localizations a detector would give for it), a catalog with teams,
// events and three det_groups for two clients; ingests the game through the `framewise` CLI as a detector
// pipeline would; releases it; and prints what each client sees.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startLocalCloud } from '../infra/local/cloud.ts';
import { startFailureText } from '../infra/local/service-error.ts';
import { Api } from './api.ts';
import { drawSampleGame, sampleLabelMapping, sampleLocalizations, type SampleGame } from './sample-game.ts';

// Function logs are for operators; the demo tells its own story (`--verbose` shows them).
const verbose = process.argv.includes('--verbose');
// `--keep`: the local cloud stays up after the demo, for the web console, until Ctrl-C
const keep = process.argv.includes('--keep');
if (!verbose) process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

const GAME: SampleGame = { seconds: Number(process.env.DEMO_SECONDS ?? 120), width: 1280, height: 720, fps: 25 };
const ROOT = resolve(import.meta.dirname, '..');
const started = Date.now();
const step = (text: string) => console.log(`\n[${((Date.now() - started) / 1000).toFixed(1)}s] ${text}`);

/** Runs the framewise CLI as its own process, with the given key, showing its output. */
function framewise(apiUrl: string, key: string, args: string[]): Promise<number> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', join(ROOT, 'cli/bin/framewise.js'), ...args], {
      env: { ...process.env, FRAMEWISE_API_URL: apiUrl, FRAMEWISE_API_KEY: key },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', fail);
    child.on('exit', (code) => done(code ?? 1));
  });
}

const cloud = await startLocalCloud().catch((err: unknown) => {
  console.error(startFailureText(err));
  process.exit(1);
});
let failed = false;
/** Keys the web console may be signed in with, by who they are. */
const consoleKeys: [string, string][] = [['admin', cloud.credentials.adminApiKey]];
try {
  step(`local cloud up, API at ${cloud.endpoints.api} (data in ${cloud.dir})`);
  const admin = new Api(cloud.endpoints.api, cloud.credentials.adminApiKey);
  const stamp = new Date().toISOString().slice(0, 19).replace('T', ' ');
  const key = (name: string, role: string, clientId?: string) =>
    admin.post<{ key: string }>('/v1/api-keys', { name: `${name} (demo ${stamp})`, role, clientId }).then((k) => k.key);

  // ---- catalog: sport, league, teams, season, detectables, two clients with three det_groups ----
  const sport = await admin.post<{ id: string }>('/v1/sports', { name: `Football (demo ${stamp})` });
  const goal = await admin.post<{ id: string }>('/v1/event-types', { sportId: sport.id, name: 'Goal', weight: 3, windowSeconds: 10 });
  const corner = await admin.post<{ id: string }>('/v1/event-types', { sportId: sport.id, name: 'Corner', weight: 1.5, windowSeconds: 5 });
  const league = await admin.post<{ id: string }>('/v1/leagues', { sportId: sport.id, name: 'Demo League' });
  const rovers = await admin.post<{ id: string }>('/v1/teams', { leagueId: league.id, name: 'Rovers' });
  const united = await admin.post<{ id: string }>('/v1/teams', { leagueId: league.id, name: 'United' });
  const season = await admin.post<{ id: string }>('/v1/seasons', { leagueId: league.id, name: '2026/27' });
  const known = (await admin.get<{ items: { id: string; name: string }[] }>('/v1/detectables?limit=200')).items;
  const detectable: Record<string, string> = {};
  for (const name of ['Nike', 'Adidas', 'Puma', 'Heineken']) {
    detectable[name] = known.find((d) => d.name.toLowerCase() === name.toLowerCase())?.id ?? (await admin.post<{ id: string }>('/v1/detectables', { name })).id;
  }
  const org = await admin.post<{ id: string }>('/v1/organizations', { name: `Demo agency ${stamp}` });
  const sportswear = await admin.post<{ id: string }>('/v1/clients', { organizationId: org.id, name: 'Sportswear brands' });
  const drinks = await admin.post<{ id: string }>('/v1/clients', { organizationId: org.id, name: 'Drinks brand' });
  const grant = (clientId: string, name: string, members: string[]) =>
    admin.post<{ detGroupId: string }>(`/v1/clients/${clientId}/det-groups`, { name, detectableIds: members.map((m) => detectable[m]) });
  const groups = {
    'Sportswear (Nike, Adidas, Puma)': (await grant(sportswear.id, 'Sportswear', ['Nike', 'Adidas', 'Puma'])).detGroupId,
    'Nike': (await grant(sportswear.id, 'Nike', ['Nike'])).detGroupId,
    'Heineken': (await grant(drinks.id, 'Heineken', ['Heineken'])).detGroupId,
  };
  await admin.post(`/v1/clients/${drinks.id}/det-groups`, { detGroupId: groups.Nike });
  for (const c of [sportswear, drinks]) await admin.request('PUT', `/v1/clients/${c.id}/seasons/${season.id}`);
  step('catalog: 4 detectables, 3 det_groups (Sportswear, Nike, Heineken) for 2 clients, season granted to both');

  const analystKey = await key('demo analyst', 'analyst');
  const analyst = new Api(cloud.endpoints.api, analystKey);
  const game = await analyst.post<{ id: string }>('/v1/games', { seasonId: season.id, title: 'Rovers v United', startsAt: '2026-11-21T15:00:00Z' });
  await analyst.request('PUT', `/v1/games/${game.id}/teams/${rovers.id}`, { side: 'home' });
  await analyst.request('PUT', `/v1/games/${game.id}/teams/${united.id}`, { side: 'away' });
  await analyst.post('/v1/events', { gameId: game.id, eventTypeId: goal.id, time: 30 });
  await analyst.post('/v1/events', { gameId: game.id, eventTypeId: corner.id, time: 75 });
  const video = await analyst.post<{ id: string }>('/v1/videos', { gameId: game.id, title: 'Rovers v United, full match' });
  step(`game Rovers v United with a goal at 0:30 and a corner at 1:15; video ${video.id}`);

  // ---- the detector's side: a video and its localizations ----
  // Drawing the game takes about a minute on 2 cores: it is kept under .local/demo/ for the next run.
  const work = join(cloud.dir, 'demo');
  mkdirSync(work, { recursive: true });
  const name = `game-${GAME.seconds}s-${GAME.width}x${GAME.height}`;
  const files = { video: join(work, `${name}.mp4`), localizations: join(work, `${name}.localizations.json`), labels: join(work, 'label_mapping.txt') };
  const drawn = existsSync(files.video);
  if (!drawn) {
    await drawSampleGame(`${files.video}.tmp.mp4`, GAME);
    renameSync(`${files.video}.tmp.mp4`, files.video);
  }
  writeFileSync(files.localizations, JSON.stringify(sampleLocalizations(GAME)));
  writeFileSync(files.labels, sampleLabelMapping());
  step(`${drawn ? 'reused' : 'drew'} a ${GAME.seconds} s ${GAME.width}x${GAME.height} game with 5 moving logos, and wrote its localizations (by class index)`);

  step('framewise labels match label_mapping.txt');
  await framewise(cloud.endpoints.api, analystKey, ['labels', 'match', files.labels, '--out', join(work, 'label_mapping.matched.json')]);
  step('framewise ingest --video ... --file game.mp4 --localizations localizations.json --label-mapping label_mapping.txt --frame-rate 5');
  const code = await framewise(cloud.endpoints.api, analystKey, [
    'ingest', '--video', video.id, '--file', files.video, '--localizations', files.localizations, '--label-mapping', files.labels, '--frame-rate', '5',
  ]);
  if (code !== 0) throw new Error(`framewise ingest ended with exit code ${code}`);

  // ---- release and the clients' view ----
  await admin.post(`/v1/videos/${video.id}/release`);
  for (const id of Object.values(groups)) await admin.post(`/v1/det-groups/${id}/release`);
  step('admin released the video and the three det_groups');

  for (const [client, names] of [
    [sportswear, ['Sportswear (Nike, Adidas, Puma)', 'Nike']],
    [drinks, ['Heineken', 'Nike']],
  ] as const) {
    const clientKey = await key(`${client.id} reader`, 'client', client.id);
    consoleKeys.push([`client "${client === sportswear ? 'Sportswear brands' : 'Drinks brand'}"`, clientKey]);
    for (const name of names) {
      step(`what client "${client === sportswear ? 'Sportswear brands' : 'Drinks brand'}" sees for ${name}, per minute:`);
      await framewise(cloud.endpoints.api, clientKey, ['metrics', '--video', video.id, '--det-group', groups[name], '--resolution', '60']);
    }
    const seasonView = await new Api(cloud.endpoints.api, clientKey).get<{
      detGroups: { name: string; totals: { exposureSeconds: number; detections: number; sumEffectiveness: number } }[];
    }>(`/v1/seasons/${season.id}/metrics?resolution=video`);
    console.log('  season totals (GET /v1/seasons/{id}/metrics, cached):');
    for (const g of seasonView.detGroups) {
      const t = g.totals;
      console.log(`    ${g.name.padEnd(12)} exposure ${t.exposureSeconds.toFixed(1)} s, ${t.detections} detections, effectiveness ${t.sumEffectiveness.toFixed(3)}`);
    }
    const other = client === sportswear ? groups.Heineken : groups['Sportswear (Nike, Adidas, Puma)'];
    const refused = await fetch(`${cloud.endpoints.api}/v1/videos/${video.id}/metrics?detGroup=${other}&resolution=video`, { headers: { authorization: `Bearer ${clientKey}` } });
    console.log(`  (a det_group not granted to this client: HTTP ${refused.status})`);
  }
} catch (err) {
  failed = true;
  console.error(`\ndemo failed: ${(err as Error).message}`);
} finally {
  step(`the web console: ${cloud.endpoints.api}/`);
  for (const [who, k] of consoleKeys) console.log(`  sign in as ${who.padEnd(28)} with the API key ${k}`);
  if (keep) {
    console.log('  the local cloud stays up (--keep); Ctrl-C stops it');
    await new Promise<void>((stop) => {
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  } else {
    console.log(`  (it is served while the local cloud runs: \`npm run demo -- --keep\`, or \`npm start\`)`);
  }
  await cloud.stop();
  step(failed ? 'stopped (demo failed)' : 'demo complete; local cloud stopped (data kept in .local/)');
  process.exitCode = failed ? 1 : 0;
}
