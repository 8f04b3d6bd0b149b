// Hop 2 and the fleet (direct polling, Redis pub/sub or Kafka; load balancing; reconnects; faults): the event loop and the wiring of its parts.
import type { RunSpec } from '../../../scenario/resolve.ts';
import type { ClusterScenario, Fault } from '../../../scenario/schema.ts';
import type { AppResult, ClusterCaseApp } from '../../apps/app.ts';
import { createClusterApp } from '../../apps/registry.ts';
import type { ArrivalRecord } from '../../checkers/partition-order.ts';
import type { DeliveryRecord } from '../../checkers/sequence.ts';
import { sampler } from '../../dist.ts';
import { EventModel, KIND_BITS, word0 } from '../../engine.ts';
import { Rng } from '../../rng.ts';
import { sampleIntervalUs, SeriesRecorder } from '../../series.ts';
import { bytesPerUpdateOf, shapingConfig } from '../../shaping/config.ts';
import type { Simulation } from '../../simulation.ts';
import type { FaultRecord, FlowCounts, RunResult, Snapshot, Topology } from '../../types.ts';
import { Connections } from './connections.ts';
import { newPaths, type ClusterContext } from './context.ts';
import { Distribution } from './distribution.ts';
import {
  EV_ACK,
  EV_APP,
  EV_ATTEMPT,
  EV_AWAY,
  EV_BROKER_IN,
  EV_COMMIT,
  EV_CONNECTED,
  EV_DELIVER,
  EV_DETECT,
  EV_DRAIN_END,
  EV_FAULT,
  EV_FLUSH,
  EV_GROUP,
  EV_HEALTH,
  EV_POLL,
  EV_PUBLISH,
  EV_RECOVER,
  EV_RETURN,
  EV_SAMPLE,
  EV_SERVER_IN,
  EV_TIMEOUT,
} from './events.ts';
import { Faults } from './faults.ts';
import { Fleet } from './fleet.ts';
import { Hop1 } from './hop1.ts';
import type { KafkaGroup } from './kafka-group.ts';
import { Members } from './members.ts';
import { Messages } from './messages.ts';
import { Network } from './network.ts';
import { Partitions } from './partitions.ts';
import { Presence } from './presence.ts';
import { FaultSchedule } from './schedule.ts';
import { ClusterShaping, EV_SHAPE_FLUSH, EV_SHAPE_RELEASE } from './shaping.ts';
import { Views } from './views.ts';

export type { RecoveryPath } from './context.ts';

/**
 * The cluster model: it owns the event loop and wires the parts (one concern each, listed in
 * ARCHITECTURE.md under "The cluster model"). Each part keeps its own state and reaches the
 * others only through what its `…Parts` interface names.
 */
export class ClusterSimulation extends EventModel implements Simulation {
  readonly durationUs: number;
  private readonly rng: Rng;
  private readonly series: SeriesRecorder;
  private readonly nodeIdList: string[];

  // Counters.
  private readonly flow: FlowCounts = {
    produced: 0,
    fanout: 0,
    delivered: 0,
    dropped: 0,
    duplicated: 0,
    outOfOrder: 0,
    inFlight: 0,
  };

  // Parts.
  private readonly schedule: FaultSchedule;
  private readonly fleet: Fleet;
  private readonly members: Members;
  private readonly hop1: Hop1;
  /** Update shaping on the hop-1 path, when the scenario has a shaping block. */
  private readonly shaping: ClusterShaping | null;
  private readonly distribution: Distribution;
  private readonly group: KafkaGroup;
  private readonly presence: Presence;
  private readonly connections: Connections;
  private readonly faults: Faults;
  private readonly views: Views;
  private readonly topo: ClusterScenario['topology'];
  /** A case-study application in place of the source (`topology.app`). */
  private readonly app: ClusterCaseApp | null;

  constructor(run: RunSpec, sc: ClusterScenario) {
    super(run);
    const t = sc.topology;
    this.durationUs = Math.round(sc.durationS * 1e6);
    const root = new Rng(run.seed);
    this.rng = root;
    const ctx: ClusterContext = {
      t,
      durationUs: this.durationUs,
      queue: this.queue,
      msgs: this.msgs,
      trace: this.trace,
      hasher: this.hasher,
      clock: this,
      flow: this.flow,
      paths: newPaths(),
    };
    const payloadBytes = sampler(sc.workload.payloadBytes, root.fork('payload'));
    const schedule = new FaultSchedule(t.faults, this);
    const fleet = new Fleet(ctx, root, schedule);
    const S = fleet.maxServers;
    let shaping: ClusterShaping | null = null;
    if (t.shaping) {
      const tickRng = root.fork('shaping/ticks');
      shaping = new ClusterShaping(
        shapingConfig(t.shaping, 'cluster'),
        {
          queue: this.queue,
          members: (srv, ch, each) => this.members.forEach(srv, ch, each),
          sendFrame: (now, u, ids, wire, superseding) =>
            this.hop1.sendFrame(now, u, ids, wire, superseding),
          connectedTo: (u, srv) => this.members.connectedTo(u, srv),
        },
        S,
        t.channels,
        t.users,
        () => tickRng.float(),
      );
    }
    const network = new Network(t, S, root.fork('network'), this);
    const partitions = new Partitions(t.regions, S);
    const members = new Members(t.users, S, t.channels, root.fork('subscriptions'));
    const messages = new Messages(
      this.msgs,
      this.flow,
      t.channels,
      t.sources,
      sc.workload.ratePerChannelPerSec,
      payloadBytes,
      shaping ? shaping.payloadBytes : null,
    );
    const series = new SeriesRecorder(
      sampleIntervalUs(sc.sampleIntervalMs, this.durationUs),
      this.durationUs,
      S,
    );
    const hop1 = new Hop1(ctx, { fleet, network, partitions, members, messages, series });
    const distribution = new Distribution(
      ctx,
      S,
      sc.workload.ratePerChannelPerSec,
      root.fork('source'),
      {
        fleet,
        network,
        partitions,
        members,
        messages,
        hop1,
        shaping,
        schedule,
      },
    );
    const group = distribution.group;
    const presence = new Presence(ctx, { hop1, members, messages });
    const connections = new Connections(ctx, root.fork('backoff'), {
      fleet,
      network,
      partitions,
      members,
      hop1,
      messages,
      distribution,
      presence,
    });
    const faults = new Faults(ctx, root, {
      schedule,
      fleet,
      network,
      partitions,
      members,
      connections,
      distribution,
      group,
    });
    const views = new Views(ctx, root, {
      series,
      schedule,
      fleet,
      network,
      partitions,
      members,
      messages,
      hop1,
      connections,
      presence,
      distribution,
      group,
      shaping,
    });
    this.schedule = schedule;
    this.fleet = fleet;
    this.members = members;
    this.series = series;
    this.shaping = shaping;
    this.hop1 = hop1;
    this.distribution = distribution;
    this.group = group;
    this.presence = presence;
    this.connections = connections;
    this.faults = faults;
    this.views = views;
    this.topo = t;
    this.app = t.app ? createClusterApp(t.app) : null;

    this.nodeIdList = ['source', 'broker'];
    for (let s = 0; s < S; s++) this.nodeIdList.push(`server-${s}`);
    for (let s = 0; s < S; s++) this.nodeIdList.push(`users-${s}`);
    this.start();
  }

  // ---- Set-up and the loop.

  /** The first events of every part, in the order the run has always queued them. */
  private start(): void {
    this.connections.start(this.rng.fork('start'));
    this.presence.start(this.rng);
    if (!this.app) this.distribution.startPublishing();
    this.fleet.start();
    this.distribution.startConsumers();
    this.views.start();
    if (this.app) this.startApp(this.app);
  }

  /**
   * The hosted app's view of the fabric: it publishes in place of the source, draws from its own
   * stream (`app`), and is told of applies, acks, and users going away and coming back.
   */
  private startApp(app: ClusterCaseApp): void {
    const { hop1, presence, members, distribution } = this;
    const t = this.topo;
    const appRng = this.rng.fork('app');
    const uplinkRng = appRng.fork('uplink');
    hop1.onApply = (now, u, id) => app.applied?.(now, u, id);
    hop1.onAcked = (now, u, id) => app.acked?.(now, u, id);
    presence.onAway = (now, u) => app.wentAway?.(now, u);
    presence.onReturn = (now, u) => app.cameBack?.(now, u);
    app.start({
      durationUs: this.durationUs,
      users: t.users,
      channels: t.channels,
      rng: appRng,
      userChannel: members.userChannel,
      schedule: (atUs, arg, word1 = 0) => {
        if (atUs <= this.durationUs) this.queue.push(atUs, (arg << KIND_BITS) | EV_APP, word1);
      },
      publish: (nowUs, channel, origin) => {
        const id = distribution.publish(nowUs, channel);
        this.msgs.origin[id] = origin;
        return id;
      },
      connected: (u) => members.online[u] === 1 && presence.away[u] === 0,
      away: (u) => presence.away[u] === 1,
      goAway: (u, atUs, backUs) => {
        if (atUs > this.durationUs) return;
        this.queue.push(atUs, (u << KIND_BITS) | EV_AWAY, 0);
        if (backUs <= this.durationUs)
          this.queue.push(Math.max(atUs + 1, backUs), (u << KIND_BITS) | EV_RETURN, 0);
      },
      uplinkUs: (u) => {
        // The network's own formula (access path, the ocean if abroad, exponential jitter).
        const base = (t.network.rttMs * 1000) / 2;
        const s = members.connServer[u];
        const abroad = s >= 0 && u % t.regions !== s % t.regions;
        const j = t.network.jitterShare;
        return (
          base +
          (abroad ? t.interRegionMs * 1000 : 0) +
          (j > 0 ? -j * base * Math.log(1 - uplinkRng.float()) : 0)
        );
      },
      clientSeq: (u) => hop1.recv[u],
      msgSeq: (message) => this.msgs.seq[message],
    });
  }

  protected nodeIds(): readonly string[] {
    return this.nodeIdList;
  }

  /**
   * Faults live outside the event queue and run before any queued event at the same time, so a
   * fault injected by click at time T and the same fault scheduled from the start of a replay
   * land at the same place in the run.
   */
  protected override nextUs(): number {
    return Math.min(this.schedule.nextUs, this.queue.peekTime());
  }

  protected override dispatchNext(): void {
    if (this.schedule.due(this.queue.peekTime())) {
      const [at, i] = this.schedule.take();
      this.nowUsValue = at;
      this.eventCount++;
      this.hasher.addEvent(at, word0(EV_FAULT, i), 0);
      return this.faults.onFault(at, i);
    }
    super.dispatchNext();
  }

  protected handle(kind: number, arg: number, w1: number, now: number): void {
    switch (kind) {
      case EV_PUBLISH:
        return this.distribution.onPublish(now, arg);
      case EV_BROKER_IN:
        return this.distribution.onRedisIn(now, w1);
      case EV_SERVER_IN:
        return this.distribution.onServerIn(now, arg, w1);
      case EV_DELIVER:
        return this.hop1.onDeliver(now, w1);
      case EV_ACK:
        return this.hop1.onAck(w1, now);
      case EV_APP:
        return this.app?.handle(now, arg, w1);
      case EV_ATTEMPT:
        return this.connections.onAttempt(now, arg, w1);
      case EV_CONNECTED:
        return this.connections.onConnected(now, arg, w1);
      case EV_DETECT:
        return this.connections.onDetect(now, arg, w1);
      case EV_RECOVER:
        return this.faults.onRecover(now, arg);
      case EV_HEALTH:
        return this.fleet.onHealth(now);
      case EV_POLL:
        return this.distribution.onPoll(now, arg);
      case EV_COMMIT:
        return this.distribution.onCommit(now, arg);
      case EV_FLUSH:
        return w1 === 1
          ? this.distribution.onResend(now, arg)
          : this.distribution.onFlush(now, arg);
      case EV_SAMPLE:
        return this.views.onSample(now);
      case EV_DRAIN_END:
        return this.faults.onDrainEnd(now, arg);
      case EV_TIMEOUT:
        return this.connections.onTimeout(now, arg, w1);
      case EV_AWAY:
        return this.connections.onAway(now, arg);
      case EV_RETURN:
        return this.connections.onReturn(now, arg);
      case EV_GROUP:
        return arg === 0 ? this.group.onSessionCheck(now, w1) : this.group.onRebalanceEnd(now, w1);
      case EV_SHAPE_RELEASE:
        return this.shaping?.onRelease(now, arg);
      case EV_SHAPE_FLUSH:
        return this.shaping?.onFlush(now, arg);
    }
  }

  // ---- What the shells and the tests ask of a run.

  snapshot(): Snapshot {
    const views = this.views;
    views.updateInFlight();
    return {
      ...this.baseSnapshot({
        flow: this.flow,
        e2e: this.hop1.e2eHist,
        hop2: this.distribution.hop2Hist,
        hop1: this.hop1.hop1Hist,
        links: (elapsedS) => views.linkStats(elapsedS),
        servers: (now) => views.serverStats(now),
        rejectedConnections: this.connections.rejectedConnections,
        series: this.series.toSeries(),
      }),
      cluster: views.clusterStats(),
      ...(this.shaping ? { shaping: views.shapingStats(this.shaping) } : {}),
    };
  }

  result(wallMs: number): RunResult {
    const snap = this.snapshot();
    const c = snap.cluster!;
    const out: RunResult = {
      ...this.baseResult(snap, wallMs),
      clusterStats: c,
      lost: c.lost,
      recovered: c.recovered,
      stale: c.stale,
      reach: c.reach,
      faults: c.faults,
      reconnect: c.reconnect,
      connectionsPerServer: c.connectionsPerServer,
      remappedShareOnScaleOut: c.remappedShareOnScaleOut,
      ...(snap.shaping
        ? { shaping: snap.shaping, bytesPerUpdate: bytesPerUpdateOf(snap.shaping.schema) }
        : {}),
    };
    if (this.app) Object.assign(out, this.appResult());
    return out;
  }

  /** The case-study application this run hosts (for checkers and tests), if any. */
  caseApp(): ClusterCaseApp | null {
    return this.app;
  }

  /** The application's counts and the guide's figures, measured on this run so far. */
  appResult(): AppResult | null {
    if (!this.app) return null;
    const nowUs = this.nowUsValue;
    const elapsedS = nowUs / 1e6;
    const users = this.topo.users;
    return this.app.result({
      nowUs,
      latencyMs: this.hop1.e2eHist.summary(),
      bytesPerSecPerUser: elapsedS > 0 ? this.hop1.hop1Bytes / users / elapsedS : 0,
    });
  }

  /** The servers of the scenario (scheduled scale-outs included; room for injected ones is not). */
  topology(): Topology {
    return this.views.topology();
  }

  /**
   * Injects a fault now (a click in the lab). It joins the schedule like any other, so a run that
   * replays the same schedule — the URL records it — reproduces it exactly.
   */
  injectFault(raw: unknown): FaultRecord {
    return this.schedule.inject(raw, this.fleet.serverCount, this.fleet.maxServers);
  }

  /** The schedule so far, scenario faults and injected ones (for the URL and the timeline). */
  faultSchedule(): Fault[] {
    return this.schedule.entries.map((f) => ({ ...f }));
  }

  /**
   * Per user: the channel sequence number of the first update it was owed (-1: never connected).
   * The bridge has its real clients start from there, so both sides owe the same updates.
   */
  firstOwedSeq(): Int32Array {
    return this.connections.firstOwed.slice();
  }

  /** Starts recording every record a server receives (for the partition-order checker). */
  recordArrivals(): ArrivalRecord[] {
    return this.distribution.recordArrivals();
  }

  /** Starts recording every applied delivery for checkers (tests); returns the live list. */
  recordDeliveries(): DeliveryRecord[] {
    return this.hop1.recordDeliveries();
  }

  /** Per user: the highest sequence applied and the channel's latest (for convergence checks). */
  convergence(): { behind: number; maxBehind: number } {
    return this.views.convergence();
  }

  dispose(): void {
    const hop1 = this.hop1;
    for (const h of [hop1.e2eHist, hop1.hop1Hist, this.distribution.hop2Hist, hop1.intervalHist])
      h.destroy();
    this.app?.dispose();
  }
}
