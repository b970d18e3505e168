import { describe, expect, it } from 'vitest';
import { afterRunEnded, canMove, executionName, ingestJobId, jobErrorFromCatch, segmentationJobId, statesBefore } from '../../functions/jobs/job.ts';

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

  it('gives the same upload the same job id, and another write another id', () => {
    const a = ingestJobId('v1', 'videos/v1/source', 'etag', '0001');
    expect(ingestJobId('v1', 'videos/v1/source', 'etag', '0001')).toBe(a);
    expect(ingestJobId('v1', 'videos/v1/source', 'etag', '0002')).not.toBe(a);
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
