// The detector's localizations file: validation (zod) and normalization into what the metrics need. Pure.
//
// { "video": { "width": W, "height": H },
//   "frames": [ { "frame": n, "time": seconds,
//                 "detections": [ { "label": "nike" | "class": 3, "score": 0..1, "box": [x, y, w, h] } ] } ] }
//
// Boxes are pixels, origin top left; they may reach outside the frame (the metrics clip them). Unknown keys are
// ignored. A `class` is resolved through the detector's label map (see shared/label-map.ts).
import { z } from 'zod';
import { LocalizationIssues, type Issue } from '../../shared/issues.ts';

const Detection = z
  .object({
    label: z.string().trim().min(1, 'label must not be empty').optional(),
    class: z.number().int().nonnegative().optional(),
    score: z.number().min(0).max(1),
    box: z.tuple([z.number(), z.number(), z.number().nonnegative(), z.number().nonnegative()]),
  })
  .check((ctx) => {
    const d = ctx.value;
    if ((d.label === undefined) === (d.class === undefined)) {
      ctx.issues.push({
        code: 'custom',
        input: d,
        path: d.label === undefined ? ['label'] : ['class'],
        message: d.label === undefined ? 'a detection needs a label or a class' : 'give a label or a class, not both',
      });
    }
  });

const Frame = z.object({
  frame: z.number().int().nonnegative(),
  time: z.number().nonnegative(), // zod 4 numbers are finite
  detections: z.array(Detection),
});

/** The file as it arrives (before class resolution). */
export const LocalizationsFile = z.object({
  video: z.object({ width: z.number().int().positive(), height: z.number().int().positive() }),
  frames: z.array(Frame),
});
export type LocalizationsFile = z.output<typeof LocalizationsFile>;

export type Box = readonly [x: number, y: number, w: number, h: number];

export interface LocalizedDetection {
  /** The detector's label (trimmed), or the label map's entry for its class. */
  readonly label: string;
  readonly score: number;
  readonly box: Box;
}

export interface LocalizedFrame {
  readonly frame: number;
  readonly time: number;
  readonly detections: readonly LocalizedDetection[];
}

export interface Localizations {
  readonly width: number;
  readonly height: number;
  /** Sorted by time (stable: equal times keep the file's order). */
  readonly frames: readonly LocalizedFrame[];
}

/**
 * Validates a parsed localizations file and normalizes it: frames sorted by time, every detection labelled
 * (a `class` through `labelMap`). Throws LocalizationIssues listing `{ path, message }` issues, e.g.
 * `frames.12.detections.3.class`, for a schema violation, a repeated frame number, or a class that has no
 * label map or no entry in it. Paths index the file as given (before sorting). Does not modify `json`.
 */
export function parseLocalizations(json: unknown, labelMap?: ReadonlyMap<number, string>): Localizations {
  const result = LocalizationsFile.safeParse(json);
  if (!result.success) {
    throw new LocalizationIssues(result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  }
  const file = result.data;
  const issues: Issue[] = [];
  const seen = new Map<number, number>();
  const frames: LocalizedFrame[] = new Array(file.frames.length);
  for (let fi = 0; fi < file.frames.length; fi++) {
    const f = file.frames[fi]!;
    const first = seen.get(f.frame);
    if (first === undefined) seen.set(f.frame, fi);
    else issues.push({ path: `frames.${fi}.frame`, message: `frame ${f.frame} appears twice (also at frames.${first})` });
    const detections: LocalizedDetection[] = new Array(f.detections.length);
    for (let di = 0; di < f.detections.length; di++) {
      const d = f.detections[di]!;
      let label = d.label;
      if (label === undefined) {
        const cls = d.class!;
        label = labelMap?.get(cls);
        if (label === undefined) {
          issues.push({
            path: `frames.${fi}.detections.${di}.class`,
            message: labelMap
              ? `class ${cls} is not in the label mapping`
              : `class ${cls} needs a label mapping, and none was given`,
          });
          label = '';
        }
      }
      detections[di] = { label, score: d.score, box: d.box };
    }
    frames[fi] = { frame: f.frame, time: f.time, detections };
  }
  if (issues.length > 0) throw new LocalizationIssues(issues);
  frames.sort((a, b) => a.time - b.time); // Array#sort is stable
  return { width: file.video.width, height: file.video.height, frames };
}

/** The distinct labels of every detection. */
export function localizationLabels(l: Localizations): Set<string> {
  const labels = new Set<string>();
  for (const f of l.frames) for (const d of f.detections) labels.add(d.label);
  return labels;
}
