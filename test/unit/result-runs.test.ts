import { describe, expect, it } from 'vitest';
import { documentId } from '../../functions/lib/document-id.ts';
import { keptRuns, unkeptRuns } from '../../functions/analytics/runs.ts';
import { rollupId, seriesId } from '../../functions/analytics/store.ts';

describe('runs a video keeps', () => {
  it('are the runs being computed, last completed and released, each once', () => {
    expect(keptRuns({})).toEqual([]);
    expect(keptRuns({ metrics: 'r2', ingested: 'r1', released: 'r1' })).toEqual(['r2', 'r1']);
    // null is a run too: the results from before runs were named
    expect(keptRuns({ metrics: null, ingested: null, released: null })).toEqual([null]);
  });

  it('let go of a released run once a newer one is released, and of a replaced unreleased or failed run', () => {
    const before = keptRuns({ metrics: 'r2', ingested: 'r2', released: 'r1' });
    expect(unkeptRuns(before, { metrics: 'r2', ingested: 'r2', released: 'r2' })).toEqual(['r1']);
    expect(unkeptRuns(keptRuns({ metrics: 'failed', ingested: 'r1' }), { metrics: 'r3', ingested: 'r3' })).toEqual(['failed', 'r1']);
    expect(unkeptRuns([null], { metrics: 'r2', ingested: 'r2', released: null })).toEqual([]);
    expect(unkeptRuns([null], { metrics: 'r2', ingested: 'r2', released: 'r2' })).toEqual([null]);
  });
});

describe('result document ids', () => {
  it('carry the run; results from before runs were named keep their ids', () => {
    const k = { videoId: 'v', detGroupId: 'g' };
    expect(seriesId({ ...k, run: null }).toHexString()).toBe(documentId('v', 'g'));
    expect(rollupId({ ...k, run: null }, 60).toHexString()).toBe(documentId('v', 'g', '60'));
    expect(seriesId({ ...k, run: 'ingest-1' }).toHexString()).toBe(documentId('v', 'g', 'ingest-1'));
    expect(rollupId({ ...k, run: 'ingest-1' }, 'video').toHexString()).toBe(documentId('v', 'g', 'ingest-1', 'video'));
    expect(rollupId({ ...k, run: 'ingest-2' }, 'video')).not.toEqual(rollupId({ ...k, run: 'ingest-1' }, 'video'));
  });
});
