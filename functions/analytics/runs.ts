// Which ingest run of a video each reader sees. Every run of a video's ingest writes its results under its own
// name, and a det_group computed later writes them for the run whose frames and localizations are in place
// (`metrics`). Admins and analysts read the run that completed last (`ingested`); clients read the run an admin
// released (`released`) until an admin releases a newer one. A run none of the three names is read by nobody:
// its documents are removed.
import { query } from '../lib/pg.ts';
import { deleteRun, type Run } from './store.ts';

/** A video's runs of each kind; a kind is absent when the video has none (not yet ingested, never released). */
export interface VideoRuns {
  readonly metrics?: Run;
  readonly ingested?: Run;
  readonly released?: Run;
}

/** The runs whose results someone reads or writes. Pure. */
export const keptRuns = (runs: VideoRuns): Run[] => [...new Set([runs.metrics, runs.ingested, runs.released].filter((r) => r !== undefined))];

/** Of `candidates`, the runs the video no longer keeps. Pure. */
export const unkeptRuns = (candidates: readonly Run[], runs: VideoRuns): Run[] => {
  const kept = keptRuns(runs);
  return [...new Set(candidates)].filter((r) => !kept.includes(r));
};

/** The video's runs; undefined if the video does not exist. */
export async function videoRuns(videoId: string): Promise<VideoRuns | undefined> {
  const rows = await query<{ metrics_ready: boolean; metrics_run: Run; ingested: boolean; ingested_run: Run; released: boolean; released_run: Run }>(
    `SELECT metrics_ready_at IS NOT NULL AS metrics_ready, metrics_run, ingested_at IS NOT NULL AS ingested, ingested_run,
            released_at IS NOT NULL AS released, released_run
       FROM video WHERE id = $1`,
    [videoId],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    ...(r.metrics_ready && { metrics: r.metrics_run }),
    ...(r.ingested && { ingested: r.ingested_run }),
    ...(r.released && { released: r.released_run }),
  };
}

export async function isKept(videoId: string, run: Run): Promise<boolean> {
  const runs = await videoRuns(videoId);
  return runs !== undefined && keptRuns(runs).includes(run);
}

/**
 * Removes the documents of those of `candidates` (the runs a video kept before a change: a new run, a release)
 * that it keeps no more. Only named candidates go, never a run begun meanwhile; a computation still writing a
 * run that goes checks after writing (isKept) and removes what it wrote.
 */
export async function removeUnkeptRuns(videoId: string, candidates: readonly Run[]): Promise<void> {
  const runs = await videoRuns(videoId);
  if (!runs) return;
  for (const run of unkeptRuns(candidates, runs)) await deleteRun(videoId, run);
}
