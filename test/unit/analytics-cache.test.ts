import { describe, expect, it } from 'vitest';
import { assembleMetricsParts, BUCKET_COLUMNS, gameSection, roundForChart, totalsOf, videoFragment } from '../../functions/analytics/assemble.ts';
import { CACHE_FORMAT, fragmentKey, gameMetricsKey, gameSectionKey, seasonMetaKey, seasonMetricsKey } from '../../functions/analytics/cache-keys.ts';
import type { Bucket } from '../../functions/analytics/rollup.ts';
import { compress, decompress, ifNoneMatchHits, negotiateEncoding, payloadHash, representationEtag } from '../../functions/lib/encoding.ts';

const bucket = (start: number, frames: number, meanArea: number, maxArea: number, meanEffectiveness: number): Bucket => ({
  start, frames, visibleFrames: Math.floor(frames / 2), exposureSeconds: frames / 10, detections: frames,
  meanArea, maxArea, meanEffectiveness, sumEffectiveness: meanEffectiveness * frames,
});

describe('cache keys', () => {
  const base = { seasonId: 's1', seasonVersion: '100', clientId: 'c1', clientVersion: '200', resolution: 60 as const };
  it('carry every version, so a change of any makes a new key', () => {
    const k = seasonMetricsKey(base);
    expect(k).toBe(`season-metrics:${CACHE_FORMAT}:s1@100:client:c1@200:r60`);
    expect(seasonMetricsKey({ ...base, seasonVersion: '101' })).not.toBe(k);
    expect(seasonMetricsKey({ ...base, clientVersion: '201' })).not.toBe(k);
    expect(seasonMetricsKey({ ...base, resolution: 'video' })).not.toBe(k);
    expect(seasonMetricsKey({ ...base, clientId: 'c2' })).not.toBe(k);
    expect(gameMetricsKey({ ...base, gameId: 'g1' })).toBe(`game-metrics:${CACHE_FORMAT}:g1:season@100:client:c1@200:r60`);
    expect(seasonMetaKey('s1', '100', 'released')).not.toBe(seasonMetaKey('s1', '100', 'all'));
    const f = { videoId: 'v', run: 'ingest-1', detGroupId: 'd', detGroupVersion: '2', resolution: 1 as const };
    expect(fragmentKey(f)).toBe(`fragment:${CACHE_FORMAT}:video:v:run:ingest-1:dg:d@2:r1`);
    expect(fragmentKey({ ...f, run: 'ingest-2' })).not.toBe(fragmentKey(f));
    expect(fragmentKey({ ...f, run: null })).toBe(`fragment:${CACHE_FORMAT}:video:v:run:unnamed:dg:d@2:r1`);
    expect(fragmentKey({ ...f, detGroupVersion: '3' })).not.toBe(fragmentKey(f));
    const section = { gameId: 'g', title: 'T', startsAt: 's', videos: [{ id: 'v', run: 'ingest-1' as string | null }], detGroups: [{ id: 'd', version: '2' }, { id: 'e', version: '3' }], resolution: 60 as const };
    const sk = gameSectionKey(section);
    expect(sk).toMatch(new RegExp(`^game-section:${CACHE_FORMAT}:g:r60:[A-Za-z0-9_-]{43}$`));
    expect(gameSectionKey({ ...section })).toBe(sk);
    for (const changed of [
      { title: 'T2' },
      { startsAt: 's2' },
      { videos: [{ id: 'v', run: 'ingest-2' }] },
      { videos: [{ id: 'v', run: null }] },
      { videos: [{ id: 'v', run: 'ingest-1' }, { id: 'w', run: 'ingest-1' }] },
      { detGroups: [{ id: 'd', version: '2' }] },
      { detGroups: [{ id: 'e', version: '3' }, { id: 'd', version: '2' }] },
      { detGroups: [{ id: 'd', version: '9' }, { id: 'e', version: '3' }] },
      { resolution: 10 as const },
      { gameId: 'h' },
    ]) {
      expect(gameSectionKey({ ...section, ...changed }), JSON.stringify(changed)).not.toBe(sk);
    }
  });
  it('refuse parts that could make two keys collide', () => {
    expect(() => seasonMetaKey('a:b', '1', 'all')).toThrow(RangeError);
    expect(() => seasonMetaKey('a', '1@2', 'all')).toThrow(RangeError);
    expect(() => seasonMetaKey('', '1', 'all')).toThrow(RangeError);
  });
});

const joined = (parts: readonly (string | { json: string })[]) => parts.map((p) => (typeof p === 'string' ? p : p.json)).join('');

describe('totals and assembly', () => {
  it('sums, frame-weights the means and takes the max of maxArea', () => {
    const t = totalsOf([bucket(0, 10, 0.1, 0.3, 0.2), bucket(60, 30, 0.2, 0.5, 0.4)]);
    expect(t).toMatchObject({ frames: 40, visibleFrames: 5 + 15, detections: 40, maxArea: 0.5 });
    expect(t.exposureSeconds).toBeCloseTo(4, 12);
    expect(t.meanArea).toBeCloseTo((0.1 * 10 + 0.2 * 30) / 40, 12);
    expect(t.meanEffectiveness).toBeCloseTo((0.2 * 10 + 0.4 * 30) / 40, 12);
    expect(t.sumEffectiveness).toBeCloseTo(2 + 12, 12);
    // totals of totals are the totals of all buckets
    const a = [bucket(0, 7, 0.3, 0.4, 0.1)];
    const b = [bucket(0, 13, 0.05, 0.9, 0.6), bucket(60, 2, 0.5, 0.6, 0.2)];
    const nested = totalsOf([totalsOf(a), totalsOf(b)]);
    const flat = totalsOf([...a, ...b]);
    for (const [k, v] of Object.entries(flat)) expect(nested[k as keyof typeof nested]).toBeCloseTo(v, 12);
    expect(totalsOf([])).toMatchObject({ frames: 0, meanArea: 0, maxArea: 0 });
  });
  it('assembles per game, per det_group, per video, leaving out what has no fragment; season totals from the games', () => {
    const games = [
      { id: 'g1', title: 'G1', startsAt: 't1', videoIds: ['v1', 'v2'] },
      { id: 'g2', title: 'G2', startsAt: 't2', videoIds: ['v3'] },
    ];
    const detGroups = [{ id: 'd1', name: 'D1' }, { id: 'd2', name: 'D"2' }];
    const buckets = [bucket(0, 10, 0.1, 0.2, 0.3)];
    const sections = games.map((g) => gameSection(g, detGroups, (v, d) => (d === 'd2' && v !== 'v3' ? undefined : videoFragment(v, 5, buckets))));
    expect(Object.keys(sections[0]!.totals)).toEqual(['d1']);
    expect(sections[0]!.totals.d1!.frames).toBe(20);
    const parts = assembleMetricsParts({ seasonId: 's1', resolution: '60' }, detGroups, sections);
    // text, then the sections with the text between them
    expect(parts.filter((p) => typeof p !== 'string')).toEqual(sections);
    const out = JSON.parse(joined(parts));
    expect(out).toMatchObject({ seasonId: 's1', resolution: '60' });
    expect(out.detGroups.map((d: { id: string; name: string; totals: { frames: number } }) => [d.id, d.name, d.totals.frames])).toEqual([
      ['d1', 'D1', 30],
      ['d2', 'D"2', 10],
    ]);
    expect(out.games.map((g: { id: string; title: string }) => [g.id, g.title])).toEqual([['g1', 'G1'], ['g2', 'G2']]);
    expect(out.games[0].detGroups.map((d: { id: string; videos: { videoId: string }[] }) => [d.id, d.videos.map((v) => v.videoId)])).toEqual([['d1', ['v1', 'v2']]]);
    expect(out.games[1].detGroups.map((d: { id: string }) => d.id)).toEqual(['d1', 'd2']);
    expect(out.games[0].detGroups[0].totals.frames).toBe(20);
    expect(JSON.parse(joined(assembleMetricsParts({}, detGroups, [])))).toEqual({ detGroups: detGroups.map((d) => ({ ...d, totals: totalsOf([]) })), games: [] });
  });
  it('writes the buckets of a video as columns rounded to 6 significant digits, with exact totals', () => {
    const buckets = [bucket(0, 300, 0.0123456789, 0.0456789123, 0.00987654321), bucket(60, 120, 0.1, 0.2, 0.3)];
    const f = videoFragment('v1', 5, buckets);
    const parsed = JSON.parse(f.json);
    expect(parsed.videoId).toBe('v1');
    expect(parsed.frameRate).toBe(5);
    expect(Object.keys(parsed.buckets)).toEqual([...BUCKET_COLUMNS]);
    expect(parsed.buckets.start).toEqual([0, 60]);
    expect(parsed.buckets.frames).toEqual([300, 120]);
    expect(parsed.buckets.meanArea[0]).toBe(0.0123457);
    for (const c of BUCKET_COLUMNS) expect(parsed.buckets[c]).toEqual(buckets.map((b) => roundForChart(b[c])));
    expect(f.totals).toEqual(totalsOf(buckets));
    expect(roundForChart(123456789)).toBe(123456789);
    expect(roundForChart(1234.56789)).toBe(1234.57);
  });
});

describe('content coding and ETags', () => {
  it('prefers br, then gzip, honours q=0 and *', () => {
    expect(negotiateEncoding('gzip, deflate, br')).toBe('br');
    expect(negotiateEncoding('gzip')).toBe('gzip');
    expect(negotiateEncoding('br;q=0, gzip;q=0.5')).toBe('gzip');
    expect(negotiateEncoding('*')).toBe('br');
    expect(negotiateEncoding('*, br;q=0')).toBe('gzip');
    expect(negotiateEncoding(undefined)).toBe('identity');
    expect(negotiateEncoding('identity')).toBe('identity');
  });
  it('answers in the stored encoding when the request accepts it', () => {
    expect(negotiateEncoding('gzip, deflate, br', 'gzip')).toBe('gzip');
    expect(negotiateEncoding('br', 'gzip')).toBe('br');
    expect(negotiateEncoding('gzip;q=0, br', 'gzip')).toBe('br');
    expect(negotiateEncoding(undefined, 'gzip')).toBe('identity');
    expect(negotiateEncoding('*', 'gzip')).toBe('gzip');
  });
  it('round-trips br and gzip', () => {
    const data = Buffer.from(JSON.stringify({ a: Array.from({ length: 1000 }, (_, i) => i) }));
    for (const e of ['br', 'gzip', 'identity'] as const) expect(decompress(compress(data, e), e).equals(data)).toBe(true);
    expect(compress(data, 'br').length).toBeLessThan(data.length / 2);
  });
  it('gives each representation its own strong ETag and matches any of them', () => {
    const h = payloadHash('{"x":1}');
    expect(h).not.toBe(payloadHash('{"x":2}'));
    expect(representationEtag(h, 'identity')).toBe(`"${h}"`);
    expect(representationEtag(h, 'br')).toBe(`"${h}-br"`);
    expect(ifNoneMatchHits(`"${h}-gzip"`, h)).toBe(true);
    expect(ifNoneMatchHits(`"other", W/"${h}"`, h)).toBe(true);
    expect(ifNoneMatchHits('*', h)).toBe(true);
    expect(ifNoneMatchHits('"other"', h)).toBe(false);
    expect(ifNoneMatchHits(undefined, h)).toBe(false);
  });
});
