// Hop 2: the sources publish, and the broker — direct polling of the data source, Redis pub/sub or a Kafka log — carries each update to the servers.
import type { ArrivalRecord } from '../../checkers/partition-order.ts';
import { KIND_BITS, type MessageTable } from '../../engine.ts';
import { LatencyHistogram } from '../../histogram.ts';
import type { EventQueue } from '../../queue.ts';
import type { Rng } from '../../rng.ts';
import { TRACE_HOP2, TRACE_PUBLISH, type TraceRing } from '../../trace.ts';
import type { FlowCounts } from '../../types.ts';
import type { ClusterContext, ClusterTopology, RecoveryPath } from './context.ts';
import {
  EV_BROKER_IN,
  EV_COMMIT,
  EV_FLUSH,
  EV_POLL,
  EV_PUBLISH,
  EV_SERVER_IN,
  NODE_BROKER,
  NODE_SOURCE,
} from './events.ts';
import type { Fleet } from './fleet.ts';
import type { Hop1 } from './hop1.ts';
import { KafkaGroup } from './kafka-group.ts';
import type { Members } from './members.ts';
import type { Messages } from './messages.ts';
import type { Network } from './network.ts';
import type { Partitions } from './partitions.ts';
import type { FaultSchedule } from './schedule.ts';
import type { ClusterShaping } from './shaping.ts';

/** Redis drops a slow subscriber; the server resubscribes after this. */
const RESUBSCRIBE_US = 1_000_000;
/** A Kafka producer retries a failed batch after this. */
const PRODUCER_RETRY_US = 100_000;
/** A Kafka producer gives up waiting for an acknowledgement after this and resends (request.timeout.ms). */
const PRODUCER_REQUEST_TIMEOUT_US = 30_000_000;

/** What hop 2 uses of the other parts. */
export interface DistributionParts {
  fleet: Pick<Fleet, 'serverCount' | 'alive' | 'draining' | 'brokerUp' | 'cpus'>;
  network: Pick<Network, 'brokerUs' | 'brokerToServerUs' | 'relayUs' | 'rng'>;
  partitions: Pick<
    Partitions,
    'sourceToBroker' | 'brokerToSource' | 'brokerToServer' | 'brokerServer' | 'dropSubscriber'
  >;
  members: Pick<Members, 'memberHead' | 'memberNext'>;
  messages: Pick<
    Messages,
    'newMessage' | 'cloneMessage' | 'assignSeq' | 'traced' | 'offset' | 'latestSeq' | 'startedUsers'
  >;
  /** Writes an update to a user's connection (unshaped). */
  hop1: Pick<Hop1, 'send'>;
  /** Shaping takes over from a server's receipt of an update, when the scenario has it. */
  shaping: Pick<ClusterShaping, 'onServerIn'> | null;
  /** Publishes into a broker outage count as what the outage hit. */
  schedule: Pick<FaultSchedule, 'hit'>;
}

export class Distribution {
  /** Highest sequence number each server has received per channel (server × channel). */
  readonly serverSeq: Int32Array;
  private readonly partitions: number;
  /** Per Kafka partition: its records by offset. */
  private readonly partLog: number[][];
  private readonly batch: number[][];
  /** Records written whose acknowledgement never came: resent after the request timeout. */
  private readonly unacked: number[][];
  private readonly flushScheduled: Uint8Array;
  private readonly consumed: Int32Array;
  private readonly committed: Int32Array;
  /** Where a crashed consumer had read to (what it will read again after restarting). */
  private readonly replayFrom: Int32Array;
  private readonly dbLog: number[] = [];
  private readonly dbCursor: Int32Array;
  /** Per server: the newest creation time among what it received (for the reorder count). */
  private readonly lastCreatedAt: Float64Array;
  serverReorders = 0;
  private arrivalLog: ArrivalRecord[] | null = null;
  dedupedAtBroker = 0;
  lostAtBroker = 0;
  deliveriesLostAtBroker = 0;
  subscriberDisconnects = 0;
  missedWhileUnsubscribed = 0;
  sourceRequests = 0;
  hop2Bytes = 0;
  readonly hop2Hist = new LatencyHistogram();
  /** Kafka with consumers = group: the servers split the partitions. */
  readonly group: KafkaGroup;
  private readonly t: ClusterTopology;
  private readonly channels: number;
  private readonly queue: EventQueue;
  private readonly msgs: MessageTable;
  private readonly trace: TraceRing;
  private readonly flow: FlowCounts;
  private readonly paths: Record<RecoveryPath, number>;
  private readonly durationUs: number;

  constructor(
    ctx: ClusterContext,
    servers: number,
    /** The workload's updates per second on each channel (a Poisson process per channel). */
    private readonly ratePerChannelPerSec: number,
    private readonly sourceRng: Rng,
    private readonly parts: DistributionParts,
  ) {
    const t = ctx.t;
    this.t = t;
    this.channels = t.channels;
    this.queue = ctx.queue;
    this.msgs = ctx.msgs;
    this.trace = ctx.trace;
    this.flow = ctx.flow;
    this.paths = ctx.paths;
    this.durationUs = ctx.durationUs;
    const S = servers;
    this.serverSeq = new Int32Array(S * t.channels).fill(-1);
    this.partitions = t.broker.partitions;
    this.partLog = Array.from({ length: this.partitions }, () => []);
    this.batch = Array.from({ length: this.partitions }, () => []);
    this.unacked = Array.from({ length: this.partitions }, () => []);
    this.flushScheduled = new Uint8Array(this.partitions);
    this.consumed = new Int32Array(S * this.partitions);
    this.committed = new Int32Array(S * this.partitions);
    this.replayFrom = new Int32Array(S * this.partitions);
    this.dbCursor = new Int32Array(S);
    this.lastCreatedAt = new Float64Array(S);
    this.group = new KafkaGroup(ctx, S, {
      fleet: parts.fleet,
      network: parts.network,
      partitions: parts.partitions,
      messages: parts.messages,
      partLog: this.partLog,
    });
  }

  /** Each channel's first update. */
  startPublishing(): void {
    const meanGapUs = 1e6 / this.ratePerChannelPerSec;
    for (let c = 0; c < this.channels; c++) this.schedulePublish(c, 0, meanGapUs);
  }

  /** Each server's first poll (at a random phase of the interval) or first offset commit. */
  startConsumers(): void {
    const b = this.t.broker;
    for (let s = 0; s < this.parts.fleet.serverCount; s++) {
      if (b.kind === 'direct')
        this.queue.push(
          Math.round(this.parts.network.rng.float() * b.pollIntervalMs * 1000),
          (s << KIND_BITS) | EV_POLL,
          0,
        );
      if (b.kind === 'kafka')
        this.queue.push(Math.round(b.commitIntervalMs * 1000), (s << KIND_BITS) | EV_COMMIT, 0);
    }
  }

  private schedulePublish(c: number, now: number, meanGapUs: number): void {
    const at = Math.max(
      now + 1,
      Math.round(now - meanGapUs * Math.log(1 - this.sourceRng.float())),
    );
    if (at <= this.durationUs) this.queue.push(at, (c << KIND_BITS) | EV_PUBLISH, 0);
  }

  onPublish(now: number, c: number): void {
    this.schedulePublish(c, now, 1e6 / this.ratePerChannelPerSec);
    this.publish(now, c);
  }

  /**
   * One message on channel c now, through hop 2 to its subscribers; returns its id. The source's
   * own publishes and a hosted case-study app (in place of the source) both come through here.
   */
  publish(now: number, c: number): number {
    const { fleet, network, messages } = this.parts;
    const id = messages.newMessage(now, c);
    this.flow.produced++;
    // A broker outage hits every message published while it lasts (lost, buffered or delayed).
    if (!fleet.brokerUp) this.parts.schedule.hit('broker-down', 1);
    this.hop2Bytes += this.msgs.bytes[id];
    if (messages.traced(id))
      this.trace.write(
        TRACE_PUBLISH,
        now,
        now + network.brokerUs(),
        NODE_SOURCE,
        NODE_BROKER,
        id,
        -1,
      );
    // A partition between the source and the broker: Redis PUBLISH and the database write fail.
    if (this.t.broker.kind !== 'kafka' && this.parts.partitions.sourceToBroker()) {
      this.loseAtBroker(id);
      return id;
    }
    switch (this.t.broker.kind) {
      case 'redis':
        this.queue.push(Math.round(now + network.brokerUs()), EV_BROKER_IN, id);
        return id;
      case 'kafka': {
        const p = c % this.partitions;
        this.batch[p].push(id);
        if (!this.flushScheduled[p]) {
          this.flushScheduled[p] = 1;
          this.queue.push(
            Math.round(now + this.t.broker.lingerMs * 1000),
            (p << KIND_BITS) | EV_FLUSH,
            0,
          );
        }
        return id;
      }
      case 'direct':
        // The data source stores it; servers find it on their next poll.
        messages.assignSeq(id);
        this.dbLog.push(id);
        return id;
    }
  }

  /** A message the broker never accepted: owed to everyone, delivered to no one. */
  private loseAtBroker(id: number): void {
    const owed = this.parts.messages.startedUsers[this.msgs.channel[id]];
    this.lostAtBroker++;
    this.deliveriesLostAtBroker += owed;
    this.flow.fanout += owed;
    this.flow.dropped += owed;
  }

  /** Redis PUBLISH: at most once, to the servers subscribed right now. */
  onRedisIn(now: number, id: number): void {
    const { fleet, members } = this.parts;
    if (!fleet.brokerUp) return this.loseAtBroker(id);
    this.parts.messages.assignSeq(id);
    for (let s = 0; s < fleet.serverCount; s++) {
      if (!fleet.alive[s]) continue;
      const at = Math.round(now + this.parts.network.brokerToServerUs(s));
      if (this.parts.partitions.brokerToServer(s, now)) {
        // Dropped by Redis (a slow subscriber, or cut off by a partition): its users miss this.
        for (
          let u = members.memberHead[s * this.channels + this.msgs.channel[id]];
          u >= 0;
          u = members.memberNext[u]
        )
          this.missedWhileUnsubscribed++;
        continue;
      }
      if (members.memberHead[s * this.channels + this.msgs.channel[id]] < 0) continue;
      this.queue.push(at, (s << KIND_BITS) | EV_SERVER_IN, id);
      if (this.parts.messages.traced(id))
        this.trace.write(TRACE_HOP2, now, at, NODE_BROKER, 2 + s, id, -1);
    }
  }

  /** Kafka: the producer's batch for a partition goes out after the linger time. */
  onFlush(now: number, p: number): void {
    this.flushScheduled[p] = 0;
    const ids = this.batch[p];
    if (ids.length === 0) return;
    if (!this.parts.fleet.brokerUp || this.parts.partitions.sourceToBroker()) {
      if (this.t.broker.acks === '0') {
        // Fire and forget: the producer never learns the batch was lost.
        for (const id of ids) this.loseAtBroker(id);
        this.batch[p] = [];
        return;
      }
      this.paths.producerRetry++;
      this.flushScheduled[p] = 1;
      this.queue.push(now + PRODUCER_RETRY_US, (p << KIND_BITS) | EV_FLUSH, 0);
      return;
    }
    // Visible to consumers once replicated to the in-sync replicas (the high watermark).
    const network = this.parts.network;
    const replicated =
      this.t.broker.replicationFactor > 1 ? 2 * network.brokerUs() : network.brokerUs();
    const visible = Math.round(now + replicated);
    for (const id of ids) this.append(p, id);
    this.batch[p] = [];
    this.awaitAck(now, p, ids);
    if (this.group.enabled) this.group.consume(p, visible);
    else for (let s = 0; s < this.parts.fleet.serverCount; s++) this.consume(s, p, visible);
  }

  /** Written, but is the acknowledgement cut off? Then the producer resends after its timeout. */
  private awaitAck(now: number, p: number, ids: number[]): void {
    if (this.t.broker.acks === '0' || !this.parts.partitions.brokerToSource()) return;
    this.paths.producerRetry++;
    if (this.unacked[p].length === 0)
      this.queue.push(now + PRODUCER_REQUEST_TIMEOUT_US, (p << KIND_BITS) | EV_FLUSH, 1);
    for (const id of ids) this.unacked[p].push(id);
  }

  /** The request timed out without an acknowledgement: the same records go again. */
  onResend(now: number, p: number): void {
    const ids = this.unacked[p];
    this.unacked[p] = [];
    if (!this.parts.fleet.brokerUp || this.parts.partitions.sourceToBroker()) {
      for (const id of ids) this.unacked[p].push(id);
      this.queue.push(now + PRODUCER_RETRY_US, (p << KIND_BITS) | EV_FLUSH, 1);
      return;
    }
    for (const id of ids) this.append(p, id);
    this.awaitAck(now, p, ids);
    const network = this.parts.network;
    const replicated =
      this.t.broker.replicationFactor > 1 ? 2 * network.brokerUs() : network.brokerUs();
    const visible = Math.round(now + replicated);
    if (this.group.enabled) this.group.consume(p, visible);
    else for (let s = 0; s < this.parts.fleet.serverCount; s++) this.consume(s, p, visible);
  }

  /** Appends a record to partition p's log; a retried one is dropped (idempotent) or copied. */
  private append(p: number, id: number): void {
    const messages = this.parts.messages;
    if (this.msgs.seq[id] >= 0) {
      if (this.t.broker.idempotentProducer === 'on') {
        // Same producer id and sequence as a record the log has: the broker drops it.
        this.dedupedAtBroker++;
        return;
      }
      id = messages.cloneMessage(id);
    }
    messages.assignSeq(id);
    messages.offset[id] = this.partLog[p].length;
    this.partLog[p].push(id);
  }

  /** A Kafka consumer (one per server, its own group) reads partition p up to its end. */
  private consume(s: number, p: number, fromUs: number): void {
    const fleet = this.parts.fleet;
    if (!fleet.alive[s] || !fleet.brokerUp || this.parts.partitions.brokerServer(s, fromUs)) return;
    const log = this.partLog[p];
    const k = s * this.partitions + p;
    const retentionUs = this.t.broker.retentionS * 1e6;
    const at = Math.round(fromUs + this.parts.network.brokerToServerUs(s));
    for (let off = this.consumed[k]; off < log.length; off++) {
      const id = log[off];
      // Past retention the records are gone: the consumer's offset resets past them.
      if (this.msgs.createdUs[id] < fromUs - retentionUs) continue;
      this.queue.push(at, (s << KIND_BITS) | EV_SERVER_IN, id);
      if (this.parts.messages.traced(id))
        this.trace.write(TRACE_HOP2, fromUs, at, NODE_BROKER, 2 + s, id, -1);
    }
    this.consumed[k] = log.length;
  }

  onCommit(now: number, s: number): void {
    if (this.group.enabled) this.group.commit(now, s);
    else if (this.parts.fleet.alive[s])
      for (let p = 0; p < this.partitions; p++)
        this.committed[s * this.partitions + p] = this.consumed[s * this.partitions + p];
    const next = Math.round(now + this.t.broker.commitIntervalMs * 1000);
    if (next <= this.durationUs) this.queue.push(next, (s << KIND_BITS) | EV_COMMIT, 0);
  }

  /** Direct polling: the server asks the data source for everything after its cursor. */
  onPoll(now: number, s: number): void {
    const fleet = this.parts.fleet;
    const network = this.parts.network;
    const next = Math.round(now + this.t.broker.pollIntervalMs * 1000);
    if (next <= this.durationUs) this.queue.push(next, (s << KIND_BITS) | EV_POLL, 0);
    if (!fleet.alive[s] || !fleet.brokerUp || this.parts.partitions.brokerServer(s, now)) return;
    this.sourceRequests++;
    const at = Math.round(now + network.brokerUs() + network.brokerToServerUs(s));
    for (let i = this.dbCursor[s]; i < this.dbLog.length; i++) {
      const id = this.dbLog[i];
      this.queue.push(at, (s << KIND_BITS) | EV_SERVER_IN, id);
      if (this.parts.messages.traced(id))
        this.trace.write(TRACE_HOP2, now, at, NODE_BROKER, 2 + s, id, -1);
    }
    this.dbCursor[s] = this.dbLog.length;
  }

  /** A server has the message: it writes it to each local subscriber's connection. */
  onServerIn(now: number, s: number, id: number): void {
    if (!this.parts.fleet.alive[s]) return;
    const c = this.msgs.channel[id];
    this.hop2Hist.record(now - this.msgs.createdUs[id]);
    // Newer than something this server already has, from another partition or channel: the
    // global publication order is not kept (Kafka keeps it per partition only).
    if (
      this.msgs.createdUs[id] < this.lastCreatedAt[s] &&
      this.msgs.seq[id] > this.serverSeq[s * this.channels + c]
    )
      this.serverReorders++;
    if (this.msgs.createdUs[id] > this.lastCreatedAt[s])
      this.lastCreatedAt[s] = this.msgs.createdUs[id];
    this.arrivalLog?.push({
      server: s,
      partition: this.t.broker.kind === 'kafka' ? c % this.partitions : c,
      offset: this.t.broker.kind === 'kafka' ? this.parts.messages.offset[id] : this.msgs.seq[id],
      message: id,
      arrivalUs: now,
    });
    const k = s * this.channels + c;
    if (this.msgs.seq[id] > this.serverSeq[k]) this.serverSeq[k] = this.msgs.seq[id];
    if (this.t.broker.kind === 'redis' && this.slowSubscriber(now, s, id)) return;
    const shaping = this.parts.shaping;
    if (shaping) return shaping.onServerIn(now, s, c, id);
    const members = this.parts.members;
    const hop1 = this.parts.hop1;
    for (let u = members.memberHead[s * this.channels + c]; u >= 0; u = members.memberNext[u])
      hop1.send(now, u, id, false);
  }

  /** Redis disconnects a subscriber whose output buffer would pass the limit (it then misses messages). */
  private slowSubscriber(now: number, s: number, id: number): boolean {
    const cost = this.t.server.cpuPerSendUs;
    const backlogSends = cost > 0 ? this.parts.fleet.cpus[s].backlogUs(now) / cost : 0;
    if (backlogSends * this.msgs.bytes[id] <= this.t.broker.outputBufferKB * 1024) return false;
    this.parts.partitions.dropSubscriber(s, now + RESUBSCRIBE_US);
    this.subscriberDisconnects++;
    return true;
  }

  /** Kafka consumers read what piled up while they could not (broker back, partition healed). */
  catchUp(now: number): void {
    if (this.t.broker.kind !== 'kafka') return;
    if (this.group.enabled) for (let p = 0; p < this.partitions; p++) this.group.consume(p, now);
    else
      for (let s = 0; s < this.parts.fleet.serverCount; s++)
        for (let p = 0; p < this.partitions; p++) this.consume(s, p, now);
  }

  /**
   * Server s crashed. Kafka: the consumer will restart from its last committed offset. Direct
   * polling: a server that lost its state starts reading from the data source's end.
   */
  crashed(s: number, loseState: boolean): void {
    for (let p = 0; p < this.partitions; p++) {
      const k = s * this.partitions + p;
      this.replayFrom[k] = this.consumed[k];
      this.consumed[k] = this.committed[k];
    }
    if (loseState && this.t.broker.kind === 'direct') this.dbCursor[s] = this.dbLog.length;
  }

  /** Server s restarted (its own consumer group): it reads again from its committed offsets. */
  restarted(now: number, s: number): void {
    if (this.t.broker.kind === 'kafka')
      for (let p = 0; p < this.partitions; p++)
        if (this.consumed[s * this.partitions + p] < this.replayFrom[s * this.partitions + p])
          this.paths.consumerReplay++;
    if (this.t.broker.kind === 'kafka')
      for (let p = 0; p < this.partitions; p++) this.consume(s, p, now);
  }

  /** A new server s (scale-out) starts reading now: its first commit or poll is scheduled. */
  added(now: number, s: number): void {
    const latestSeq = this.parts.messages.latestSeq;
    // A new server starts from now: it owes its users nothing published before it existed.
    for (let c = 0; c < this.channels; c++)
      this.serverSeq[s * this.channels + c] = latestSeq[c] - 1;
    if (this.t.broker.kind === 'direct') this.dbCursor[s] = this.dbLog.length;
    if (this.t.broker.kind === 'kafka') {
      for (let p = 0; p < this.partitions; p++)
        this.consumed[s * this.partitions + p] = this.partLog[p].length;
      this.queue.push(
        Math.round(now + this.t.broker.commitIntervalMs * 1000),
        (s << KIND_BITS) | EV_COMMIT,
        0,
      );
    }
    if (this.t.broker.kind === 'direct') this.queue.push(now + 1, (s << KIND_BITS) | EV_POLL, 0);
  }

  /** Starts recording every record a server receives (for the partition-order checker). */
  recordArrivals(): ArrivalRecord[] {
    this.arrivalLog = [];
    return this.arrivalLog;
  }
}
