// ListParts, which fauxqs lacks (it answers GET ?uploadId= as a GetObject): the parts an open multipart upload
// holds, from fauxqs's own store, in S3's XML. Clients resume an upload by it.
import { partSize, type StoredPart } from './s3-multipart.ts';
import { s3ErrorXml, xmlText, type HookReply } from './s3-xml.ts';

interface StoredUpload {
  readonly bucket: string;
  readonly key: string;
  readonly parts: ReadonlyMap<number, StoredPart>;
}

interface Request {
  readonly method: string;
  readonly url: string;
}

const MAX_PARTS_PER_PAGE = 1000;

/** A Fastify onRequest hook answering ListParts (GET /{bucket}/{key}?uploadId=…) from `uploads` (uploadId → upload). */
export const listPartsHook =
  (uploads: ReadonlyMap<string, StoredUpload>) =>
  async (request: Request, reply: HookReply): Promise<HookReply | undefined> => {
    if (request.method !== 'GET') return undefined;
    const url = new URL(request.url, 'http://local');
    const uploadId = url.searchParams.get('uploadId');
    if (uploadId === null) return undefined;
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const upload = uploads.get(uploadId);
    reply.header('content-type', 'application/xml');
    if (!upload || upload.bucket !== decodeURIComponent(bucket) || upload.key !== key) {
      return reply.code(404).send(s3ErrorXml('NoSuchUpload', 'The specified multipart upload does not exist.'));
    }
    const marker = Number(url.searchParams.get('part-number-marker') ?? 0);
    const maxParts = Math.min(MAX_PARTS_PER_PAGE, Number(url.searchParams.get('max-parts') ?? MAX_PARTS_PER_PAGE));
    const after = [...upload.parts.values()].filter((p) => p.partNumber > marker).sort((a, b) => a.partNumber - b.partNumber);
    const page = after.slice(0, maxParts);
    const truncated = after.length > page.length;
    const parts = page
      .map((p) => `<Part><PartNumber>${p.partNumber}</PartNumber><LastModified>${p.lastModified.toISOString()}</LastModified><ETag>${xmlText(p.etag)}</ETag><Size>${partSize(p)}</Size></Part>`)
      .join('');
    return reply.code(200).send(
      '<?xml version="1.0" encoding="UTF-8"?>\n<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        `<Bucket>${xmlText(upload.bucket)}</Bucket><Key>${xmlText(upload.key)}</Key><UploadId>${xmlText(uploadId)}</UploadId>` +
        `<PartNumberMarker>${marker}</PartNumberMarker><NextPartNumberMarker>${page.at(-1)?.partNumber ?? marker}</NextPartNumberMarker>` +
        `<MaxParts>${maxParts}</MaxParts><IsTruncated>${truncated}</IsTruncated>${parts}</ListPartsResult>`,
    );
  };
