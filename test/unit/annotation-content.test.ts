// The rules of a processContent request and an upload's task plan. Pure.
import { describe, expect, it } from 'vitest';
import { assertFrameRate, assertRequestAllowed, planTasks, tasksProgress, unifyNames, type ProcessContentInput } from '../../functions/annotation/content.ts';
import { newUpload } from '../../functions/annotation/documents.ts';
import { ProcessContent } from '../../functions/annotation/schemas.ts';
import { AppError } from '../../functions/lib/errors.ts';

const UPLOAD = '2f1d3c4b-5a69-4788-9abc-def012345678';
const PROJECT = '7c1d3c4b-5a69-4788-9abc-def012345678';

const codeOf = (f: () => void): string | undefined => {
  try {
    f();
  } catch (err) {
    return err instanceof AppError ? `${err.status} ${err.code}` : String(err);
  }
  return undefined;
};

describe('processContent request', () => {
  it('takes camelCase or the older snake_case names, with the older defaults', () => {
    const snake = ProcessContent.parse({ upload_id: UPLOAD, project_id: PROJECT, frame_rate: 5, content_type: 1 });
    const camel = ProcessContent.parse({ uploadId: UPLOAD, projectId: PROJECT, frameRate: 5, contentType: 1 });
    expect(snake).toEqual(camel);
    expect(camel).toEqual({ uploadId: UPLOAD, projectId: PROJECT, frameRate: 5, forceWrite: 0, autoAnnoVersion: 0, requestType: 0, contentType: 1 });
  });

  it('refuses a field named both ways with different values, and frame rates that are not whole and positive', () => {
    expect(codeOf(() => unifyNames({ frameRate: 5, frame_rate: 4 }))).toBe('400 BadRequest');
    expect(unifyNames({ frameRate: 5, frame_rate: 5 })).toEqual({ frameRate: 5 });
    for (const frameRate of [0, 2.5, -1, '5']) {
      expect(ProcessContent.safeParse({ uploadId: UPLOAD, projectId: PROJECT, frameRate, contentType: 1 }).success, String(frameRate)).toBe(false);
    }
    expect(ProcessContent.safeParse({ uploadId: UPLOAD, projectId: PROJECT, frameRate: 5, contentType: 3 }).success).toBe(false);
    expect(ProcessContent.safeParse({ uploadId: UPLOAD, projectId: PROJECT, frameRate: 5, contentType: 1, requestType: 1 }).success).toBe(false);
  });

  it('allows a frame rate up to the source rate exactly', () => {
    expect(codeOf(() => assertFrameRate(25, { frameRate: 25, exactFrameRate: '25/1' }))).toBeUndefined();
    expect(codeOf(() => assertFrameRate(26, { frameRate: 25, exactFrameRate: '25/1' }))).toBe('400 FrameRateAboveSource');
    expect(codeOf(() => assertFrameRate(30, { frameRate: 29.97, exactFrameRate: '30000/1001' }))).toBe('400 FrameRateAboveSource');
    expect(codeOf(() => assertFrameRate(29, { frameRate: 29.97, exactFrameRate: '30000/1001' }))).toBeUndefined();
  });
});

describe('whether an upload takes a request', () => {
  const upload = newUpload({ uploadId: UPLOAD, projectId: PROJECT, fileName: 'a.mp4', contentType: 1, sizeBytes: 10 }, '2026-01-01T00:00:00Z');
  const input: ProcessContentInput = { uploadId: UPLOAD, projectId: PROJECT, frameRate: 5, forceWrite: 0, autoAnnoVersion: 0, requestType: 0, contentType: 1 };
  const ready = { uploaded: true, running: false, taskCount: 0 };

  it('needs the whole content, no running request, the same project and content type', () => {
    expect(codeOf(() => assertRequestAllowed(upload, input, ready))).toBeUndefined();
    expect(codeOf(() => assertRequestAllowed(upload, input, { ...ready, uploaded: false }))).toBe('409 UploadInProgress');
    expect(codeOf(() => assertRequestAllowed(upload, input, { ...ready, running: true }))).toBe('409 Conflict');
    expect(codeOf(() => assertRequestAllowed(upload, { ...input, projectId: UPLOAD }, ready))).toBe('404 NotFound');
    expect(codeOf(() => assertRequestAllowed(upload, { ...input, contentType: 2 }, ready))).toBe('409 Conflict');
  });

  it('leaves a processed upload alone without forceWrite, and needs tasks for auto annotations alone', () => {
    const processed = { ...upload, status: 1 as const, taskCount: 3, processedAt: '2026-01-01T00:01:00Z' };
    expect(codeOf(() => assertRequestAllowed(processed, input, { ...ready, taskCount: 3 }))).toBe('409 Conflict');
    expect(codeOf(() => assertRequestAllowed(processed, { ...input, forceWrite: 1 }, { ...ready, taskCount: 3 }))).toBeUndefined();
    expect(codeOf(() => assertRequestAllowed(upload, { ...input, requestType: 2, autoAnnoVersion: 1 }, ready))).toBe('409 Conflict');
    expect(codeOf(() => assertRequestAllowed(processed, { ...input, requestType: 2, autoAnnoVersion: 1 }, { ...ready, taskCount: 3 }))).toBeUndefined();
    // a later request that failed (auto annotations alone, say) leaves it processed
    expect(codeOf(() => assertRequestAllowed({ ...processed, status: 2 }, input, { ...ready, taskCount: 3 }))).toBe('409 Conflict');
  });
});

describe('task plan', () => {
  it('puts framesPerTask consecutive sampled frames in each task, the rest in the last', () => {
    expect(planTasks(20, 8)).toEqual([{ index: 0, first: 0, count: 8 }, { index: 1, first: 8, count: 8 }, { index: 2, first: 16, count: 4 }]);
    expect(planTasks(16, 8)).toHaveLength(2);
    expect(planTasks(0, 8)).toEqual([]);
    expect(() => planTasks(10, 0)).toThrow(RangeError);
  });

  it('raises progress from 5 to 95 as tasks are generated', () => {
    expect([0, 1, 2, 3].map((d) => tasksProgress(d, 3))).toEqual([5, 35, 65, 95]);
    expect(tasksProgress(0, 0)).toBe(95);
  });
});
