// Sends a file to S3 as the API's upload plan says: one presigned PUT, or presigned multipart parts.
import { open, stat } from 'node:fs/promises';
import type { UploadPlan } from '../functions/catalog/uploads.ts';

export type { UploadPlan };

export interface CompletedPart {
  partNumber: number;
  etag: string;
}

async function put(url: string, body: Buffer, headers: Record<string, string>): Promise<string> {
  const res = await fetch(url, { method: 'PUT', body, headers });
  if (!res.ok) throw new Error(`upload to S3 failed: ${res.status} ${await res.text()}`);
  return res.headers.get('etag') ?? '';
}

/**
 * Uploads `file` per `plan`, reporting bytes sent. Returns the parts to complete a multipart upload with
 * (empty for a single PUT). Parts go up `concurrency` at a time.
 */
export async function uploadFile(
  plan: UploadPlan,
  file: string,
  onProgress: (sentBytes: number) => void = () => undefined,
  concurrency = 4,
): Promise<CompletedPart[]> {
  const handle = await open(file, 'r');
  try {
    if (plan.method === 'PUT') {
      const body = await handle.readFile();
      await put(plan.url, body, plan.headers);
      onProgress(body.length);
      return [];
    }
    const size = (await stat(file)).size;
    const needed = Math.max(1, Math.ceil(size / plan.partSize));
    if (needed > plan.parts.length) throw new Error(`the file needs ${needed} parts but the upload plan has ${plan.parts.length}`);
    const parts = plan.parts.slice(0, needed);
    const done: CompletedPart[] = [];
    let sent = 0;
    let next = 0;
    const worker = async () => {
      while (next < parts.length) {
        const part = parts[next++]!;
        const offset = (part.partNumber - 1) * plan.partSize;
        const length = Math.min(plan.partSize, size - offset);
        const body = Buffer.alloc(length);
        await handle.read(body, 0, length, offset);
        const etag = await put(part.url, body, {});
        done.push({ partNumber: part.partNumber, etag });
        sent += length;
        onProgress(sent);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, parts.length) }, worker));
    return done.sort((a, b) => a.partNumber - b.partNumber);
  } finally {
    await handle.close();
  }
}
