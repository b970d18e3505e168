// Delivers events to functions as AWS would: S3 notifications into queues, SQS batches to their consumers
// (batch size, concurrency, partial batch failures; visibility timeout and the DLQ are the queue's own),
// and EventBridge schedules.
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { s3Notification, scheduledEvent, sqsRecord } from './events.ts';
import type { LocalFunctions } from './functions.ts';
import type { S3NotificationMessage, S3ObjectEvent } from './s3sqs.ts';

export interface QueueBinding {
  readonly fn: string;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly batchSize: number;
  readonly maxConcurrency: number;
}

export interface NotificationBinding {
  readonly bucket: string;
  readonly prefix: string;
  readonly queueUrl: string;
  /** Objects written, restores of archived objects completed. */
  readonly events: readonly ('created' | 'restored')[];
}

export interface ScheduleBinding {
  readonly name: string;
  readonly fn: string;
  readonly everySeconds: number;
  /** Sent instead of the scheduled event, as an EventBridge target's constant input is. */
  readonly input?: unknown;
}

/** setInterval holds at most 2^31 − 1 ms (24.8 days); a longer schedule is checked hourly instead. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class Router {
  private readonly sqs: SQSClient;
  private readonly abort = new AbortController();
  private readonly running = new Set<Promise<unknown>>();
  private readonly timers: NodeJS.Timeout[] = [];
  private sequence = 0;

  constructor(
    private readonly o: {
      sqsEndpoint: string;
      region: string;
      functions: LocalFunctions;
      queues: readonly QueueBinding[];
      notifications: readonly NotificationBinding[];
      schedules: readonly ScheduleBinding[];
      log: (line: object) => void;
    },
  ) {
    this.sqs = new SQSClient({ endpoint: o.sqsEndpoint, region: o.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  }

  start(withSchedules: boolean): void {
    for (const q of this.o.queues) for (let i = 0; i < q.maxConcurrency; i++) this.track(this.poll(q));
    if (!withSchedules) return;
    for (const s of this.o.schedules) {
      const every = s.everySeconds * 1000;
      if (every <= MAX_TIMER_MS) {
        this.timers.push(setInterval(() => void this.fireSchedule(s.name).catch(() => undefined), every));
        continue;
      }
      let due = Date.now() + every;
      this.timers.push(setInterval(() => {
        if (Date.now() < due) return;
        due += every;
        void this.fireSchedule(s.name).catch(() => undefined);
      }, 3_600_000));
    }
  }

  /**
   * The notifications the topology asks for when S3 writes or removes an object (S3 records them before it answers),
   * or completes a restore.
   */
  notificationsFor(e: S3ObjectEvent): S3NotificationMessage[] {
    if (e.kind === 'removed') return [];
    const kind = e.kind;
    return this.o.notifications
      .filter((n) => n.bucket === e.bucket && e.key.startsWith(n.prefix) && n.events.includes(kind))
      .map((n) => {
        const sequencer = (Date.now() * 1000 + (this.sequence++ % 1000)).toString(16).toUpperCase();
        const body = s3Notification({
          region: this.o.region,
          bucket: e.bucket,
          key: e.key,
          size: e.size,
          etag: e.etag,
          sequencer,
          eventName: kind === 'restored' ? 'ObjectRestore:Completed' : e.multipart ? 'ObjectCreated:CompleteMultipartUpload' : 'ObjectCreated:Put',
          ...(e.restore && { restore: { expiryTime: e.restore.expiresAt, storageClass: e.restore.storageClass } }),
        });
        return { queuePath: new URL(n.queueUrl).pathname, body: JSON.stringify(body) };
      });
  }

  /** Sends one S3 notification to its queue (of this start: the queue path is kept, the port is not). */
  async sendNotification(m: S3NotificationMessage): Promise<void> {
    const sent = this.sqs.send(new SendMessageCommand({ QueueUrl: `${this.o.sqsEndpoint}${m.queuePath}`, MessageBody: m.body }));
    this.track(sent.catch(() => undefined));
    await sent;
  }

  /** Runs a schedule's function now with a scheduled event (or its constant input), as EventBridge would at its next tick. */
  async fireSchedule(name: string): Promise<unknown> {
    const s = this.o.schedules.find((x) => x.name === name);
    if (!s) throw new Error(`no schedule named ${name}`);
    const run = this.o.functions.invoke(s.fn, s.input ?? scheduledEvent(s.name, this.o.region));
    this.track(run.catch(() => undefined));
    return run;
  }

  private track<T>(p: Promise<T>): void {
    const tracked = p.finally(() => this.running.delete(tracked));
    this.running.add(tracked);
  }

  /** One poller = one concurrent batch, like one Lambda instance of an SQS event source mapping. */
  private async poll(q: QueueBinding): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      let messages;
      try {
        const out = await this.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: q.queueUrl,
            MaxNumberOfMessages: q.batchSize,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: signal },
        );
        messages = out.Messages ?? [];
      } catch (err) {
        if (signal.aborted) return;
        this.o.log({ level: 'ERROR', message: 'receive failed', queue: q.queueUrl, error: (err as Error).message });
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      if (messages.length === 0) continue;
      const records = messages.map((m) => sqsRecord(m, q.queueArn, this.o.region));
      let failed: Set<string>;
      try {
        const result = (await this.o.functions.invoke(q.fn, { Records: records })) as SQSBatchResponse | undefined;
        failed = new Set((result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
      } catch {
        failed = new Set(records.map((r) => r.messageId)); // the whole batch returns after its visibility timeout
      }
      const done = records.filter((r) => !failed.has(r.messageId));
      if (done.length > 0) {
        await this.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: q.queueUrl,
            Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
          }),
        );
      }
    }
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.abort.abort();
    await Promise.allSettled([...this.running]);
    this.sqs.destroy();
  }
}
