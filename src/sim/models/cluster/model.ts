// Hop 2 and the fleet: direct polling, Redis pub/sub or Kafka; load balancing; reconnects; faults.
import { ScenarioError } from '../../../scenario/errors.ts';
import type { RunSpec } from '../../../scenario/resolve.ts';
import { faultSchema, type ClusterScenario, type Fault } from '../../../scenario/schema.ts';
import type { ArrivalRecord } from '../../checkers/partition-order.ts';
import type { DeliveryRecord } from '../../checkers/sequence.ts';
import { CpuPool } from '../../cpu.ts';
import { sampler, type Sampler } from '../../dist.ts';
import { LatencyHistogram } from '../../histogram.ts';
import { EventModel, KIND_BITS, word0 } from '../../engine.ts';
import { Rng } from '../../rng.ts';
import { sampleIntervalUs, SeriesRecorder } from '../../series.ts';
import type { Simulation } from '../../simulation.ts';
import { TRACE_DROP, TRACE_HOP1, TRACE_HOP2, TRACE_PUBLISH } from '../../trace.ts';
import type {
  ShapingStats,
  ClusterState,
  ClusterStats,
  FaultRecord,
  FlowCounts,
  LinkStats,
  RunResult,
  ServerStats,
  Snapshot,
  Topology,
} from '../../types.ts';
import {
  activeStages,
  bytesPerUpdateOf,
  shapingConfig,
  stageLabels,
} from '../../shaping/config.ts';
import { backoffUs } from './backoff.ts';
import { ClusterShaping, EV_SHAPE_FLUSH, EV_SHAPE_RELEASE } from './shaping.ts';
import { Balancer, remappedShare } from './balancer.ts';

const EV_PUBLISH = 0; // arg: channel
const EV_BROKER_IN = 1; // word1: message (Redis: the PUBLISH reaches Redis)
const EV_SERVER_IN = 2; // arg: server; word1: message — a server's consumer receives it
const EV_DELIVER = 3; // word1: slab — a frame reaches a client
const EV_ACK = 4; // word1: slab — the client's ack reaches the server
const EV_ATTEMPT = 5; // arg: user — a connection attempt
const EV_CONNECTED = 6; // arg: user; word1: connection id
const EV_DETECT = 7; // arg: user; word1: connection id — the client notices the loss
const EV_FAULT = 8; // arg: fault index
const EV_RECOVER = 9; // arg: fault index
const EV_HEALTH = 10; // the load balancer's health checks
const EV_POLL = 11; // arg: server — direct polling of the data source
const EV_COMMIT = 12; // arg: server — Kafka consumer offset commit
const EV_FLUSH = 13; // arg: partition — Kafka producer batch flush (linger)
const EV_SAMPLE = 14;
const EV_DRAIN_END = 15; // arg: server — graceful shutdown force-closes what is left
const EV_TIMEOUT = 16; // arg: user; word1: connection id — the server times out a cut connection
const EV_AWAY = 17; // arg: user — the user closes the app
const EV_RETURN = 18; // arg: user — and comes back
const EV_GROUP = 19; // arg 0: session check of server word1; arg 1: rebalance of generation word1 ends
// 20 and 21: the shaping module's (EV_SHAPE_RELEASE, EV_SHAPE_FLUSH in ./shaping.ts).
/** A frame's slab flags: replayed after a reconnect, and built by conflation (skips are superseded). */
const SLAB_RECOVERED = 1;
const SLAB_SUPERSEDING = 2;

/** Redis drops a slow subscriber; the server resubscribes after this. */
const RESUBSCRIBE_US = 1_000_000;
/** A Kafka producer retries a failed batch after this. */
const PRODUCER_RETRY_US = 100_000;
/** A Kafka producer gives up waiting for an acknowledgement after this and resends (request.timeout.ms). */
const PRODUCER_REQUEST_TIMEOUT_US = 30_000_000;
/** A connection attempt to a dead server fails after this (connect timeout). */
const CONNECT_TIMEOUT_US = 3_000_000;
/** Users join over at least this window at the start (longer when accepts are the bottleneck). */
const START_SPREAD_MIN_US = 1_000_000;
/** Bucket width for the reconnect-storm measurements. */
const STORM_BUCKET_US = 100_000;
const TRACED_MESSAGES_PER_SEC = 25;
const INJECTED_SCALE_OUTS = 2;

// Trace node indexes: source, broker, lb, then servers, then their user groups.
export type RecoveryPath =
  | 'resumeReplay'
  | 'resumeResync'
  | 'resumeLost'
  | 'gapFetch'
  | 'gapLost'
  | 'consumerReplay'
  | 'producerRetry'
  | 'healthEviction'
  | 'connectRetry'
  | 'gracefulDrain'
  | 'groupRebalance'
  | 'groupReplay'
  | 'partitionTimeout'
  | 'mailboxDelivery';

/** A group of nodes a partition cuts apart (see GROUP_PATTERN in the schema). */
interface Group {
  kind: 'source' | 'broker' | 'servers' | 'server' | 'users' | 'users-of' | 'region';
  n: number;
}

/** An active partition: what cannot reach what, until its fault recovers. */
interface Cut {
  from: Group;
  to: Group;
  oneWay: boolean;
  fault: number;
}

const NODE_TYPE_SOURCE = 0;
const NODE_TYPE_BROKER = 1;
const NODE_TYPE_SERVER = 2;
const NODE_TYPE_USER = 3;

function parseGroup(text: string): Group {
  const [name, num] = text.split(':');
  const n = num === undefined ? 0 : Number(num);
  if (name === 'users' && num !== undefined) return { kind: 'users-of', n };
  return { kind: name as Group['kind'], n };
}

const NODE_SOURCE = 0;
const NODE_BROKER = 1;

export class ClusterSimulation extends EventModel implements Simulation {
  readonly durationUs: number;
  private readonly sc: ClusterScenario;
  private readonly t: ClusterScenario['topology'];
  private readonly series: SeriesRecorder;
  private readonly rng: Rng;
  private readonly netRng: Rng;
  private readonly sourceRng: Rng;
  private readonly jitterRng: Rng;
  private readonly payloadBytes: Sampler;
  private readonly balancer: Balancer;
  /** One balancer per region, over that region's healthy servers (geo routing). */
  private readonly regional: Balancer[];
  private readonly e2eHist = new LatencyHistogram();
  private readonly hop2Hist = new LatencyHistogram();
  private readonly hop1Hist = new LatencyHistogram();
  private readonly intervalHist = new LatencyHistogram();
  private readonly nodeIdList: string[];
  private readonly traceEvery: number;

  // Fleet.
  private readonly maxServers: number;
  private serverCount: number;
  private readonly alive: Uint8Array;
  private readonly draining: Uint8Array;
  private readonly serverEpoch: Int32Array;
  private readonly conns: Int32Array;
  private readonly acceptFreeUs: Float64Array;
  private readonly cpus: CpuPool[];
  private readonly healthFails: Int32Array;
  private readonly brokerLinkDownUntilUs: Float64Array;
  private lbUp = true;
  /** The autoscaler waits for its last server to boot before it adds another. */
  private bootingUntilUs = 0;
  private autoscaled = 0;
  /** slow-link faults: extra delay and loss on each server's user links, until a time. */
  private readonly linkExtraUs: Float64Array;
  private readonly linkLoss: Float64Array;
  private readonly linkUntilUs: Float64Array;
  /** slow-link bandwidth caps: a FIFO shared by a server's user links (bits per µs; 0 = none). */
  private readonly linkBitsPerUs: Float64Array;
  private readonly linkFreeUs: Float64Array;
  /** Partitions in force. */
  private cuts: Cut[] = [];

  // Users.
  private readonly users: number;
  private readonly channels: number;
  private readonly userChannel: Int32Array;
  private readonly connServer: Int32Array;
  private readonly connId: Int32Array;
  private readonly online: Uint8Array;
  private readonly attempt: Int32Array;
  private readonly cookie: Int32Array;
  private readonly recv: Int32Array;
  private readonly acked: Int32Array;
  private readonly epochSeen: Int32Array;
  private readonly historyServer: Int32Array;
  private readonly disconnectedAtUs: Float64Array;
  /** Arrival of the last frame on the user's connection: TCP keeps frames in order. */
  private readonly lastFrameUs: Float64Array;
  /** A resume that waits for the broker holding the history to come back. */
  private readonly resumePending: Uint8Array;
  private readonly firstAttemptDue: Uint8Array;
  /** Connection attempts carry a token; going away voids the attempts already scheduled. */
  private readonly attemptToken: Int32Array;
  /** An accepted attempt waiting for its handshake to finish. */
  private readonly connecting: Uint8Array;
  /** The channel sequence number of the first update each user is owed (-1: not connected yet). */
  private readonly firstOwed: Int32Array;
  private readonly memberHead: Int32Array;
  private readonly memberNext: Int32Array;
  private readonly memberPrev: Int32Array;
  /** Highest producer sequence number each user applied (exactly-once by producer id + seq). */
  private readonly lastProducerSeq: Int32Array;
  /** Away users: gone (app closed), counted as disconnected while away, back from a mailbox. */
  private readonly away: Uint8Array;
  private readonly awayCounted: Uint8Array;
  private readonly returning: Uint8Array;
  private awayNow = 0;
  /** Away users counted in `disconnectedNow` (they are not trying to reconnect). */
  private awayDisconnected = 0;

  // Broker and messages.
  private brokerUp = true;
  private brokerEpoch = 0;
  private readonly latestSeq: Int32Array;
  /** Users of each channel who have connected at least once (updates are owed to them). */
  private readonly startedUsers: Int32Array;
  /** Highest sequence number each server has received per channel (server × channel). */
  private readonly serverSeq: Int32Array;
  private readonly channelLog: number[][];
  private readonly partitions: number;
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
  /** Per message: its producer's sequence number, and whether it is a second copy in the log. */
  private producerSeq = new Int32Array(1024);
  private copy = new Uint8Array(1024);
  /** Per message: its offset in its Kafka partition's log. */
  private offset = new Int32Array(1024);
  /** Per server: the newest creation time among what it received (for the reorder count). */
  private readonly lastCreatedAt: Float64Array;
  private serverReorders = 0;
  private arrivalLog: ArrivalRecord[] | null = null;
  private readonly nextProducerSeq: Int32Array;
  private readonly channelCopies: Int32Array;
  private dedupedAtBroker = 0;
  private logCopies = 0;
  // Kafka consumer group (consumers = group): members, owners, offsets, rebalances.
  private readonly member: Uint8Array;
  private readonly owner: Int32Array;
  private readonly groupConsumed: Int32Array;
  private readonly groupCommitted: Int32Array;
  private rebalancing = false;
  private generation = 0;
  private rebalances = 0;
  // In-flight frames to clients (a slab: event word1 points into it).
  private slabUser = new Int32Array(1024);
  private slabMsg = new Int32Array(1024);
  private slabConn = new Int32Array(1024);
  private slabRecovered = new Uint8Array(1024);
  private slabSentUs = new Float64Array(1024);
  private slabFree: number[] = [];
  private slabTop = 0;

  // Counters.
  private flow: FlowCounts = {
    produced: 0,
    fanout: 0,
    delivered: 0,
    dropped: 0,
    duplicated: 0,
    outOfOrder: 0,
    inFlight: 0,
  };
  private recovered = 0;
  private resynced = 0;
  private stale = 0;
  private suppressed = 0;
  private lostAtBroker = 0;
  private deliveriesLostAtBroker = 0;
  private subscriberDisconnects = 0;
  private missedWhileUnsubscribed = 0;
  private sourceRequests = 0;
  private attempts = 0;
  private failedAttempts = 0;
  private rejectedConnections = 0;
  private readonly faults: FaultRecord[];
  /** The fault schedule: the scenario's, plus faults injected while the run goes on. */
  private readonly schedule: Fault[];
  /** Faults still to happen: [time µs, schedule index], in time order. */
  private readonly pending: [number, number][] = [];
  private readonly firstAttemptsUs: number[] = [];
  private lastReconnectUs = 0;
  private disconnectedNow = 0;
  private deliveryLog: DeliveryRecord[] | null = null;
  /** Coverage marks: how often each recovery path ran (tests check every one is reached). */
  private readonly paths: Record<RecoveryPath, number> = {
    resumeReplay: 0,
    resumeResync: 0,
    resumeLost: 0,
    gapFetch: 0,
    gapLost: 0,
    consumerReplay: 0,
    producerRetry: 0,
    healthEviction: 0,
    connectRetry: 0,
    gracefulDrain: 0,
    groupRebalance: 0,
    groupReplay: 0,
    partitionTimeout: 0,
    mailboxDelivery: 0,
  };
  private readonly connectionRows: number[][] = [];
  private hop2Bytes = 0;
  private hop1Bytes = 0;
  /** Update shaping on the hop-1 path, when the scenario has a shaping block. */
  private readonly shaping: ClusterShaping | null = null;
  /** Deliveries conflation replaced with a newer value of the same key (owed, not lost). */
  private superseded = 0;

  constructor(run: RunSpec, sc: ClusterScenario) {
    super(run);
    this.sc = sc;
    const t = sc.topology;
    this.t = t;
    this.durationUs = Math.round(sc.durationS * 1e6);
    const root = new Rng(run.seed);
    this.rng = root;
    this.netRng = root.fork('network');
    this.sourceRng = root.fork('source');
    this.jitterRng = root.fork('backoff');
    this.payloadBytes = sampler(sc.workload.payloadBytes, root.fork('payload'));
    const scaleOuts = t.faults.filter((f) => f.kind === 'scale-out').length;
    for (const f of t.faults)
      if (
        (f.kind === 'server-crash' || f.kind === 'graceful-shutdown') &&
        f.target >= t.servers + scaleOuts
      )
        throw new ScenarioError(
          'faults',
          `${f.kind} at ${f.atS} s targets server ${f.target}, but there are ${t.servers}`,
        );
    // Room for two scale-outs injected while the run goes on.
    const autoscaled =
      t.server.autoscale.enabled === 'on'
        ? Math.max(0, t.server.autoscale.maxServers - t.servers)
        : 0;
    this.maxServers = t.servers + scaleOuts + autoscaled + INJECTED_SCALE_OUTS;
    this.serverCount = t.servers;
    const S = this.maxServers;
    this.alive = new Uint8Array(S);
    this.alive.fill(1, 0, t.servers);
    this.draining = new Uint8Array(S);
    this.serverEpoch = new Int32Array(S);
    this.conns = new Int32Array(S);
    this.acceptFreeUs = new Float64Array(S);
    this.cpus = Array.from({ length: S }, () => new CpuPool(t.server.cores));
    if (t.shaping) {
      const tickRng = root.fork('shaping/ticks');
      this.shaping = new ClusterShaping(
        shapingConfig(t.shaping, 'cluster'),
        {
          queue: this.queue,
          members: (srv, ch, each) => {
            for (let u = this.memberHead[srv * this.channels + ch]; u >= 0; u = this.memberNext[u])
              each(u);
          },
          sendFrame: (now, u, ids, wire, superseding) =>
            this.sendFrame(now, u, ids, wire, superseding),
          connectedTo: (u, srv) => this.online[u] === 1 && this.connServer[u] === srv,
        },
        S,
        t.channels,
        t.users,
        () => tickRng.float(),
      );
    }
    this.healthFails = new Int32Array(S);
    this.brokerLinkDownUntilUs = new Float64Array(S);
    this.linkExtraUs = new Float64Array(S);
    this.linkLoss = new Float64Array(S);
    this.linkUntilUs = new Float64Array(S);
    this.linkBitsPerUs = new Float64Array(S);
    this.linkFreeUs = new Float64Array(S);
    this.balancer = new Balancer(
      t.loadBalancer.strategy,
      t.loadBalancer.virtualNodes,
      root.fork('balancer'),
    );
    this.regional = Array.from(
      { length: t.regions },
      (_, r) =>
        new Balancer(
          t.loadBalancer.strategy,
          t.loadBalancer.virtualNodes,
          root.fork(`balancer/${r}`),
        ),
    );
    this.setHealthy(Array.from({ length: t.servers }, (_, s) => s));

    this.users = t.users;
    this.channels = t.channels;
    const U = t.users;
    const subs = root.fork('subscriptions');
    this.userChannel = Int32Array.from({ length: U }, () => subs.int(t.channels));
    this.connServer = new Int32Array(U).fill(-1);
    this.connId = new Int32Array(U);
    this.online = new Uint8Array(U);
    this.attempt = new Int32Array(U);
    this.cookie = new Int32Array(U).fill(-1);
    this.recv = new Int32Array(U).fill(-2);
    this.acked = new Int32Array(U).fill(-1);
    this.epochSeen = new Int32Array(U);
    this.historyServer = new Int32Array(U).fill(-1);
    this.disconnectedAtUs = new Float64Array(U);
    this.lastFrameUs = new Float64Array(U);
    this.resumePending = new Uint8Array(U);
    this.firstAttemptDue = new Uint8Array(U);
    this.attemptToken = new Int32Array(U);
    this.connecting = new Uint8Array(U);
    this.firstOwed = new Int32Array(U).fill(-1);
    this.memberHead = new Int32Array(S * t.channels).fill(-1);
    this.memberNext = new Int32Array(U).fill(-1);
    this.memberPrev = new Int32Array(U).fill(-1);
    this.lastProducerSeq = new Int32Array(U).fill(-1);
    this.away = new Uint8Array(U);
    this.awayCounted = new Uint8Array(U);
    this.returning = new Uint8Array(U);

    this.latestSeq = new Int32Array(t.channels);
    this.startedUsers = new Int32Array(t.channels);
    this.serverSeq = new Int32Array(S * t.channels).fill(-1);
    this.channelLog = Array.from({ length: t.channels }, () => []);
    this.partitions = t.broker.partitions;
    this.partLog = Array.from({ length: this.partitions }, () => []);
    this.batch = Array.from({ length: this.partitions }, () => []);
    this.unacked = Array.from({ length: this.partitions }, () => []);
    this.flushScheduled = new Uint8Array(this.partitions);
    this.consumed = new Int32Array(S * this.partitions);
    this.committed = new Int32Array(S * this.partitions);
    this.replayFrom = new Int32Array(S * this.partitions);
    this.dbCursor = new Int32Array(S);
    this.nextProducerSeq = new Int32Array(t.sources);
    this.lastCreatedAt = new Float64Array(S);
    this.channelCopies = new Int32Array(t.channels);
    this.member = new Uint8Array(S);
    this.member.fill(1, 0, t.servers);
    this.owner = new Int32Array(this.partitions).fill(-1);
    this.groupConsumed = new Int32Array(this.partitions);
    this.groupCommitted = new Int32Array(this.partitions);
    if (this.grouped) this.assignPartitions();

    this.nodeIdList = ['source', 'broker'];
    for (let s = 0; s < S; s++) this.nodeIdList.push(`server-${s}`);
    for (let s = 0; s < S; s++) this.nodeIdList.push(`users-${s}`);
    this.series = new SeriesRecorder(
      sampleIntervalUs(sc.sampleIntervalMs, this.durationUs),
      this.durationUs,
      S,
    );
    this.traceEvery = Math.max(
      1,
      Math.round((sc.workload.ratePerChannelPerSec * t.channels) / TRACED_MESSAGES_PER_SEC),
    );
    this.schedule = t.faults.map((f) => ({ ...f }));
    this.faults = t.faults.map((f) => ({
      kind: f.kind,
      atS: f.atS,
      target: f.target,
      hit: 0,
      recoveredAtS: null,
      applied: false,
    }));
    this.start();
  }

  // ---- Set-up and the loop.

  private start(): void {
    const q = this.queue;
    const startRng = this.rng.fork('start');
    // Spread the first connections so the fleet's accept rate can take them.
    const spreadUs = Math.max(
      START_SPREAD_MIN_US,
      (1.2e6 * this.users) / this.t.server.acceptPerSec,
    );
    for (let u = 0; u < this.users; u++)
      q.push(Math.round(startRng.float() * spreadUs), (u << KIND_BITS) | EV_ATTEMPT, 0);
    const d = this.t.delivery;
    if (d.awayShare > 0) {
      // Who goes away, when (in the middle of the run) and for how long (exponential).
      const awayRng = this.rng.fork('away');
      for (let u = 0; u < this.users; u++) {
        if (awayRng.float() >= d.awayShare) continue;
        const at = Math.round(this.durationUs * (0.1 + 0.3 * awayRng.float()));
        const back = Math.round(at - d.awayMeanS * 1e6 * Math.log(1 - awayRng.float()));
        q.push(at, (u << KIND_BITS) | EV_AWAY, 0);
        if (back <= this.durationUs)
          q.push(Math.max(at + 1, back), (u << KIND_BITS) | EV_RETURN, 0);
      }
    }
    const meanGapUs = 1e6 / this.sc.workload.ratePerChannelPerSec;
    for (let c = 0; c < this.channels; c++) this.schedulePublish(c, 0, meanGapUs);
    this.schedule.forEach((f, i) => this.pending.push([Math.round(f.atS * 1e6), i]));
    this.pending.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    q.push(Math.round(this.t.loadBalancer.healthCheckIntervalS * 1e6), EV_HEALTH, 0);
    const b = this.t.broker;
    for (let s = 0; s < this.serverCount; s++) {
      if (b.kind === 'direct')
        q.push(
          Math.round(this.netRng.float() * b.pollIntervalMs * 1000),
          (s << KIND_BITS) | EV_POLL,
          0,
        );
      if (b.kind === 'kafka')
        q.push(Math.round(b.commitIntervalMs * 1000), (s << KIND_BITS) | EV_COMMIT, 0);
    }
    q.push(Math.min(this.series.intervalUs, this.durationUs), EV_SAMPLE, 0);
  }

  private schedulePublish(c: number, now: number, meanGapUs: number): void {
    const at = Math.max(
      now + 1,
      Math.round(now - meanGapUs * Math.log(1 - this.sourceRng.float())),
    );
    if (at <= this.durationUs) this.queue.push(at, (c << KIND_BITS) | EV_PUBLISH, 0);
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
    const fault = this.pending.length > 0 ? this.pending[0][0] : Infinity;
    return Math.min(fault, this.queue.peekTime());
  }

  protected override dispatchNext(): void {
    if (this.pending.length > 0 && this.pending[0][0] <= this.queue.peekTime()) {
      const [at, i] = this.pending.shift()!;
      this.nowUsValue = at;
      this.eventCount++;
      this.hasher.addEvent(at, word0(EV_FAULT, i), 0);
      return this.onFault(at, i);
    }
    super.dispatchNext();
  }

  protected handle(kind: number, arg: number, w1: number, now: number): void {
    switch (kind) {
      case EV_PUBLISH:
        return this.onPublish(now, arg);
      case EV_BROKER_IN:
        return this.onRedisIn(now, w1);
      case EV_SERVER_IN:
        return this.onServerIn(now, arg, w1);
      case EV_DELIVER:
        return this.onDeliver(now, w1);
      case EV_ACK:
        return this.onAck(w1);
      case EV_ATTEMPT:
        return this.onAttempt(now, arg, w1);
      case EV_CONNECTED:
        return this.onConnected(now, arg, w1);
      case EV_DETECT:
        return this.onDetect(now, arg, w1);
      case EV_RECOVER:
        return this.onRecover(now, arg);
      case EV_HEALTH:
        return this.onHealth(now);
      case EV_POLL:
        return this.onPoll(now, arg);
      case EV_COMMIT:
        return this.onCommit(now, arg);
      case EV_FLUSH:
        return w1 === 1 ? this.onResend(now, arg) : this.onFlush(now, arg);
      case EV_SAMPLE:
        return this.onSample(now);
      case EV_DRAIN_END:
        return this.onDrainEnd(now, arg);
      case EV_TIMEOUT:
        return this.onTimeout(now, arg, w1);
      case EV_AWAY:
        return this.onAway(now, arg);
      case EV_RETURN:
        return this.onReturn(now, arg);
      case EV_GROUP:
        return arg === 0 ? this.onSessionCheck(now, w1) : this.onRebalanceEnd(now, w1);
      case EV_SHAPE_RELEASE:
        return this.shaping?.onRelease(now, arg);
      case EV_SHAPE_FLUSH:
        return this.shaping?.onFlush(now, arg);
    }
  }

  // ---- Network.

  /** User u ↔ its server, one way: the access path, plus the ocean if the server is abroad. */
  private oneWayUs(u: number): number {
    const base = (this.t.network.rttMs * 1000) / 2;
    const j = this.t.network.jitterShare;
    const s = this.connServer[u];
    const abroad = u % this.t.regions !== s % this.t.regions;
    let us =
      base +
      (abroad ? this.t.interRegionMs * 1000 : 0) +
      (j > 0 ? -j * base * Math.log(1 - this.netRng.float()) : 0);
    if (this.linkUntilUs[s] > this.nowUsValue) {
      // A degraded link: extra delay, and TCP resending after an RTO (three round trips) per loss.
      us += this.linkExtraUs[s];
      while (this.linkLoss[s] > 0 && this.netRng.float() < this.linkLoss[s])
        us += Math.max(200_000, 3 * this.t.network.rttMs * 1000);
    }
    return us;
  }

  /** Source → broker, one way (both in region 0). */
  private brokerUs(): number {
    return this.t.broker.latencyMs * 1000;
  }

  /** Broker → server s, one way: servers outside region 0 are an inter-region hop away. */
  private brokerToServerUs(s: number): number {
    return this.brokerUs() + (s % this.t.regions !== 0 ? this.t.interRegionMs * 1000 : 0);
  }

  /** Keeps the global view of healthy servers and each region's balancer in step. */
  private setHealthy(servers: readonly number[]): void {
    this.balancer.setHealthy(servers);
    this.regional.forEach((b, r) => b.setHealthy(servers.filter((s) => s % this.t.regions === r)));
  }

  /** Geo routing: the user's own region first; another region only when its own has no server. */
  private route(u: number): number {
    const ip = Math.floor(u / this.t.loadBalancer.usersPerIp);
    const home = this.regional[u % this.t.regions].route(u, ip, this.cookie[u], this.conns);
    return home >= 0 ? home : this.balancer.route(u, ip, this.cookie[u], this.conns);
  }

  // ---- Partitions: which groups cannot reach which.

  private matches(g: Group, type: number, i: number): boolean {
    const R = this.t.regions;
    switch (g.kind) {
      case 'source':
        return type === NODE_TYPE_SOURCE;
      case 'broker':
        return type === NODE_TYPE_BROKER;
      case 'servers':
        return type === NODE_TYPE_SERVER;
      case 'server':
        return type === NODE_TYPE_SERVER && i === g.n;
      case 'users':
        return type === NODE_TYPE_USER;
      case 'users-of':
        return type === NODE_TYPE_USER && i % R === g.n;
      case 'region':
        // The source and the broker live in region 0.
        if (type === NODE_TYPE_SOURCE || type === NODE_TYPE_BROKER) return g.n === 0;
        return i % R === g.n;
    }
  }

  /** Whether what node (ta, ia) sends to node (tb, ib) is cut off by a partition in force. */
  private cut(ta: number, ia: number, tb: number, ib: number): boolean {
    for (const c of this.cuts) {
      if (this.matches(c.from, ta, ia) && this.matches(c.to, tb, ib)) return true;
      if (!c.oneWay && this.matches(c.from, tb, ib) && this.matches(c.to, ta, ia)) return true;
    }
    return false;
  }

  /** A request and its response need both directions (a fetch, a poll, a handshake). */
  private cutEither(ta: number, ia: number, tb: number, ib: number): boolean {
    return this.cuts.length > 0 && (this.cut(ta, ia, tb, ib) || this.cut(tb, ib, ta, ia));
  }

  /** Broker → server s: Redis dropped the slow subscriber, or a partition cuts the stream. */
  private brokerToServerCut(s: number, now: number): boolean {
    return (
      this.brokerLinkDownUntilUs[s] > now ||
      (this.cuts.length > 0 && this.cut(NODE_TYPE_BROKER, 0, NODE_TYPE_SERVER, s))
    );
  }

  /** Broker ↔ server s for a request/response exchange (Kafka fetch, a poll, a heartbeat). */
  private brokerServerCut(s: number, now: number): boolean {
    return (
      this.brokerLinkDownUntilUs[s] > now ||
      this.cutEither(NODE_TYPE_BROKER, 0, NODE_TYPE_SERVER, s)
    );
  }

  private serverUserCut(s: number, u: number): boolean {
    return this.cuts.length > 0 && this.cut(NODE_TYPE_SERVER, s, NODE_TYPE_USER, u);
  }

  private userServerCut(u: number, s: number): boolean {
    return this.cuts.length > 0 && this.cut(NODE_TYPE_USER, u, NODE_TYPE_SERVER, s);
  }

  /** A partition's identity: a heal closes the open partition with the same groups. */
  private partitionKey(f: Fault): string {
    return `${f.from ?? 'broker'}>${f.to ?? `server:${f.target}`}/${f.oneWay ? 1 : 0}`;
  }

  /**
   * A partition starts: count the users it cuts off (from their server, or their server from the
   * broker, or the source from the broker) and let the server time out connections it cut.
   */
  private applyCut(now: number): number {
    let hit = 0;
    const sourceCut = this.cutEither(NODE_TYPE_SOURCE, 0, NODE_TYPE_BROKER, 0);
    for (let u = 0; u < this.users; u++) {
      if (!this.online[u]) continue;
      const s = this.connServer[u];
      if (this.cutEither(NODE_TYPE_SERVER, s, NODE_TYPE_USER, u)) {
        hit++;
        // Pings or pongs stop arriving: the connection times out on the heartbeat.
        this.queue.push(
          Math.round(now + this.silentDetectUs()),
          (u << KIND_BITS) | EV_TIMEOUT,
          this.connId[u],
        );
      } else if (sourceCut || this.brokerServerCut(s, now)) hit++;
    }
    if (this.grouped) this.checkSessions(now);
    return hit;
  }

  /** The heartbeat timeout of a connection a partition cut: it ends (if the cut still holds). */
  private onTimeout(now: number, u: number, conn: number): void {
    if (conn !== this.connId[u] || !this.online[u]) return;
    const s = this.connServer[u];
    if (!this.cutEither(NODE_TYPE_SERVER, s, NODE_TYPE_USER, u)) return;
    this.paths.partitionTimeout++;
    // The server closes it; the client's own watchdog fires at about the same time.
    this.dropConnection(now, u, 0);
  }

  // ---- Hop 2: publish and distribute.

  private onPublish(now: number, c: number): void {
    this.schedulePublish(c, now, 1e6 / this.sc.workload.ratePerChannelPerSec);
    const id = this.newMessage(now, c);
    this.flow.produced++;
    // A broker outage hits every message published while it lasts (lost, buffered or delayed).
    if (!this.brokerUp) this.faultHit('broker-down', 1);
    this.hop2Bytes += this.msgs.bytes[id];
    if (this.traced(id))
      this.trace.write(TRACE_PUBLISH, now, now + this.brokerUs(), NODE_SOURCE, NODE_BROKER, id, -1);
    // A partition between the source and the broker: Redis PUBLISH and the database write fail.
    if (
      this.t.broker.kind !== 'kafka' &&
      this.cuts.length > 0 &&
      this.cut(NODE_TYPE_SOURCE, 0, NODE_TYPE_BROKER, 0)
    ) {
      return this.loseAtBroker(id);
    }
    switch (this.t.broker.kind) {
      case 'redis':
        this.queue.push(Math.round(now + this.brokerUs()), EV_BROKER_IN, id);
        return;
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
        return;
      }
      case 'direct':
        // The data source stores it; servers find it on their next poll.
        this.assignSeq(id);
        this.dbLog.push(id);
        return;
    }
  }

  /** Deliveries owed for sequence numbers from..to of channel c (second copies owe nothing). */
  private owedBetween(c: number, from: number, to: number): number {
    if (to < from) return 0;
    if (this.channelCopies[c] === 0) return to - from + 1;
    let n = 0;
    for (let q = from; q <= to; q++) if (!this.copy[this.channelLog[c][q]]) n++;
    return n;
  }

  /** The client moves past seq without applying what lies before it (lost or resynced). */
  private skipTo(u: number, seq: number): void {
    if (seq < 0) return;
    const ps = this.producerSeq[this.channelLog[this.userChannel[u]][seq]];
    if (ps > this.lastProducerSeq[u]) this.lastProducerSeq[u] = ps;
  }

  /** Gives a message its place in its channel's sequence: from here on it is owed to every user. */
  private assignSeq(id: number): void {
    const c = this.msgs.channel[id];
    this.msgs.seq[id] = this.latestSeq[c]++;
    this.channelLog[c].push(id);
    // A second copy of a record is not a new update: nobody is owed it.
    if (!this.copy[id]) this.flow.fanout += this.startedUsers[c];
  }

  /** A message the broker never accepted: owed to everyone, delivered to no one. */
  private loseAtBroker(id: number): void {
    const owed = this.startedUsers[this.msgs.channel[id]];
    this.lostAtBroker++;
    this.deliveriesLostAtBroker += owed;
    this.flow.fanout += owed;
    this.flow.dropped += owed;
  }

  /** Redis PUBLISH: at most once, to the servers subscribed right now. */
  private onRedisIn(now: number, id: number): void {
    if (!this.brokerUp) return this.loseAtBroker(id);
    this.assignSeq(id);
    for (let s = 0; s < this.serverCount; s++) {
      if (!this.alive[s]) continue;
      const at = Math.round(now + this.brokerToServerUs(s));
      if (this.brokerToServerCut(s, now)) {
        // Dropped by Redis (a slow subscriber, or cut off by a partition): its users miss this.
        for (
          let u = this.memberHead[s * this.channels + this.msgs.channel[id]];
          u >= 0;
          u = this.memberNext[u]
        )
          this.missedWhileUnsubscribed++;
        continue;
      }
      if (this.memberHead[s * this.channels + this.msgs.channel[id]] < 0) continue;
      this.queue.push(at, (s << KIND_BITS) | EV_SERVER_IN, id);
      if (this.traced(id)) this.trace.write(TRACE_HOP2, now, at, NODE_BROKER, 2 + s, id, -1);
    }
  }

  /** Kafka: the producer's batch for a partition goes out after the linger time. */
  private onFlush(now: number, p: number): void {
    this.flushScheduled[p] = 0;
    const ids = this.batch[p];
    if (ids.length === 0) return;
    if (!this.brokerUp || this.cut(NODE_TYPE_SOURCE, 0, NODE_TYPE_BROKER, 0)) {
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
    const replicated = this.t.broker.replicationFactor > 1 ? 2 * this.brokerUs() : this.brokerUs();
    const visible = Math.round(now + replicated);
    for (const id of ids) this.append(p, id);
    this.batch[p] = [];
    this.awaitAck(now, p, ids);
    if (this.grouped) this.consumeGroup(p, visible);
    else for (let s = 0; s < this.serverCount; s++) this.consume(s, p, visible);
  }

  /** Written, but is the acknowledgement cut off? Then the producer resends after its timeout. */
  private awaitAck(now: number, p: number, ids: number[]): void {
    if (this.t.broker.acks === '0' || !this.cut(NODE_TYPE_BROKER, 0, NODE_TYPE_SOURCE, 0)) return;
    this.paths.producerRetry++;
    if (this.unacked[p].length === 0)
      this.queue.push(now + PRODUCER_REQUEST_TIMEOUT_US, (p << KIND_BITS) | EV_FLUSH, 1);
    for (const id of ids) this.unacked[p].push(id);
  }

  /** The request timed out without an acknowledgement: the same records go again. */
  private onResend(now: number, p: number): void {
    const ids = this.unacked[p];
    this.unacked[p] = [];
    if (!this.brokerUp || this.cut(NODE_TYPE_SOURCE, 0, NODE_TYPE_BROKER, 0)) {
      for (const id of ids) this.unacked[p].push(id);
      this.queue.push(now + PRODUCER_RETRY_US, (p << KIND_BITS) | EV_FLUSH, 1);
      return;
    }
    for (const id of ids) this.append(p, id);
    this.awaitAck(now, p, ids);
    const replicated = this.t.broker.replicationFactor > 1 ? 2 * this.brokerUs() : this.brokerUs();
    const visible = Math.round(now + replicated);
    if (this.grouped) this.consumeGroup(p, visible);
    else for (let s = 0; s < this.serverCount; s++) this.consume(s, p, visible);
  }

  /** Appends a record to partition p's log; a retried one is dropped (idempotent) or copied. */
  private append(p: number, id: number): void {
    if (this.msgs.seq[id] >= 0) {
      if (this.t.broker.idempotentProducer === 'on') {
        // Same producer id and sequence as a record the log has: the broker drops it.
        this.dedupedAtBroker++;
        return;
      }
      id = this.cloneMessage(id);
    }
    this.assignSeq(id);
    this.offset[id] = this.partLog[p].length;
    this.partLog[p].push(id);
  }

  private get grouped(): boolean {
    return this.t.broker.kind === 'kafka' && this.t.broker.consumers === 'group';
  }

  // ---- Kafka consumer group: the servers split the partitions.

  /** Round-robin assignment of the partitions over the members, in server order. */
  private assignPartitions(): void {
    const members: number[] = [];
    for (let s = 0; s < this.serverCount; s++) if (this.member[s]) members.push(s);
    for (let p = 0; p < this.partitions; p++)
      this.owner[p] = members.length > 0 ? members[p % members.length] : -1;
  }

  /**
   * A member joined or left: the eager protocol revokes every partition (members that can still
   * reach the broker commit what they read), consumption stops for `rebalanceMs`, then the
   * partitions are assigned afresh and each new owner starts from the committed offset.
   */
  private rebalance(now: number): void {
    this.generation++;
    this.rebalances++;
    this.paths.groupRebalance++;
    for (let p = 0; p < this.partitions; p++) {
      const o = this.owner[p];
      if (o >= 0 && this.alive[o] && this.member[o] && !this.brokerServerCut(o, now))
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

  private onRebalanceEnd(now: number, generation: number): void {
    if (generation !== this.generation) return;
    this.rebalancing = false;
    this.assignPartitions();
    for (let p = 0; p < this.partitions; p++) {
      // What the last owner read but did not commit is read again (and relayed again).
      if (this.groupConsumed[p] > this.groupCommitted[p]) this.paths.groupReplay++;
      this.groupConsumed[p] = this.groupCommitted[p];
      this.consumeGroup(p, now);
    }
  }

  private groupJoin(now: number, s: number): void {
    // A server on its way out (draining) does not join again.
    if (!this.grouped || this.draining[s]) return;
    this.member[s] = 1;
    this.rebalance(now);
  }

  private groupLeave(now: number, s: number): void {
    if (!this.grouped || !this.member[s]) return;
    // A clean leave commits what it read; a member dropped for silence cannot.
    if (this.alive[s] && !this.brokerServerCut(s, now))
      for (let p = 0; p < this.partitions; p++)
        if (this.owner[p] === s) this.groupCommitted[p] = this.groupConsumed[p];
    this.member[s] = 0;
    this.rebalance(now);
  }

  /** The coordinator drops members whose heartbeats stop for the session timeout. */
  private checkSessions(now: number): void {
    const at = Math.round(now + this.t.broker.sessionTimeoutS * 1e6);
    for (let s = 0; s < this.serverCount; s++)
      if (this.member[s] && (!this.alive[s] || this.brokerServerCut(s, now)))
        this.queue.push(at, EV_GROUP, s);
  }

  private onSessionCheck(now: number, s: number): void {
    if (this.member[s] && (!this.alive[s] || this.brokerServerCut(s, now))) this.groupLeave(now, s);
  }

  /** The owner of partition p reads it to the end and relays each record to the other servers. */
  private consumeGroup(p: number, fromUs: number): void {
    const o = this.owner[p];
    if (o < 0 || this.rebalancing || !this.alive[o] || !this.brokerUp) return;
    if (this.brokerServerCut(o, fromUs)) return;
    const log = this.partLog[p];
    const retentionUs = this.t.broker.retentionS * 1e6;
    const at = Math.round(fromUs + this.brokerToServerUs(o));
    const R = this.t.regions;
    for (let off = this.groupConsumed[p]; off < log.length; off++) {
      const id = log[off];
      if (this.msgs.createdUs[id] < fromUs - retentionUs) continue;
      for (let s = 0; s < this.serverCount; s++) {
        if (!this.alive[s]) continue;
        const relayUs =
          s === o
            ? 0
            : this.t.broker.latencyMs * 1000 + (s % R !== o % R ? this.t.interRegionMs * 1000 : 0);
        const t = Math.round(at + relayUs);
        this.queue.push(t, (s << KIND_BITS) | EV_SERVER_IN, id);
        if (this.traced(id))
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

  /** A Kafka consumer (one per server, its own group) reads partition p up to its end. */
  private consume(s: number, p: number, fromUs: number): void {
    if (!this.alive[s] || !this.brokerUp || this.brokerServerCut(s, fromUs)) return;
    const log = this.partLog[p];
    const k = s * this.partitions + p;
    const retentionUs = this.t.broker.retentionS * 1e6;
    const at = Math.round(fromUs + this.brokerToServerUs(s));
    for (let off = this.consumed[k]; off < log.length; off++) {
      const id = log[off];
      // Past retention the records are gone: the consumer's offset resets past them.
      if (this.msgs.createdUs[id] < fromUs - retentionUs) continue;
      this.queue.push(at, (s << KIND_BITS) | EV_SERVER_IN, id);
      if (this.traced(id)) this.trace.write(TRACE_HOP2, fromUs, at, NODE_BROKER, 2 + s, id, -1);
    }
    this.consumed[k] = log.length;
  }

  private onCommit(now: number, s: number): void {
    if (this.grouped) {
      if (this.alive[s] && !this.rebalancing && !this.brokerServerCut(s, now))
        for (let p = 0; p < this.partitions; p++)
          if (this.owner[p] === s) this.groupCommitted[p] = this.groupConsumed[p];
    } else if (this.alive[s])
      for (let p = 0; p < this.partitions; p++)
        this.committed[s * this.partitions + p] = this.consumed[s * this.partitions + p];
    const next = Math.round(now + this.t.broker.commitIntervalMs * 1000);
    if (next <= this.durationUs) this.queue.push(next, (s << KIND_BITS) | EV_COMMIT, 0);
  }

  /** Direct polling: the server asks the data source for everything after its cursor. */
  private onPoll(now: number, s: number): void {
    const next = Math.round(now + this.t.broker.pollIntervalMs * 1000);
    if (next <= this.durationUs) this.queue.push(next, (s << KIND_BITS) | EV_POLL, 0);
    if (!this.alive[s] || !this.brokerUp || this.brokerServerCut(s, now)) return;
    this.sourceRequests++;
    const at = Math.round(now + this.brokerUs() + this.brokerToServerUs(s));
    for (let i = this.dbCursor[s]; i < this.dbLog.length; i++) {
      const id = this.dbLog[i];
      this.queue.push(at, (s << KIND_BITS) | EV_SERVER_IN, id);
      if (this.traced(id)) this.trace.write(TRACE_HOP2, now, at, NODE_BROKER, 2 + s, id, -1);
    }
    this.dbCursor[s] = this.dbLog.length;
  }

  /** A server has the message: it writes it to each local subscriber's connection. */
  private onServerIn(now: number, s: number, id: number): void {
    if (!this.alive[s]) return;
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
      offset: this.t.broker.kind === 'kafka' ? this.offset[id] : this.msgs.seq[id],
      message: id,
      arrivalUs: now,
    });
    const k = s * this.channels + c;
    if (this.msgs.seq[id] > this.serverSeq[k]) this.serverSeq[k] = this.msgs.seq[id];
    if (this.t.broker.kind === 'redis' && this.slowSubscriber(now, s, id)) return;
    if (this.shaping) return this.shaping.onServerIn(now, s, c, id);
    for (let u = this.memberHead[s * this.channels + c]; u >= 0; u = this.memberNext[u])
      this.send(now, u, id, false);
  }

  /** Redis disconnects a subscriber whose output buffer would pass the limit (it then misses messages). */
  private slowSubscriber(now: number, s: number, id: number): boolean {
    const cost = this.t.server.cpuPerSendUs;
    const backlogSends = cost > 0 ? this.cpus[s].backlogUs(now) / cost : 0;
    if (backlogSends * this.msgs.bytes[id] <= this.t.broker.outputBufferKB * 1024) return false;
    this.brokerLinkDownUntilUs[s] = now + RESUBSCRIBE_US;
    this.subscriberDisconnects++;
    return true;
  }

  // ---- Hop 1: frames to clients, acks, and what the client does with them.

  private send(now: number, u: number, id: number, recovered: boolean): void {
    const s = this.connServer[u];
    const sent = this.cpus[s].run(now, this.t.server.cpuPerSendUs);
    const slab = this.slabAlloc();
    this.slabUser[slab] = u;
    this.slabMsg[slab] = id;
    this.slabConn[slab] = this.connId[u];
    this.slabRecovered[slab] = recovered ? 1 : 0;
    this.slabSentUs[slab] = now;
    let leaves = sent;
    if (this.linkBitsPerUs[s] > 0 && this.linkUntilUs[s] > now) {
      // A bandwidth cap on the server's user links: frames queue for the shared pipe.
      // When the cap lifts, what is still queued goes at the link's full speed.
      leaves = Math.min(
        this.linkUntilUs[s],
        Math.max(sent, this.linkFreeUs[s]) + (this.msgs.bytes[id] * 8) / this.linkBitsPerUs[s],
      );
      this.linkFreeUs[s] = leaves;
    }
    let at = Math.round(leaves + this.oneWayUs(u));
    if (at < this.lastFrameUs[u]) at = this.lastFrameUs[u];
    this.lastFrameUs[u] = at;
    this.hop1Bytes += this.msgs.bytes[id];
    this.queue.push(at, EV_DELIVER, slab);
    if (this.traced(id) && u % 53 === 0)
      this.trace.write(TRACE_HOP1, now, at, 2 + s, 2 + this.maxServers + s, id, u);
  }

  /**
   * Shaped: one frame carrying `ids` to u (a batch, or a single encoded update): the write costs
   * CPU once and the frame's wire bytes pass the link once; each update gets its own slab, all
   * arriving together, so acks, resume and gap fetches work per update as before.
   */
  private sendFrame(
    now: number,
    u: number,
    ids: readonly number[],
    wireBytes: number,
    superseding: boolean,
  ): void {
    const s = this.connServer[u];
    if (s < 0 || this.online[u] !== 1) return;
    const sent = this.cpus[s].run(now, this.t.server.cpuPerSendUs);
    let leaves = sent;
    if (this.linkBitsPerUs[s] > 0 && this.linkUntilUs[s] > now) {
      leaves = Math.min(
        this.linkUntilUs[s],
        Math.max(sent, this.linkFreeUs[s]) + (wireBytes * 8) / this.linkBitsPerUs[s],
      );
      this.linkFreeUs[s] = leaves;
    }
    let at = Math.round(leaves + this.oneWayUs(u));
    if (at < this.lastFrameUs[u]) at = this.lastFrameUs[u];
    this.lastFrameUs[u] = at;
    this.hop1Bytes += wireBytes;
    for (const id of ids) {
      const slab = this.slabAlloc();
      this.slabUser[slab] = u;
      this.slabMsg[slab] = id;
      this.slabConn[slab] = this.connId[u];
      this.slabRecovered[slab] = superseding ? SLAB_SUPERSEDING : 0;
      this.slabSentUs[slab] = now;
      this.queue.push(at, EV_DELIVER, slab);
      if (this.traced(id) && u % 53 === 0)
        this.trace.write(TRACE_HOP1, now, at, 2 + s, 2 + this.maxServers + s, id, u);
    }
  }

  private connectionAlive(u: number, conn: number): boolean {
    return this.online[u] === 1 && this.connId[u] === conn && this.alive[this.connServer[u]] === 1;
  }

  private onDeliver(now: number, slab: number): void {
    const u = this.slabUser[slab];
    const id = this.slabMsg[slab];
    const conn = this.slabConn[slab];
    const recovered = (this.slabRecovered[slab] & SLAB_RECOVERED) !== 0;
    const superseding = (this.slabRecovered[slab] & SLAB_SUPERSEDING) !== 0;
    if (!this.connectionAlive(u, conn)) {
      // Lost in transit with its connection; resume or a gap fetch may bring it back.
      this.slabFreeAt(slab);
      if (this.traced(id))
        this.trace.write(
          TRACE_DROP,
          now,
          now,
          2 + Math.max(0, this.connServer[u]),
          2 + this.maxServers + Math.max(0, this.connServer[u]),
          id,
          u,
        );
      return;
    }
    if (this.serverUserCut(this.connServer[u], u)) {
      // A partition between the server and the user: the frame never arrives.
      this.slabFreeAt(slab);
      return;
    }
    this.hop1Hist.record(now - this.slabSentUs[slab]);
    this.apply(now, u, id, recovered, superseding);
    if (this.t.delivery.guarantee !== 'at-most-once') {
      this.queue.push(Math.round(now + this.oneWayUs(u)), EV_ACK, slab);
      return;
    }
    this.slabFreeAt(slab);
  }

  private onAck(slab: number): void {
    const u = this.slabUser[slab];
    if (
      this.connectionAlive(u, this.slabConn[slab]) &&
      !this.userServerCut(u, this.connServer[u])
    ) {
      const seq = this.msgs.seq[this.slabMsg[slab]];
      if (seq > this.acked[u]) this.acked[u] = seq;
    }
    this.slabFreeAt(slab);
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
      this.superseded += this.owedBetween(this.userChannel[u], r + 1, seq - 1);
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
    if (this.producerSeq[id] > this.lastProducerSeq[u]) return this.accept(now, u, id, recovered);
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
      producerSeq: this.producerSeq[id],
      applied,
    });
  }

  private accept(now: number, u: number, id: number, recovered: boolean): void {
    const seq = this.msgs.seq[id];
    this.recv[u] = seq;
    this.lastProducerSeq[u] = this.producerSeq[id];
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
  }

  /** Whether the missing range can be replayed for this user from history (window and epoch). */
  private replayable(now: number, u: number, fromSeq: number): boolean {
    const d = this.t.delivery;
    if (d.history === 'none') return false;
    const c = this.userChannel[u];
    if (fromSeq >= this.latestSeq[c]) return true;
    const oldest = this.channelLog[c][fromSeq];
    if (now - this.msgs.createdUs[oldest] > d.recoveryWindowS * 1e6) return false;
    if (d.history === 'broker') return this.brokerUp && this.epochSeen[u] === this.brokerEpoch;
    const s = this.connServer[u];
    return s === this.historyServer[u] && this.epochSeen[u] === this.serverEpoch[s];
  }

  /** A gap seen in the stream: fetch what is missing, or give it up. */
  private fillGap(now: number, u: number, from: number, to: number): void {
    const c = this.userChannel[u];
    if (this.replayable(now, u, from)) {
      this.paths.gapFetch++;
      for (let q = from; q <= to; q++) this.applyNext(now, u, this.channelLog[c][q], true);
      return;
    }
    this.paths.gapLost++;
    this.flow.dropped += this.owedBetween(c, from, to);
    this.recv[u] = to;
    this.skipTo(u, to);
  }

  // ---- Connections: attempts, accept queues, detection, resume.

  private onAttempt(now: number, u: number, token: number): void {
    if (token !== this.attemptToken[u] || this.away[u]) return;
    // Two retry chains can meet (a return from away and a late detection): one connection only.
    if (this.online[u] || this.connecting[u]) return;
    this.attempts++;
    if (this.firstAttemptDue[u]) {
      this.firstAttemptDue[u] = 0;
      this.firstAttemptsUs.push(now);
    }
    if (!this.lbUp) return this.retryLater(now, u, now + CONNECT_TIMEOUT_US);
    const s = this.route(u);
    if (s < 0) return this.retryLater(now, u, now + CONNECT_TIMEOUT_US);
    if (!this.alive[s] || this.draining[s])
      return this.retryLater(now, u, now + CONNECT_TIMEOUT_US);
    // A partition between the user and the server: the handshake never completes.
    if (this.cutEither(NODE_TYPE_USER, u, NODE_TYPE_SERVER, s))
      return this.retryLater(now, u, now + CONNECT_TIMEOUT_US);
    if (this.conns[s] >= this.t.server.maxConnections) {
      this.rejectedConnections++;
      return this.retryLater(now, u, now + this.t.network.rttMs * 1000);
    }
    // The TLS handshake and auth wait in the server's accept queue (fleet-wide acceptPerSec).
    const arrive = now + (this.t.network.rttMs * 1000) / 2;
    const perServer = this.t.server.acceptPerSec / Math.max(1, this.aliveServers());
    const start = Math.max(arrive, this.acceptFreeUs[s]);
    if (start - arrive > this.t.server.acceptTimeoutMs * 1000)
      return this.retryLater(now, u, arrive + this.t.server.acceptTimeoutMs * 1000);
    this.acceptFreeUs[s] = start + 1e6 / perServer;
    this.conns[s]++;
    this.connId[u]++;
    this.connServer[u] = s;
    const ready = Math.round(start + 1e6 / perServer + this.t.network.rttMs * 1000);
    this.connecting[u] = 1;
    this.queue.push(ready, (u << KIND_BITS) | EV_CONNECTED, this.connId[u]);
  }

  private retryLater(now: number, u: number, failedAtUs: number): void {
    this.failedAttempts++;
    this.paths.connectRetry++;
    const c = this.t.connection;
    const delay = backoffUs(
      this.attempt[u]++,
      c.backoffBaseS,
      c.backoffCapS,
      c.jitter,
      this.jitterRng,
    );
    const at = Math.round(Math.max(now + 1, failedAtUs) + delay);
    if (at <= this.durationUs)
      this.queue.push(at, (u << KIND_BITS) | EV_ATTEMPT, this.attemptToken[u]);
  }

  private onConnected(now: number, u: number, conn: number): void {
    if (conn !== this.connId[u]) return;
    this.connecting[u] = 0;
    const s = this.connServer[u];
    if (this.away[u]) {
      // The user closed the app while the connection was being set up.
      this.conns[s] = Math.max(0, this.conns[s] - 1);
      return;
    }
    if (!this.alive[s] || this.draining[s]) {
      // The server died or started draining while this connection was being accepted.
      this.conns[s] = Math.max(0, this.conns[s] - 1);
      return this.retryLater(now, u, now);
    }
    this.online[u] = 1;
    this.attempt[u] = 0;
    this.cookie[u] = s;
    this.join(u, s);
    if (this.disconnectedAtUs[u] > 0) {
      this.disconnectedNow--;
      this.lastReconnectUs = now;
    }
    const c = this.userChannel[u];
    if (this.recv[u] === -2) {
      // First connection: the user starts from the state its server has; what the server has
      // yet to receive (still in hop 2, or waiting for the next poll) is owed from here on.
      const latest = this.latestSeq[c] - 1;
      // Kafka and direct servers read every channel; a Redis server subscribes when its first
      // user of a channel arrives, and receives only what is published after that.
      const k = s * this.channels + c;
      if (this.t.broker.kind === 'redis' && this.memberNext[u] < 0 && this.serverSeq[k] < latest)
        this.serverSeq[k] = latest;
      const start = Math.min(this.serverSeq[k], latest);
      this.startedUsers[c]++;
      this.firstOwed[u] = start + 1;
      this.flow.fanout += this.owedBetween(c, start + 1, latest);
      this.recv[u] = start;
      this.acked[u] = start;
      this.skipTo(u, start);
    } else {
      this.resume(now, u);
    }
    this.epochSeen[u] =
      this.t.delivery.history === 'server' ? this.serverEpoch[s] : this.brokerEpoch;
    this.historyServer[u] = s;
  }

  /**
   * Back after a disconnect. At least once: the server resends from the last ack (duplicates
   * are possible). At most once: the client asks from its own offset. Either needs history inside
   * the recovery window and the same epoch; otherwise the client reloads the state (resync).
   */
  private resume(now: number, u: number): void {
    const c = this.userChannel[u];
    const latest = this.latestSeq[c] - 1;
    if (this.returning[u]) {
      this.returning[u] = 0;
      if (this.t.delivery.offline === 'mailbox') return this.fromMailbox(now, u);
    }
    const from =
      this.t.delivery.guarantee === 'at-most-once' ? this.recv[u] + 1 : this.acked[u] + 1;
    if (from > latest) return;
    // The history is in a broker that is down for now but keeps its data: resume once it is back.
    if (this.t.delivery.history === 'broker' && !this.brokerUp && this.t.broker.kind !== 'redis') {
      this.resumePending[u] = 1;
      return;
    }
    if (this.replayable(now, u, Math.min(from, this.recv[u] + 1))) {
      this.paths.resumeReplay++;
      for (let q = from; q <= latest; q++) this.send(now, u, this.channelLog[c][q], true);
      return;
    }
    const missed = latest - this.recv[u];
    if (missed > 0) {
      // With no history at all, what was missed is simply gone; with history out of reach
      // (window exceeded, epoch changed) the client reloads the current state instead.
      const owed = this.owedBetween(c, this.recv[u] + 1, latest);
      if (this.t.delivery.history === 'none') {
        this.paths.resumeLost++;
        this.flow.dropped += owed;
      } else {
        this.paths.resumeResync++;
        this.resynced += owed;
      }
      this.recv[u] = latest;
      this.skipTo(u, latest);
    }
    this.acked[u] = latest;
  }

  /**
   * Back from being away with an offline mailbox: it kept the newest `mailboxLimit` updates
   * younger than `mailboxTtlS`; the client gets those, and what the mailbox dropped is lost.
   */
  private fromMailbox(now: number, u: number): void {
    const c = this.userChannel[u];
    const latest = this.latestSeq[c] - 1;
    const from = this.recv[u] + 1;
    if (from > latest) return;
    const d = this.t.delivery;
    let keep = Math.max(from, latest - d.mailboxLimit + 1);
    const log = this.channelLog[c];
    while (keep <= latest && now - this.msgs.createdUs[log[keep]] > d.mailboxTtlS * 1e6) keep++;
    if (keep > from) {
      this.flow.dropped += this.owedBetween(c, from, keep - 1);
      this.recv[u] = keep - 1;
      this.skipTo(u, keep - 1);
    }
    this.acked[u] = Math.max(this.acked[u], this.recv[u]);
    this.paths.mailboxDelivery++;
    for (let q = keep; q <= latest; q++) this.send(now, u, log[q], true);
  }

  // ---- Users who go away (close the app) and come back.

  private onAway(now: number, u: number): void {
    if (this.away[u]) return;
    this.away[u] = 1;
    this.awayNow++;
    this.attemptToken[u]++;
    // Counted as disconnected already (between connections), or about to be.
    if (this.online[u] || (this.recv[u] !== -2 && this.disconnectedAtUs[u] > 0)) {
      this.awayCounted[u] = 1;
      this.awayDisconnected++;
    }
    if (this.online[u]) this.dropConnection(now, u, 0);
  }

  private onReturn(now: number, u: number): void {
    if (!this.away[u]) return;
    this.away[u] = 0;
    this.awayNow--;
    if (this.awayCounted[u]) this.awayDisconnected--;
    this.awayCounted[u] = 0;
    this.returning[u] = this.recv[u] === -2 ? 0 : 1;
    this.attempt[u] = 0;
    this.queue.push(now, (u << KIND_BITS) | EV_ATTEMPT, this.attemptToken[u]);
  }

  private join(u: number, s: number): void {
    const k = s * this.channels + this.userChannel[u];
    const head = this.memberHead[k];
    this.memberNext[u] = head;
    this.memberPrev[u] = -1;
    if (head >= 0) this.memberPrev[head] = u;
    this.memberHead[k] = u;
  }

  private leave(u: number, s: number): void {
    const k = s * this.channels + this.userChannel[u];
    const prev = this.memberPrev[u];
    const next = this.memberNext[u];
    if (prev >= 0) this.memberNext[prev] = next;
    else if (this.memberHead[k] === u) this.memberHead[k] = next;
    if (next >= 0) this.memberPrev[next] = prev;
    this.memberNext[u] = -1;
    this.memberPrev[u] = -1;
  }

  /** The server side of a connection ends now; the client notices after `detectUs`. */
  private dropConnection(now: number, u: number, detectUs: number): void {
    const s = this.connServer[u];
    if (this.online[u]) this.leave(u, s);
    this.online[u] = 0;
    this.conns[s] = Math.max(0, this.conns[s] - 1);
    this.disconnectedAtUs[u] = now;
    this.disconnectedNow++;
    this.queue.push(Math.round(now + detectUs), (u << KIND_BITS) | EV_DETECT, this.connId[u]);
  }

  private onDetect(now: number, u: number, conn: number): void {
    if (conn !== this.connId[u] || this.online[u] || this.away[u]) return;
    this.firstAttemptDue[u] = 1;
    const c = this.t.connection;
    const delay = backoffUs(
      this.attempt[u]++,
      c.backoffBaseS,
      c.backoffCapS,
      c.jitter,
      this.jitterRng,
    );
    const at = Math.round(now + delay);
    if (at <= this.durationUs)
      this.queue.push(at, (u << KIND_BITS) | EV_ATTEMPT, this.attemptToken[u]);
  }

  /** A silent death is noticed by the missing heartbeat: between timeout − interval and timeout. */
  private silentDetectUs(): number {
    const c = this.t.connection;
    return (c.timeoutS - c.heartbeatS * this.netRng.float()) * 1e6;
  }

  // ---- Faults.

  private faultHit(kind: string, n: number): void {
    // Broker outages count what they hit while they last.
    for (let i = this.faults.length - 1; i >= 0; i--) {
      const f = this.faults[i];
      if (f.kind === kind && f.atS * 1e6 <= this.nowUsValue && f.recoveredAtS === null) {
        f.hit += n;
        return;
      }
    }
  }

  /**
   * Whether a fault changes anything now: a crash of a server that is down, an outage of a
   * broker that is down, a partition already in force do nothing (and have nothing to recover).
   */
  private applies(now: number, f: Fault): boolean {
    const s = f.target;
    switch (f.kind) {
      case 'server-crash':
        return s < this.serverCount && this.alive[s] === 1;
      case 'graceful-shutdown':
        return s < this.serverCount && this.alive[s] === 1 && this.draining[s] === 0;
      case 'broker-down':
        return this.brokerUp;
      case 'lb-down':
        return this.lbUp;
      case 'scale-out':
        return this.serverCount < this.maxServers;
      case 'slow-link':
        return s < this.serverCount && this.linkUntilUs[s] <= now;
      case 'partition': {
        const key = this.partitionKey(f);
        return !this.cuts.some((c) => this.partitionKey(this.schedule[c.fault]) === key);
      }
      default:
        return true;
    }
  }

  private onFault(now: number, i: number): void {
    const f: Fault = this.schedule[i];
    const rec = this.faults[i];
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
        this.brokerUp = false;
        // Redis keeps nothing on disk here: its history (and epoch) is gone when it comes back.
        if (this.t.broker.kind === 'redis') this.brokerEpoch++;
        return;
      case 'lb-down':
        this.lbUp = false;
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
        this.cuts.push({
          from: parseGroup(f.from ?? 'broker'),
          to: parseGroup(f.to ?? `server:${f.target}`),
          oneWay: f.oneWay,
          fault: i,
        });
        rec.between = `${f.from ?? 'broker'} ${f.oneWay ? '→' : '⇄'} ${f.to ?? `server:${f.target}`}`;
        rec.hit = this.applyCut(now);
        return;
      case 'slow-link':
        this.linkExtraUs[f.target] = f.extraLatencyMs * 1000;
        this.linkLoss[f.target] = f.lossProbability;
        this.linkBitsPerUs[f.target] = f.bandwidthMbps;
        this.linkFreeUs[f.target] = now;
        this.linkUntilUs[f.target] = f.forS > 0 ? now + f.forS * 1e6 : Infinity;
        rec.hit = this.conns[f.target];
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
    const opened = {
      'server-restart': 'server-crash',
      'broker-up': 'broker-down',
      'lb-up': 'lb-down',
      'partition-heal': 'partition',
    }[h.kind as string];
    for (let i = this.faults.length - 1; i >= 0; i--) {
      const r = this.faults[i];
      if (r.kind !== opened || r.recoveredAtS !== null || !r.applied) continue;
      if (opened === 'server-crash' && r.target !== h.target) continue;
      if (opened === 'partition' && this.partitionKey(this.schedule[i]) !== this.partitionKey(h))
        continue;
      this.onRecover(now, i);
      return 1;
    }
    return 0;
  }

  private onRecover(now: number, i: number): void {
    const f = this.schedule[i];
    // Healed already (by a click) or never in force: nothing to end.
    if (this.faults[i].recoveredAtS !== null || !this.faults[i].applied) return;
    this.faults[i].recoveredAtS = now / 1e6;
    switch (f.kind) {
      case 'server-crash':
        return this.restart(now, f.target);
      case 'broker-down':
        this.brokerUp = true;
        for (let u = 0; u < this.users; u++)
          if (this.resumePending[u]) {
            this.resumePending[u] = 0;
            if (this.online[u]) this.resume(now, u);
          }
        this.catchUp(now);
        return;
      case 'lb-down':
        this.lbUp = true;
        return;
      case 'slow-link':
        this.linkUntilUs[f.target] = now;
        return;
      case 'partition':
        this.cuts = this.cuts.filter((c) => c.fault !== i);
        // Group members the coordinator dropped while they were cut off join again.
        if (this.grouped)
          for (let s = 0; s < this.serverCount; s++)
            if (
              !this.member[s] &&
              this.alive[s] &&
              !this.draining[s] &&
              !this.brokerServerCut(s, now)
            )
              this.groupJoin(now, s);
        this.catchUp(now);
        return;
    }
  }

  /** Kafka consumers read what piled up while they could not (broker back, partition healed). */
  private catchUp(now: number): void {
    if (this.t.broker.kind !== 'kafka') return;
    if (this.grouped) for (let p = 0; p < this.partitions; p++) this.consumeGroup(p, now);
    else
      for (let s = 0; s < this.serverCount; s++)
        for (let p = 0; p < this.partitions; p++) this.consume(s, p, now);
  }

  private crash(now: number, s: number, loseState: boolean): number {
    if (!this.alive[s]) return 0;
    this.alive[s] = 0;
    if (this.grouped) {
      // Its partitions stall until the coordinator notices; what it read but did not commit is
      // lost with the process (nobody commits it on the next rebalance).
      for (let p = 0; p < this.partitions; p++) if (this.owner[p] === s) this.owner[p] = -1;
      this.checkSessions(now);
    }
    if (loseState) this.serverEpoch[s]++;
    let hit = 0;
    for (let u = 0; u < this.users; u++)
      if (this.online[u] && this.connServer[u] === s) {
        this.dropConnection(now, u, this.silentDetectUs());
        hit++;
      }
    this.conns[s] = 0;
    // Kafka: the consumer will restart from its last committed offset.
    for (let p = 0; p < this.partitions; p++) {
      const k = s * this.partitions + p;
      this.replayFrom[k] = this.consumed[k];
      this.consumed[k] = this.committed[k];
    }
    if (loseState && this.t.broker.kind === 'direct') this.dbCursor[s] = this.dbLog.length;
    return hit;
  }

  private restart(now: number, s: number): void {
    if (this.alive[s]) return;
    this.alive[s] = 1;
    this.acceptFreeUs[s] = now;
    // A restarted group consumer joins with a new member id: the group rebalances.
    if (this.grouped) return this.groupJoin(now, s);
    if (this.t.broker.kind === 'kafka')
      for (let p = 0; p < this.partitions; p++)
        if (this.consumed[s * this.partitions + p] < this.replayFrom[s * this.partitions + p])
          this.paths.consumerReplay++;
    if (this.t.broker.kind === 'kafka')
      for (let p = 0; p < this.partitions; p++) this.consume(s, p, now);
  }

  private disconnectAll(now: number, share: number, _graceful: boolean): number {
    let hit = 0;
    const pick = this.rng.fork(`disconnect/${now}`);
    for (let u = 0; u < this.users; u++)
      if (this.online[u] && (share >= 1 || pick.float() < share)) {
        this.dropConnection(now, u, 0);
        hit++;
      }
    return hit;
  }

  /** The server asks its clients to reconnect elsewhere, drains, then force-closes the rest. */
  private gracefulShutdown(now: number, s: number): number {
    if (!this.alive[s]) return 0;
    this.draining[s] = 1;
    this.paths.gracefulDrain++;
    // A clean leave: the consumer commits and leaves its group at once.
    this.groupLeave(now, s);
    this.setHealthy(this.balancer.healthyServers.filter((x) => x !== s));
    let hit = 0;
    const spread = this.rng.fork(`drain/${s}`);
    const drainUs = this.t.server.drainS * 1e6;
    for (let u = 0; u < this.users; u++)
      if (this.online[u] && this.connServer[u] === s) {
        // Each client leaves at a random moment within the drain window (the server's hint).
        this.dropConnection(now + 0, u, spread.float() * Math.min(drainUs, 5e6));
        hit++;
      }
    this.queue.push(Math.round(now + drainUs), (s << KIND_BITS) | EV_DRAIN_END, 0);
    return hit;
  }

  /** The drain time is up: whoever is still connected is closed, then the server stops. */
  private onDrainEnd(now: number, s: number): void {
    for (let u = 0; u < this.users; u++)
      if (this.online[u] && this.connServer[u] === s) this.dropConnection(now, u, 0);
    this.alive[s] = 0;
    this.conns[s] = 0;
    this.groupLeave(now, s);
  }

  private scaleOut(now: number): number {
    const s = this.serverCount++;
    this.alive[s] = 1;
    this.acceptFreeUs[s] = now;
    this.setHealthy([...this.balancer.healthyServers, s]);
    // A new server starts from now: it owes its users nothing published before it existed.
    for (let c = 0; c < this.channels; c++)
      this.serverSeq[s * this.channels + c] = this.latestSeq[c] - 1;
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
    this.groupJoin(now, s);
    return 1;
  }

  /** Health checks: a server that fails `unhealthyThreshold` checks in a row leaves the rotation. */
  private onHealth(now: number): void {
    const lb = this.t.loadBalancer;
    const healthy: number[] = [];
    for (let s = 0; s < this.serverCount; s++) {
      if (this.draining[s]) continue;
      this.healthFails[s] = this.alive[s] ? 0 : this.healthFails[s] + 1;
      const wasHealthy = this.balancer.healthyServers.includes(s);
      if (this.alive[s] || (wasHealthy && this.healthFails[s] < lb.unhealthyThreshold))
        healthy.push(s);
    }
    const before = this.balancer.healthyServers;
    if (healthy.length !== before.length || healthy.some((s, k) => s !== before[k])) {
      if (healthy.length < before.length) this.paths.healthEviction++;
      this.setHealthy(healthy);
    }
    this.autoscale(now);
    const next = Math.round(now + lb.healthCheckIntervalS * 1e6);
    if (next <= this.durationUs) this.queue.push(next, EV_HEALTH, 0);
  }

  /**
   * The autoscaler looks at the same interval as the health checks: when the mean connections per
   * live server pass the target, it starts one more server, usable after it has booted.
   */
  private autoscale(now: number): void {
    const a = this.t.server.autoscale;
    if (a.enabled !== 'on' || this.bootingUntilUs > now) return;
    const live = this.aliveServers();
    if (
      live === 0 ||
      this.serverCount >= Math.min(a.maxServers, this.maxServers - INJECTED_SCALE_OUTS)
    )
      return;
    let connections = 0;
    for (let s = 0; s < this.serverCount; s++) connections += this.conns[s];
    if (connections / live <= a.targetConnections) return;
    this.bootingUntilUs = now + a.bootS * 1e6;
    this.autoscaled++;
    const i = this.schedule.length;
    const fault: Fault = {
      kind: 'scale-out',
      atS: this.bootingUntilUs / 1e6,
      target: 0,
      forS: 0,
      loseState: false,
      share: 1,
      extraLatencyMs: 0,
      lossProbability: 0,
      bandwidthMbps: 0,
      oneWay: false,
    };
    this.schedule.push(fault);
    this.faults.push({
      kind: 'scale-out',
      atS: fault.atS,
      target: 0,
      hit: 0,
      recoveredAtS: null,
      applied: false,
    });
    this.pending.push([Math.round(this.bootingUntilUs), i]);
    this.pending.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  }

  private aliveServers(): number {
    let n = 0;
    for (let s = 0; s < this.serverCount; s++) if (this.alive[s] && !this.draining[s]) n++;
    return n;
  }

  // ---- Messages and slabs.

  private traced(id: number): boolean {
    return id % this.traceEvery === 0;
  }

  private newMessage(now: number, c: number): number {
    const bytes = this.shaping
      ? this.shaping.payloadBytes
      : Math.max(1, Math.round(this.payloadBytes()));
    const id = this.msgs.add(c, now, bytes);
    this.ensureMessageRoom(id);
    this.producerSeq[id] = this.nextProducerSeq[c % this.t.sources]++;
    return id;
  }

  /** A second copy of a record (a retried write): same producer id and sequence, new offset. */
  private cloneMessage(id: number): number {
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

  private slabAlloc(): number {
    const free = this.slabFree.pop();
    if (free !== undefined) return free;
    if (this.slabTop === this.slabUser.length) {
      const n = this.slabUser.length * 2;
      const g32 = (a: Int32Array) => {
        const b = new Int32Array(n);
        b.set(a);
        return b;
      };
      this.slabUser = g32(this.slabUser);
      this.slabMsg = g32(this.slabMsg);
      this.slabConn = g32(this.slabConn);
      const r = new Uint8Array(n);
      r.set(this.slabRecovered);
      this.slabRecovered = r;
      const t = new Float64Array(n);
      t.set(this.slabSentUs);
      this.slabSentUs = t;
    }
    return this.slabTop++;
  }

  private slabFreeAt(slab: number): void {
    this.slabFree.push(slab);
  }

  // ---- Sampling and views.

  private onSample(now: number): void {
    this.updateInFlight();
    const h = this.intervalHist;
    const queues = this.cpus.map((c) => {
      const cost = this.t.server.cpuPerSendUs;
      return cost > 0 ? Math.round(c.backlogUs(now) / cost) : 0;
    });
    this.series.close(
      now,
      {
        p50: h.percentileUs(50),
        p99: h.percentileUs(99),
        max: h.percentileUs(100),
        count: h.count,
      },
      this.flow.inFlight,
      queues,
      this.conns.subarray(0, Math.max(1, this.serverCount)),
    );
    this.connectionRows.push(Array.from(this.conns));
    h.reset();
    const next = Math.min(now + this.series.intervalUs, this.durationUs);
    if (next > now) this.queue.push(next, EV_SAMPLE, 0);
  }

  /** Owed but not yet delivered, dropped or resynced: users behind their channel's latest. */
  private updateInFlight(): void {
    const f = this.flow;
    f.inFlight = f.fanout - f.delivered - f.dropped - this.resynced - this.superseded;
    if (this.shaping) f.superseded = this.superseded;
  }

  private reconnectStats(): ClusterStats['reconnect'] {
    const times = this.firstAttemptsUs;
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
      allReconnectedAtS: this.disconnectedNow === 0 ? this.lastReconnectUs / 1e6 : null,
    };
  }

  private clusterStats(): ClusterStats {
    const t = this.t;
    const expected = this.flow.fanout;
    return {
      broker: t.broker.kind,
      strategy: t.loadBalancer.strategy,
      guarantee: t.delivery.guarantee,
      lost: this.flow.dropped,
      lostAtBroker: this.lostAtBroker,
      deliveriesLostAtBroker: this.deliveriesLostAtBroker,
      recovered: this.recovered,
      resynced: this.resynced,
      stale: this.stale,
      duplicatesSuppressed: this.suppressed,
      reach: expected > 0 ? this.flow.delivered / expected : 1,
      faults: this.faults.map((f) => ({ ...f })),
      reconnect: this.reconnectStats(),
      connectionsPerServer: Array.from(this.conns.subarray(0, this.serverCount)),
      connectionsSeries: this.connectionRows.map((r) => r.slice(0, this.serverCount)),
      remappedShareOnScaleOut: remappedShare(
        t.loadBalancer.strategy,
        Math.min(this.users, 20_000),
        t.loadBalancer.usersPerIp,
        t.servers,
        t.loadBalancer.virtualNodes,
        this.rng.fork('remap'),
      ),
      attempts: this.attempts,
      failedAttempts: this.failedAttempts,
      subscriberDisconnects: this.subscriberDisconnects,
      missedWhileUnsubscribed: this.missedWhileUnsubscribed,
      sourceRequestsPerSec: this.nowUsValue > 0 ? this.sourceRequests / (this.nowUsValue / 1e6) : 0,
      disconnected: this.disconnectedNow - this.awayDisconnected,
      away: this.awayNow,
      dedupedAtBroker: this.dedupedAtBroker,
      serverReorders: this.serverReorders,
      logCopies: this.logCopies,
      rebalances: this.rebalances,
      partitionOwners: this.grouped ? Array.from(this.owner) : [],
      recoveryPaths: { ...this.paths },
      state: this.state(),
    };
  }

  /** What is up and down right now, for the views (they draw it; they do not replay faults). */
  private state(): ClusterState {
    const shown = Math.max(this.serverCount, this.maxServers - INJECTED_SCALE_OUTS);
    const now = this.nowUsValue;
    const servers: ClusterState['servers'] = [];
    for (let s = 0; s < shown; s++)
      servers.push(
        s >= this.serverCount
          ? 'absent'
          : this.draining[s]
            ? this.alive[s]
              ? 'draining'
              : 'shut-down'
            : this.alive[s]
              ? 'up'
              : 'down',
      );
    return {
      servers,
      brokerCut: Array.from(
        { length: shown },
        (_, s) => s < this.serverCount && this.brokerServerCut(s, now),
      ),
      slowLink: Array.from({ length: shown }, (_, s) => this.linkUntilUs[s] > now),
      brokerUp: this.brokerUp,
      lbUp: this.lbUp,
      partitions: this.cuts.length,
      scaleOutRoom: this.maxServers - this.serverCount,
      rebalancing: this.rebalancing,
    };
  }

  private linkStats(elapsedS: number): LinkStats[] {
    const per = (b: number) => (elapsedS > 0 ? b / elapsedS : 0);
    return [
      {
        id: 'source->broker',
        hop: 'hop2',
        from: 'source',
        to: 'broker',
        messages: this.flow.produced,
        bytes: this.hop2Bytes,
        bytesPerSec: per(this.hop2Bytes),
      },
      {
        id: 'servers->users',
        hop: 'hop1',
        from: 'servers',
        to: 'users',
        messages: this.flow.delivered,
        bytes: this.hop1Bytes,
        bytesPerSec: per(this.hop1Bytes),
      },
    ];
  }

  private serverStats(now: number): ServerStats[] {
    const out: ServerStats[] = [];
    for (let s = 0; s < this.serverCount; s++) {
      const cost = this.t.server.cpuPerSendUs;
      const q = cost > 0 ? Math.round(this.cpus[s].backlogUs(now) / cost) : 0;
      out.push({
        id: `server-${s}`,
        connections: this.conns[s],
        cpuUtilisation:
          now > 0 ? Math.min(1, this.cpus[s].busyUs / (now * this.t.server.cores)) : 0,
        queueLength: q,
        queueLengthMax: q,
        memoryMB: 0,
      });
    }
    return out;
  }

  snapshot(): Snapshot {
    this.updateInFlight();
    return {
      ...this.baseSnapshot({
        flow: this.flow,
        e2e: this.e2eHist,
        hop2: this.hop2Hist,
        hop1: this.hop1Hist,
        links: (elapsedS) => this.linkStats(elapsedS),
        servers: (now) => this.serverStats(now),
        rejectedConnections: this.rejectedConnections,
        series: this.series.toSeries(),
      }),
      cluster: this.clusterStats(),
      ...(this.shaping ? { shaping: this.shapingStats() } : {}),
    };
  }

  /** The shaping figures of a cluster run: the module's counts and what the model measures. */
  private shapingStats(): ShapingStats {
    const sh = this.shaping as ClusterShaping;
    const c = sh.config;
    const now = this.nowUsValue;
    const part = sh.stats(now / 1e6, this.t.users);
    const e2e = this.e2eHist.summary();
    let busy = 0;
    for (const cpu of this.cpus) busy += cpu.busyUs;
    const series = this.series.toSeries();
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
      savedByStage: { ...(part.savedByStage ?? {}), superseded: this.superseded },
      resyncs: this.resynced,
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
      perServer: this.cpus.slice(0, this.serverCount).map((cpu, s) => ({
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

  result(wallMs: number): RunResult {
    const snap = this.snapshot();
    const c = snap.cluster!;
    return {
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
  }

  /** The servers of the scenario (scheduled scale-outs included; room for injected ones is not). */
  topology(): Topology {
    const shown = Math.max(this.serverCount, this.maxServers - INJECTED_SCALE_OUTS);
    const perServer = Math.round(this.users / this.t.servers);
    const nodes: Topology['nodes'] = [
      {
        id: 'source',
        kind: 'source',
        label: `${this.t.sources} source${this.t.sources > 1 ? 's' : ''}`,
        count: this.t.sources,
      },
      {
        id: 'broker',
        kind: 'broker',
        label: { direct: 'Data source (polled)', redis: 'Redis pub/sub', kafka: 'Kafka' }[
          this.t.broker.kind
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
        count: this.t.server.maxConnections,
      });
      edges.push({ id: `broker->server-${s}`, from: 'broker', to: `server-${s}`, hop: 'hop2' });
    }
    for (let s = 0; s < shown; s++) {
      nodes.push({
        id: `users-${s}`,
        kind: 'users',
        label: 'users',
        count: s < this.t.servers ? perServer : 0,
        parent: `server-${s}`,
      });
      edges.push({
        id: `server-${s}->users-${s}`,
        from: `server-${s}`,
        to: `users-${s}`,
        hop: 'hop1',
      });
    }
    if (this.shaping) return { nodes, edges, stages: stageLabels(this.shaping.config) };
    return { nodes, edges };
  }

  /**
   * Injects a fault now (a click in the lab). It joins the schedule like any other, so a run that
   * replays the same schedule — the URL records it — reproduces it exactly.
   */
  injectFault(raw: unknown): FaultRecord {
    const parsed = faultSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ScenarioError(['fault', ...issue.path.map(String)].join('.'), issue.message);
    }
    // Not earlier than one microsecond after now: what already happened stays as it was.
    const f = { ...parsed.data, atS: Math.max(parsed.data.atS, (this.nowUsValue + 1) / 1e6) };
    const servers = f.kind === 'scale-out' ? this.maxServers : this.serverCount;
    if (
      (f.kind === 'server-crash' ||
        f.kind === 'graceful-shutdown' ||
        f.kind === 'partition' ||
        f.kind === 'slow-link') &&
      f.target >= servers
    )
      throw new ScenarioError('fault.target', `must be a server from 0 to ${servers - 1}`);
    if (f.kind === 'scale-out' && this.serverCount >= this.maxServers)
      throw new ScenarioError('fault.kind', 'no room for another server in this run');
    const i = this.schedule.length;
    this.schedule.push(f);
    const rec: FaultRecord = {
      kind: f.kind,
      atS: f.atS,
      target: f.target,
      hit: 0,
      recoveredAtS: null,
      applied: false,
    };
    this.faults.push(rec);
    this.pending.push([Math.round(f.atS * 1e6), i]);
    this.pending.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    return rec;
  }

  /** The schedule so far, scenario faults and injected ones (for the URL and the timeline). */
  faultSchedule(): Fault[] {
    return this.schedule.map((f) => ({ ...f }));
  }

  /**
   * Per user: the channel sequence number of the first update it was owed (-1: never connected).
   * The bridge has its real clients start from there, so both sides owe the same updates.
   */
  firstOwedSeq(): Int32Array {
    return this.firstOwed.slice();
  }

  /** Starts recording every record a server receives (for the partition-order checker). */
  recordArrivals(): ArrivalRecord[] {
    this.arrivalLog = [];
    return this.arrivalLog;
  }

  /** Starts recording every applied delivery for checkers (tests); returns the live list. */
  recordDeliveries(): DeliveryRecord[] {
    this.deliveryLog = [];
    return this.deliveryLog;
  }

  /** Per user: the highest sequence applied and the channel's latest (for convergence checks). */
  convergence(): { behind: number; maxBehind: number } {
    let behind = 0;
    let maxBehind = 0;
    for (let u = 0; u < this.users; u++) {
      // Users who are away are not expected to be up to date.
      if (this.recv[u] === -2 || this.away[u]) continue;
      const gap = this.latestSeq[this.userChannel[u]] - 1 - this.recv[u];
      if (gap > 0) behind++;
      if (gap > maxBehind) maxBehind = gap;
    }
    return { behind, maxBehind };
  }

  dispose(): void {
    for (const h of [this.e2eHist, this.hop1Hist, this.hop2Hist, this.intervalHist]) h.destroy();
  }
}
