// A det_group's best frames on the shared local cloud, from a sample game ingested for real (frames extracted by
// ffmpeg into S3, metrics computed): the ranking is the frame series' own, each frame is drawn with the det_group's
// boxes in their colours on the extracted frame, drawn once and then served from S3, and a client sees only the
// released results of its own det_groups.
import { DeleteObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { apiClient, eventually } from '../support/api.ts';
import { storedFrames, storedPacks } from '../support/frame-packs.ts';
import { ingestSampleGame, release, type IngestedGame } from '../support/sample-ingest.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const endpoints = inject('endpoints');
const BUCKET = 'framewise-media';
const s3 = new S3Client({ endpoint: endpoints.s3, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 't', secretAccessKey: 't' } });
const STAMP = `${Date.now().toString(36)}${process.pid}`;

let g: IngestedGame;
let analyst: ReturnType<typeof apiClient>;
/** The run of the re-run test, released by it. */
let rerunId: string;

beforeAll(async () => {
  g = await ingestSampleGame(STAMP);
  analyst = apiClient(g.analystKey);
}, 120_000);

/** The frame image request, not followed: status, headers and the S3 key the redirect points at. */
async function frameImage(key: string, videoId: string, frame: number | string, detGroupId: string) {
  const res = await fetch(`${endpoints.api}/v1/videos/${videoId}/best-frames/${frame}.jpg?detGroup=${detGroupId}`, {
    headers: { authorization: `Bearer ${key}` }, redirect: 'manual',
  });
  const location = res.headers.get('location');
  const objectKey = location ? decodeURIComponent(new URL(location).pathname.replace(`/${BUCKET}/`, '')) : undefined;
  return { status: res.status, cache: res.headers.get('x-cache'), location, objectKey, body: (location ? undefined : await res.json()) as Json };
}

const pixels = async (jpeg: Buffer) => {
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, at: (x: number, y: number) => [0, 1, 2].map((c) => data[(y * info.width + x) * info.channels + c]!) };
};
const rgb = (hex: string) => [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
const distance = (a: number[], b: number[]) => Math.hypot(...a.map((v, i) => v - b[i]!));
const median = (values: number[]) => values.slice().sort((a, b) => a - b)[values.length >> 1]!;
/** The pixels along a box's four edges ([x, y, w, h], whole pixels, inside the frame). */
const edge = ([x, y, w, h]: [number, number, number, number]): [number, number][] => [
  ...Array.from({ length: w }, (_, i): [number, number] => [x + i, y]), ...Array.from({ length: w }, (_, i): [number, number] => [x + i, y + h - 1]),
  ...Array.from({ length: h }, (_, i): [number, number] => [x, y + i]), ...Array.from({ length: h }, (_, i): [number, number] => [x + w - 1, y + i]),
];

/** Frame `frame` as run `run` of the video extracted it, read from the run's frame packs. */
async function extractedFrame(videoId: string, run: string, frame: number): Promise<Buffer> {
  const jpeg = (await storedFrames(s3, BUCKET, videoId)).get(run)?.get(frame);
  if (!jpeg) throw new Error(`no frame ${frame} of run ${run} of video ${videoId}`);
  return jpeg;
}

const runsOf = async (videoId: string): Promise<string[]> =>
  ((await analyst('GET', `/v1/jobs?videoId=${videoId}&limit=10`)).body.jobs as Json[]).map((j) => j.jobId as string);

const drawnObjects = async () =>
  (await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'cache/best-frames/' }))).Contents?.filter((o) => o.Key!.includes(g.videoId)).length ?? 0;

describe('best frames of a det_group', () => {
  it('are the frames of the series with the highest effectiveness, with the detections the metrics counted', async () => {
    const series = await analyst('GET', `/v1/videos/${g.videoId}/frames?detGroup=${g.detGroupId}`);
    expect(series.status).toBe(200);
    const expected = (series.body.frames as Json[])
      .filter((f) => f.effectiveness > 0)
      .sort((a, b) => b.effectiveness - a.effectiveness || a.frame - b.frame)
      .slice(0, 5);
    expect(expected.length).toBe(5);

    const best = await analyst('GET', `/v1/videos/${g.videoId}/best-frames?detGroup=${g.detGroupId}&limit=5`);
    expect(best.status, JSON.stringify(best.body)).toBe(200);
    expect(best.body).toMatchObject({ videoId: g.videoId, detGroupId: g.detGroupId, frameRate: 5, width: 320, height: 240 });
    expect(best.body.frames.map((f: Json) => [f.frame, f.time, f.effectiveness])).toEqual(expected.map((f) => [f.frame, f.time, f.effectiveness]));
    // Both logos have a colour of their own; every frame shows the detections it was measured by, as many as it counted.
    const colours = new Map((best.body.legend as Json[]).map((l) => [l.label, l.color]));
    expect([...colours.keys()].sort()).toEqual([...g.labels].sort());
    expect(new Set(colours.values()).size).toBe(2);
    for (const f of best.body.frames) {
      expect(f.detections.length, `frame ${f.frame}`).toBe(expected.find((e) => e.frame === f.frame).count);
      for (const d of f.detections) expect(d.color).toBe(colours.get(d.label));
      expect(f.image).toBe(`/v1/videos/${g.videoId}/best-frames/${f.frame}.jpg?detGroup=${g.detGroupId}`);
    }
  });

  it('are drawn on the extracted frame with their boxes, once, and then served from S3', async () => {
    const best = (await analyst('GET', `/v1/videos/${g.videoId}/best-frames?detGroup=${g.detGroupId}&limit=1`)).body.frames[0];
    const first = await frameImage(g.analystKey, g.videoId, best.frame, g.detGroupId);
    expect(first.status, JSON.stringify(first.body)).toBe(302);
    expect(first.cache).toBe('miss');
    const drawn = await pixels(Buffer.from(await (await fetch(first.location!)).arrayBuffer()));
    const [run] = await runsOf(g.videoId);
    const raw = await pixels(await extractedFrame(g.videoId, run!, best.frame));
    expect([drawn.width, drawn.height]).toEqual([raw.width, raw.height]);
    expect([drawn.width, drawn.height]).toEqual([g.game.width, g.game.height]);

    for (const d of best.detections) {
      const [x, y, w, h] = d.box;
      expect(x >= 1 && y >= 1 && x + w < drawn.width && y + h < drawn.height, `box ${d.box} inside the frame`).toBe(true);
      const colour = rgb(d.color);
      const onEdge = (p: typeof drawn) => median(edge(d.box).map(([px, py]) => distance(p.at(px, py), colour)));
      expect(onEdge(drawn), `${d.label}'s edge is ${d.color}`).toBeLessThan(40);
      expect(onEdge(raw), `the frame itself is not ${d.color} there`).toBeGreaterThan(120);
      // inside the box the picture is the frame's (the logo)
      const centre = [x + Math.floor(w / 2), y + Math.floor(h / 2)] as const;
      expect(distance(drawn.at(...centre), raw.at(...centre))).toBeLessThan(30);
    }

    const stored = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: first.objectKey! }));
    await new Promise((r) => setTimeout(r, 1100));
    const second = await frameImage(g.analystKey, g.videoId, best.frame, g.detGroupId);
    expect(second.status).toBe(302);
    expect(second.cache).toBe('hit');
    expect(second.objectKey).toBe(first.objectKey);
    const again = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: first.objectKey! }));
    expect([again.ETag, again.LastModified?.getTime()]).toEqual([stored.ETag, stored.LastModified?.getTime()]);
  });

  it('refuse bad requests clearly and draw nothing for them', async () => {
    const before = await drawnObjects();
    const unknownVideo = await analyst('GET', `/v1/videos/00000000-0000-4000-8000-000000000000/best-frames?detGroup=${g.detGroupId}`);
    expect(unknownVideo.status).toBe(404);
    expect(unknownVideo.body.error.code).toBe('NotFound');
    expect((await analyst('GET', `/v1/videos/${g.videoId}/best-frames?detGroup=${g.detGroupId}&limit=0`)).status).toBe(400);
    expect((await analyst('GET', `/v1/videos/${g.videoId}/best-frames`)).status).toBe(400);
    const notAFrame = await frameImage(g.analystKey, g.videoId, 999_999, g.detGroupId);
    expect(notAFrame.status).toBe(404);
    expect(notAFrame.body.error.message).toContain('frame 999999');
    const badName = await fetch(`${endpoints.api}/v1/videos/${g.videoId}/best-frames/first.jpg?detGroup=${g.detGroupId}`, { headers: { authorization: `Bearer ${g.analystKey}` }, redirect: 'manual' });
    expect(badName.status).toBe(400);
    expect((await frameImage(g.analystKey, '00000000-0000-4000-8000-000000000000', 0, g.detGroupId)).status).toBe(404);
    expect(await drawnObjects()).toBe(before);
  });

  it('are refused to a client until released, and to a client of another det_group always', async () => {
    const asClient = apiClient(g.clientKey);
    const list = () => asClient('GET', `/v1/videos/${g.videoId}/best-frames?detGroup=${g.detGroupId}&limit=3`);
    const unreleased = await list();
    expect(unreleased.status).toBe(404);
    expect((await frameImage(g.clientKey, g.videoId, 1, g.detGroupId)).status).toBe(404);

    await release(g);
    const released = await list();
    expect(released.status, JSON.stringify(released.body)).toBe(200);
    const asAnalyst = await analyst('GET', `/v1/videos/${g.videoId}/best-frames?detGroup=${g.detGroupId}&limit=3`);
    expect(released.body).toEqual(asAnalyst.body);
    const image = await frameImage(g.clientKey, g.videoId, released.body.frames[0].frame, g.detGroupId);
    expect(image.status).toBe(302);
    expect((await fetch(image.location!)).headers.get('content-type')).toBe('image/jpeg');

    // The other client holds its own det_group, not this one: as if it did not exist.
    const before = await drawnObjects();
    const other = apiClient(g.otherClientKey);
    expect((await other('GET', `/v1/videos/${g.videoId}/best-frames?detGroup=${g.detGroupId}`)).status).toBe(404);
    expect((await frameImage(g.otherClientKey, g.videoId, released.body.frames[1].frame, g.detGroupId)).status).toBe(404);
    expect((await other('GET', `/v1/videos/${g.videoId}/best-frames?detGroup=${g.otherDetGroupId}`)).status).toBe(200);
    expect(await drawnObjects()).toBe(before);
  });

  it("are drawn anew from a re-run's results once released, and from the released run's own frames while the re-run waits for release", async () => {
    const asClient = apiClient(g.clientKey);
    const path = `/v1/videos/${g.videoId}/best-frames?detGroup=${g.detGroupId}&limit=2`;
    const listed = await asClient('GET', path);
    const [frame, undrawn] = listed.body.frames.map((f: Json) => f.frame as number);
    const drawnBefore = await frameImage(g.clientKey, g.videoId, frame, g.detGroupId);
    expect(drawnBefore.status).toBe(302);

    const [firstRun] = await runsOf(g.videoId);
    expect((await analyst('POST', `/v1/videos/${g.videoId}/ingest`, { force: true })).status).toBe(201);
    const rerun = await eventually(async () => {
      const j = (await analyst('GET', `/v1/jobs?videoId=${g.videoId}&limit=10`)).body.jobs.find((x: Json) => x.jobId !== firstRun);
      return j && (j.state === 'succeeded' || j.state === 'failed') ? j : undefined;
    }, 'the re-run', 90_000);
    expect(rerun.state).toBe('succeeded');
    rerunId = rerun.jobId;
    // Each run stored its own frames, the same ones.
    const runs = await storedFrames(s3, BUCKET, g.videoId);
    expect([...runs.keys()].sort()).toEqual([firstRun, rerun.jobId].sort());
    expect([...runs.get(rerun.jobId)!.keys()]).toEqual([...runs.get(firstRun!)!.keys()]);

    // The client keeps reading the released run, its best frames included: those drawn stay, others are drawn from its
    // frames; the analyst reads the re-run's.
    const waiting = await asClient('GET', path);
    expect(waiting.status, JSON.stringify(waiting.body)).toBe(200);
    expect(waiting.body).toEqual(listed.body);
    const kept = await frameImage(g.clientKey, g.videoId, frame, g.detGroupId);
    expect([kept.status, kept.cache, kept.objectKey]).toEqual([302, 'hit', drawnBefore.objectKey]);
    const drawnWhileWaiting = await frameImage(g.clientKey, g.videoId, undrawn, g.detGroupId);
    expect([drawnWhileWaiting.status, drawnWhileWaiting.cache]).toEqual([302, 'miss']);
    expect(drawnWhileWaiting.objectKey).toContain(`/${firstRun}/`);
    const picture = await pixels(Buffer.from(await (await fetch(drawnWhileWaiting.location!)).arrayBuffer()));
    expect([picture.width, picture.height]).toEqual([g.game.width, g.game.height]);
    expect((await analyst('GET', path)).status).toBe(200);

    expect((await apiClient()('POST', `/v1/videos/${g.videoId}/release`)).status).toBe(200);
    const drawnAfter = await frameImage(g.clientKey, g.videoId, frame, g.detGroupId);
    expect(drawnAfter.status).toBe(302);
    expect(drawnAfter.cache).toBe('miss');
    expect(drawnAfter.objectKey).not.toBe(drawnBefore.objectKey);
  });

  it('are drawn from frames stored before packs (one object per frame) for the run in place', async () => {
    // The released run's frames as they were stored before packs: its packs gone, each frame an object of its own.
    const packs = (await storedPacks(s3, BUCKET, g.videoId)).filter((x) => x.run === rerunId);
    const frames = (await storedFrames(s3, BUCKET, g.videoId)).get(rerunId)!;
    for (const [frame, jpeg] of frames) {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `frames/${g.videoId}/${String(frame).padStart(6, '0')}.jpg`, Body: jpeg }));
    }
    for (const p of packs) await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: p.key }));
    const best = (await analyst('GET', `/v1/videos/${g.videoId}/best-frames?detGroup=${g.detGroupId}&limit=3`)).body.frames[2];
    const drawn = await frameImage(g.analystKey, g.videoId, best.frame, g.detGroupId);
    expect([drawn.status, drawn.cache], JSON.stringify(drawn.body)).toEqual([302, 'miss']);
    const picture = await pixels(Buffer.from(await (await fetch(drawn.location!)).arrayBuffer()));
    const raw = await pixels(frames.get(best.frame)!);
    expect([picture.width, picture.height]).toEqual([raw.width, raw.height]);
    const [x, y, w, h] = best.detections[0].box;
    const centre = [x + Math.floor(w / 2), y + Math.floor(h / 2)] as const;
    expect(distance(picture.at(...centre), raw.at(...centre))).toBeLessThan(30);
  });
});
