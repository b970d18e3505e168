// The AWS JSON 1.0 protocol of the local Step Functions on node:http: `POST /` with `X-Amz-Target:
// AWSStepFunctions.<Action>` and a JSON object body, answered with the action's JSON output, or with HTTP 400
// `{ "__type", "message" }` and `x-amzn-errortype` for an SfnError (500 `InternalFailure` for anything else).

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Request } from '../../grants.ts';
import { accessKeyIdOf } from '../access.ts';
import { stepFunctionsRequest } from '../access-stepfunctions.ts';
import type { Action } from './actions.ts';
import { SfnError } from './definition.ts';

export interface ProtocolOptions {
  /** 0 or absent: a free port. */
  port?: number;
  actions: Record<string, Action>;
  /** Why IAM would refuse the call (signed with `accessKeyId`), or undefined to let it run; see access.ts. */
  refusal?: (accessKeyId: string | undefined, request: Request) => string | undefined;
  log: (line: Record<string, unknown>) => void;
}

export interface ProtocolServer {
  port: number;
  endpoint: string;
  /** Closes the server and every connection to it. */
  close(): Promise<void>;
}

const TARGET_PREFIX = 'AWSStepFunctions.';
const MAX_BODY_BYTES = 8 * 1024 * 1024;

function send(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'x-amzn-requestid': randomUUID(),
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new SfnError('ValidationException', 'Request body is too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readInput(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = await readBody(req);
  let input: unknown;
  try {
    input = text ? JSON.parse(text) : {};
  } catch {
    throw new SfnError('SerializationException', 'Request body is not JSON');
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new SfnError('SerializationException', 'Request body is not a JSON object');
  }
  return input as Record<string, unknown>;
}

/** Serves the actions on 127.0.0.1. */
export async function serveProtocol(opts: ProtocolOptions): Promise<ProtocolServer> {
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = String(req.headers['x-amz-target'] ?? '');
    const action = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
    try {
      const run = req.method === 'POST' && Object.hasOwn(opts.actions, action) ? opts.actions[action] : undefined;
      if (!run) throw new SfnError('UnknownOperationException', `Unknown operation: '${target}'`);
      const input = await readInput(req);
      const refusal = opts.refusal?.(accessKeyIdOf(req.headers, req.url ?? '/'), stepFunctionsRequest(action, input));
      if (refusal) throw new SfnError('AccessDeniedException', refusal);
      send(res, 200, (await run(input)) ?? {});
    } catch (e) {
      if (e instanceof SfnError) {
        send(res, 400, { __type: e.type, message: e.message }, e.type);
      } else {
        opts.log({ level: 'error', msg: 'internal error', action, error: (e as Error).stack ?? String(e) });
        send(res, 500, { __type: 'InternalFailure', message: (e as Error).message }, 'InternalFailure');
      }
    }
  }

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
