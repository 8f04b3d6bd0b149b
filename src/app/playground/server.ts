// The playground's server side, free of msw: the channel's log, held long polls and push subscribers.
import type { Update } from './clients/types.ts';
import { buildPayload, type PayloadInput } from './payload.ts';

/** One entry of the channel's log. */
export interface LogRecord {
  update: Update;
  json: string;
  /** When the update was created, on the page's clock (performance.now() ms). */
  createdAtMs: number;
}

/** Updates kept for replay (polls with an old `since`, SSE Last-Event-ID); older ones are gone. */
export const KEEP_RECORDS = 2_000;
/** At most this many updates in one poll or long-poll response. */
export const MAX_BATCH = 200;
export const DEFAULT_HOLD_MS = 30_000;

type Subscriber = (record: LogRecord) => void;

interface HeldPoll {
  since: number;
  resolve: (records: LogRecord[]) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * The server: a numbered log of what was published on the channel. Polls read it, long polls wait
 * on it, and SSE streams and WebSockets subscribe to it.
 */
export class FeedServer {
  holdMs = DEFAULT_HOLD_MS;
  private records: LogRecord[] = [];
  private latest = 0;
  private readonly held = new Set<HeldPoll>();
  private readonly subscribers = new Set<Subscriber>();

  /** The newest sequence number (0 before the first update). */
  get latestSeq(): number {
    return this.latest;
  }

  /** The oldest sequence number still kept (latestSeq + 1 when the log is empty). */
  get oldestSeq(): number {
    return this.records.length ? this.records[0].update.seq : this.latest + 1;
  }

  /** Appends an update under the next sequence number and hands it to everyone waiting. */
  publish(input: Omit<PayloadInput, 'seq'>, createdAtMs: number): LogRecord {
    const { update, json } = buildPayload({ ...input, seq: this.latest + 1 });
    this.latest = update.seq;
    const record: LogRecord = { update, json, createdAtMs };
    this.records.push(record);
    if (this.records.length > KEEP_RECORDS * 1.25) this.records = this.records.slice(-KEEP_RECORDS);
    for (const poll of [...this.held]) {
      if (poll.since >= this.latest) continue;
      this.held.delete(poll);
      clearTimeout(poll.timer);
      poll.resolve(this.after(poll.since));
    }
    for (const fn of [...this.subscribers]) fn(record);
    return record;
  }

  /** Kept updates with seq > since, oldest first, at most `limit`. */
  after(since: number, limit = MAX_BATCH): LogRecord[] {
    const from = Number.isFinite(since) ? Math.max(0, Math.floor(since)) : 0;
    if (from >= this.latest || this.records.length === 0) return [];
    const start = Math.max(0, from + 1 - this.records[0].update.seq);
    return this.records.slice(start, start + limit);
  }

  /** The record with this sequence number, if it is still kept. */
  record(seq: number): LogRecord | undefined {
    if (this.records.length === 0) return undefined;
    return this.records[seq - this.records[0].update.seq];
  }

  /** A long poll: answers at once if there is news, else when news comes or after `holdMs`. */
  waitAfter(since: number, signal?: AbortSignal): Promise<LogRecord[]> {
    const ready = this.after(since);
    if (ready.length > 0 || signal?.aborted) return Promise.resolve(ready);
    return new Promise((resolve) => {
      const poll: HeldPoll = {
        since,
        resolve,
        timer: setTimeout(() => {
          this.held.delete(poll);
          resolve([]);
        }, this.holdMs),
      };
      this.held.add(poll);
      signal?.addEventListener(
        'abort',
        () => {
          if (!this.held.delete(poll)) return;
          clearTimeout(poll.timer);
          resolve([]);
        },
        { once: true },
      );
    });
  }

  /** Long polls being held right now. */
  get heldPolls(): number {
    return this.held.size;
  }

  /** Calls `fn` with every update published from now on; returns the unsubscribe function. */
  subscribe(fn: Subscriber): () => void {
    this.subscribers.add(fn);
    return () => this.subscribers.delete(fn);
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Answers every held long poll (empty), so closing the playground never leaves one hanging. */
  releaseAll(): void {
    for (const poll of this.held) {
      clearTimeout(poll.timer);
      poll.resolve([]);
    }
    this.held.clear();
  }

  /** Forgets everything: a new feed starts again at seq 1. */
  reset(): void {
    this.releaseAll();
    this.subscribers.clear();
    this.records = [];
    this.latest = 0;
  }
}

/** A JSON array body made from records' prepared JSON (no re-serialising). */
export function jsonArray(records: LogRecord[]): string {
  return `[${records.map((r) => r.json).join(',')}]`;
}
