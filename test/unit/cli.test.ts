// The framewise CLI, pure parts: the final status and exit code, job/step rendering, configuration precedence,
// content types, input checks, receipt matching, tables; and the job and detectables commands over a fake API.
// No I/O: no network, no files.
import { describe, expect, it } from 'vitest';
import { ApiError, type Api } from '../../cli/api.ts';
import { ConfigError, resolveConfig, type ConfigInput } from '../../cli/config.ts';
import { changedLines, orderedSteps, percent, renderHeader, renderJob, renderStep, STEP_ORDER, type Job } from '../../cli/progress.ts';
import { decide, detailLines, EXIT_CODES, type Outcome } from '../../cli/status.ts';
import { formatBytes, outcomeOf, InputError, Interrupted, UploadError, table, type Output } from '../../cli/commands/common.ts';
import { checkNumbers, CLOCK_SKEW_MS, contentTypeFor, crossedTenths, findNewJob, uploadProgress } from '../../cli/commands/ingest.ts';
import { followJob, runJob } from '../../cli/commands/job.ts';
import { listDetectables, runDetectables } from '../../cli/commands/detectables.ts';
import { matchedMapping, matchReport } from '../../cli/commands/labels.ts';
import { metricsTable, mmss, runMetrics, type Metrics } from '../../cli/commands/metrics.ts';
import { matchLabels } from '../../shared/label-map.ts';

const job = (over: Partial<Job> = {}): Job => ({ jobId: 'ingest-v1-abc', videoId: 'v1', state: 'working', attempts: 1, ...over });

const allSucceeded = Object.fromEntries(STEP_ORDER.map((n) => [n, { state: 'succeeded' as const }]));

function memoryOutput(): Output & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
}

/** A fake Api answering GETs from a function of the path. */
function fakeApi(get: (path: string) => unknown): Api {
  return {
    get: async (path: string) => {
      const answer = get(path);
      if (answer instanceof Error) throw answer;
      return answer;
    },
  } as unknown as Api;
}

const statusLines = (lines: readonly string[]) => lines.filter((l) => l.startsWith('status: '));

describe('final status and exit code', () => {
  const cases: [string, Outcome, string | undefined, number][] = [
    ['a command that did its work', { kind: 'done' }, 'success', 0],
    ['a job whose every step ran', { kind: 'job', job: job({ state: 'succeeded', steps: allSucceeded }) }, 'success', 0],
    ['a succeeded job without step records', { kind: 'job', job: job({ state: 'succeeded' }) }, 'success', 0],
    ['a failed job', { kind: 'job', job: job({ state: 'failed', error: { code: 'X', message: 'y' } }) }, 'failure', 1],
    ['a succeeded job with a failed step', { kind: 'job', job: job({ state: 'succeeded', steps: { ...allSucceeded, metrics: { state: 'failed' } } }) }, 'failure', 1],
    ['an upload never received', { kind: 'not-received', videoId: 'v1', waitedSeconds: 60 }, 'failure', 1],
    ['an unreachable API', { kind: 'api-error', status: 0, code: 'Unreachable', message: 'cannot reach' }, 'error', 2],
    ['a bad key', { kind: 'api-error', status: 401, code: 'Unauthorized', message: 'A valid API key is required' }, 'error', 2],
    ['a forbidden action', { kind: 'api-error', status: 403, code: 'Forbidden', message: 'no' }, 'error', 2],
    ['a 4xx before the job exists', { kind: 'api-error', status: 404, code: 'NotFound', message: 'video v1 does not exist' }, 'error', 2],
    ['a 5xx', { kind: 'api-error', status: 500, code: 'InternalError', message: 'boom' }, 'error', 2],
    ['missing configuration or bad input', { kind: 'invalid', message: 'missing the API URL' }, 'error', 2],
    ['a failed transfer to storage', { kind: 'upload-failed', message: 'upload to S3 failed: 403' }, 'error', 2],
    ['Ctrl-C while following', { kind: 'interrupted', jobId: 'j1' }, undefined, 130],
  ];

  it.each(cases)('%s', (_what, outcome, status, exitCode) => {
    const d = decide(outcome);
    expect(d.status).toBe(status);
    expect(d.exitCode).toBe(exitCode);
    // exactly one status line, and it comes first
    if (status) {
      expect(statusLines(d.lines)).toEqual([`status: ${status}`]);
      expect(d.lines[0]).toBe(`status: ${status}`);
    } else {
      expect(statusLines(d.lines)).toEqual([]);
    }
  });

  it('uses the exit codes 0, 1, 2 and 130', () => {
    expect(EXIT_CODES).toEqual({ success: 0, failure: 1, error: 2, interrupted: 130 });
  });

  it('lists the failing steps with their progress and the job error', () => {
    const d = decide({
      kind: 'job',
      job: job({
        state: 'failed',
        attempts: 3,
        error: { code: 'FfmpegFailed', message: 'ffmpeg exited\nwith code 1' },
        steps: { probe: { state: 'succeeded' }, localizations: { state: 'succeeded' }, plan: { state: 'succeeded' }, frames: { state: 'failed', done: 12, total: 40 } },
      }),
    });
    expect(d.lines).toEqual([
      'status: failure',
      '  failed step: frames (12/40)',
      '  error: FfmpegFailed: ffmpeg exited with code 1',
      '  attempts: 3',
      '  job: ingest-v1-abc',
    ]);
  });

  it('names the running step when a failed job marked none as failed', () => {
    const d = decide({ kind: 'job', job: job({ state: 'failed', error: { code: 'E', message: 'm' }, steps: { probe: { state: 'working' } } }) });
    expect(d.lines).toContain('  failed step: probe (was running)');
    // the job's currentStep says where it stopped, even when that step has no record yet
    const current = decide({ kind: 'job', job: job({ state: 'failed', currentStep: 'frames', steps: { plan: { state: 'succeeded' } } }) });
    expect(current.lines).toContain('  failed step: frames (was running)');
    const none = decide({ kind: 'job', job: job({ state: 'failed' }) });
    expect(none.lines).toContain('  failed step: (none recorded)');
  });

  it("prints the API's error code and message, its details, and a hint for a bad key or URL", () => {
    const d = decide({
      kind: 'api-error', status: 400, code: 'ValidationFailed', message: 'The request does not match the expected schema',
      details: [{ path: ['frameRate'], message: 'Too big' }, { path: 'line 3', message: 'bad line' }],
    });
    expect(d.lines).toEqual([
      'status: error',
      '  error: ValidationFailed (HTTP 400): The request does not match the expected schema',
      '    frameRate: Too big',
      '    line 3: bad line',
    ]);
    expect(decide({ kind: 'api-error', status: 401, code: 'Unauthorized', message: 'k' }).lines.at(-1)).toMatch(/hint: the API key was refused/);
    expect(decide({ kind: 'api-error', status: 0, code: 'Unreachable', message: 'u' }).lines).toEqual([
      'status: error',
      '  error: Unreachable: u',
      '  hint: is the API running, and is the URL right? (--api-url, FRAMEWISE_API_URL)',
    ]);
  });

  it('says how to follow an interrupted job again', () => {
    expect(decide({ kind: 'interrupted', jobId: 'ingest-v1-abc' }).lines).toEqual([
      'interrupted: job ingest-v1-abc keeps running on the server',
      'follow it again with: framewise job ingest-v1-abc',
    ]);
    expect(decide({ kind: 'interrupted' }).exitCode).toBe(130);
    expect(decide({ kind: 'interrupted' }).lines).toEqual(['interrupted during the upload: nothing was ingested; run the command again to upload']);
    expect(decide({ kind: 'interrupted', uploadedVideoId: 'v1' }).lines[1]).toMatch(/GET \/v1\/jobs\?videoId=v1/);
  });

  it('says the upload was not received', () => {
    expect(decide({ kind: 'not-received', videoId: 'v9', waitedSeconds: 60 }).lines[1]).toMatch(/the upload was not received.*v9.*60 s/);
  });

  it('turns what a command throws into an outcome', () => {
    expect(outcomeOf(new ApiError(401, 'Unauthorized', 'bad'))).toEqual({ kind: 'api-error', status: 401, code: 'Unauthorized', message: 'bad', details: undefined });
    expect(outcomeOf(new InputError('no', ['a']))).toEqual({ kind: 'invalid', message: 'no', details: ['a'] });
    expect(outcomeOf(new UploadError('s3'))).toEqual({ kind: 'upload-failed', message: 's3' });
    expect(outcomeOf(new Interrupted(), 'j1')).toEqual({ kind: 'interrupted', jobId: 'j1' });
    expect(decide(outcomeOf(new Error('weird'))).exitCode).toBe(2);
  });

  it('shows error details of any shape on one line each', () => {
    expect(detailLines(undefined)).toEqual([]);
    expect(detailLines({ status: 'probed' })).toEqual(['{"status":"probed"}']);
    expect(detailLines(Array.from({ length: 25 }, (_, i) => ({ message: `m${i}` })))).toHaveLength(21);
  });
});

describe('job and step rendering', () => {
  it('lists the steps in workflow order, unreached ones pending, unknown ones last', () => {
    const steps = orderedSteps(job({ steps: { frames: { state: 'working', done: 3, total: 10 }, probe: { state: 'succeeded' }, extra: { state: 'working' } } }));
    expect(steps.map((s) => `${s.name}:${s.state}`)).toEqual([
      'probe:succeeded', 'localizations:pending', 'plan:pending', 'frames:working', 'metrics:pending', 'extra:working',
    ]);
    expect(steps[3]).toEqual({ name: 'frames', state: 'working', done: 3, total: 10 });
  });

  it('shows a step with its state and done/total', () => {
    expect(renderStep({ name: 'frames', state: 'working', done: 120, total: 400 })).toBe(
      '  frames         working   [######--------------]   120/400  30%',
    );
    expect(renderStep({ name: 'frames', state: 'working', done: 120, total: 400 }, { bar: false })).toBe('  frames         working     120/400  30%');
    expect(renderStep({ name: 'probe', state: 'succeeded' })).toBe('  probe          succeeded');
    expect(renderStep({ name: 'metrics', state: 'pending' })).toBe('  metrics        pending');
    expect(renderStep({ name: 'plan', state: 'working', done: 7 })).toBe('  plan           working           7');
    expect(renderStep({ name: 'probe', state: 'working', attempts: 2 })).toBe('  probe          working    (attempt 2)');
    expect(renderStep({ name: 'probe', state: 'working', attempts: 1 })).toBe('  probe          working');
  });

  it('computes whole percents, clamped, none without a total', () => {
    expect(percent({ done: 1, total: 3 })).toBe(33);
    expect(percent({ done: 5, total: 4 })).toBe(100);
    expect(percent({ done: 5 })).toBeUndefined();
    expect(percent({ done: 0, total: 0 })).toBeUndefined();
  });

  it('heads the display with the job, its attempt and its error', () => {
    expect(renderHeader(job({ state: 'queued' }))).toBe('job ingest-v1-abc: queued');
    expect(renderHeader(job({ attempts: 2 }))).toBe('job ingest-v1-abc: working (attempt 2)');
    expect(renderHeader(job({ state: 'failed', error: { code: 'NotAVideo', message: 'x' } }))).toBe('job ingest-v1-abc: failed: NotAVideo');
    expect(renderJob(job())).toHaveLength(1 + STEP_ORDER.length);
  });

  it('logs only what changed, progress at every 10%', () => {
    const a = job({ state: 'queued', attempts: 0 });
    expect(changedLines(undefined, a)).toEqual(['job ingest-v1-abc: queued']);
    const b = job({ steps: { probe: { state: 'working' } } });
    expect(changedLines(a, b)).toEqual(['job ingest-v1-abc: working', '  probe          working']);
    const c = job({ steps: { probe: { state: 'succeeded' }, frames: { state: 'working', done: 1, total: 100 } } });
    expect(changedLines(b, c)).toEqual(['  probe          succeeded', '  frames         working       1/100   1%']);
    const d = job({ steps: { probe: { state: 'succeeded' }, frames: { state: 'working', done: 9, total: 100 } } });
    expect(changedLines(c, d)).toEqual([]);
    const e = job({ steps: { probe: { state: 'succeeded' }, frames: { state: 'working', done: 10, total: 100 } } });
    expect(changedLines(d, e)).toEqual(['  frames         working      10/100  10%']);
  });
});

describe('configuration', () => {
  const files = (map: Record<string, string>) => (path: string) => map[path];
  const local = files({
    '/p/.local/endpoints.json': JSON.stringify({ api: 'http://127.0.0.1:4000', s3: 'x' }),
    '/p/.local/credentials.json': JSON.stringify({ adminApiKey: 'fw_file' }),
  });
  const base: ConfigInput = { flags: {}, env: {}, cwd: '/p', readText: local };

  it('takes flags over the environment over the .local files, each value on its own', () => {
    expect(resolveConfig(base)).toMatchObject({ apiUrl: 'http://127.0.0.1:4000', apiKey: 'fw_file', sources: { apiUrl: 'file', apiKey: 'file' } });
    const env = { FRAMEWISE_API_URL: 'https://api.example.com/', FRAMEWISE_API_KEY: 'fw_env' };
    expect(resolveConfig({ ...base, env })).toEqual({ apiUrl: 'https://api.example.com', apiKey: 'fw_env', sources: { apiUrl: 'env', apiKey: 'env' } });
    expect(resolveConfig({ ...base, env, flags: { apiKey: 'fw_flag' } })).toMatchObject({ apiUrl: 'https://api.example.com', apiKey: 'fw_flag', sources: { apiUrl: 'env', apiKey: 'flag' } });
    expect(resolveConfig({ ...base, env, flags: { apiUrl: 'http://h:1', apiKey: 'k' } })).toMatchObject({ apiUrl: 'http://h:1', apiKey: 'k' });
    // blank values count as not given
    expect(resolveConfig({ ...base, env: { FRAMEWISE_API_KEY: ' ' }, flags: { apiUrl: '' } })).toMatchObject({ apiUrl: 'http://127.0.0.1:4000', apiKey: 'fw_file' });
  });

  it('names every way to give what is missing', () => {
    const none: ConfigInput = { flags: {}, env: {}, cwd: '/p', readText: () => undefined };
    expect(() => resolveConfig(none)).toThrow(ConfigError);
    expect(() => resolveConfig(none)).toThrow(/API URL.*--api-url.*FRAMEWISE_API_URL.*endpoints\.json.*API key.*--api-key.*FRAMEWISE_API_KEY.*credentials\.json/);
    expect(() => resolveConfig({ ...none, env: { FRAMEWISE_API_URL: 'http://h' } })).toThrow(/missing the API key/);
    expect(() => resolveConfig({ ...none, readText: files({ '/p/.local/endpoints.json': '{}' }), flags: { apiKey: 'k' } })).toThrow(/missing the API URL/);
  });

  it('refuses a URL that is not http(s) and a .local file that is not JSON', () => {
    expect(() => resolveConfig({ ...base, flags: { apiUrl: 'localhost:4000' } })).toThrow(/must be http\(s\)|is not a URL/);
    expect(() => resolveConfig({ ...base, flags: { apiUrl: 'not a url' } })).toThrow(/is not a URL/);
    expect(() => resolveConfig({ ...base, readText: files({ '/p/.local/endpoints.json': '{' }) })).toThrow(/endpoints\.json is not valid JSON/);
  });
});

describe('ingest inputs', () => {
  it('gives a video its content type from the extension', () => {
    expect(contentTypeFor('game.mp4')).toBe('video/mp4');
    expect(contentTypeFor('/x/GAME.MP4')).toBe('video/mp4');
    expect(contentTypeFor('clip.mov')).toBe('video/quicktime');
    expect(contentTypeFor('clip.mkv')).toBe('video/x-matroska');
    expect(contentTypeFor('clip.webm')).toBe('video/webm');
    expect(contentTypeFor('clip.ts')).toBe('video/mp2t');
    expect(contentTypeFor('notes.txt')).toBe('application/octet-stream');
    expect(contentTypeFor('noextension')).toBe('application/octet-stream');
  });

  it('checks the frame rate (0 < r <= 60) and the threshold (0..1), with defaults 5 and 0.5', () => {
    expect(checkNumbers({})).toEqual({ frameRate: 5, threshold: 0.5, issues: [] });
    expect(checkNumbers({ frameRate: '60', threshold: '0' })).toEqual({ frameRate: 60, threshold: 0, issues: [] });
    expect(checkNumbers({ frameRate: '0.5', threshold: '1' }).issues).toEqual([]);
    for (const frameRate of ['0', '-1', '60.5', 'abc', '', 'Infinity']) expect(checkNumbers({ frameRate }).issues).toHaveLength(1);
    for (const threshold of ['-0.1', '1.01', 'x', '']) expect(checkNumbers({ threshold }).issues).toHaveLength(1);
    expect(checkNumbers({ frameRate: 0, threshold: 2 }).issues).toHaveLength(2);
  });

  it('reports upload progress at each 10% mark passed', () => {
    expect(crossedTenths(0, 0, 100)).toEqual([]);
    expect(crossedTenths(0, 100, 100)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect(crossedTenths(15, 35, 100)).toEqual([20, 30]);
    expect(crossedTenths(35, 39, 100)).toEqual([]);
    expect(crossedTenths(0, 5, 0)).toEqual([]);
  });

  it('prints a line per 10% when there is no terminal', () => {
    const out = memoryOutput();
    let t = 0;
    const p = uploadProgress(out, 'video', 10 * 1024 * 1024, () => t);
    t = 1000;
    p.update(5 * 1024 * 1024);
    p.update(5 * 1024 * 1024 + 1);
    t = 2000;
    p.update(10 * 1024 * 1024);
    p.stop();
    // one line per update that passes a 10% mark, however many it passes
    expect(out.stdout).toEqual(['video: 50% (5.0 MiB of 10.0 MiB, 5.0 MiB/s)', 'video: 100% (10.0 MiB of 10.0 MiB, 5.0 MiB/s)']);
  });

  it("finds the new upload's job: that video's, not seen before, created after the upload began", () => {
    const since = Date.parse('2026-01-01T12:00:00Z');
    const at = (ms: number) => new Date(since + ms).toISOString();
    const jobs: Job[] = [
      job({ jobId: 'other-video', videoId: 'v2', createdAt: at(1000) }),
      job({ jobId: 'old', createdAt: at(-CLOCK_SKEW_MS - 1) }),
      job({ jobId: 'known', createdAt: at(500) }),
      job({ jobId: 'new-1', createdAt: at(1000) }),
      job({ jobId: 'new-2', createdAt: at(2000) }),
    ];
    expect(findNewJob(jobs, 'v1', new Set(['known']), since)?.jobId).toBe('new-2');
    expect(findNewJob(jobs.slice(0, 3), 'v1', new Set(['known']), since)).toBeUndefined();
    // a server clock a little behind ours still counts
    expect(findNewJob([job({ jobId: 'skewed', createdAt: at(-5000) })], 'v1', new Set(), since)?.jobId).toBe('skewed');
  });
});

describe('labels, metrics and formatting', () => {
  it('writes the matched mapping by index, with the unmatched labels', () => {
    const labels = new Map([[2, 'adidas'], [0, 'NIKE'], [1, 'unknown brand']]);
    const matches = matchLabels(labels.values(), [{ id: 'd1', name: 'Nike' }, { id: 'd2', name: 'Adidas' }]);
    expect(matchedMapping(labels, matches)).toEqual({
      mapping: { 0: { label: 'NIKE', detectableId: 'd1' }, 2: { label: 'adidas', detectableId: 'd2' } },
      unmatched: ['unknown brand'],
    });
    const report = matchReport(labels, matches);
    expect(report[0]).toBe('matched 2 of 3 labels:');
    expect(report[1]).toMatch(/^\s+0\s+NIKE\s+->\s+Nike\s+\(d1\)$/);
    expect(report).toContain('unmatched (1):');
    expect(report.at(-1)).toMatch(/^\s+1\s+unknown brand$/);
  });

  it('prints bucket starts as mm:ss', () => {
    expect(mmss(0)).toBe('00:00');
    expect(mmss(75)).toBe('01:15');
    expect(mmss(3725)).toBe('62:05');
  });

  it('prints a rollup as a table with sensible rounding and a total', () => {
    const m: Metrics = {
      videoId: 'v1', detGroupId: 'g1', resolution: 60, frameRate: 5,
      buckets: [
        { start: 0, frames: 300, visibleFrames: 120, exposureSeconds: 24, detections: 150, meanArea: 0.012345, maxArea: 0.05, meanEffectiveness: 0.0031234, sumEffectiveness: 0.93702 },
        { start: 60, frames: 100, visibleFrames: 0, exposureSeconds: 0, detections: 0, meanArea: 0, maxArea: 0, meanEffectiveness: 0, sumEffectiveness: 0 },
      ],
    };
    const lines = metricsTable(m);
    expect(lines[0]).toBe('video v1, det_group g1, resolution 60 s, 5 fps');
    expect(lines[1]).toMatch(/^start\s+frames\s+visible\s+exposure s\s+detections\s+mean area\s+max area\s+mean eff\.\s+sum eff\.$/);
    expect(lines[2]!.split(/\s+/)).toEqual(['00:00', '300', '120', '24.0', '150', '1.23%', '5.00%', '0.0031', '0.937']);
    expect(lines[3]!.split(/\s+/)).toEqual(['01:00', '100', '0', '0.0', '0', '0.00%', '0.00%', '0.0000', '0.000']);
    expect(lines[4]!.split(/\s+/)).toEqual(['total', '400', '120', '24.0', '150', '0.93%', '5.00%', '0.0023', '0.937']);
    expect(metricsTable({ ...m, resolution: 'video', buckets: [] })).toEqual(['video v1, det_group g1, resolution whole video, 5 fps', 'no frames']);
  });

  it('formats bytes and tables', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(200 * 1024 * 1024)).toBe('200 MiB');
    expect(table([['a', 'bb'], ['ccc', 'd']])).toEqual(['a    bb', 'ccc  d']);
    expect(table([['1', 'x'], ['100', 'y']], new Set([0]))).toEqual(['  1  x', '100  y']);
  });
});

describe('commands over a fake API', () => {
  const fast = { pollMs: 1, receiptPollMs: 1, receiptTimeoutMs: 50, transientMs: 50 };

  it('follows every page of detectables', async () => {
    const pages: Record<string, unknown> = {
      '/v1/detectables?limit=500': { items: [{ id: 'a', name: 'Acme', description: null }], nextCursor: 'a' },
      '/v1/detectables?limit=500&cursor=a': { items: [{ id: 'b', name: 'Bolt' }], nextCursor: null },
    };
    const api = fakeApi((p) => pages[p] ?? new ApiError(404, 'NotFound', p));
    expect(await listDetectables(api)).toEqual([{ id: 'a', name: 'Acme' }, { id: 'b', name: 'Bolt' }]);
    const out = memoryOutput();
    expect(await runDetectables({ json: true }, { api, output: out })).toBe(0);
    expect(JSON.parse(out.stdout.join('\n'))).toEqual([{ id: 'a', name: 'Acme' }, { id: 'b', name: 'Bolt' }]);
    expect(out.stderr).toEqual(['status: success']);
    const human = memoryOutput();
    expect(await runDetectables({}, { api, output: human })).toBe(0);
    expect(human.stdout).toEqual(['id  name', 'a   Acme', 'b   Bolt', '2 detectables', 'status: success']);
  });

  it('follows a job to success, showing its steps, with exit code 0', async () => {
    const seq: Job[] = [
      job({ state: 'queued', attempts: 0 }),
      job({ steps: { probe: { state: 'working' } } }),
      job({ steps: { ...allSucceeded, frames: { state: 'working', done: 5, total: 10 }, metrics: { state: 'working' } } }),
      job({ state: 'succeeded', steps: { ...allSucceeded, frames: { state: 'succeeded', done: 10, total: 10 } } }),
    ];
    let i = 0;
    const api = fakeApi((p) => (p === '/v1/jobs/ingest-v1-abc' ? seq[Math.min(i++, seq.length - 1)] : new ApiError(404, 'NotFound', p)));
    const out = memoryOutput();
    expect(await runJob({ jobId: 'ingest-v1-abc' }, { api, output: out, timing: fast })).toBe(0);
    expect(out.stdout[0]).toBe('job ingest-v1-abc: queued');
    expect(out.stdout).toContain('  frames         working        5/10  50%');
    expect(out.stdout).toContain('job ingest-v1-abc: succeeded');
    expect(out.stdout.at(-1)).toBe('status: success');
    expect(statusLines(out.stdout)).toHaveLength(1);
  });

  it('ends a failed job with failure (1), an unknown job with error (2), and --json with the job', async () => {
    const failed = job({ state: 'failed', attempts: 3, error: { code: 'NotAVideo', message: 'not a video' }, steps: { probe: { state: 'failed' } } });
    const api = fakeApi((p) => (p === '/v1/jobs/ingest-v1-abc' ? failed : new ApiError(404, 'NotFound', 'job nope does not exist')));
    const out = memoryOutput();
    expect(await runJob({ jobId: 'ingest-v1-abc' }, { api, output: out, timing: fast })).toBe(1);
    expect(out.stdout.slice(-5)).toEqual(['status: failure', '  failed step: probe', '  error: NotAVideo: not a video', '  attempts: 3', '  job: ingest-v1-abc']);

    const json = memoryOutput();
    expect(await runJob({ jobId: 'ingest-v1-abc', json: true }, { api, output: json, timing: fast })).toBe(1);
    expect(JSON.parse(json.stdout.join('\n'))).toEqual(failed);
    expect(json.stderr[0]).toBe('status: failure');

    const missing = memoryOutput();
    expect(await runJob({ jobId: 'nope' }, { api, output: missing, timing: fast })).toBe(2);
    expect(missing.stdout).toEqual(['status: error', '  error: NotFound (HTTP 404): job nope does not exist']);
  });

  it('rides out a short outage while following, but not a refused key', async () => {
    let i = 0;
    const api = fakeApi(() => (i++ < 2 ? new ApiError(0, 'Unreachable', 'down') : job({ state: 'succeeded' })));
    const out = memoryOutput();
    expect(await runJob({ jobId: 'j' }, { api, output: out, timing: { ...fast, transientMs: 10_000 } })).toBe(0);
    expect(out.stderr).toEqual(['warning: down; retrying']);
    const refused = fakeApi(() => new ApiError(401, 'Unauthorized', 'bad key'));
    const out2 = memoryOutput();
    expect(await runJob({ jobId: 'j' }, { api: refused, output: out2, timing: fast })).toBe(2);
    expect(out2.stdout[0]).toBe('status: error');
  });

  it('stops following on Ctrl-C and says how to follow again (130)', async () => {
    const controller = new AbortController();
    const api = fakeApi(() => {
      controller.abort();
      return job();
    });
    const outcome = await followJob('ingest-v1-abc', { api, output: memoryOutput(), signal: controller.signal, timing: { pollMs: 10_000 } });
    expect(outcome).toEqual({ kind: 'interrupted', jobId: 'ingest-v1-abc' });
    const out = memoryOutput();
    expect(await runJob({ jobId: 'x' }, { api, output: out, signal: AbortSignal.abort() })).toBe(130);
    expect(out.stdout.at(-1)).toBe('follow it again with: framewise job x');
  });

  it('checks the resolution before asking for metrics', async () => {
    const out = memoryOutput();
    const api = fakeApi(() => new Error('not called'));
    expect(await runMetrics({ video: 'v', detGroup: 'g', resolution: '5' }, { api, output: out })).toBe(2);
    expect(out.stdout[1]).toMatch(/--resolution must be one of 1, 10, 60, video/);
  });
});
