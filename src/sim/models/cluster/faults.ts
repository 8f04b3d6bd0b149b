// Faults: what each kind does to the fleet when it happens, what a heal ends, and how each part recovers.
import type { Fault } from '../../../scenario/schema.ts';
import { KIND_BITS } from '../../engine.ts';
import type { EventQueue } from '../../queue.ts';
import type { Rng } from '../../rng.ts';
import type { ClusterContext, ClusterTopology, RecoveryPath } from './context.ts';
import type { Connections } from './connections.ts';
import type { Distribution } from './distribution.ts';
import { EV_DRAIN_END, EV_RECOVER } from './events.ts';
import type { Fleet } from './fleet.ts';
import type { KafkaGroup } from './kafka-group.ts';
import type { Members } from './members.ts';
import type { Network } from './network.ts';
import { partitionKey, type Partitions } from './partitions.ts';
import type { FaultSchedule } from './schedule.ts';

/**
 * The parts a fault acts on. Faults are the one part that changes every other: each change goes
 * through the part's own methods, so the order of what happens inside one fault stays the order
 * the run has always had.
 */
export interface FaultsParts {
  schedule: FaultSchedule;
  fleet: Fleet;
  network: Pick<Network, 'slow' | 'restore' | 'isSlow'>;
  partitions: Pick<
    Partitions,
    'add' | 'remove' | 'holds' | 'serverUser' | 'sourceBroker' | 'brokerServer'
  >;
  members: Pick<Members, 'online' | 'connServer'>;
  connections: Pick<
    Connections,
    'crashServer' | 'dropShare' | 'drainServer' | 'closeServer' | 'expectTimeout' | 'brokerBack'
  >;
  distribution: Pick<Distribution, 'crashed' | 'restarted' | 'added' | 'catchUp'>;
  group: Pick<KafkaGroup, 'enabled' | 'join' | 'leave' | 'crashed' | 'checkSessions' | 'rejoin'>;
}

export class Faults {
  private readonly t: ClusterTopology;
  private readonly queue: EventQueue;
  private readonly paths: Record<RecoveryPath, number>;

  /** @param rng The run's root stream: mass disconnects and drains fork their own from it. */
  constructor(
    ctx: ClusterContext,
    private readonly rng: Rng,
    private readonly parts: FaultsParts,
  ) {
    this.t = ctx.t;
    this.queue = ctx.queue;
    this.paths = ctx.paths;
  }

  /**
   * Whether a fault changes anything now: a crash of a server that is down, an outage of a
   * broker that is down, a partition already in force do nothing (and have nothing to recover).
   */
  private applies(now: number, f: Fault): boolean {
    const fleet = this.parts.fleet;
    const s = f.target;
    switch (f.kind) {
      case 'server-crash':
        return s < fleet.serverCount && fleet.alive[s] === 1;
      case 'graceful-shutdown':
        return s < fleet.serverCount && fleet.alive[s] === 1 && fleet.draining[s] === 0;
      case 'broker-down':
        return fleet.brokerUp;
      case 'lb-down':
        return fleet.lbUp;
      case 'scale-out':
        return fleet.serverCount < fleet.maxServers;
      case 'slow-link':
        return s < fleet.serverCount && !this.parts.network.isSlow(s, now);
      case 'partition':
        return !this.parts.partitions.holds(partitionKey(f), this.parts.schedule.entries);
      default:
        return true;
    }
  }

  onFault(now: number, i: number): void {
    const { fleet, schedule } = this.parts;
    const f: Fault = schedule.entries[i];
    const rec = schedule.records[i];
    rec.applied = this.applies(now, f);
    if (!rec.applied) return;
    if (
      f.forS > 0 &&
      f.kind !== 'mass-disconnect' &&
      f.kind !== 'scale-out' &&
      f.kind !== 'graceful-shutdown'
    )
      this.queue.push(Math.round(now + f.forS * 1e6), (i << KIND_BITS) | EV_RECOVER, 0);
    switch (f.kind) {
      case 'server-crash':
        rec.hit = this.crash(now, f.target, f.loseState);
        return;
      case 'broker-down':
        fleet.brokerUp = false;
        // Redis keeps nothing on disk here: its history (and epoch) is gone when it comes back.
        if (this.t.broker.kind === 'redis') fleet.brokerEpoch++;
        return;
      case 'lb-down':
        fleet.lbUp = false;
        rec.hit = this.disconnectAll(now, 1, false);
        return;
      case 'mass-disconnect':
        rec.hit = this.disconnectAll(now, f.share, false);
        return;
      case 'graceful-shutdown':
        rec.hit = this.gracefulShutdown(now, f.target);
        return;
      case 'scale-out':
        rec.hit = this.scaleOut(now);
        return;
      case 'partition':
        // Without groups: broker and server cannot reach each other. Redis drops the subscriber
        // (its users miss what is published), a Kafka consumer or a poller stalls and catches
        // up after. Users cut from their server time out on the heartbeat and reconnect.
        this.parts.partitions.add(f, i);
        rec.between = `${f.from ?? 'broker'} ${f.oneWay ? '→' : '⇄'} ${f.to ?? `server:${f.target}`}`;
        rec.hit = this.applyCut(now);
        return;
      case 'slow-link':
        this.parts.network.slow(
          f.target,
          f.extraLatencyMs * 1000,
          f.lossProbability,
          f.bandwidthMbps,
          now,
          f.forS > 0 ? now + f.forS * 1e6 : Infinity,
        );
        rec.hit = fleet.conns[f.target];
        return;
      case 'server-restart':
      case 'broker-up':
      case 'lb-up':
      case 'partition-heal':
        rec.hit = this.heal(now, f);
        rec.applied = rec.hit > 0;
        return;
    }
  }

  /**
   * Ends the open fault a heal names (a click on a failed node): the crash that took the server
   * down, the broker or LB outage, the partition between the same groups. 1 if one was open.
   */
  private heal(now: number, h: Fault): number {
    const schedule = this.parts.schedule;
    const opened = {
      'server-restart': 'server-crash',
      'broker-up': 'broker-down',
      'lb-up': 'lb-down',
      'partition-heal': 'partition',
    }[h.kind as string];
    for (let i = schedule.records.length - 1; i >= 0; i--) {
      const r = schedule.records[i];
      if (r.kind !== opened || r.recoveredAtS !== null || !r.applied) continue;
      if (opened === 'server-crash' && r.target !== h.target) continue;
      if (opened === 'partition' && partitionKey(schedule.entries[i]) !== partitionKey(h)) continue;
      this.onRecover(now, i);
      return 1;
    }
    return 0;
  }

  onRecover(now: number, i: number): void {
    const { fleet, schedule } = this.parts;
    const f = schedule.entries[i];
    const rec = schedule.records[i];
    // Healed already (by a click) or never in force: nothing to end.
    if (rec.recoveredAtS !== null || !rec.applied) return;
    rec.recoveredAtS = now / 1e6;
    switch (f.kind) {
      case 'server-crash':
        return this.restart(now, f.target);
      case 'broker-down':
        fleet.brokerUp = true;
        this.parts.connections.brokerBack(now);
        this.parts.distribution.catchUp(now);
        return;
      case 'lb-down':
        fleet.lbUp = true;
        return;
      case 'slow-link':
        this.parts.network.restore(f.target, now);
        return;
      case 'partition':
        this.parts.partitions.remove(i);
        // Group members the coordinator dropped while they were cut off join again.
        this.parts.group.rejoin(now);
        this.parts.distribution.catchUp(now);
        return;
    }
  }

  private crash(now: number, s: number, loseState: boolean): number {
    const fleet = this.parts.fleet;
    if (!fleet.alive[s]) return 0;
    fleet.alive[s] = 0;
    this.parts.group.crashed(now, s);
    if (loseState) fleet.serverEpoch[s]++;
    const hit = this.parts.connections.crashServer(now, s);
    fleet.conns[s] = 0;
    this.parts.distribution.crashed(s, loseState);
    return hit;
  }

  private restart(now: number, s: number): void {
    const fleet = this.parts.fleet;
    if (fleet.alive[s]) return;
    fleet.alive[s] = 1;
    fleet.acceptFreeUs[s] = now;
    // A restarted group consumer joins with a new member id: the group rebalances.
    if (this.parts.group.enabled) return this.parts.group.join(now, s);
    this.parts.distribution.restarted(now, s);
  }

  private disconnectAll(now: number, share: number, _graceful: boolean): number {
    const pick = this.rng.fork(`disconnect/${now}`);
    return this.parts.connections.dropShare(now, share, pick);
  }

  /** The server asks its clients to reconnect elsewhere, drains, then force-closes the rest. */
  private gracefulShutdown(now: number, s: number): number {
    const fleet = this.parts.fleet;
    if (!fleet.alive[s]) return 0;
    fleet.draining[s] = 1;
    this.paths.gracefulDrain++;
    // A clean leave: the consumer commits and leaves its group at once.
    this.parts.group.leave(now, s);
    fleet.setHealthy(fleet.healthyServers.filter((x) => x !== s));
    const spread = this.rng.fork(`drain/${s}`);
    const drainUs = this.t.server.drainS * 1e6;
    const hit = this.parts.connections.drainServer(now, s, spread, drainUs);
    this.queue.push(Math.round(now + drainUs), (s << KIND_BITS) | EV_DRAIN_END, 0);
    return hit;
  }

  /** The drain time is up: whoever is still connected is closed, then the server stops. */
  onDrainEnd(now: number, s: number): void {
    const fleet = this.parts.fleet;
    this.parts.connections.closeServer(now, s);
    fleet.alive[s] = 0;
    fleet.conns[s] = 0;
    this.parts.group.leave(now, s);
  }

  private scaleOut(now: number): number {
    const fleet = this.parts.fleet;
    const s = fleet.serverCount++;
    fleet.alive[s] = 1;
    fleet.acceptFreeUs[s] = now;
    fleet.setHealthy([...fleet.healthyServers, s]);
    this.parts.distribution.added(now, s);
    this.parts.group.join(now, s);
    return 1;
  }

  /**
   * A partition starts: count the users it cuts off (from their server, or their server from the
   * broker, or the source from the broker) and let the server time out connections it cut.
   */
  private applyCut(now: number): number {
    const { members, partitions } = this.parts;
    let hit = 0;
    const sourceCut = partitions.sourceBroker();
    for (let u = 0; u < this.t.users; u++) {
      if (!members.online[u]) continue;
      const s = members.connServer[u];
      if (partitions.serverUser(s, u)) {
        hit++;
        // Pings or pongs stop arriving: the connection times out on the heartbeat.
        this.parts.connections.expectTimeout(now, u);
      } else if (sourceCut || partitions.brokerServer(s, now)) hit++;
    }
    this.parts.group.checkSessions(now);
    return hit;
  }
}
