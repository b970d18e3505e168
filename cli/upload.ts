// Sends a file to S3 as the API's upload plan says: one presigned PUT, or presigned multipart parts. Each request
// is retried with backoff; part URLs that expire (or are about to) are presigned again; parts that storage already
// holds with the same bytes (a resumed upload) are not sent again.
import { createHash } from 'node:crypto';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { sleep } from './commands/common.ts';

/** What the API answers to an upload's start or resume (its UploadPlan schema): where and how to send the bytes. */
export type UploadPlan =
  | { method: 'PUT'; url: string; key: string; sizeBytes: number; headers: { 'content-type': string }; expiresIn: number }
  | {
      method: 'multipart';
      uploadId: string;
      key: string;
      /** The declared size: the parts' signed lengths add up to it. */
      sizeBytes: number;
      partSize: number;
      parts: { partNumber: number; url: string }[];
      /** Parts storage already holds (a resumed upload): send again only those missing or whose ETag differs. */
      uploaded: { partNumber: number; etag: string; size: number }[];
      expiresIn: number;
    };

export interface CompletedPart {
  partNumber: number;
  etag: string;
}

export interface UploadOptions {
  /** Parts in flight at once. */
  readonly concurrency?: number;
  /** Tries per request, the first included. */
  readonly attempts?: number;
  /** The first retry waits this long; each next one twice as long (at most maxBackoffMs), with jitter. */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  /** A fresh plan of the same multipart upload (new URLs), for URLs that expired. */
  readonly renew?: () => Promise<UploadPlan>;
  readonly signal?: AbortSignal;
  readonly now?: () => number;
  /** Told once which parts storage already had, before anything is sent. */
  readonly onResume?: (held: { parts: number; bytes: number; of: number }) => void;
}

const DEFAULTS = { concurrency: 4, attempts: 6, backoffMs: 500, maxBackoffMs: 20_000 };
/** Presign again this long before a plan's URLs expire, rather than send a part that may outlive its URL. */
const RENEW_MARGIN_MS = 5 * 60_000;

/** A refusal that another try with the same request cannot change (but a 403 may be an expired URL). */
class StorageRefused extends Error {
  constructor(
    readonly status: number,
    body: string,
  ) {
    super(`upload to S3 failed: ${status} ${body.slice(0, 500)}`);
  }
}

const retryable = (err: unknown): boolean =>
  !(err instanceof StorageRefused) || err.status === 403 || err.status === 408 || err.status === 429 || err.status >= 500;

/** The wait before retry `attempt` (1-based): backoff doubling to the cap, with up to 50 % jitter. Pure but for jitter. */
export function backoffDelay(attempt: number, backoffMs: number, maxBackoffMs: number, random: () => number = Math.random): number {
  const base = Math.min(maxBackoffMs, backoffMs * 2 ** (attempt - 1));
  return Math.round(base * (0.5 + random() / 2));
}

/** A stalled request fails after this long, and is tried again (as fetch's own limits would). */
const STALL_MS = 300_000;

/** PUTs `body` as it is, answering its ETag (fetch would first copy a Buffer body whole: each part, 8 MiB and up). */
function put(url: string, body: Buffer, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = send(url, { method: 'PUT', headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) reject(new StorageRefused(status, Buffer.concat(chunks).toString('utf8')));
        else resolve(typeof res.headers.etag === 'string' ? res.headers.etag : '');
      });
    });
    req.setTimeout(STALL_MS, () => req.destroy(new Error(`no answer from storage within ${STALL_MS / 1000} s`)));
    req.on('error', reject);
    req.end(body);
  });
}

const md5Etag = (body: Buffer): string => `"${createHash('md5').update(body).digest('hex')}"`;

async function readPart(handle: FileHandle, offset: number, length: number): Promise<Buffer> {
  const body = Buffer.alloc(length);
  await handle.read(body, 0, length, offset);
  return body;
}

/**
 * Uploads `file` per `plan`, reporting bytes sent (parts storage already holds count as sent). Returns the parts to
 * complete a multipart upload with (empty for a single PUT).
 */
export async function uploadFile(
  plan: UploadPlan,
  file: string,
  onProgress: (sentBytes: number) => void = () => undefined,
  options: UploadOptions = {},
): Promise<CompletedPart[]> {
  const o = { ...DEFAULTS, ...options };
  const now = o.now ?? Date.now;
  let current = { plan, issuedAt: now() };
  let renewing: Promise<typeof current> | undefined;
  /** The newest plan; a fresh one when `stale` is still the newest and its URLs expired or near expiry. */
  const fresh = async (stale?: typeof current): Promise<typeof current> => {
    const expiring = now() > current.issuedAt + current.plan.expiresIn * 1000 - Math.min(RENEW_MARGIN_MS, (current.plan.expiresIn * 1000) / 2);
    if (!o.renew || (stale !== current && !expiring)) return current;
    renewing ??= o.renew().then(
      (p) => ((renewing = undefined), (current = { plan: p, issuedAt: now() })),
      (err: unknown) => {
        renewing = undefined;
        throw err;
      },
    );
    return renewing;
  };
  /** One request with retries: a 403 presigns again before the next try (the URL may have expired). */
  const withRetries = async (send: (p: UploadPlan) => Promise<string>): Promise<string> => {
    for (let attempt = 1; ; attempt++) {
      const used = await fresh();
      try {
        return await send(used.plan);
      } catch (err) {
        if (attempt >= o.attempts || !retryable(err)) throw err;
        if (err instanceof StorageRefused && err.status === 403) await fresh(used);
        await sleep(backoffDelay(attempt, o.backoffMs, o.maxBackoffMs), o.signal);
      }
    }
  };

  const handle = await open(file, 'r');
  try {
    if (plan.method === 'PUT') {
      const body = await handle.readFile();
      await withRetries((p) => put((p as typeof plan).url, body, plan.headers));
      onProgress(body.length);
      return [];
    }
    const size = (await stat(file)).size;
    const needed = Math.max(1, Math.ceil(size / plan.partSize));
    if (needed !== plan.parts.length) throw new Error(`the file needs ${needed} parts but the upload plan has ${plan.parts.length}`);
    const partBytes = (n: number) => Math.min(plan.partSize, size - (n - 1) * plan.partSize);

    const done: CompletedPart[] = [];
    let sent = 0;
    // parts storage holds with these very bytes are kept; any other is sent again
    const held = new Map((plan.uploaded ?? []).map((p) => [p.partNumber, p]));
    for (const [n, p] of held) {
      if (n > needed || p.size !== partBytes(n) || p.etag !== md5Etag(await readPart(handle, (n - 1) * plan.partSize, p.size))) {
        held.delete(n);
        continue;
      }
      done.push({ partNumber: n, etag: p.etag });
      sent += p.size;
    }
    if (held.size > 0) {
      o.onResume?.({ parts: held.size, bytes: sent, of: needed });
      onProgress(sent);
    }
    const todo = Array.from({ length: needed }, (_, i) => i + 1).filter((n) => !held.has(n));
    let next = 0;
    const worker = async () => {
      // after Ctrl-C no new part starts: what is held stays for the next run
      while (next < todo.length && !o.signal?.aborted) {
        const n = todo[next++]!;
        const body = await readPart(handle, (n - 1) * plan.partSize, partBytes(n));
        const etag = await withRetries((p) => {
          const url = p.method === 'multipart' ? p.parts.find((x) => x.partNumber === n)?.url : undefined;
          if (!url) throw new Error(`the upload plan has no URL for part ${n}`);
          return put(url, body, {});
        });
        done.push({ partNumber: n, etag });
        sent += body.length;
        onProgress(sent);
      }
    };
    await Promise.all(Array.from({ length: Math.min(o.concurrency, todo.length) }, worker));
    return done.sort((a, b) => a.partNumber - b.partNumber);
  } finally {
    await handle.close();
  }
}
