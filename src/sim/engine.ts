// What every model shares: the event loop, the clock, the traceHash, the trace and the messages.
import type { RunSpec } from '../scenario/resolve.ts';
import { TraceHasher } from './hash.ts';
import { EventQueue } from './queue.ts';
import { TraceRing } from './trace.ts';
import type { LatencyHistogram } from './histogram.ts';
import type {
  FlowCounts,
  LinkStats,
  RunResult,
  Series,
  ServerStats,
  Snapshot,
  TraceRecord,
  UpdateRecord,
} from './types.ts';

/** What a model hands `baseSnapshot`: its counters, histograms and per-link/per-server figures. */
export interface SnapshotParts {
  flow: FlowCounts;
  e2e: LatencyHistogram;
  hop2: LatencyHistogram;
  hop1: LatencyHistogram;
  links: (elapsedS: number) => LinkStats[];
  servers: (nowUs: number) => ServerStats[];
  rejectedConnections: number;
  series: Series;
}

/** Event kinds sit in the low bits of an event's first word; the rest is the kind's argument. */
export const KIND_BITS = 5;
const KIND_MASK = (1 << KIND_BITS) - 1;

/** Packs a kind and its argument (a channel, a server, a user) into an event's first word. */
export function word0(kind: number, arg = 0): number {
  return (arg << KIND_BITS) | kind;
}

/** Published messages as a growable struct of arrays (no object per message). */
export class MessageTable {
  channel = new Int32Array(1024);
  seq = new Int32Array(1024);
  createdUs = new Float64Array(1024);
  bytes = new Int32Array(1024);
  /** The client that published it, or -1 for the server side. */
  origin = new Int32Array(1024);
  count = 0;

  add(channel: number, createdUs: number, bytes: number, origin = -1): number {
    if (this.count === this.channel.length) this.grow();
    const id = this.count++;
    this.channel[id] = channel;
    this.seq[id] = -1;
    this.createdUs[id] = createdUs;
    this.bytes[id] = bytes;
    this.origin[id] = origin;
    return id;
  }

  /** Updates from index `since` on (at most `limit`), in publication order. */
  updates(since: number, limit: number): UpdateRecord[] {
    const out: UpdateRecord[] = [];
    for (let id = Math.max(0, since); id < this.count && out.length < limit; id++)
      out.push({
        id,
        channel: this.channel[id],
        createdUs: this.createdUs[id],
        payloadBytes: this.bytes[id],
        origin: this.origin[id],
        seq: this.seq[id],
      });
    return out;
  }

  private grow(): void {
    const n = this.channel.length * 2;
    const g32 = (a: Int32Array) => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    const g64 = (a: Float64Array) => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    this.channel = g32(this.channel);
    this.seq = g32(this.seq);
    this.bytes = g32(this.bytes);
    this.origin = g32(this.origin);
    this.createdUs = g64(this.createdUs);
  }
}

/**
 * The discrete-event loop every model runs on. A model schedules events with `queue.push(time,
 * word0(kind, arg), word1)` and handles them in `handle`; the loop keeps the clock, counts
 * events and mixes each one into the traceHash, so two runs compare exactly.
 */
export abstract class EventModel {
  abstract readonly durationUs: number;
  protected readonly queue = new EventQueue(4096);
  protected readonly hasher = new TraceHasher();
  protected readonly trace = new TraceRing();
  protected readonly msgs = new MessageTable();
  protected nowUsValue = 0;
  protected eventCount = 0;

  constructor(protected readonly run: RunSpec) {}

  get nowUs(): number {
    return this.nowUsValue;
  }

  get events(): number {
    return this.eventCount;
  }

  /** Time of the next thing to happen (models with work outside the queue widen this). */
  protected nextUs(): number {
    return this.queue.peekTime();
  }

  get done(): boolean {
    return this.nowUsValue >= this.durationUs && this.nextUs() > this.durationUs;
  }

  runUntil(untilUs: number, maxEvents = Infinity): number {
    const limit = Math.min(untilUs, this.durationUs);
    let k = 0;
    while (k < maxEvents && this.nextUs() <= limit) {
      this.dispatchNext();
      k++;
    }
    if (this.nextUs() > limit && limit > this.nowUsValue) this.nowUsValue = limit;
    return k;
  }

  step(): boolean {
    if (this.nextUs() > this.durationUs) {
      this.nowUsValue = this.durationUs;
      return false;
    }
    this.dispatchNext();
    return true;
  }

  /** Pops the next event, advances the clock, hashes it and hands it to the model. */
  protected dispatchNext(): void {
    const q = this.queue;
    q.pop();
    const now = q.time;
    this.nowUsValue = now;
    this.eventCount++;
    this.hasher.addEvent(now, q.word0, q.word1);
    this.handle(q.word0 & KIND_MASK, q.word0 >>> KIND_BITS, q.word1, now);
  }

  protected abstract handle(kind: number, arg: number, word1: number, now: number): void;

  /** Node ids for trace records, by the index the model writes. */
  protected abstract nodeIds(): readonly string[];

  drainTrace(): TraceRecord[] {
    const m = this.msgs;
    return this.trace.drain(this.nodeIds(), (id) => ({ channel: m.channel[id], seq: m.seq[id] }));
  }

  updates(since: number, limit = 10_000): UpdateRecord[] {
    return this.msgs.updates(since, limit);
  }

  abstract snapshot(): Snapshot;

  /** The fields every snapshot has, at the current time; models add their own (protocol, cluster). */
  protected baseSnapshot(p: SnapshotParts): Snapshot {
    const now = this.nowUsValue;
    const elapsedS = now / 1e6;
    return {
      nowUs: now,
      durationUs: this.durationUs,
      events: this.eventCount,
      done: this.done,
      traceHash: this.hasher.digest(),
      flow: { ...p.flow },
      latencyMs: p.e2e.summary(),
      hop2LatencyMs: p.hop2.summary(),
      hop1LatencyMs: p.hop1.summary(),
      deliveriesPerSec: elapsedS > 0 ? p.flow.delivered / elapsedS : 0,
      links: p.links(elapsedS),
      servers: p.servers(now),
      rejectedConnections: p.rejectedConnections,
      series: p.series,
    };
  }

  /** The fields every run's result has, from a snapshot taken at the end. */
  protected baseResult(snap: Snapshot, wallMs: number): RunResult {
    return {
      scenario: this.run.scenario.id,
      seed: this.run.seed,
      params: { ...this.run.params },
      simulatedSeconds: snap.nowUs / 1e6,
      events: snap.events,
      wallMs: Math.round(wallMs),
      eventsPerSec: wallMs > 0 ? Math.round(snap.events / (wallMs / 1000)) : 0,
      traceHash: snap.traceHash,
      ...snap.flow,
      latencyMs: snap.latencyMs,
      hop2LatencyMs: snap.hop2LatencyMs,
      hop1LatencyMs: snap.hop1LatencyMs,
      deliveriesPerSec: snap.deliveriesPerSec,
      links: snap.links,
      servers: snap.servers,
      rejectedConnections: snap.rejectedConnections,
      simBytesPerUser: 0,
    };
  }
}
