// analytics-api: a video's metrics for one det_group, as rollups or as the frame series.
import { z } from 'zod';
import { httpHandler, ok, parse, type Routes } from '../lib/http.ts';
import { notFound } from '../lib/errors.ts';
import { assertCanReadMetrics } from './access.ts';
import { RESOLUTIONS, type Resolution } from './rollup.ts';
import { readFrames, readRollup } from './store.ts';

const Params = z.object({ id: z.uuid() });
const MetricsQuery = z.object({
  detGroup: z.uuid(),
  resolution: z.enum(RESOLUTIONS.map(String) as [string, ...string[]]).default('video'),
});
const FramesQuery = z.object({
  detGroup: z.uuid(),
  from: z.coerce.number().min(0).optional(),
  to: z.coerce.number().min(0).optional(),
});

const toResolution = (r: string): Resolution => (r === 'video' ? 'video' : (Number(r) as Resolution));

export const routes: Routes = {
  'GET /v1/videos/{id}/metrics': {
    roles: ['analyst', 'client'],
    handle: async (req) => {
      const { id } = parse(Params, req.params);
      const q = parse(MetricsQuery, req.query);
      await assertCanReadMetrics(req.principal, id, q.detGroup);
      const rollup = await readRollup(id, q.detGroup, toResolution(q.resolution));
      if (!rollup) throw notFound(`metrics of video ${id} for det_group`, q.detGroup);
      return ok({ videoId: id, detGroupId: q.detGroup, resolution: q.resolution, frameRate: rollup.frameRate, buckets: rollup.buckets });
    },
  },
  'GET /v1/videos/{id}/frames': {
    roles: ['analyst', 'client'],
    handle: async (req) => {
      const { id } = parse(Params, req.params);
      const q = parse(FramesQuery, req.query);
      await assertCanReadMetrics(req.principal, id, q.detGroup);
      const series = await readFrames(id, q.detGroup, q.from, q.to);
      if (!series) throw notFound(`frames of video ${id} for det_group`, q.detGroup);
      return ok({ videoId: id, detGroupId: q.detGroup, frameRate: series.frameRate, frames: series.frames });
    },
  },
};

export const handler = httpHandler(routes);
