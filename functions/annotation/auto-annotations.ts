// Auto annotations: a prediction set of the upload applied onto its frames.
import { TaskError } from '../lib/errors.ts';

export async function applyPredictions(uploadId: string, version: number): Promise<{ frames: number; boxes: number }> {
  throw new TaskError('NotImplemented', `auto annotations (prediction set v${version} of upload ${uploadId}) are not available yet`);
}
