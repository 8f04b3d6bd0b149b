// The Kafka consumer group (consumers = group): the servers split the partitions, the owner of each relays its records to the others, and members joining or leaving rebalance.
import { KIND_BITS } from '../../engine.ts';
import type { MessageTable } from '../../engine.ts';
import type { EventQueue } from '../../queue.ts';
import { TRACE_HOP2, type TraceRing } from '../../trace.ts';
import type { ClusterContext, ClusterTopology, RecoveryPath } from './context.ts';
import { EV_GROUP, EV_SERVER_IN, NODE_BROKER } from './events.ts';
import type { Fleet } from './fleet.ts';
import type { Messages } from './messages.ts';
import type { Network } from './network.ts';
import type { Partitions } from './partitions.ts';

/** What the group reads of the other parts: the fleet, the broker links, and the partitions' logs. */
export interface KafkaGroupParts {
  fleet: Pick<Fleet, 'serverCount' | 'alive' | 'draining' | 'brokerUp'>;
  network: Pick<Network, 'brokerToServerUs' | 'relayUs'>;
  partitions: Pick<Partitions, 'brokerServer'>;
  messages: Pick<Messages, 'traced'>;
  /** Per Kafka partition: its records by offset (appended by the broker, never rewritten). */
  partLog: readonly (readonly number[])[];
}

export class KafkaGroup {
  /** Whether the servers form one group; when not, every call here does nothing. */
  readonly enabled: boolean;
  readonly member: Uint8Array;
  /** Per partition: the member that consumes it (-1 while unassigned). */
  readonly owner: Int32Array;
  private readonly groupConsumed: Int32Array;
  private readonly groupCommitted: Int32Array;
  rebalancing = false;
  private generation = 0;
  rebalances = 0;
  private readonly partitions: number;
  private readonly t: ClusterTopology;
  private readonly queue: EventQueue;
  private readonly msgs: MessageTable;
  private readonly trace: TraceRing;
  private readonly paths: Record<RecoveryPath, number>;

  constructor(
    ctx: ClusterContext,
    servers: number,
    private readonly parts: KafkaGroupParts,
  ) {
    const t = ctx.t;
    this.t = t;
    this.queue = ctx.queue;
    this.msgs = ctx.msgs;
    this.trace = ctx.trace;
    this.paths = ctx.paths;
    this.enabled = t.broker.kind === 'kafka' && t.broker.consumers === 'group';
    this.partitions = t.broker.partitions;
    this.member = new Uint8Array(servers);
    this.member.fill(1, 0, t.servers);
    this.owner = new Int32Array(this.partitions).fill(-1);
    this.groupConsumed = new Int32Array(this.partitions);
    this.groupCommitted = new Int32Array(this.partitions);
    if (this.enabled) this.assignPartitions();
  }

  /** Round-robin assignment of the partitions over the members, in server order. */
  private assignPartitions(): void {
    const members: number[] = [];
    for (let s = 0; s < this.parts.fleet.serverCount; s++) if (this.member[s]) members.push(s);
    for (let p = 0; p < this.partitions; p++)
      this.owner[p] = members.length > 0 ? members[p % members.length] : -1;
  }

  /**
   * A member joined or left: the eager protocol revokes every partition (members that can still
   * reach the broker commit what they read), consumption stops for `rebalanceMs`, then the
   * partitions are assigned afresh and each new owner starts from the committed offset.
   */
  private rebalance(now: number): void {
    const fleet = this.parts.fleet;
    this.generation++;
    this.rebalances++;
    this.paths.groupRebalance++;
    for (let p = 0; p < this.partitions; p++) {
      const o = this.owner[p];
      if (o >= 0 && fleet.alive[o] && this.member[o] && !this.parts.partitions.brokerServer(o, now))
        this.groupCommitted[p] = this.groupConsumed[p];
      this.owner[p] = -1;
    }
    this.rebalancing = true;
    this.queue.push(
      Math.round(now + this.t.broker.rebalanceMs * 1000),
      (1 << KIND_BITS) | EV_GROUP,
      this.generation,
    );
  }

  onRebalanceEnd(now: number, generation: number): void {
    if (generation !== this.generation) return;
    this.rebalancing = false;
    this.assignPartitions();
    for (let p = 0; p < this.partitions; p++) {
      // What the last owner read but did not commit is read again (and relayed again).
      if (this.groupConsumed[p] > this.groupCommitted[p]) this.paths.groupReplay++;
      this.groupConsumed[p] = this.groupCommitted[p];
      this.consume(p, now);
    }
  }

  join(now: number, s: number): void {
    // A server on its way out (draining) does not join again.
    if (!this.enabled || this.parts.fleet.draining[s]) return;
    this.member[s] = 1;
    this.rebalance(now);
  }

  leave(now: number, s: number): void {
    if (!this.enabled || !this.member[s]) return;
    // A clean leave commits what it read; a member dropped for silence cannot.
    if (this.parts.fleet.alive[s] && !this.parts.partitions.brokerServer(s, now))
      for (let p = 0; p < this.partitions; p++)
        if (this.owner[p] === s) this.groupCommitted[p] = this.groupConsumed[p];
    this.member[s] = 0;
    this.rebalance(now);
  }

  /** The coordinator drops members whose heartbeats stop for the session timeout. */
  checkSessions(now: number): void {
    if (!this.enabled) return;
    const fleet = this.parts.fleet;
    const at = Math.round(now + this.t.broker.sessionTimeoutS * 1e6);
    for (let s = 0; s < fleet.serverCount; s++)
      if (this.member[s] && (!fleet.alive[s] || this.parts.partitions.brokerServer(s, now)))
        this.queue.push(at, EV_GROUP, s);
  }

  onSessionCheck(now: number, s: number): void {
    if (
      this.member[s] &&
      (!this.parts.fleet.alive[s] || this.parts.partitions.brokerServer(s, now))
    )
      this.leave(now, s);
  }

  /**
   * Server s crashed. Its partitions stall until the coordinator notices; what it read but did
   * not commit is lost with the process (nobody commits it on the next rebalance).
   */
  crashed(now: number, s: number): void {
    if (!this.enabled) return;
    for (let p = 0; p < this.partitions; p++) if (this.owner[p] === s) this.owner[p] = -1;
    this.checkSessions(now);
  }

  /** A partition healed: members the coordinator dropped while they were cut off join again. */
  rejoin(now: number): void {
    if (!this.enabled) return;
    const fleet = this.parts.fleet;
    for (let s = 0; s < fleet.serverCount; s++)
      if (
        !this.member[s] &&
        fleet.alive[s] &&
        !fleet.draining[s] &&
        !this.parts.partitions.brokerServer(s, now)
      )
        this.join(now, s);
  }

  /** The offset commit of server s: what it read of the partitions it owns. */
  commit(now: number, s: number): void {
    if (
      this.parts.fleet.alive[s] &&
      !this.rebalancing &&
      !this.parts.partitions.brokerServer(s, now)
    )
      for (let p = 0; p < this.partitions; p++)
        if (this.owner[p] === s) this.groupCommitted[p] = this.groupConsumed[p];
  }

  /** The owner of partition p reads it to the end and relays each record to the other servers. */
  consume(p: number, fromUs: number): void {
    const { fleet, network } = this.parts;
    const o = this.owner[p];
    if (o < 0 || this.rebalancing || !fleet.alive[o] || !fleet.brokerUp) return;
    if (this.parts.partitions.brokerServer(o, fromUs)) return;
    const log = this.parts.partLog[p];
    const retentionUs = this.t.broker.retentionS * 1e6;
    const at = Math.round(fromUs + network.brokerToServerUs(o));
    for (let off = this.groupConsumed[p]; off < log.length; off++) {
      const id = log[off];
      if (this.msgs.createdUs[id] < fromUs - retentionUs) continue;
      for (let s = 0; s < fleet.serverCount; s++) {
        if (!fleet.alive[s]) continue;
        const relayUs = s === o ? 0 : network.relayUs(o, s);
        const t = Math.round(at + relayUs);
        this.queue.push(t, (s << KIND_BITS) | EV_SERVER_IN, id);
        if (this.parts.messages.traced(id))
          this.trace.write(
            TRACE_HOP2,
            s === o ? fromUs : at,
            t,
            s === o ? NODE_BROKER : 2 + o,
            2 + s,
            id,
            -1,
          );
      }
    }
    this.groupConsumed[p] = log.length;
  }
}
