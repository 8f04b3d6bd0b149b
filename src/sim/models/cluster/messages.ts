// The updates the cluster carries: producer ids, second copies and log offsets per message, each channel's sequence log, and the slabs of frames in flight.
import type { Sampler } from '../../dist.ts';
import type { MessageTable } from '../../engine.ts';
import type { FlowCounts } from '../../types.ts';

const TRACED_MESSAGES_PER_SEC = 25;

/**
 * Columns the cluster adds to the engine's message table, and the per-channel logs. A message
 * becomes owed to every user who has started on its channel once it gets its place in the
 * channel's sequence (`assignSeq`); a second copy of a record (a producer retry the broker wrote
 * again) gets a place too, but nobody is owed it.
 */
export class Messages {
  /** Per message: its producer's sequence number, and whether it is a second copy in the log. */
  producerSeq = new Int32Array(1024);
  copy = new Uint8Array(1024);
  /** Per message: its offset in its Kafka partition's log. */
  offset = new Int32Array(1024);
  readonly latestSeq: Int32Array;
  /** Users of each channel who have connected at least once (updates are owed to them). */
  readonly startedUsers: Int32Array;
  /** Per channel: its messages by sequence number. */
  readonly channelLog: number[][];
  private readonly nextProducerSeq: Int32Array;
  private readonly channelCopies: Int32Array;
  logCopies = 0;
  private readonly traceEvery: number;

  /**
   * @param shapedBytes With shaping, every update's payload is the schema's full update; without,
   * payloads come from the workload's distribution.
   */
  constructor(
    private readonly msgs: MessageTable,
    private readonly flow: FlowCounts,
    channels: number,
    private readonly sources: number,
    ratePerChannelPerSec: number,
    private readonly payloadBytes: Sampler,
    private readonly shapedBytes: number | null,
  ) {
    this.latestSeq = new Int32Array(channels);
    this.startedUsers = new Int32Array(channels);
    this.channelLog = Array.from({ length: channels }, () => []);
    this.nextProducerSeq = new Int32Array(sources);
    this.channelCopies = new Int32Array(channels);
    this.traceEvery = Math.max(
      1,
      Math.round((ratePerChannelPerSec * channels) / TRACED_MESSAGES_PER_SEC),
    );
  }

  traced(id: number): boolean {
    return id % this.traceEvery === 0;
  }

  newMessage(now: number, c: number): number {
    const bytes =
      this.shapedBytes !== null ? this.shapedBytes : Math.max(1, Math.round(this.payloadBytes()));
    const id = this.msgs.add(c, now, bytes);
    this.ensureMessageRoom(id);
    this.producerSeq[id] = this.nextProducerSeq[c % this.sources]++;
    return id;
  }

  /** A second copy of a record (a retried write): same producer id and sequence, new offset. */
  cloneMessage(id: number): number {
    const m = this.msgs;
    const c = m.add(m.channel[id], m.createdUs[id], m.bytes[id]);
    this.ensureMessageRoom(c);
    this.producerSeq[c] = this.producerSeq[id];
    this.copy[c] = 1;
    this.channelCopies[m.channel[id]]++;
    this.logCopies++;
    return c;
  }

  private ensureMessageRoom(id: number): void {
    if (id < this.producerSeq.length) return;
    const n = this.producerSeq.length * 2;
    const ps = new Int32Array(n);
    ps.set(this.producerSeq);
    this.producerSeq = ps;
    const cp = new Uint8Array(n);
    cp.set(this.copy);
    this.copy = cp;
    const off = new Int32Array(n);
    off.set(this.offset);
    this.offset = off;
  }

  /** Gives a message its place in its channel's sequence: from here on it is owed to every user. */
  assignSeq(id: number): void {
    const c = this.msgs.channel[id];
    this.msgs.seq[id] = this.latestSeq[c]++;
    this.channelLog[c].push(id);
    // A second copy of a record is not a new update: nobody is owed it.
    if (!this.copy[id]) this.flow.fanout += this.startedUsers[c];
  }

  /** Deliveries owed for sequence numbers from..to of channel c (second copies owe nothing). */
  owedBetween(c: number, from: number, to: number): number {
    if (to < from) return 0;
    if (this.channelCopies[c] === 0) return to - from + 1;
    let n = 0;
    for (let q = from; q <= to; q++) if (!this.copy[this.channelLog[c][q]]) n++;
    return n;
  }
}

/** In-flight frames to clients (a slab: event word1 points into it), as growable columns. */
export class Slabs {
  user = new Int32Array(1024);
  msg = new Int32Array(1024);
  conn = new Int32Array(1024);
  /** Flags (SLAB_RECOVERED, SLAB_SUPERSEDING in ./hop1.ts). */
  flags = new Uint8Array(1024);
  sentUs = new Float64Array(1024);
  private free: number[] = [];
  private top = 0;

  alloc(): number {
    const free = this.free.pop();
    if (free !== undefined) return free;
    if (this.top === this.user.length) {
      const n = this.user.length * 2;
      const g32 = (a: Int32Array) => {
        const b = new Int32Array(n);
        b.set(a);
        return b;
      };
      this.user = g32(this.user);
      this.msg = g32(this.msg);
      this.conn = g32(this.conn);
      const r = new Uint8Array(n);
      r.set(this.flags);
      this.flags = r;
      const t = new Float64Array(n);
      t.set(this.sentUs);
      this.sentUs = t;
    }
    return this.top++;
  }

  release(slab: number): void {
    this.free.push(slab);
  }
}
