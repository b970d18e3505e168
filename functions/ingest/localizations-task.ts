// ingest-localizations (Task of video-ingest): validates the uploaded localizations early, before any frame is
// extracted, and records which detectables occur in the video.
import { z } from 'zod';
import { logger } from '../lib/logger.ts';
import { query } from '../lib/pg.ts';
import { stepTask } from '../jobs/step-task.ts';
import { matchLabels } from '../../shared/label-map.ts';
import { getVideoState } from '../catalog/video-lifecycle.ts';
import { loadLocalizations } from '../analytics/load-localizations.ts';
import { localizationLabels } from '../analytics/localizations.ts';
import { setVideoDetectables } from './videos.ts';

const Input = z.object({ jobId: z.string().min(1), videoId: z.uuid() });

export const handler = stepTask(Input, { step: 'localizations', subject: ({ videoId }) => ({ videoId }) }, async ({ videoId }) => {
  const video = await getVideoState(videoId);
  const localizations = await loadLocalizations(video);
  const detectables = await query<{ id: string; name: string }>('SELECT id, name FROM detectable');
  const { matched, unmatched } = matchLabels(localizationLabels(localizations), detectables);
  await setVideoDetectables(videoId, [...new Set(matched.map((m) => m.detectableId))]);
  if (unmatched.length > 0) logger.warn('labels that match no detectable are ignored', { unmatched });
  return { frames: localizations.frames.length, matched: matched.map((m) => m.detectableName), unmatched };
});
