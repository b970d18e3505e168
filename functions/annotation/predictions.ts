// A prediction set of an upload: the boxes a model proposes per source frame, read from Framewise's localizations
// format or from YOLO txt files, checked against the project's labels. Pure.
//
// Localizations: the file video ingest reads (ingest/localizations.ts); `frame` is the source frame number, a
// `class` is an index into the project's labels.
// YOLO: one file per frame named `<sourceFrame>.txt` (digits, leading zeros allowed, folders ignored), one box per
// line `class cx cy w h [score]`, centre and size normalized to the source frame's width and height, `class` an
// index into the project's labels; blank lines are ignored.
import { LocalizationIssues, type Issue } from '../../shared/issues.ts';
import { parseLocalizations } from '../analytics/localizations.ts';

/** A box in source pixels, origin top left. */
export interface Box {
  readonly label: string;
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  readonly score?: number;
}

export interface PredictedFrame {
  readonly sourceFrame: number;
  readonly boxes: readonly Box[];
}

/** Frames in source frame order, each once. */
export interface PredictionSet {
  readonly frames: readonly PredictedFrame[];
}

export { LocalizationIssues as PredictionIssues };

/** Predictions that name labels the project does not have. */
export class UnknownLabels extends Error {
  override readonly name = 'UnknownLabels';
  constructor(readonly labels: readonly string[], readonly projectLabels: readonly string[]) {
    super(`the predictions name labels the project lacks: ${labels.join(', ')} (the project's labels: ${projectLabels.join(', ') || 'none'})`);
  }
}

const byFrame = (a: PredictedFrame, b: PredictedFrame) => a.sourceFrame - b.sourceFrame;

/** Reads a localizations document (parsed JSON). Throws PredictionIssues (listed by path) or UnknownLabels. */
export function predictionsFromLocalizations(json: unknown, projectLabels: readonly string[]): PredictionSet {
  const labelMap = new Map(projectLabels.map((l, i) => [i, l]));
  const loc = parseLocalizations(json, labelMap);
  const known = new Set(projectLabels);
  const unknown = new Set<string>();
  const frames = loc.frames.map((f) => ({
    sourceFrame: f.frame,
    boxes: f.detections.map((d) => {
      if (!known.has(d.label)) unknown.add(d.label);
      const [x, y, w, h] = d.box;
      return { label: d.label, x, y, w, h, score: d.score };
    }),
  }));
  if (unknown.size > 0) throw new UnknownLabels([...unknown].sort(), projectLabels);
  return { frames: frames.sort(byFrame) };
}

const FRAME_FILE = /(?:^|\/)(\d+)\.txt$/;

/**
 * Reads YOLO txt files (name and text of each) of frames `width` × `height` pixels. Throws PredictionIssues listing
 * every bad file name and line (`{file}:{line}`), or UnknownLabels for classes beyond the project's labels.
 */
export function predictionsFromYolo(files: readonly { name: string; text: string }[], projectLabels: readonly string[], size: { width: number; height: number }): PredictionSet {
  const issues: Issue[] = [];
  const unknown = new Set<string>();
  const seen = new Map<number, string>();
  const frames: PredictedFrame[] = [];
  for (const file of files) {
    if (file.name.endsWith('/')) continue; // a folder entry of the zip
    const m = FRAME_FILE.exec(file.name);
    if (!m) {
      issues.push({ path: file.name, message: 'a prediction file is named <sourceFrame>.txt' });
      continue;
    }
    const sourceFrame = Number(m[1]);
    const other = seen.get(sourceFrame);
    if (other !== undefined) {
      issues.push({ path: file.name, message: `frame ${sourceFrame} also has the file ${other}` });
      continue;
    }
    seen.set(sourceFrame, file.name);
    const boxes: Box[] = [];
    file.text.split(/\r?\n/).forEach((line, i) => {
      const path = `${file.name}:${i + 1}`;
      if (line.trim() === '') return;
      const fields = line.trim().split(/\s+/);
      if (fields.length !== 5 && fields.length !== 6) {
        issues.push({ path, message: `expected "class cx cy w h [score]", got ${fields.length} fields` });
        return;
      }
      const [cls, cx, cy, w, h, score] = fields.map(Number) as [number, number, number, number, number, number | undefined];
      if (!Number.isInteger(cls) || cls < 0) {
        issues.push({ path, message: `class must be a non-negative integer, got ${fields[0]}` });
        return;
      }
      const coords = { cx, cy, w, h };
      const bad = Object.entries(coords).filter(([, v]) => !Number.isFinite(v) || v < 0 || v > 1);
      if (bad.length > 0) {
        issues.push({ path, message: `${bad.map(([k]) => k).join(', ')} must be numbers from 0 to 1` });
        return;
      }
      if (score !== undefined && !(Number.isFinite(score) && score >= 0 && score <= 1)) {
        issues.push({ path, message: `score must be a number from 0 to 1, got ${fields[5]}` });
        return;
      }
      const label = projectLabels[cls];
      if (label === undefined) {
        unknown.add(`class ${cls}`);
        return;
      }
      boxes.push({
        label,
        x: (cx - w / 2) * size.width,
        y: (cy - h / 2) * size.height,
        w: w * size.width,
        h: h * size.height,
        ...(score !== undefined && { score }),
      });
    });
    frames.push({ sourceFrame, boxes });
  }
  if (files.length === 0) issues.push({ path: '', message: 'the zip holds no prediction files' });
  if (issues.length > 0) throw new LocalizationIssues(issues);
  if (unknown.size > 0) throw new UnknownLabels([...unknown].sort(), projectLabels);
  return { frames: frames.sort(byFrame) };
}
