// The access gate of the local DynamoDB: a proxy in front of dynalite (which has no hook of its own) that reads
// each request's target and body, refuses what IAM would with DynamoDB's AccessDeniedException, and forwards the
// rest unchanged.
import { createServer, request as httpRequest, Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Request } from '../grants.ts';
import { accessKeyIdOf, type AccessPolicy } from './access.ts';
import { ACCOUNT, REGION } from './names.ts';
import { dynamoUnitsMeter, type UsageMeter } from './usage.ts';

const tableArn = (table: string): string => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${table}`;

/** The IAM requests of one DynamoDB call: one per table it touches (an index counts as its table's index). */
export function dynamoRequests(target: string, body: unknown): Request[] {
  const action = `dynamodb:${target.split('.').pop() ?? ''}`;
  const input = (body ?? {}) as { TableName?: string; IndexName?: string; RequestItems?: Record<string, unknown> };
  if (input.RequestItems) return Object.keys(input.RequestItems).map((t) => ({ action, resource: tableArn(t) }));
  if (input.TableName) {
    return [{ action, resource: input.IndexName ? `${tableArn(input.TableName)}/index/${input.IndexName}` : tableArn(input.TableName) }];
  }
  return [{ action, resource: '*' }];
}

export async function startDynamoGate(opts: { port: number; target: number; policy: AccessPolicy; usage?: UsageMeter }): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const agent = new Agent({ keepAlive: true });
  const meter = opts.usage && dynamoUnitsMeter(opts.usage);
  const forward = (req: IncomingMessage, res: ServerResponse, received: Buffer, parsed: unknown) => {
    const metered = meter?.(String(req.headers['x-amz-target'] ?? ''), parsed);
    const body = metered?.body ?? received;
    const headers = metered ? { ...req.headers, 'content-length': String(body.length) } : req.headers;
    const out = httpRequest({ host: '127.0.0.1', port: opts.target, method: req.method, path: req.url, headers, agent }, (answer) => {
      if (!metered) {
        res.writeHead(answer.statusCode ?? 500, answer.headers);
        answer.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => {
        const { body: answered, headers: answerHeaders } = metered.answer(answer.statusCode ?? 500, answer.headers, Buffer.concat(chunks));
        res.writeHead(answer.statusCode ?? 500, answerHeaders);
        res.end(answered);
      });
    });
    out.on('error', (err) => {
      res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: err.message }));
    });
    out.end(body);
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8') || '{}');
      } catch {
        parsed = undefined; // dynalite answers the malformed body itself
      }
      const refusal = opts.policy.refusal(accessKeyIdOf(req.headers, req.url ?? '/'), dynamoRequests(String(req.headers['x-amz-target'] ?? ''), parsed));
      if (!refusal) return forward(req, res, body, parsed);
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', message: refusal }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => resolve());
  });
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
