// When a det_group applies to a video: each of its detectables occurs in the video (and it has at least one).
// The one SQL condition for it, used wherever videos are chosen for a det_group.

/** SQL condition on video alias `video` that det_group `$<param>` applies to it. */
export const detGroupAppliesSql = (param: string, video = 'v'): string =>
  `EXISTS (SELECT 1 FROM det_group_detectable WHERE det_group_id = ${param})
        AND NOT EXISTS (SELECT 1 FROM det_group_detectable dgd
                         WHERE dgd.det_group_id = ${param}
                           AND NOT EXISTS (SELECT 1 FROM video_detectable vd WHERE vd.video_id = ${video}.id AND vd.detectable_id = dgd.detectable_id))`;
