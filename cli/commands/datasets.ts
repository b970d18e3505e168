// `framewise datasets create|status|download`: a new version of a training dataset built from annotated tasks
// (followed to its end like any job), the versions of a dataset and their progress, and a built version's zip.
import { createWriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApiError } from '../api.ts';
import { abortable, finish, formatBytes, InputError, outcomeOf, run, table, type CommandContext } from './common.ts';
import { followJob, jobDisplay } from './job.ts';

interface DatasetVersion {
  name: string;
  version: number;
  state: string;
  jobId: string;
  progress: number;
  itemsDone: number;
  itemsTotal: number | null;
  zipBytes: number | null;
  zipUrl?: string;
  createdAt: string;
  error: { code: string; message: string } | null;
}

export interface CreateOptions {
  readonly name: string;
  readonly project: readonly string[];
  readonly auditStatus?: string;
  readonly split?: string;
  readonly seed?: string;
  readonly formats?: string;
  readonly follow: boolean;
  readonly json?: boolean;
}

/** `train=0.8,val=0.2` → { train: 0.8, val: 0.2 }. */
export function parseSplit(text: string): Record<string, number> {
  const split: Record<string, number> = {};
  for (const part of text.split(',')) {
    const m = /^\s*(train|val|test)\s*=\s*([0-9.]+)\s*$/.exec(part);
    if (!m) throw new InputError(`--split: "${part}" is not <train|val|test>=<fraction>`);
    split[m[1]!] = Number(m[2]);
  }
  return split;
}

const list = (text: string) => text.split(',').map((s) => s.trim()).filter(Boolean);

export function datasetRequest(opts: CreateOptions): Record<string, unknown> {
  const auditStatus = opts.auditStatus === undefined ? undefined : list(opts.auditStatus).map(Number);
  if (auditStatus?.some((s) => !Number.isInteger(s))) throw new InputError('--audit-status: a list of integers, e.g. 1,5');
  return {
    name: opts.name,
    projectIds: [...opts.project],
    ...(auditStatus && { auditStatus }),
    ...(opts.split && { split: parseSplit(opts.split) }),
    ...(opts.seed !== undefined && { seed: opts.seed }),
    ...(opts.formats && { formats: list(opts.formats) }),
  };
}

export async function runDatasetsCreate(opts: CreateOptions, ctx: CommandContext): Promise<number> {
  let created: DatasetVersion;
  try {
    created = await abortable(ctx.api.post<DatasetVersion>('/v1/annotation/datasets', datasetRequest(opts)), ctx.signal);
  } catch (err) {
    return finish(outcomeOf(err), ctx.output, opts);
  }
  ctx.output.err(`dataset ${created.name} v${created.version}: job ${created.jobId}`);
  if (!opts.follow) {
    if (opts.json) ctx.output.out(JSON.stringify(created, null, 2));
    return finish({ kind: 'done' }, ctx.output, opts);
  }
  const outcome = await followJob(created.jobId, ctx, opts.json ? undefined : jobDisplay(ctx.output));
  if (opts.json) ctx.output.out(JSON.stringify(await ctx.api.get(`/v1/annotation/datasets/${created.name}/versions/${created.version}`), null, 2));
  return finish(outcome, ctx.output, opts);
}

export function versionsTable(versions: readonly DatasetVersion[]): string[] {
  return table(
    [
      ['version', 'state', 'progress', 'items', 'zip', 'created'],
      ...versions.map((v) => [
        `v${v.version}`, v.state, `${v.progress}%`, `${v.itemsDone}/${v.itemsTotal ?? '?'}`, v.zipBytes === null ? '-' : formatBytes(v.zipBytes), v.createdAt,
      ]),
    ],
    new Set([2, 3]),
  );
}

export function runDatasetsStatus(opts: { name: string; version?: string; json?: boolean }, ctx: CommandContext): Promise<number> {
  return run(ctx.output, opts, async () => {
    const versions = opts.version
      ? [await ctx.api.get<DatasetVersion>(`/v1/annotation/datasets/${encodeURIComponent(opts.name)}/versions/${encodeURIComponent(opts.version)}`)]
      : (await ctx.api.get<{ versions: DatasetVersion[] }>(`/v1/annotation/datasets/${encodeURIComponent(opts.name)}`)).versions;
    if (opts.json) ctx.output.out(JSON.stringify(opts.version ? versions[0] : versions, null, 2));
    else {
      ctx.output.out(`dataset ${opts.name}`);
      for (const line of versionsTable(versions)) ctx.output.out(line);
      for (const v of versions) if (v.error) ctx.output.out(`v${v.version}: ${v.error.code}: ${v.error.message}`);
    }
    return { kind: 'done' };
  });
}

export function runDatasetsDownload(opts: { name: string; version: string; out?: string }, ctx: CommandContext): Promise<number> {
  return run(ctx.output, {}, async () => {
    const v = await ctx.api.get<DatasetVersion>(`/v1/annotation/datasets/${encodeURIComponent(opts.name)}/versions/${encodeURIComponent(opts.version)}`);
    if (v.state !== 'succeeded' || !v.zipUrl) throw new InputError(`dataset ${opts.name} v${v.version} is ${v.state} (${v.progress}%): it can be downloaded once built`);
    const out = opts.out ?? `${opts.name}-v${v.version}.zip`;
    const res = await abortable(fetch(v.zipUrl, { signal: ctx.signal }), ctx.signal);
    if (!res.ok || !res.body) throw new ApiError(res.status, `HTTP${res.status}`, `the zip of ${opts.name} v${v.version} could not be fetched (${res.status})`);
    // written beside and renamed: an interrupted download never leaves a file that looks whole
    const partial = `${out}.partial`;
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(partial));
    await rename(partial, out);
    ctx.output.out(`${out}: ${formatBytes(v.zipBytes ?? 0)}`);
    return { kind: 'done' };
  });
}
