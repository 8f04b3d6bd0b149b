// Sampling and views: the series sampled every interval, and what a snapshot shows of the fleet (cluster figures, state, links, servers, shaping, topology).
import type { EventQueue } from '../../queue.ts';
import type { Rng } from '../../rng.ts';
import type { SeriesRecorder } from '../../series.ts';
import { activeStages, stageLabels } from '../../shaping/config.ts';
import type {
  ClusterState,
  ClusterStats,
  FlowCounts,
  LinkStats,
  ServerStats,
  ShapingStats,
  Topology,
} from '../../types.ts';
import { remappedShare } from './balancer.ts';
import type { ClusterContext, ClusterTopology, RecoveryPath } from './context.ts';
import type { Connections } from './connections.ts';
import type { Distribution } from './distribution.ts';
import { EV_SAMPLE } from './events.ts';
import { INJECTED_SCALE_OUTS, type Fleet } from './fleet.ts';
import type { Hop1 } from './hop1.ts';
import type { KafkaGroup } from './kafka-group.ts';
import type { Members } from './members.ts';
import type { Messages } from './messages.ts';
import type { Network } from './network.ts';
import type { Partitions } from './partitions.ts';
import type { Presence } from './presence.ts';
import type { FaultSchedule } from './schedule.ts';
import type { ClusterShaping } from './shaping.ts';

/** Bucket width for the reconnect-storm measurements. */
const STORM_BUCKET_US = 100_000;

/** What the views read (and only read) of the other parts. */
export interface ViewsParts {
  series: SeriesRecorder;
  schedule: Pick<FaultSchedule, 'records'>;
  fleet: Pick<
    Fleet,
    'maxServers' | 'serverCount' | 'alive' | 'draining' | 'conns' | 'cpus' | 'brokerUp' | 'lbUp'
  >;
  network: Pick<Network, 'isSlow'>;
  partitions: Pick<Partitions, 'active' | 'brokerServer'>;
  members: Pick<Members, 'userChannel'>;
  messages: Pick<Messages, 'latestSeq' | 'logCopies'>;
  hop1: Pick<
    Hop1,
    | 'recv'
    | 'recovered'
    | 'stale'
    | 'suppressed'
    | 'superseded'
    | 'hop1Bytes'
    | 'e2eHist'
    | 'intervalHist'
  >;
  connections: Pick<
    Connections,
    | 'firstAttemptsUs'
    | 'disconnectedNow'
    | 'lastReconnectUs'
    | 'attempts'
    | 'failedAttempts'
    | 'resynced'
  >;
  presence: Pick<Presence, 'away' | 'awayNow' | 'awayDisconnected'>;
  distribution: Pick<
    Distribution,
    | 'lostAtBroker'
    | 'deliveriesLostAtBroker'
    | 'subscriberDisconnects'
    | 'missedWhileUnsubscribed'
    | 'sourceRequests'
    | 'dedupedAtBroker'
    | 'serverReorders'
    | 'hop2Bytes'
  >;
  group: Pick<KafkaGroup, 'enabled' | 'owner' | 'rebalances' | 'rebalancing'>;
  shaping: ClusterShaping | null;
}

export class Views {
  private readonly connectionRows: number[][] = [];
  private readonly t: ClusterTopology;
  private readonly queue: EventQueue;
  private readonly flow: FlowCounts;
  private readonly paths: Record<RecoveryPath, number>;

  /** @param rng The run's root stream (the remapped share forks its own from it). */
  constructor(
    private readonly ctx: ClusterContext,
    private readonly rng: Rng,
    private readonly parts: ViewsParts,
  ) {
    this.t = ctx.t;
    this.queue = ctx.queue;
    this.flow = ctx.flow;
    this.paths = ctx.paths;
  }

  /** The first sample; each schedules the next. */
  start(): void {
    this.queue.push(Math.min(this.parts.series.intervalUs, this.ctx.durationUs), EV_SAMPLE, 0);
  }

  onSample(now: number): void {
    const { series, fleet } = this.parts;
    this.updateInFlight();
    const h = this.parts.hop1.intervalHist;
    const queues = fleet.cpus.map((c) => {
      const cost = this.t.server.cpuPerSendUs;
      return cost > 0 ? Math.round(c.backlogUs(now) / cost) : 0;
    });
    series.close(
      now,
      {
        p50: h.percentileUs(50),
        p99: h.percentileUs(99),
        max: h.percentileUs(100),
        count: h.count,
      },
      this.flow.inFlight,
      queues,
      fleet.conns.subarray(0, Math.max(1, fleet.serverCount)),
    );
    this.connectionRows.push(Array.from(fleet.conns));
    h.reset();
    const next = Math.min(now + series.intervalUs, this.ctx.durationUs);
    if (next > now) this.queue.push(next, EV_SAMPLE, 0);
  }

  /** Owed but not yet delivered, dropped or resynced: users behind their channel's latest. */
  updateInFlight(): void {
    const f = this.flow;
    const superseded = this.parts.hop1.superseded;
    f.inFlight = f.fanout - f.delivered - f.dropped - this.parts.connections.resynced - superseded;
    if (this.parts.shaping) f.superseded = superseded;
  }

  private reconnectStats(): ClusterStats['reconnect'] {
    const conn = this.parts.connections;
    const times = conn.firstAttemptsUs;
    if (times.length === 0)
      return {
        firstAttempts: 0,
        firstAttemptPeakShare: 0,
        peakToUniformRatio: 0,
        allReconnectedAtS: null,
      };
    const counts = new Map<number, number>();
    for (const t of times) {
      const b = Math.floor(t / STORM_BUCKET_US);
      counts.set(b, (counts.get(b) ?? 0) + 1);
    }
    let peak = 0;
    for (const n of counts.values()) if (n > peak) peak = n;
    // Uniform expectation: the first attempts spread evenly over the first backoff window.
    const windowBuckets = Math.max(
      1,
      Math.round((this.t.connection.backoffBaseS * 1e6) / STORM_BUCKET_US),
    );
    return {
      firstAttempts: times.length,
      firstAttemptPeakShare: peak / times.length,
      peakToUniformRatio: peak / (times.length / windowBuckets),
      allReconnectedAtS: conn.disconnectedNow === 0 ? conn.lastReconnectUs / 1e6 : null,
    };
  }

  clusterStats(): ClusterStats {
    const t = this.t;
    const { fleet, hop1, connections, presence, distribution: dist, group } = this.parts;
    const expected = this.flow.fanout;
    const nowUs = this.ctx.clock.nowUs;
    return {
      broker: t.broker.kind,
      strategy: t.loadBalancer.strategy,
      guarantee: t.delivery.guarantee,
      lost: this.flow.dropped,
      lostAtBroker: dist.lostAtBroker,
      deliveriesLostAtBroker: dist.deliveriesLostAtBroker,
      recovered: hop1.recovered,
      resynced: connections.resynced,
      stale: hop1.stale,
      duplicatesSuppressed: hop1.suppressed,
      reach: expected > 0 ? this.flow.delivered / expected : 1,
      faults: this.parts.schedule.records.map((f) => ({ ...f })),
      reconnect: this.reconnectStats(),
      connectionsPerServer: Array.from(fleet.conns.subarray(0, fleet.serverCount)),
      connectionsSeries: this.connectionRows.map((r) => r.slice(0, fleet.serverCount)),
      remappedShareOnScaleOut: remappedShare(
        t.loadBalancer.strategy,
        Math.min(t.users, 20_000),
        t.loadBalancer.usersPerIp,
        t.servers,
        t.loadBalancer.virtualNodes,
        this.rng.fork('remap'),
      ),
      attempts: connections.attempts,
      failedAttempts: connections.failedAttempts,
      subscriberDisconnects: dist.subscriberDisconnects,
      missedWhileUnsubscribed: dist.missedWhileUnsubscribed,
      sourceRequestsPerSec: nowUs > 0 ? dist.sourceRequests / (nowUs / 1e6) : 0,
      disconnected: connections.disconnectedNow - presence.awayDisconnected,
      away: presence.awayNow,
      dedupedAtBroker: dist.dedupedAtBroker,
      serverReorders: dist.serverReorders,
      logCopies: this.parts.messages.logCopies,
      rebalances: group.rebalances,
      partitionOwners: group.enabled ? Array.from(group.owner) : [],
      recoveryPaths: { ...this.paths },
      state: this.state(),
    };
  }

  /** What is up and down right now, for the views (they draw it; they do not replay faults). */
  private state(): ClusterState {
    const { fleet, partitions } = this.parts;
    const shown = Math.max(fleet.serverCount, fleet.maxServers - INJECTED_SCALE_OUTS);
    const now = this.ctx.clock.nowUs;
    const servers: ClusterState['servers'] = [];
    for (let s = 0; s < shown; s++)
      servers.push(
        s >= fleet.serverCount
          ? 'absent'
          : fleet.draining[s]
            ? fleet.alive[s]
              ? 'draining'
              : 'shut-down'
            : fleet.alive[s]
              ? 'up'
              : 'down',
      );
    return {
      servers,
      brokerCut: Array.from(
        { length: shown },
        (_, s) => s < fleet.serverCount && partitions.brokerServer(s, now),
      ),
      slowLink: Array.from({ length: shown }, (_, s) => this.parts.network.isSlow(s, now)),
      brokerUp: fleet.brokerUp,
      lbUp: fleet.lbUp,
      partitions: partitions.active,
      scaleOutRoom: fleet.maxServers - fleet.serverCount,
      rebalancing: this.parts.group.rebalancing,
    };
  }

  linkStats(elapsedS: number): LinkStats[] {
    const per = (b: number) => (elapsedS > 0 ? b / elapsedS : 0);
    const hop2Bytes = this.parts.distribution.hop2Bytes;
    const hop1Bytes = this.parts.hop1.hop1Bytes;
    return [
      {
        id: 'source->broker',
        hop: 'hop2',
        from: 'source',
        to: 'broker',
        messages: this.flow.produced,
        bytes: hop2Bytes,
        bytesPerSec: per(hop2Bytes),
      },
      {
        id: 'servers->users',
        hop: 'hop1',
        from: 'servers',
        to: 'users',
        messages: this.flow.delivered,
        bytes: hop1Bytes,
        bytesPerSec: per(hop1Bytes),
      },
    ];
  }

  serverStats(now: number): ServerStats[] {
    const fleet = this.parts.fleet;
    const out: ServerStats[] = [];
    for (let s = 0; s < fleet.serverCount; s++) {
      const cost = this.t.server.cpuPerSendUs;
      const q = cost > 0 ? Math.round(fleet.cpus[s].backlogUs(now) / cost) : 0;
      out.push({
        id: `server-${s}`,
        connections: fleet.conns[s],
        cpuUtilisation:
          now > 0 ? Math.min(1, fleet.cpus[s].busyUs / (now * this.t.server.cores)) : 0,
        queueLength: q,
        queueLengthMax: q,
        memoryMB: 0,
      });
    }
    return out;
  }

  /** The shaping figures of a cluster run: the module's counts and what the model measures. */
  shapingStats(sh: ClusterShaping): ShapingStats {
    const { fleet, hop1 } = this.parts;
    const c = sh.config;
    const now = this.ctx.clock.nowUs;
    const part = sh.stats(now / 1e6, this.t.users);
    const e2e = hop1.e2eHist.summary();
    let busy = 0;
    for (const cpu of fleet.cpus) busy += cpu.busyUs;
    const series = this.parts.series.toSeries();
    return {
      stages: activeStages(c),
      schema: c.schema.id,
      encoding: c.spec.encoding.format,
      deflate: c.deflate,
      messagesPerSecPerUser: part.messagesPerSecPerUser ?? 0,
      bytesPerSecPerUser: part.bytesPerSecPerUser ?? 0,
      updatesPerSecPerUser: part.updatesPerSecPerUser ?? 0,
      bytesPerUpdate: part.bytesPerUpdate ?? 0,
      framesSent: part.framesSent ?? 0,
      updatesSent: part.updatesSent ?? 0,
      savedByStage: { ...(part.savedByStage ?? {}), superseded: hop1.superseded },
      resyncs: this.parts.connections.resynced,
      snapshots: part.updatesSent ?? 0,
      deltas: 0,
      perUserClass: [
        {
          name: 'all',
          users: this.t.users,
          messagesPerSecPerUser: part.messagesPerSecPerUser ?? 0,
          bytesPerSecPerUser: part.bytesPerSecPerUser ?? 0,
          updatesPerSecPerUser: part.updatesPerSecPerUser ?? 0,
          latencyMs: { p50: e2e.p50, p99: e2e.p99, max: e2e.max },
        },
      ],
      perServer: fleet.cpus.slice(0, fleet.serverCount).map((cpu, s) => ({
        id: `server-${s}`,
        messagesPerSec: 0,
        bytesPerSec: 0,
        cpuUtilisation: now > 0 ? Math.min(1, cpu.busyUs / (now * this.t.server.cores)) : 0,
        brokerSubscriptions: 0,
      })),
      batch: part.batch,
      throttleBacklog: part.throttleBacklog ?? 0,
      serverCpuUs: busy,
      cpuUs: { encode: 0, compress: 0, send: busy, filter: 0, subscribe: 0 },
      series: {
        tS: series.tS,
        framesPerSec: series.tS.map(() => NaN),
        bytesPerSecPerUser: series.hop1BytesPerSec.map((b) => b / this.t.users),
        stalenessMsP50: series.tS.map(() => NaN),
        stalenessMsP99: series.tS.map(() => NaN),
      },
    };
  }

  /** The servers of the scenario (scheduled scale-outs included; room for injected ones is not). */
  topology(): Topology {
    const t = this.t;
    const fleet = this.parts.fleet;
    const shown = Math.max(fleet.serverCount, fleet.maxServers - INJECTED_SCALE_OUTS);
    const perServer = Math.round(t.users / t.servers);
    const nodes: Topology['nodes'] = [
      {
        id: 'source',
        kind: 'source',
        label: `${t.sources} source${t.sources > 1 ? 's' : ''}`,
        count: t.sources,
      },
      {
        id: 'broker',
        kind: 'broker',
        label: { direct: 'Data source (polled)', redis: 'Redis pub/sub', kafka: 'Kafka' }[
          t.broker.kind
        ],
        count: 1,
      },
    ];
    const edges: Topology['edges'] = [
      { id: 'source->broker', from: 'source', to: 'broker', hop: 'hop2' },
    ];
    for (let s = 0; s < shown; s++) {
      nodes.push({
        id: `server-${s}`,
        kind: 'server',
        label: `WS ${s + 1}`,
        count: t.server.maxConnections,
      });
      edges.push({ id: `broker->server-${s}`, from: 'broker', to: `server-${s}`, hop: 'hop2' });
    }
    for (let s = 0; s < shown; s++) {
      nodes.push({
        id: `users-${s}`,
        kind: 'users',
        label: 'users',
        count: s < t.servers ? perServer : 0,
        parent: `server-${s}`,
      });
      edges.push({
        id: `server-${s}->users-${s}`,
        from: `server-${s}`,
        to: `users-${s}`,
        hop: 'hop1',
      });
    }
    const shaping = this.parts.shaping;
    if (shaping) return { nodes, edges, stages: stageLabels(shaping.config) };
    return { nodes, edges };
  }

  /** Per user: the highest sequence applied and the channel's latest (for convergence checks). */
  convergence(): { behind: number; maxBehind: number } {
    const { hop1, presence, messages, members } = this.parts;
    let behind = 0;
    let maxBehind = 0;
    for (let u = 0; u < this.t.users; u++) {
      // Users who are away are not expected to be up to date.
      if (hop1.recv[u] === -2 || presence.away[u]) continue;
      const gap = messages.latestSeq[members.userChannel[u]] - 1 - hop1.recv[u];
      if (gap > 0) behind++;
      if (gap > maxBehind) maxBehind = gap;
    }
    return { behind, maxBehind };
  }
}
