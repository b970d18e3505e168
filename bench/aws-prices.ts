// AWS's published on-demand prices in US East (N. Virginia), the only prices the cost bench uses, read on the date
// below. Each names the page it comes from. AWS renders most of its pricing tables client-side, so a page's text
// often lacks the figure itself: `read` says whether the figure was read in a copy of that page (or of AWS's price
// list) or is the figure AWS has published there that we could not read again, and why we hold it.
export const PRICES_READ_ON = '2026-12-05';
export const PRICES_REGION = 'us-east-1';

export interface Price {
  readonly usd: number;
  /** What one `usd` buys. */
  readonly per: string;
  /** The pricing page. */
  readonly page: string;
  readonly read: 'in the page' | 'not legible in the page: the published figure, justified in `note`';
  readonly note?: string;
}

const lambda = 'https://aws.amazon.com/lambda/pricing/';
const s3 = 'https://aws.amazon.com/s3/pricing/';

export const AWS_PRICES = {
  lambdaGbSecondX86: {
    usd: 0.0000166667, per: 'GB-second, x86, first 6 billion GB-s a month', page: lambda,
    read: 'not legible in the page: the published figure, justified in `note`',
    note: 'the page renders its rate table client-side; the same figure in third-party calculators citing the page (1666670e-11 $/GB-s)',
  },
  lambdaRequest: { usd: 0.2 / 1e6, per: 'request', page: lambda, read: 'in the page', note: '"$0.20 per million requests" (also the Managed Instances request charge)' },
  s3PutCopyPostList: {
    usd: 0.005 / 1000, per: 'PUT, COPY, POST or LIST request (S3 Standard)', page: s3,
    read: 'not legible in the page: the published figure, justified in `note`',
    note: '$0.005 per 1,000; rendered client-side on the page; matches third-party bills citing it (5,000 PUT/LIST ≈ $0.03)',
  },
  s3GetAndOther: {
    usd: 0.0004 / 1000, per: 'GET and all other requests (S3 Standard)', page: s3,
    read: 'not legible in the page: the published figure, justified in `note`',
    note: '$0.0004 per 1,000; matches third-party bills citing the page (100,000 GET ≈ $0.04); DELETE is free',
  },
  s3StandardGbMonth: {
    usd: 0.023, per: 'GB-month, S3 Standard, first 50 TB', page: s3,
    read: 'not legible in the page: the published figure, justified in `note`',
    note: 'the page\'s "First 50 TB / Month $0.023 per GB", as transcribed by third parties',
  },
  s3GlacierIrGbMonth: {
    usd: 0.004, per: 'GB-month, S3 Glacier Instant Retrieval (90 days at least, objects billed as 128 KB at least)', page: s3,
    read: 'not legible in the page: the published figure, justified in `note`',
    note: '"$0.004 per GB" for Glacier Instant Retrieval in us-east-1, as transcribed from the page by third-party price tables (2026); the 90-day minimum and 128 KB minimum object size are in the S3 documentation',
  },
  s3GlacierIrPut: {
    usd: 0.02 / 1000, per: 'PUT, COPY, POST or LIST request into S3 Glacier Instant Retrieval', page: s3,
    read: 'not legible in the page: the published figure, justified in `note`',
    note: '$0.02 per 1,000 (four times S3 Standard\'s $0.005): the figure of the page\'s Requests & data retrievals tab as AWS has published it since the class launched (November 2021)',
  },
  s3GlacierIrGet: {
    usd: 0.01 / 1000, per: 'GET and all other requests of S3 Glacier Instant Retrieval objects', page: s3,
    read: 'not legible in the page: the published figure, justified in `note`', note: '$0.01 per 1,000, from the same tab',
  },
  s3GlacierIrRetrievalGb: {
    usd: 0.03, per: 'GB read back from S3 Glacier Instant Retrieval', page: s3,
    read: 'not legible in the page: the published figure, justified in `note`', note: '"$0.03 per GB" data retrieval, as transcribed by third-party price tables (2026)',
  },
  s3GlacierIrTransition: {
    usd: 0.02 / 1000, per: 'lifecycle transition request into S3 Glacier Instant Retrieval', page: s3,
    read: 'not legible in the page: the published figure, justified in `note`', note: '$0.02 per 1,000 lifecycle transition requests into the class, from the same tab',
  },
  s3DeepArchiveGbMonth: {
    usd: 0.00099, per: 'GB-month, S3 Glacier Deep Archive (180 days at least; 40 KB per object added, 8 KB of it at the Standard rate)', page: s3,
    read: 'not legible in the page: the published figure, justified in `note`',
    note: '"$0.00099 per GB" for Deep Archive in us-east-1, as transcribed from the page by third-party price tables (2026); the 180-day minimum and the per-object overhead are in the S3 documentation (archival storage)',
  },
  s3DeepArchiveTransition: {
    usd: 0.05 / 1000, per: 'lifecycle transition request into S3 Glacier Deep Archive', page: s3,
    read: 'not legible in the page: the published figure, justified in `note`', note: '$0.05 per 1,000, from the page\'s Requests & data retrievals tab',
  },
  s3DeepArchiveRestoreStandard: {
    usd: 0.02, per: 'GB restored from S3 Glacier Deep Archive, Standard retrieval (within 12 hours), plus $0.10 per 1,000 requests', page: s3,
    read: 'not legible in the page: the published figure, justified in `note`', note: '$0.02 per GB and $0.10 per 1,000 restore requests, from the same tab',
  },
  s3DeepArchiveRestoreBulk: {
    usd: 0.0025, per: 'GB restored from S3 Glacier Deep Archive, Bulk retrieval (within 48 hours), plus $0.025 per 1,000 requests', page: s3,
    read: 'not legible in the page: the published figure, justified in `note`', note: '$0.0025 per GB and $0.025 per 1,000 restore requests, from the same tab',
  },
  sqsRequest: {
    usd: 0.4 / 1e6, per: 'Standard queue request (64 KB chunk), past the first million a month', page: 'https://aws.amazon.com/sqs/pricing/',
    read: 'not legible in the page: the published figure, justified in `note`', note: '$0.40 per million',
  },
  stepFunctionsTransition: {
    usd: 0.025 / 1000, per: 'Standard workflow state transition', page: 'https://aws.amazon.com/step-functions/pricing/',
    read: 'not legible in the page: the published figure, justified in `note`', note: '$0.025 per 1,000',
  },
  dynamoReadUnit: {
    usd: 0.125 / 1e6, per: 'on-demand read request unit', page: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    read: 'not legible in the page: the published figure, justified in `note`',
    note: '$0.125 per million since the on-demand price reduction of November 2024 (half the earlier $0.25); the page defines the unit (4 KB strongly consistent read, half for eventually consistent)',
  },
  dynamoWriteUnit: {
    usd: 0.625 / 1e6, per: 'on-demand write request unit', page: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
    read: 'not legible in the page: the published figure, justified in `note`',
    note: '$0.625 per million since November 2024 (half the earlier $1.25); one unit writes up to 1 KB',
  },
  documentDbIo: {
    usd: 0.2 / 1e6, per: 'I/O request, standard storage', page: 'https://aws.amazon.com/documentdb/pricing/',
    read: 'not legible in the page: the published figure, justified in `note`',
    note: '$0.20 per million, as Aurora standard storage; I/O-Optimized storage has no I/O charge',
  },
  auroraIo: {
    usd: 0.2 / 1e6, per: 'I/O request, Aurora Standard', page: 'https://aws.amazon.com/rds/aurora/pricing/',
    read: 'in the page', note: '"$0.20 per million requests", also AWS\'s own Aurora I/O-Optimized analyzer constant for us-east-1',
  },
  mediaConvertFrameCaptureMinute: {
    usd: 0.015, per: 'output minute, HD (720p), ≤30 fps, Basic tier', page: 'https://aws.amazon.com/mediaconvert/pricing/',
    read: 'not legible in the page: the published figure, justified in `note`',
    note:
      'the page bills each output by its minutes, resolution tier and frame rate; a frame capture output is an output of the ' +
      'video\'s length. $0.015/min is the Basic-tier HD ≤30 fps rate (SD $0.0075, over 30 fps twice these) as transcribed ' +
      'from the page; the frame capture line itself could not be read, so this is the lowest rate an HD output is billed at',
  },
} as const satisfies Record<string, Price>;
