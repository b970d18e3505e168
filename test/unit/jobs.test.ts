import { describe, expect, it } from 'vitest';
import { afterRunEnded, canMove, decodeJobCursor, encodeJobCursor, executionName, ingestJobId, JOB_ID, jobErrorFromCatch, segmentationJobId, statesBefore } from '../../functions/jobs/job.ts';

describe('job states', () => {
  it('moves forward only, and back to queued only from failed', () => {
    expect(canMove('queued', 'working')).toBe(true);
    expect(canMove('working', 'succeeded')).toBe(true);
    expect(canMove('succeeded', 'failed')).toBe(false);
    expect(canMove('succeeded', 'working')).toBe(false);
    expect(canMove('failed', 'working')).toBe(false);
    expect(canMove('failed', 'queued')).toBe(true);
    expect(canMove('working', 'queued')).toBe(false);
    expect(statesBefore('queued')).toEqual(['failed']);
    expect(statesBefore('failed')).toEqual(['queued', 'working']);
  });

  it('gives the same uploaded object the same job id, and another write another id', () => {
    const a = ingestJobId('v1', 'videos/v1/source', 'etag', '2026-12-05T01:00:00.000Z');
    expect(ingestJobId('v1', 'videos/v1/source', 'etag', '2026-12-05T01:00:00.000Z')).toBe(a);
    expect(ingestJobId('v1', 'videos/v1/source', 'etag', '2026-12-05T01:00:01.000Z')).not.toBe(a);
    expect(ingestJobId('v1', 'videos/v1/source', 'etag2', '2026-12-05T01:00:00.000Z')).not.toBe(a);
    expect(a).toMatch(/^ingest-v1-[0-9a-f]{16}$/);
  });

  it('names segmentation runs by kind and datastack, each request apart', () => {
    expect(segmentationJobId('ingest-annotations', 'minnie', 'a1b2c3d4')).toBe('segment-minnie-a1b2c3d4');
    expect(segmentationJobId('update-roots', 'minnie', 'a1b2c3d4')).toBe('roots-minnie-a1b2c3d4');
  });

  it('names each requeued run apart', () => {
    expect(executionName('j', 0)).toBe('j');
    expect(executionName('j', 2)).toBe('j-r2');
    expect(executionName('j', 0, 1)).toBe('j-s1');
    expect(executionName('j', 2, 3)).toBe('j-r2-s3');
  });

  it('runs a job whose run ended without an outcome 3 times in all, then closes it through its workflow, then fails it', () => {
    expect(afterRunEnded({}, true)).toBe('resume');
    expect(afterRunEnded({ resumes: 1 }, true)).toBe('resume');
    expect(afterRunEnded({ resumes: 2 }, true)).toBe('close');
    expect(afterRunEnded({ resumes: 3 }, true)).toBe('close');
    expect(afterRunEnded({ resumes: 4 }, true)).toBe('fail');
    expect(afterRunEnded({ resumes: 2 }, false)).toBe('fail');
  });

  it('reads a Lambda error out of a Catch, and plain causes as they are', () => {
    expect(jobErrorFromCatch({ Error: 'NotAVideo', Cause: JSON.stringify({ errorType: 'NotAVideo', errorMessage: 'no video stream' }) })).toEqual({
      code: 'NotAVideo',
      message: 'no video stream',
    });
    expect(jobErrorFromCatch({ Error: 'States.Timeout', Cause: 'took too long' })).toEqual({ code: 'States.Timeout', message: 'took too long' });
    expect(jobErrorFromCatch(undefined)).toEqual({ code: 'Error', message: 'Error' });
  });
});

describe('job ids and list cursors', () => {
  it('names every job the system makes with an id of the documented form', () => {
    const uuid = '3f0c6a9e-6f0e-4c1e-9a4b-2d9c7f1e5a10';
    for (const id of [ingestJobId(uuid, `videos/${uuid}/source`, 'e', 's'), `detgroup-${uuid}-${uuid}`, segmentationJobId('update-roots', 'd'.repeat(40), 'abcdef12'), `materialize-${'d'.repeat(40)}-monthly-2026-12`]) {
      expect(id).toMatch(JOB_ID);
    }
    for (const bad of ['', 'x'.repeat(129), 'Ingest-1', '1-job', 'a b', 'a/b', 'a\u0000b']) expect(bad).not.toMatch(JOB_ID);
  });

  it('takes back only a cursor of the same query, in the key shape of the index the query reads', () => {
    const at = '2026-01-01T00:00:00.000Z';
    const videoId = '3f0c6a9e-6f0e-4c1e-9a4b-2d9c7f1e5a10';
    const byState = encodeJobCursor({ jobId: 'ingest-x-1', state: 'failed', updatedAt: at });
    const byVideo = encodeJobCursor({ jobId: 'ingest-x-1', videoId, createdAt: at });
    const scan = encodeJobCursor({ jobId: 'ingest-x-1' });
    expect(decodeJobCursor(byState, { state: 'failed' })).toEqual({ jobId: 'ingest-x-1', state: 'failed', updatedAt: at });
    expect(decodeJobCursor(byVideo, { videoId, state: 'failed' })).toEqual({ jobId: 'ingest-x-1', videoId, createdAt: at });
    expect(decodeJobCursor(scan, {})).toEqual({ jobId: 'ingest-x-1' });

    expect(decodeJobCursor(byState, { state: 'succeeded' })).toBeUndefined();
    expect(decodeJobCursor(byState, {})).toBeUndefined();
    expect(decodeJobCursor(byVideo, { videoId: '00000000-0000-4000-8000-000000000000' })).toBeUndefined();
    expect(decodeJobCursor(scan, { state: 'failed' })).toBeUndefined();
    const forge = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    for (const bad of [
      'garbage', 'eyJmb28iOjF9', '', '!!!', 'A'.repeat(2000), forge(null), forge([1]), forge('x'), forge({ jobId: 1 }),
      forge({ jobId: 'x'.repeat(3000) }), forge({ jobId: 'ingest-x-1', extra: 1 }), forge({ jobId: 'ingest-x-1', state: 'failed', updatedAt: 'yesterday' }),
      forge({ jobId: 'ingest-x-1', state: 'failed', updatedAt: { S: at } }),
    ]) {
      for (const query of [{}, { state: 'failed' as const }]) expect(decodeJobCursor(bad, query), bad.slice(0, 40)).toBeUndefined();
    }
  });
});
