// Hop 1: frames from a server to its clients, their acks, and what each client does with an update (apply in order, once; fetch a gap or give it up).
import type { DeliveryRecord } from '../../checkers/sequence.ts';
import type { MessageTable } from '../../engine.ts';
import type { TraceHasher } from '../../hash.ts';
import { LatencyHistogram } from '../../histogram.ts';
import type { EventQueue } from '../../queue.ts';
import type { SeriesRecorder } from '../../series.ts';
import { TRACE_DROP, TRACE_HOP1, type TraceRing } from '../../trace.ts';
import type { FlowCounts } from '../../types.ts';
import type { ClusterContext, ClusterTopology, RecoveryPath } from './context.ts';
import { EV_ACK, EV_DELIVER } from './events.ts';
import type { Fleet } from './fleet.ts';
import type { Members } from './members.ts';
import { Slabs, type Messages } from './messages.ts';
import type { Network } from './network.ts';
import type { Partitions } from './partitions.ts';

/** A frame's slab flags: replayed after a reconnect, and built by conflation (skips are superseded). */
const SLAB_RECOVERED = 1;
const SLAB_SUPERSEDING = 2;

/** What hop 1 reads of the other parts. */
export interface Hop1Parts {
  fleet: Pick<Fleet, 'cpus' | 'alive' | 'serverEpoch' | 'brokerUp' | 'brokerEpoch' | 'maxServers'>;
  network: Pick<Network, 'departUs' | 'oneWayUs'>;
  partitions: Pick<Partitions, 'serverToUser' | 'userToServer'>;
  members: Pick<Members, 'connServer' | 'connId' | 'online' | 'userChannel'>;
  messages: Pick<Messages, 'producerSeq' | 'latestSeq' | 'channelLog' | 'owedBetween' | 'traced'>;
  series: Pick<SeriesRecorder, 'delivered' | 'bucket'>;
}

export class Hop1 {
  /** Per user: the highest sequence number applied (-2: never connected) and acked. */
  readonly recv: Int32Array;
  readonly acked: Int32Array;
  /** Highest producer sequence number each user applied (exactly-once by producer id + seq). */
  readonly lastProducerSeq: Int32Array;
  /** Arrival of the last frame on the user's connection: TCP keeps frames in order. */
  private readonly lastFrameUs: Float64Array;
  /** Per user: the history epoch seen at connect (the broker's or its server's), and that server. */
  readonly epochSeen: Int32Array;
  readonly historyServer: Int32Array;
  readonly e2eHist = new LatencyHistogram();
  readonly hop1Hist = new LatencyHistogram();
  /** End-to-end latency since the last sample (the series' percentiles). */
  readonly intervalHist = new LatencyHistogram();
  recovered = 0;
  stale = 0;
  suppressed = 0;
  /** Deliveries conflation replaced with a newer value of the same key (owed, not lost). */
  superseded = 0;
  hop1Bytes = 0;
  private deliveryLog: DeliveryRecord[] | null = null;
  /** A hosted app's ear: told when a client applies an update (first time only) and acks it. */
  onApply: ((now: number, u: number, id: number) => void) | null = null;
  onAcked: ((now: number, u: number, id: number) => void) | null = null;
  private readonly slabs = new Slabs();
  private readonly t: ClusterTopology;
  private readonly queue: EventQueue;
  private readonly msgs: MessageTable;
  private readonly trace: TraceRing;
  private readonly hasher: TraceHasher;
  private readonly flow: FlowCounts;
  private readonly paths: Record<RecoveryPath, number>;
  private readonly fleet: Hop1Parts['fleet'];
  private readonly network: Hop1Parts['network'];
  private readonly partitions: Hop1Parts['partitions'];
  private readonly members: Hop1Parts['members'];
  private readonly messages: Hop1Parts['messages'];
  private readonly series: Hop1Parts['series'];

  constructor(ctx: ClusterContext, parts: Hop1Parts) {
    this.t = ctx.t;
    this.queue = ctx.queue;
    this.msgs = ctx.msgs;
    this.trace = ctx.trace;
    this.hasher = ctx.hasher;
    this.flow = ctx.flow;
    this.paths = ctx.paths;
    this.fleet = parts.fleet;
    this.network = parts.network;
    this.partitions = parts.partitions;
    this.members = parts.members;
    this.messages = parts.messages;
    this.series = parts.series;
    const U = ctx.t.users;
    this.recv = new Int32Array(U).fill(-2);
    this.acked = new Int32Array(U).fill(-1);
    this.lastProducerSeq = new Int32Array(U).fill(-1);
    this.lastFrameUs = new Float64Array(U);
    this.epochSeen = new Int32Array(U);
    this.historyServer = new Int32Array(U).fill(-1);
  }

  send(now: number, u: number, id: number, recovered: boolean): void {
    const s = this.members.connServer[u];
    const sent = this.fleet.cpus[s].run(now, this.t.server.cpuPerSendUs);
    const sl = this.slabs;
    const slab = sl.alloc();
    sl.user[slab] = u;
    sl.msg[slab] = id;
    sl.conn[slab] = this.members.connId[u];
    sl.flags[slab] = recovered ? 1 : 0;
    sl.sentUs[slab] = now;
    const leaves = this.network.departUs(s, sent, this.msgs.bytes[id], now);
    let at = Math.round(leaves + this.network.oneWayUs(u, s));
    if (at < this.lastFrameUs[u]) at = this.lastFrameUs[u];
    this.lastFrameUs[u] = at;
    this.hop1Bytes += this.msgs.bytes[id];
    this.queue.push(at, EV_DELIVER, slab);
    if (this.messages.traced(id) && u % 53 === 0)
      this.trace.write(TRACE_HOP1, now, at, 2 + s, 2 + this.fleet.maxServers + s, id, u);
  }

  /**
   * Shaped: one frame carrying `ids` to u (a batch, or a single encoded update): the write costs
   * CPU once and the frame's wire bytes pass the link once; each update gets its own slab, all
   * arriving together, so acks, resume and gap fetches work per update as before.
   */
  sendFrame(
    now: number,
    u: number,
    ids: readonly number[],
    wireBytes: number,
    superseding: boolean,
  ): void {
    const s = this.members.connServer[u];
    if (s < 0 || this.members.online[u] !== 1) return;
    const sent = this.fleet.cpus[s].run(now, this.t.server.cpuPerSendUs);
    const leaves = this.network.departUs(s, sent, wireBytes, now);
    let at = Math.round(leaves + this.network.oneWayUs(u, s));
    if (at < this.lastFrameUs[u]) at = this.lastFrameUs[u];
    this.lastFrameUs[u] = at;
    this.hop1Bytes += wireBytes;
    const sl = this.slabs;
    for (const id of ids) {
      const slab = sl.alloc();
      sl.user[slab] = u;
      sl.msg[slab] = id;
      sl.conn[slab] = this.members.connId[u];
      sl.flags[slab] = superseding ? SLAB_SUPERSEDING : 0;
      sl.sentUs[slab] = now;
      this.queue.push(at, EV_DELIVER, slab);
      if (this.messages.traced(id) && u % 53 === 0)
        this.trace.write(TRACE_HOP1, now, at, 2 + s, 2 + this.fleet.maxServers + s, id, u);
    }
  }

  private connectionAlive(u: number, conn: number): boolean {
    const m = this.members;
    return m.online[u] === 1 && m.connId[u] === conn && this.fleet.alive[m.connServer[u]] === 1;
  }

  onDeliver(now: number, slab: number): void {
    const sl = this.slabs;
    const u = sl.user[slab];
    const id = sl.msg[slab];
    const conn = sl.conn[slab];
    const recovered = (sl.flags[slab] & SLAB_RECOVERED) !== 0;
    const superseding = (sl.flags[slab] & SLAB_SUPERSEDING) !== 0;
    const connServer = this.members.connServer;
    if (!this.connectionAlive(u, conn)) {
      // Lost in transit with its connection; resume or a gap fetch may bring it back.
      sl.release(slab);
      if (this.messages.traced(id))
        this.trace.write(
          TRACE_DROP,
          now,
          now,
          2 + Math.max(0, connServer[u]),
          2 + this.fleet.maxServers + Math.max(0, connServer[u]),
          id,
          u,
        );
      return;
    }
    if (this.partitions.serverToUser(connServer[u], u)) {
      // A partition between the server and the user: the frame never arrives.
      sl.release(slab);
      return;
    }
    this.hop1Hist.record(now - sl.sentUs[slab]);
    this.apply(now, u, id, recovered, superseding);
    if (this.t.delivery.guarantee !== 'at-most-once') {
      this.queue.push(Math.round(now + this.network.oneWayUs(u, connServer[u])), EV_ACK, slab);
      return;
    }
    sl.release(slab);
  }

  onAck(slab: number, now = 0): void {
    const sl = this.slabs;
    const u = sl.user[slab];
    if (
      this.connectionAlive(u, sl.conn[slab]) &&
      !this.partitions.userToServer(u, this.members.connServer[u])
    ) {
      const seq = this.msgs.seq[sl.msg[slab]];
      if (seq > this.acked[u]) this.acked[u] = seq;
      this.onAcked?.(now, u, sl.msg[slab]);
    }
    sl.release(slab);
  }

  /** The client applies an update: in order, once; a gap triggers a fetch of the missing range. */
  private apply(now: number, u: number, id: number, recovered: boolean, superseding = false): void {
    const seq = this.msgs.seq[id];
    const r = this.recv[u];
    if (seq <= r) {
      if (this.t.delivery.guarantee === 'exactly-once') this.suppressed++;
      else this.flow.duplicated++;
      this.hasher.add(u);
      return;
    }
    if (seq > r + 1 && superseding) {
      // Conflation replaced what lies between with this newer value: superseded, not lost.
      this.superseded += this.messages.owedBetween(this.members.userChannel[u], r + 1, seq - 1);
      this.recv[u] = seq - 1;
      this.skipTo(u, seq - 1);
    } else if (seq > r + 1) this.fillGap(now, u, r + 1, seq - 1);
    this.applyNext(now, u, id, recovered);
  }

  /**
   * The next sequence number: a second copy of a record the client already applied (a producer
   * retry the broker did not drop) has a new sequence number but the same producer id and
   * sequence — exactly once recognises it by those, anything else applies it again.
   */
  private applyNext(now: number, u: number, id: number, recovered: boolean): void {
    if (this.messages.producerSeq[id] > this.lastProducerSeq[u])
      return this.accept(now, u, id, recovered);
    const seq = this.msgs.seq[id];
    this.recv[u] = seq;
    const applied = this.t.delivery.guarantee !== 'exactly-once';
    if (applied) this.flow.duplicated++;
    else this.suppressed++;
    this.logDelivery(now, u, id, recovered, applied);
    this.hasher.add(u);
    this.hasher.add(seq);
  }

  private logDelivery(
    now: number,
    u: number,
    id: number,
    recovered: boolean,
    applied: boolean,
  ): void {
    const c = this.msgs.channel[id];
    this.deliveryLog?.push({
      message: id,
      client: u,
      channel: c,
      seq: this.msgs.seq[id],
      createdUs: this.msgs.createdUs[id],
      arrivalUs: now,
      recovered,
      producer: c % this.t.sources,
      producerSeq: this.messages.producerSeq[id],
      applied,
    });
  }

  private accept(now: number, u: number, id: number, recovered: boolean): void {
    const seq = this.msgs.seq[id];
    this.recv[u] = seq;
    this.lastProducerSeq[u] = this.messages.producerSeq[id];
    this.flow.delivered++;
    if (recovered) this.recovered++;
    const age = now - this.msgs.createdUs[id];
    if (age > this.t.delivery.staleAfterS * 1e6) this.stale++;
    this.e2eHist.record(age);
    this.intervalHist.record(age);
    this.series.delivered[this.series.bucket(now)]++;
    this.logDelivery(now, u, id, recovered, true);
    this.hasher.add(u);
    this.hasher.add(seq);
    this.onApply?.(now, u, id);
  }

  /** The client moves past seq without applying what lies before it (lost or resynced). */
  skipTo(u: number, seq: number): void {
    if (seq < 0) return;
    const m = this.messages;
    const ps = m.producerSeq[m.channelLog[this.members.userChannel[u]][seq]];
    if (ps > this.lastProducerSeq[u]) this.lastProducerSeq[u] = ps;
  }

  /** Whether the missing range can be replayed for this user from history (window and epoch). */
  replayable(now: number, u: number, fromSeq: number): boolean {
    const d = this.t.delivery;
    if (d.history === 'none') return false;
    const c = this.members.userChannel[u];
    if (fromSeq >= this.messages.latestSeq[c]) return true;
    const oldest = this.messages.channelLog[c][fromSeq];
    if (now - this.msgs.createdUs[oldest] > d.recoveryWindowS * 1e6) return false;
    if (d.history === 'broker')
      return this.fleet.brokerUp && this.epochSeen[u] === this.fleet.brokerEpoch;
    const s = this.members.connServer[u];
    return s === this.historyServer[u] && this.epochSeen[u] === this.fleet.serverEpoch[s];
  }

  /** A gap seen in the stream: fetch what is missing, or give it up. */
  private fillGap(now: number, u: number, from: number, to: number): void {
    const c = this.members.userChannel[u];
    if (this.replayable(now, u, from)) {
      this.paths.gapFetch++;
      for (let q = from; q <= to; q++) this.applyNext(now, u, this.messages.channelLog[c][q], true);
      return;
    }
    this.paths.gapLost++;
    this.flow.dropped += this.messages.owedBetween(c, from, to);
    this.recv[u] = to;
    this.skipTo(u, to);
  }

  /** Starts recording every applied delivery for checkers (tests); returns the live list. */
  recordDeliveries(): DeliveryRecord[] {
    this.deliveryLog = [];
    return this.deliveryLog;
  }
}
