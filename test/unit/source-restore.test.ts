import { describe, expect, it } from 'vitest';
import { sourceState } from '../../functions/ingest/restore.ts';
import { restoreHeader } from '../../infra/local/s3-archive.ts';

describe("a source video's state, from S3's HEAD", () => {
  it('readable in any class but the archived ones', () => {
    for (const c of [undefined, 'STANDARD', 'GLACIER_IR', 'STANDARD_IA', 'INTELLIGENT_TIERING']) expect(sourceState(c, undefined), String(c)).toBe('readable');
  });

  it('archived (GLACIER, DEEP_ARCHIVE) without a restore; restoring while ongoing; readable once a copy is', () => {
    for (const c of ['GLACIER', 'DEEP_ARCHIVE']) {
      expect(sourceState(c, undefined)).toBe('archived');
      expect(sourceState(c, 'ongoing-request="true"')).toBe('restoring');
      expect(sourceState(c, 'ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"')).toBe('readable');
    }
  });

  it("reads the local S3's own x-amz-restore headers as it reads S3's", () => {
    const now = Date.parse('2026-12-05T12:00:00Z');
    const asked = { days: 3, tier: 'Standard', requestedAt: now - 1000, completesAt: now + 1000 };
    expect(sourceState('DEEP_ARCHIVE', restoreHeader(asked, now))).toBe('restoring');
    const done = { ...asked, expiresAt: now + 3 * 86_400_000 };
    expect(restoreHeader(done, now)).toBe('ongoing-request="false", expiry-date="Tue, 08 Dec 2026 12:00:00 GMT"');
    expect(sourceState('DEEP_ARCHIVE', restoreHeader(done, now))).toBe('readable');
    // an expired copy is gone, as S3 drops the header
    expect(sourceState('DEEP_ARCHIVE', restoreHeader(done, done.expiresAt + 1))).toBe('archived');
  });
});
