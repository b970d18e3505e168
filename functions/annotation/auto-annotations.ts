// Auto annotations: a prediction set's boxes become the `auto` boxes of the upload's frames. Human boxes are
// another field of the same frame document and are never written here; applying a version again writes the same.
import { writeFrameBoxes } from './annotation-store.ts';
import { readPredictionSet } from './prediction-sets.ts';
import { getUpload, listTasks } from './store.ts';

/**
 * Writes version `version`'s boxes as the auto annotations of every source frame the upload's tasks hold (frames
 * the set says nothing of get no boxes: the model found nothing there). Returns the frames and boxes written.
 */
export async function applyPredictions(uploadId: string, version: number): Promise<{ frames: number; boxes: number }> {
  const upload = await getUpload(uploadId);
  if (!upload) throw new Error(`annotation upload ${uploadId} does not exist`);
  const set = await readPredictionSet(uploadId, version);
  const byFrame = new Map(set.frames.map((f) => [f.sourceFrame, f.boxes]));
  const sourceFrames = [...new Set((await listTasks(uploadId)).flatMap((t) => t.sourceFrames))].sort((a, b) => a - b);
  let boxes = 0;
  for (const sourceFrame of sourceFrames) {
    const frameBoxes = [...(byFrame.get(sourceFrame) ?? [])];
    boxes += frameBoxes.length;
    await writeFrameBoxes({ uploadId, projectId: upload.projectId, sourceFrame }, { auto: { version, boxes: frameBoxes } });
  }
  return { frames: sourceFrames.length, boxes };
}
