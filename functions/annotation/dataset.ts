// A dataset version's plan: which frames go to which split, the keys of every item, and the text of every label
// and index file, from the tasks and their annotations as they stood when the build began. Pure: the same input
// gives the same plan, byte for byte.
//
// The labels of a frame are its human boxes once a person has saved the frame (even saved empty: "nothing here"),
// and otherwise its auto boxes; a frame with neither is a background image (an empty label file).
import { createHash } from 'node:crypto';
import type { Box } from './predictions.ts';

export const SPLIT_NAMES = ['train', 'val', 'test'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];
export type Split = Partial<Record<SplitName, number>>;
export const FORMATS = ['yolo', 'coco'] as const;
export type Format = (typeof FORMATS)[number];

export interface DatasetRequest {
  readonly name: string;
  readonly projectIds: readonly string[];
  readonly auditStatus: readonly number[];
  readonly split: Split;
  readonly seed: string;
  readonly formats: readonly Format[];
}

export interface FrameAnnotations {
  readonly human: readonly Box[];
  /** Set once a person saved the frame. */
  readonly humanSavedAt?: string | null;
  readonly auto: { readonly version: number; readonly boxes: readonly Box[] } | null;
}

export interface DatasetTask {
  readonly taskId: string;
  readonly projectId: string;
  readonly uploadId: string;
  readonly width: number;
  readonly height: number;
  readonly frames: readonly { readonly sampledFrame: number; readonly sourceFrame: number; readonly imageKey: string }[];
}

export interface DatasetInput {
  readonly request: DatasetRequest;
  readonly version: number;
  /** Labels of each requested project; the dataset's classes are their union, in request order. */
  readonly labels: Readonly<Record<string, readonly string[]>>;
  readonly tasks: readonly DatasetTask[];
  /** By `${uploadId}/${sourceFrame}`. */
  readonly annotations: Readonly<Record<string, FrameAnnotations>>;
}

/** One image of the dataset: copied from `from` to `imageKey`, with its YOLO label file. */
export interface DatasetItem {
  readonly split: SplitName;
  readonly from: string;
  readonly imageKey: string;
  readonly labelKey: string;
  readonly labelText: string;
}

export interface DatasetPlan {
  readonly prefix: string;
  readonly names: readonly string[];
  readonly items: readonly DatasetItem[];
  /** data.yaml, annotations/{split}.json, manifest.json: written after the items. */
  readonly files: readonly { readonly key: string; readonly body: string }[];
}

export const datasetPrefix = (name: string, version: number): string => `datasets/${name}/v${version}/`;
export const datasetZipKey = (name: string, version: number): string => `datasets/${name}/v${version}.zip`;
export const annotationKey = (uploadId: string, sourceFrame: number): string => `${uploadId}/${sourceFrame}`;

/** A task's split: the seeded hash of its id placed on the cumulative fractions (every frame of a task goes with it). */
export function splitOf(seed: string, taskId: string, split: Split): SplitName {
  const digest = createHash('sha256').update(`${seed}\n${taskId}`).digest();
  const u = Number(digest.readBigUInt64BE(0) >> 11n) / 2 ** 53;
  const names = SPLIT_NAMES.filter((s) => (split[s] ?? 0) > 0);
  let edge = 0;
  for (const s of names) {
    edge += split[s]!;
    if (u < edge) return s;
  }
  return names.at(-1)!;
}

const pad6 = (n: number) => String(n).padStart(6, '0');
const fixed = (n: number) => n.toFixed(6);
const round2 = (n: number) => Math.round(n * 100) / 100;

/** The box clipped to the frame; null when nothing of it is left. */
function clip(b: Box, width: number, height: number): { x: number; y: number; w: number; h: number } | null {
  const x0 = Math.max(0, b.x);
  const y0 = Math.max(0, b.y);
  const x1 = Math.min(width, b.x + b.w);
  const y1 = Math.min(height, b.y + b.h);
  return x1 > x0 && y1 > y0 ? { x: x0, y: y0, w: x1 - x0, h: y1 - y0 } : null;
}

/** The boxes a frame contributes, and where they came from. */
export function frameLabels(a: FrameAnnotations | undefined): { from: 'human' | 'auto' | 'none'; boxes: readonly Box[] } {
  if (a?.humanSavedAt) return { from: 'human', boxes: a.human };
  if (a?.auto) return { from: 'auto', boxes: a.auto.boxes };
  return { from: 'none', boxes: [] };
}

export function planDataset(input: DatasetInput): DatasetPlan {
  const { request, version } = input;
  const prefix = datasetPrefix(request.name, version);
  const names: string[] = [];
  for (const p of request.projectIds) for (const l of input.labels[p] ?? []) if (!names.includes(l)) names.push(l);
  const classOf = new Map(names.map((n, i) => [n, i]));
  const splits = SPLIT_NAMES.filter((s) => (request.split[s] ?? 0) > 0);

  interface Row {
    split: SplitName;
    task: DatasetTask;
    sampledFrame: number;
    sourceFrame: number;
    from: string;
    file: string;
    labelsFrom: 'human' | 'auto' | 'none';
    boxes: { cls: number; x: number; y: number; w: number; h: number }[];
  }
  const rows: Row[] = [];
  const seen = new Set<string>();
  for (const task of input.tasks) {
    const split = splitOf(request.seed, task.taskId, request.split);
    for (const f of task.frames) {
      const file = `${task.uploadId}_${pad6(f.sourceFrame)}`;
      if (seen.has(file)) continue; // one image per source frame, whichever task holds it
      seen.add(file);
      const { from, boxes } = frameLabels(input.annotations[annotationKey(task.uploadId, f.sourceFrame)]);
      const clipped = boxes.flatMap((b) => {
        const c = clip(b, task.width, task.height);
        const cls = classOf.get(b.label);
        return c && cls !== undefined ? [{ cls, ...c }] : [];
      });
      rows.push({ split, task, sampledFrame: f.sampledFrame, sourceFrame: f.sourceFrame, from: f.imageKey, file, labelsFrom: from, boxes: clipped });
    }
  }
  const order = (r: Row) => splits.indexOf(r.split);
  rows.sort((a, b) => order(a) - order(b) || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));

  const items: DatasetItem[] = rows.map((r) => ({
    split: r.split,
    from: r.from,
    imageKey: `${prefix}images/${r.split}/${r.file}.jpg`,
    labelKey: `${prefix}labels/${r.split}/${r.file}.txt`,
    labelText: r.boxes
      .map((b) => `${b.cls} ${fixed((b.x + b.w / 2) / r.task.width)} ${fixed((b.y + b.h / 2) / r.task.height)} ${fixed(b.w / r.task.width)} ${fixed(b.h / r.task.height)}\n`)
      .join(''),
  }));

  const files: { key: string; body: string }[] = [];
  if (request.formats.includes('yolo')) {
    const yaml = [
      'path: .',
      ...splits.map((s) => `${s}: images/${s}`),
      'names:',
      ...names.map((n, i) => `  ${i}: ${JSON.stringify(n)}`),
      '',
    ].join('\n');
    files.push({ key: `${prefix}data.yaml`, body: yaml });
  }
  if (request.formats.includes('coco')) {
    const categories = names.map((name, i) => ({ id: i + 1, name }));
    for (const s of splits) {
      const images: unknown[] = [];
      const annotations: unknown[] = [];
      for (const r of rows.filter((x) => x.split === s)) {
        const imageId = images.length + 1;
        images.push({ id: imageId, file_name: `${r.file}.jpg`, width: r.task.width, height: r.task.height });
        for (const b of r.boxes) {
          const bbox = [round2(b.x), round2(b.y), round2(b.w), round2(b.h)];
          annotations.push({ id: annotations.length + 1, image_id: imageId, category_id: b.cls + 1, bbox, area: round2(bbox[2]! * bbox[3]!), iscrowd: 0 });
        }
      }
      files.push({ key: `${prefix}annotations/${s}.json`, body: `${JSON.stringify({ images, annotations, categories })}\n` });
    }
  }
  const counts = Object.fromEntries(splits.map((s) => {
    const inSplit = rows.filter((r) => r.split === s);
    return [s, { images: inSplit.length, boxes: inSplit.reduce((n, r) => n + r.boxes.length, 0), tasks: new Set(inSplit.map((r) => r.task.taskId)).size }];
  }));
  const manifest = {
    name: request.name,
    version,
    projectIds: request.projectIds,
    auditStatus: request.auditStatus,
    split: request.split,
    seed: request.seed,
    formats: request.formats,
    names,
    counts,
    images: rows.map((r) => ({
      image: `images/${r.split}/${r.file}.jpg`,
      split: r.split,
      projectId: r.task.projectId,
      uploadId: r.task.uploadId,
      taskId: r.task.taskId,
      sampledFrame: r.sampledFrame,
      sourceFrame: r.sourceFrame,
      labelsFrom: r.labelsFrom,
      boxes: r.boxes.length,
    })),
  };
  files.push({ key: `${prefix}manifest.json`, body: `${JSON.stringify(manifest, null, 1)}\n` });
  return { prefix, names, items, files };
}
