// The two-hop model's delivery path with update shaping: subscriptions, audiences, throttles, conflation, batching, encodings, deltas and priorities.
import { ScenarioError } from '../../../scenario/errors.ts';
import type { TwoHopScenario } from '../../../scenario/schema.ts';
import type { Sampler } from '../../dist.ts';
import { word0 } from '../../engine.ts';
import type { TraceHasher } from '../../hash.ts';
import { LatencyHistogram } from '../../histogram.ts';
import type { PendingDeliveries } from '../../pending.ts';
import type { Population } from '../../population.ts';
import type { EventQueue } from '../../queue.ts';
import type { Rng } from '../../rng.ts';
import type { SeriesRecorder } from '../../series.ts';
import type { MessageTable } from '../../engine.ts';
import { wireBytesOf } from '../../shaping/framing.ts';
import { activeStages, shapingConfig, type ShapingConfig } from '../../shaping/config.ts';
import type { ShapeTable } from '../../shaping/encoding/measure.ts';
import { changedMask } from '../../shaping/encoding/payloads.ts';
import { IdList, Outbox } from '../../shaping/outbox.ts';
import { CLASSES, PriorityCores } from '../../shaping/priority.ts';
import { StalenessProbes } from '../../shaping/probes.ts';
import { Subscriptions } from '../../shaping/subscriptions.ts';
import { TRACE_DROP, TRACE_HOP1, type TraceRing } from '../../trace.ts';
import type { FlowCounts, LatencySummaryMs, ShapingStats, StalenessMs } from '../../types.ts';

// Event kinds the shaped path adds to the two-hop model's (which owns 0–3).
export const EV_RELEASE = 4; // arg: pair — a per-key throttle lets its next update go
export const EV_FLUSH = 5; // arg: server × lanes + lane — a server's outbox tick
export const EV_CHURN = 6; // subscription changes for one churn interval
export const EV_SERVER_ALL = 7; // arg: server; word1: message — audience all/region

/** How often subscription changes are drawn (a Poisson number of them per interval). */
const CHURN_TICK_US = 100_000;
/** Hop-1 deliveries of a sampled message are traced for users whose index is a multiple of this. */
const TRACE_USER_STRIDE = 97;
/** The guide's bytes per index entry (Pattern 1: 8 bytes per user → resource pointer, and back). */
const INDEX_ENTRY_BYTES = 16;
/** Layout of the per-user emission state (`em`): four Int32 per user, three used. */
const EM_STRIDE = 4;
const EM_STAMP = 0;
const EM_FIRST = 1;
const EM_COUNT = 2;

/**
 * Tests set this to run every emission through the general path (`offer`), to check that the
 * written-out fast loops give the same run; nothing else touches it.
 */
let generalPathOnly = false;
export function useGeneralPathOnly(on: boolean): void {
  generalPathOnly = on;
}

/** What the shaped path needs from the model that owns it. */
export interface TwoHopHost {
  readonly scenario: TwoHopScenario;
  readonly pop: Population;
  readonly msgs: MessageTable;
  readonly queue: EventQueue;
  readonly hasher: TraceHasher;
  readonly trace: TraceRing;
  readonly pending: PendingDeliveries;
  readonly series: SeriesRecorder;
  readonly flow: FlowCounts;
  readonly durationUs: number;
  readonly traceEvery: number;
  readonly hop1Rng: Rng;
  readonly hop1LatencyMs: Sampler;
  /** Per user u: at 2u when its downlink is next free, at 2u + 1 its last arrival (in order). */
  readonly userLinkUs: Float64Array;
  readonly slotLastSeq: Int32Array;
  readonly nicFreeUs: Float64Array;
  readonly hop1LinkBytes: Float64Array;
  readonly hop1LinkMessages: Float64Array;
  /** Each server's cores as earliest-free times (server-major), and busy time per server. */
  readonly coreFreeUs: Float64Array;
  readonly busyUs: Float64Array;
  readonly cores: number;
}

/** Which lists of the outbox to flush and when. */
interface LaneTick {
  periodUs: number;
  phaseUs: Float64Array;
  scheduled: Uint8Array;
  dirty: IdList[];
  /** The list a tick hands back, reused for the next one (no allocation per tick). */
  spare: IdList[];
}

export class ShapedPath {
  readonly config: ShapingConfig;
  private readonly h: TwoHopHost;
  private readonly users: number;
  private readonly subs: Subscriptions | null;
  private readonly probes: StalenessProbes | null;
  private readonly outbox: Outbox;
  private readonly ticks: LaneTick[];
  private readonly cpuQueue: PriorityCores | null;
  private readonly rngClass: Rng;
  private readonly rngChurn: Rng;

  // The host's state and the stages' settings, held directly: the fan-out reads them per delivery.
  private readonly pop: Population;
  private readonly msgs: MessageTable;
  private readonly queue: EventQueue;
  private readonly hasher: TraceHasher;
  private readonly trace: TraceRing;
  private readonly pending: PendingDeliveries;
  private readonly flow: FlowCounts;
  private readonly traceEvery: number;
  private readonly hop1Rng: Rng;
  private readonly hop1LatencyMs: Sampler;
  private readonly userLink: Float64Array;
  private readonly slotLastSeq: Int32Array;
  private readonly nicFree: Float64Array;
  private readonly hop1LinkBytes: Float64Array;
  private readonly hop1LinkMessages: Float64Array;
  private readonly coreFree: Float64Array;
  private readonly busyUs: Float64Array;
  private readonly cores: number;
  private readonly hop1Bytes: Float64Array;
  private readonly droppedSeries: Float64Array;
  private readonly serverBusy: Float64Array;
  private readonly seriesIntervalUs: number;
  private readonly seriesLast: number;
  private readonly table: ShapeTable;
  private readonly messageBytes: Float64Array;
  private readonly entryBytes: Float64Array;
  /** Wire bytes (framing included) of a payload of each size up to 64 KiB. */
  private readonly wireMemo: Int32Array;
  private readonly fullMask: number;
  private readonly lanes: number;
  private readonly laneWindowUs: Float64Array;
  private readonly conflating: boolean;
  private readonly conflationUs: number;
  private readonly perConnUs: number;
  private readonly delta: boolean;
  private readonly deflate: boolean;
  /** Deflate with context takeover: every frame is compressed for its own connection. */
  private readonly deflateFrames: boolean;
  private readonly sendCostUs: number;
  private readonly nicUsPerByte: number;
  private readonly sendBufferBytes: number;
  private readonly jitterUs: number;
  private readonly loss: number;
  private readonly rtoUs: number;
  private readonly shed: boolean;
  private readonly deadlineUs: Float64Array;
  private readonly probeChannel: Int32Array;
  private readonly perLaneFlag: boolean;
  /** Nothing can wait on a connection: the fan-out writes every frame at once. */
  private readonly directOnly: boolean;
  /** One batching lane and nothing else in the way: emissions are recorded once per server. */
  private readonly batchOnly: boolean;
  /**
   * Per user, side by side (one cache line per user on the hot loops): at EM_STAMP the window
   * (of its server) of its first waiting update, at EM_FIRST that update's emission record, at
   * EM_COUNT how many it has.
   */
  private em = new Int32Array(0);
  /** Per server: its current batching window, and the emissions recorded in it. */
  private winId = new Int32Array(0);
  private recs: EmissionRecords[] = [];
  /** Deliveries waiting as a user's first update of the window (not yet an outbox entry). */
  private fastWaiting = 0;

  // Per message.
  private msgClass = new Uint8Array(1024);
  private msgMask = new Int32Array(1024);
  private msgLevel = new Uint8Array(1024);
  /** Owed deliveries of a message not yet accounted for at a server, and copies still in hop 2. */
  private msgOwedLeft = new Int32Array(1024);
  private msgPairsLeft = new Int32Array(1024);
  private hop2Owed = 0;
  private heldOwed = 0;
  /** Subscribers per channel (without churn), and users per region (audience region). */
  private readonly channelSubscribers: Int32Array;
  private readonly regionUsers: Int32Array;
  /** Per channel: the newest sequence number published. */
  private readonly channelLatest: Int32Array;

  // Per pair (channel, server): the stream each server emits for a key.
  private readonly pairNextUs: Float64Array;
  private readonly pairEmitted: Int32Array;
  private readonly pairEmits: Int32Array;
  private readonly pairReleaseScheduled: Uint8Array;
  private readonly held: Outbox;

  // Per user.
  private readonly userClass: Uint8Array;
  private readonly userRegion: Uint16Array;
  private readonly userLevel: Uint8Array;
  private readonly nextAllowedUs: Float64Array;
  private readonly classBitsPerUs: Float64Array;
  private readonly classExtraUs: Float64Array;
  /** Server → its users (CSR), for audiences that do not go by subscription. */
  private readonly serverUserStart: Int32Array;
  private readonly serverUsers: Int32Array;

  // Frames waiting for a core (priorities on).
  private frameUser = new Int32Array(256);
  private frameHead = new Int32Array(256);
  private frameCount = new Int32Array(256);
  private frameLane = new Uint8Array(256);
  private frameReadyUs = new Float64Array(256);
  private frameCostUs = new Float64Array(256);
  private frameFree: number[] = [];
  private frameUsed = 0;
  private framesQueued = 0;
  private entriesQueued = 0;

  // Figures.
  private readonly laneHist: LatencyHistogram[] = [];
  private readonly userClassHist: LatencyHistogram[] = [];
  private readonly laneDelivered = new Float64Array(CLASSES);
  private readonly laneDropped = new Float64Array(CLASSES);
  /** Per priority class: deliveries owed (counted and corrected as `flow.fanout` is). */
  private readonly laneOwed = new Float64Array(CLASSES);
  /** A case-study application told of each delivery when its arrival is decided (or null). */
  onDeliver: ((slot: number, user: number, message: number, arrivalUs: number) => void) | null =
    null;
  private readonly classFrames: Float64Array;
  private readonly classUpdates: Float64Array;
  private readonly classBytes: Float64Array;
  private readonly classUsers: Float64Array;
  private readonly serverFrames: Float64Array;
  private readonly serverBytes: Float64Array;
  private readonly seriesFrames: Float64Array;
  private readonly seriesStaleP50: number[] = [];
  private readonly seriesStaleP99: number[] = [];
  private saved = {
    throttle: 0,
    conflation: 0,
    batching: 0,
    deltaBytes: 0,
    deflateBytes: 0,
    selective: 0,
  };
  private cpu = { encode: 0, compress: 0, send: 0, filter: 0, subscribe: 0 };
  private framesSent = 0;
  private updatesSent = 0;
  private wireBytes = 0;
  private resyncs = 0;
  private snapshots = 0;
  private deltas = 0;
  private maxHoldUs = 0;
  private batchFrames = 0;
  private batchUpdates = 0;
  private audienceOwed = 0;
  private audienceConnected = 0;
  private filterEvaluations = 0;
  private throttleBacklog = 0;
  private readonly connected: number;
  /** Probe-delivery log for the delta checker: (slot, seq, full, mask) per delivery to a probe. */
  private readonly deltaLogRows: number[] = [];

  constructor(host: TwoHopHost, rootRng: Rng) {
    this.h = host;
    const sc = host.scenario;
    const spec = sc.topology.shaping;
    if (!spec) throw new ScenarioError('shaping', 'the shaped path needs a shaping block');
    this.config = shapingConfig(spec, 'two-hop');
    const cfg = this.config;
    const p = host.pop;
    this.users = p.users;
    this.pop = p;
    this.msgs = host.msgs;
    this.queue = host.queue;
    this.hasher = host.hasher;
    this.trace = host.trace;
    this.pending = host.pending;
    this.flow = host.flow;
    this.traceEvery = host.traceEvery;
    this.hop1Rng = host.hop1Rng;
    this.hop1LatencyMs = host.hop1LatencyMs;
    this.userLink = host.userLinkUs;
    this.slotLastSeq = host.slotLastSeq;
    this.nicFree = host.nicFreeUs;
    this.hop1LinkBytes = host.hop1LinkBytes;
    this.hop1LinkMessages = host.hop1LinkMessages;
    this.coreFree = host.coreFreeUs;
    this.busyUs = host.busyUs;
    this.cores = host.cores;
    this.hop1Bytes = host.series.hop1Bytes;
    this.droppedSeries = host.series.dropped;
    this.serverBusy = host.series.serverBusyUs;
    this.seriesIntervalUs = host.series.intervalUs;
    this.seriesLast = host.series.buckets;
    const t = cfg.table;
    this.table = t;
    this.fullMask = t.fullMask;
    this.messageBytes = new Float64Array(t.fullMask + 1);
    this.entryBytes = new Float64Array(t.fullMask + 1);
    for (let m = 0; m <= t.fullMask; m++) {
      this.messageBytes[m] = t.messageBytes(m);
      this.entryBytes[m] = t.entryBytes(m);
    }
    this.wireMemo = new Int32Array(65_536);
    for (let b = 0; b < this.wireMemo.length; b++) this.wireMemo[b] = wireBytesOf(b);
    this.lanes = cfg.lanes;
    this.laneWindowUs = cfg.laneWindowUs;
    this.conflating = cfg.conflation !== 'off';
    this.conflationUs = cfg.conflationIntervalUs;
    this.perConnUs = cfg.perConnectionIntervalUs;
    this.delta = cfg.delta;
    this.deflate = cfg.deflate;
    this.deflateFrames = cfg.deflate && cfg.contextTakeover;
    const server = sc.topology.server;
    const link = sc.topology.links.serverToUser;
    this.sendCostUs = server.cpuPerSendUs;
    this.nicUsPerByte = 8 / server.egressMbps;
    this.sendBufferBytes = server.sendBufferKB * 1024;
    this.jitterUs = link.jitterMs * 1000;
    this.loss = link.lossProbability;
    this.rtoUs = link.rtoMs * 1000;
    this.shed = cfg.shed;
    this.deadlineUs = cfg.deadlineUs;
    const mix = spec.updates.classMix;
    this.directOnly =
      cfg.lanes === 1 &&
      cfg.laneWindowUs[0] === 0 &&
      cfg.perConnectionIntervalUs === 0 &&
      cfg.conflation === 'off' &&
      !cfg.priorities;
    // A lone update must not already fill a batch (it would leave at once, not at the tick).
    this.batchOnly =
      cfg.lanes === 1 &&
      cfg.laneWindowUs[0] > 0 &&
      cfg.perConnectionIntervalUs === 0 &&
      !cfg.priorities &&
      cfg.batchMaxMessages > 1 &&
      this.entryBytes[this.fullMask] < cfg.batchMaxBytes;
    if (this.batchOnly) {
      this.em = new Int32Array(p.users * EM_STRIDE);
      for (let u = 0; u < p.users; u++) this.em[u * EM_STRIDE + EM_STAMP] = -1;
      this.winId = new Int32Array(p.servers);
      for (let sv = 0; sv < p.servers; sv++) this.recs.push(new EmissionRecords());
    }
    this.perLaneFlag =
      cfg.priorities || [mix.P0, mix.P1, mix.P2, mix.P3].filter((x) => x > 0).length > 1;
    if (cfg.churnPerUserPerUs > 0 && cfg.candidatesPerUser <= sc.topology.subscriptionsPerUser)
      throw new ScenarioError(
        'shaping.subscriptions.candidatesPerUser',
        `churn needs more candidates (${cfg.candidatesPerUser}) than live subscriptions per user (${sc.topology.subscriptionsPerUser})`,
      );
    const needSubs =
      cfg.churnPerUserPerUs > 0 ||
      cfg.pattern ||
      cfg.candidatesPerUser > sc.topology.subscriptionsPerUser;
    this.subs = needSubs
      ? new Subscriptions(p, sc.topology.subscriptionsPerUser, cfg.pattern, cfg.sectorSize)
      : null;
    this.rngClass = rootRng.fork('shaping/class');
    this.rngChurn = rootRng.fork('shaping/churn');
    const rngUsers = rootRng.fork('shaping/users');
    let connected = 0;
    for (let u = 0; u < p.users; u++) if (p.userServer[u] >= 0) connected++;
    this.connected = connected;
    this.channelLatest = new Int32Array(p.channels).fill(-1);
    this.channelSubscribers = new Int32Array(p.channels);
    for (let c = 0; c < p.channels; c++)
      for (let q = p.channelPairStart[c]; q < p.channelPairStart[c + 1]; q++)
        this.channelSubscribers[c] += p.pairMemberEnd[q] - p.pairMemberStart[q];

    const pairs = p.pairServer.length;
    this.pairNextUs = new Float64Array(cfg.perKeyIntervalUs > 0 ? pairs : 0);
    this.pairReleaseScheduled = new Uint8Array(cfg.perKeyIntervalUs > 0 ? pairs : 0);
    this.pairEmitted = new Int32Array(pairs).fill(-1);
    this.pairEmits = new Int32Array(pairs);
    this.held = new Outbox(cfg.perKeyIntervalUs > 0 ? pairs : 0, 1);

    // Users: class, region, permission level.
    const nClasses = cfg.userClasses.length;
    this.userClass = new Uint8Array(nClasses > 1 ? p.users : 0);
    this.classBitsPerUs = Float64Array.from(
      cfg.userClasses.map((c) => c.bitsPerUs || link.bandwidthMbps),
    );
    this.classExtraUs = Float64Array.from(cfg.userClasses.map((c) => c.extraLatencyUs));
    this.classUsers = new Float64Array(nClasses);
    const cum = cfg.userClasses.map((_, i) =>
      cfg.userClasses.slice(0, i + 1).reduce((a, c) => a + c.share, 0),
    );
    const classRng = rngUsers.fork('class');
    for (let u = 0; u < p.users; u++) {
      let k = 0;
      if (nClasses > 1) {
        const x = classRng.float();
        while (k < nClasses - 1 && x >= cum[k]) k++;
        this.userClass[u] = k;
      }
      if (p.userServer[u] >= 0) this.classUsers[k]++;
    }
    this.userRegion = new Uint16Array(cfg.audience === 'region' ? p.users : 0);
    const regionRng = rngUsers.fork('region');
    this.regionUsers = new Int32Array(cfg.audience === 'region' ? cfg.regions : 0);
    for (let u = 0; u < this.userRegion.length; u++) {
      this.userRegion[u] = regionRng.int(cfg.regions);
      if (p.userServer[u] >= 0) this.regionUsers[this.userRegion[u]]++;
    }
    this.userLevel = new Uint8Array(cfg.audience === 'permission' ? p.users : 0);
    const levelRng = rngUsers.fork('level');
    for (let u = 0; u < this.userLevel.length; u++)
      this.userLevel[u] = levelRng.int(cfg.permissionLevels);
    this.nextAllowedUs = new Float64Array(cfg.perConnectionIntervalUs > 0 ? p.users : 0);

    const byServer = cfg.audience === 'all' || cfg.audience === 'region';
    this.serverUserStart = new Int32Array(byServer ? p.servers + 1 : 0);
    this.serverUsers = new Int32Array(byServer ? connected : 0);
    if (byServer) {
      for (let u = 0; u < p.users; u++)
        if (p.userServer[u] >= 0) this.serverUserStart[p.userServer[u] + 1]++;
      for (let s = 0; s < p.servers; s++) this.serverUserStart[s + 1] += this.serverUserStart[s];
      const fill = this.serverUserStart.slice(0, p.servers);
      for (let u = 0; u < p.users; u++)
        if (p.userServer[u] >= 0) this.serverUsers[fill[p.userServer[u]]++] = u;
    }

    this.outbox = new Outbox(p.users, cfg.lanes, p.userServer);
    const tickRng = rootRng.fork('shaping/ticks');
    this.ticks = [];
    for (let l = 0; l < cfg.lanes; l++) {
      const periodUs = this.lanePeriodUs(l);
      const phaseUs = new Float64Array(p.servers);
      for (let s = 0; s < p.servers; s++)
        phaseUs[s] = periodUs > 0 ? Math.floor(tickRng.float() * periodUs) : 0;
      const dirty: IdList[] = [];
      for (let s = 0; s < p.servers; s++) dirty.push(new IdList());
      const spare: IdList[] = [];
      for (let s = 0; s < p.servers; s++) spare.push(new IdList());
      this.ticks.push({ periodUs, phaseUs, scheduled: new Uint8Array(p.servers), dirty, spare });
    }
    this.cpuQueue = cfg.priorities ? new PriorityCores(p.servers, sc.topology.server.cores) : null;

    this.probes = byServer
      ? null
      : new StalenessProbes(
          p.channels,
          p.slotChannel,
          (slot) => this.classOf(p.slotUser[slot]),
          nClasses,
        );
    this.probeChannel = this.probes ? this.probes.channelProbe : new Int32Array(0);
    for (let l = 0; l < CLASSES; l++) this.laneHist.push(new LatencyHistogram());
    for (let k = 0; k < nClasses; k++) this.userClassHist.push(new LatencyHistogram());
    this.classFrames = new Float64Array(nClasses);
    this.classUpdates = new Float64Array(nClasses);
    this.classBytes = new Float64Array(nClasses);
    this.serverFrames = new Float64Array(p.servers);
    this.serverBytes = new Float64Array(p.servers);
    this.seriesFrames = new Float64Array(host.series.buckets + 1);
    if (cfg.churnPerUserPerUs > 0 && CHURN_TICK_US <= host.durationUs)
      host.queue.push(CHURN_TICK_US, EV_CHURN, 0);
  }

  /** The tick of a lane: its batching window, or the interval for throttled/backed-up connections. */
  private lanePeriodUs(l: number): number {
    const c = this.config;
    if (c.laneWindowUs[l] > 0) return c.laneWindowUs[l];
    const periods: number[] = [];
    if (c.perConnectionIntervalUs > 0) periods.push(c.perConnectionIntervalUs);
    if (c.conflation !== 'off') periods.push(c.conflationIntervalUs);
    return periods.length ? Math.min(...periods) : 0;
  }

  private classOf(u: number): number {
    return this.userClass.length ? this.userClass[u] : 0;
  }

  // ---- Publishing: each update's class, changed fields and required permission.

  /**
   * Called for each update the source publishes (after its sequence number is set). Its owed
   * deliveries are counted now, from who is subscribed now; if that changes before it reaches a
   * server (a watchlist change, a permission filter), the count is corrected there.
   */
  published(id: number, klass = -1): void {
    if (id >= this.msgClass.length) this.growMessages();
    const m = this.h.msgs;
    const c = m.channel[id];
    const seq = m.seq[id];
    const est = this.owedEstimate(c);
    this.flow.fanout += est;
    this.hop2Owed += est;
    this.msgOwedLeft[id] = est;
    this.msgPairsLeft[id] = 0;
    // An application may say the class (a score is P0); otherwise it is drawn from the mix.
    let k = klass;
    if (k < 0) {
      const x = this.rngClass.float();
      k = 0;
      while (k < CLASSES - 1 && x >= this.config.classCumulative[k]) k++;
    }
    this.msgClass[id] = k;
    this.laneOwed[k] += est;
    this.msgMask[id] = changedMask(this.config.schema, c, seq);
    if (this.userLevel.length) this.msgLevel[id] = this.rngClass.int(this.config.permissionLevels);
    this.channelLatest[c] = seq;
    this.probes?.published(c, seq, m.createdUs[id]);
  }

  private owedEstimate(c: number): number {
    const a = this.config.audience;
    if (a === 'all') return this.connected;
    if (a === 'region') return this.regionUsers[c % this.config.regions];
    return this.subs ? this.subs.channelActive[c] : this.channelSubscribers[c];
  }

  /** The broker writes update `id` to `n` servers (channel pairs, or servers for all/region). */
  brokerTargets(id: number, n: number): void {
    this.msgPairsLeft[id] = n;
    if (n === 0) this.settle(id);
  }

  /** Update `id` reached one of its servers, owing `share` deliveries there. */
  private arrive(id: number, share: number): void {
    this.msgOwedLeft[id] -= share;
    this.hop2Owed -= share;
    if (--this.msgPairsLeft[id] <= 0) this.settle(id);
  }

  /** The last copy arrived: what subscriptions gained or lost meanwhile corrects the owed count. */
  private settle(id: number): void {
    const left = this.msgOwedLeft[id];
    this.flow.fanout -= left;
    this.laneOwed[this.msgClass[id]] -= left;
    this.hop2Owed -= left;
    this.msgOwedLeft[id] = 0;
  }

  /** Bytes of one full update, the payload size the update record carries. */
  fullBytes(): number {
    return this.config.table.messageBytes(this.config.table.fullMask);
  }

  private growMessages(): void {
    const n = this.msgClass.length * 2;
    const c = new Uint8Array(n);
    c.set(this.msgClass);
    this.msgClass = c;
    const mk = new Int32Array(n);
    mk.set(this.msgMask);
    this.msgMask = mk;
    const lv = new Uint8Array(n);
    lv.set(this.msgLevel);
    this.msgLevel = lv;
    const ol = new Int32Array(n);
    ol.set(this.msgOwedLeft);
    this.msgOwedLeft = ol;
    const pl = new Int32Array(n);
    pl.set(this.msgPairsLeft);
    this.msgPairsLeft = pl;
  }

  // ---- Hop 2: which servers the broker writes to, and the broker's extra work.

  /** True when pair q has a live subscriber (the server is subscribed at the broker). */
  pairLive(q: number): boolean {
    return this.subs === null || this.subs.pairActive[q] > 0;
  }

  /** True for audiences that reach users without a subscription index (every server gets a copy). */
  get byServer(): boolean {
    return (
      this.serverUsers.length > 0 ||
      this.config.audience === 'all' ||
      this.config.audience === 'region'
    );
  }

  /** Broker CPU per publish for matching patterns (Redis PSUBSCRIBE: O(patterns)). */
  brokerExtraUs(): number {
    if (!this.subs || !this.config.pattern) return 0;
    return this.config.patternMatchCostUs * this.subs.brokerTotal;
  }

  // ---- Hop 1: a server has the update.

  /** An update reached server s for channel pair q (audiences by subscription). */
  onPair(now: number, q: number, id: number, readyUs: number): void {
    const c = this.config;
    const share = this.pairMembers(q);
    this.arrive(id, share);
    if (c.perKeyIntervalUs === 0)
      return this.emit(now, q, id, readyUs, this.msgMask[id], false, share);
    if (now >= this.pairNextUs[q] && this.held.count[q] === 0) {
      this.pairNextUs[q] = now + c.perKeyIntervalUs;
      return this.emit(now, q, id, readyUs, this.msgMask[id], false, share);
    }
    // The key's stream is throttled: the update waits, folded into the one waiting if
    // conflating. A held entry keeps, in its slot field, the deliveries it owes.
    this.heldOwed += share;
    if (c.conflation !== 'off' && this.held.count[q] > 0) {
      const e = this.held.head[q];
      const older = this.held.slot(e);
      this.held.conflate(q, e, c.conflation, id, this.msgMask[id], false, readyUs, 0);
      this.held.setSlot(e, share);
      this.saved.throttle += older;
      this.heldOwed -= older;
    } else {
      this.held.append(q, id, share, this.msgMask[id], false, -1, readyUs, now, 0);
      if (c.conflation === 'off') this.throttleBacklog++;
    }
    if (!this.pairReleaseScheduled[q]) {
      this.pairReleaseScheduled[q] = 1;
      const at = Math.max(now, Math.ceil(this.pairNextUs[q]));
      this.h.queue.push(at, word0(EV_RELEASE, q), 0);
    }
  }

  private pairMembers(q: number): number {
    const p = this.h.pop;
    return this.subs ? this.subs.pairActive[q] : p.pairMemberEnd[q] - p.pairMemberStart[q];
  }

  /** A per-key throttle lets the next waiting update of pair q go. */
  onRelease(now: number, q: number): void {
    this.pairReleaseScheduled[q] = 0;
    if (this.held.count[q] === 0) return;
    // Only the first waiting update goes: a backlog keeps the rest in order.
    const e = this.held.shift(q);
    const id = this.held.msg(e);
    const mask = this.held.mask(e);
    const full = this.held.full(e);
    const serverInUs = this.held.serverInUs(e);
    const share = this.held.slot(e);
    this.heldOwed -= share;
    this.held.release(e);
    this.throttleBacklog = Math.max(
      0,
      this.throttleBacklog - (this.config.conflation === 'off' ? 1 : 0),
    );
    this.pairNextUs[q] = now + this.config.perKeyIntervalUs;
    this.emit(now, q, id, serverInUs, mask, full, share);
    if (this.held.count[q] > 0) {
      this.pairReleaseScheduled[q] = 1;
      this.h.queue.push(Math.ceil(this.pairNextUs[q]), word0(EV_RELEASE, q), 0);
    }
  }

  /**
   * Pair q's stream emits update `id` carrying the fields in `mask` (the union of what changed
   * since the stream's previous update when updates were merged): it is encoded once on the
   * server, then offered to each live subscriber's connection.
   */
  private emit(
    now: number,
    q: number,
    id: number,
    serverInUs: number,
    mask: number,
    full: boolean,
    share: number,
  ): void {
    const h = this.h;
    const c = this.config;
    const p = h.pop;
    const s = p.pairServer[q];
    const t = c.table;
    const base = this.pairEmitted[q];
    this.pairEmits[q]++;
    const snapshotDue = c.delta && this.pairEmits[q] % c.snapshotEvery === 0;
    // The stream's first update has no base anywhere: everyone gets it whole.
    const allFull = full || !c.delta || snapshotDue || base < 0;
    // Encode once per server: the full form always (snapshots), the delta form when used.
    let encodeUs = t.encodeUs(t.messageBytes(t.fullMask));
    if (!allFull) encodeUs += t.encodeUs(t.messageBytes(mask));
    let compressUs = 0;
    if (c.deflate && !c.contextTakeover && c.laneWindowUs[0] === 0)
      compressUs = t.compressUs(t.messageBytes(allFull ? t.fullMask : mask));
    this.cpu.encode += encodeUs;
    this.cpu.compress += compressUs;
    let ready = this.runCpu(s, serverInUs > now ? serverInUs : now, encodeUs + compressUs);
    const level = this.userLevel.length ? this.msgLevel[id] : 0;
    const first = p.pairMemberStart[q];
    const end = p.pairMemberEnd[q];
    const active = this.subs?.slotActive;
    if (this.userLevel.length) {
      // The permission check runs over every live subscriber before anything is sent.
      const evaluated = this.pairMembers(q);
      const filterUs = evaluated * c.filterCostUs;
      this.filterEvaluations += evaluated;
      this.cpu.filter += filterUs;
      if (filterUs > 0) ready = this.runCpu(s, ready, filterUs);
    }
    let owed = 0;
    if (this.directOnly && !this.userLevel.length && !generalPathOnly) {
      owed = this.fanOutDirect(now, ready, s, first, end, id, mask, allFull, base, serverInUs);
    } else if (this.batchOnly && !this.userLevel.length && !generalPathOnly) {
      owed = this.fanOutBatched(now, ready, s, q, first, end, id, mask, allFull, base);
    } else {
      for (let slot = first; slot < end; slot++) {
        if (active && active[slot] === 0) continue;
        const u = p.slotUser[slot];
        if (this.userLevel.length && this.userLevel[u] < level) {
          this.saved.selective++;
          continue;
        }
        owed++;
        this.offer(now, ready, s, u, slot, id, mask, allFull, base);
      }
    }
    if (this.userLevel.length || this.subs) {
      this.audienceOwed += owed;
      this.audienceConnected += p.connections[s];
    }
    // Owed were the live subscribers when it arrived; who is owed now (filters, changes) decides.
    h.flow.fanout += owed - share;
    this.laneOwed[this.msgClass[id]] += owed - share;
    this.pairEmitted[q] = h.msgs.seq[id];
  }

  /**
   * The fan-out of one emission when nothing can wait (no batching, per-connection limit,
   * conflation or priorities): every live subscriber's frame is written at once. This is the
   * million-user hot loop, so it keeps its state in locals and counts per emission, not per
   * delivery, whatever can be counted so.
   */
  private fanOutDirect(
    now: number,
    ready: number,
    s: number,
    first: number,
    end: number,
    id: number,
    mask: number,
    allFull: boolean,
    base: number,
    serverInUs: number,
  ): number {
    const t = this.table;
    const fullRaw = this.messageBytes[this.fullMask];
    const deltaRaw = this.messageBytes[mask];
    const fullPayload = this.deflate ? t.wireBytes(fullRaw, 1) : fullRaw;
    const deltaPayload = this.deflate ? t.wireBytes(deltaRaw, 1) : deltaRaw;
    const fullWire = this.wireOfPayload(fullPayload);
    const deltaWire = this.wireOfPayload(deltaPayload);
    const fullCost = this.sendCostUs + (this.deflateFrames ? t.compressUs(fullRaw) : 0);
    const deltaCost = this.sendCostUs + (this.deflateFrames ? t.compressUs(deltaRaw) : 0);
    const p = this.pop;
    const active = this.subs ? this.subs.slotActive : null;
    const slotUser = p.slotUser;
    const slotLastSeq = this.slotLastSeq;
    const coreFree = this.coreFree;
    const coreFirst = s * this.cores;
    const coreEnd = coreFirst + this.cores;
    const intervalUs = this.seriesIntervalUs;
    const lastBucket = this.seriesLast;
    const busyRow = s * (lastBucket + 1);
    const busy = this.serverBusy;
    const hop1Bytes = this.hop1Bytes;
    const frames = this.seriesFrames;
    const link = this.userLink;
    const userClass = this.userClass;
    const classBits = this.classBitsPerUs;
    const classExtra = this.classExtraUs;
    const manyClasses = userClass.length > 0;
    const nicUsPerByte = this.nicUsPerByte;
    const bufferBytes = this.sendBufferBytes;
    const jitterUs = this.jitterUs;
    const loss = this.loss;
    const rtoUs = this.rtoUs;
    const rng = this.hop1Rng;
    const latencyMs = this.hop1LatencyMs;
    const pending = this.pending;
    const onDeliver = this.onDeliver;
    const hasher = this.hasher;
    const created = this.msgs.createdUs[id];
    const seq = this.msgs.seq[id];
    const tag0 = this.msgClass[id];
    const traced = id % this.traceEvery === 0;
    const probed = this.probes !== null && this.probeChannel[this.msgs.channel[id]] >= 0;
    let nic = this.nicFree[s];
    let owed = 0;
    let sentFrames = 0;
    let sentBytes = 0;
    let deltas = 0;
    let resyncs = 0;
    let busyUs = 0;
    // Frames written (a frame the send buffer refuses still cost its write), and deltas among them.
    let writes = 0;
    let deltaWrites = 0;
    for (let slot = first; slot < end; slot++) {
      if (active !== null && active[slot] === 0) continue;
      owed++;
      const u = slotUser[slot];
      let full = allFull;
      if (!full && slotLastSeq[slot] !== base) {
        full = true;
        resyncs++;
      }
      const cost = full ? fullCost : deltaCost;
      const wire = full ? fullWire : deltaWire;
      writes++;
      if (!full) deltaWrites++;
      let c = coreFirst;
      for (let k = coreFirst + 1; k < coreEnd; k++) if (coreFree[k] < coreFree[c]) c = k;
      const start = ready > coreFree[c] ? ready : coreFree[c];
      const written = start + cost;
      coreFree[c] = written;
      busyUs += cost;
      let b = Math.floor(start / intervalUs);
      busy[busyRow + (b < lastBucket ? b : lastBucket)] += cost;
      const sent = (written > nic ? written : nic) + wire * nicUsPerByte;
      nic = sent;
      b = Math.floor(sent / intervalUs);
      if (b > lastBucket) b = lastBucket;
      const cls = manyClasses ? userClass[u] : 0;
      const bitsPerUs = classBits[cls];
      const downStart = sent > link[2 * u] ? sent : link[2 * u];
      if ((downStart - sent) * (bitsPerUs / 8) + wire > bufferBytes) {
        this.dropped(sent, s, u, id);
        continue;
      }
      const downEnd = downStart + (wire * 8) / bitsPerUs;
      link[2 * u] = downEnd;
      let delayUs = latencyMs() * 1000 + classExtra[cls];
      if (jitterUs > 0) delayUs += jitterUs * rng.float();
      while (loss > 0 && rng.float() < loss) delayUs += rtoUs;
      let arrival = Math.round(downEnd + delayUs);
      if (arrival < link[2 * u + 1]) arrival = link[2 * u + 1];
      link[2 * u + 1] = arrival;
      hop1Bytes[b] += wire;
      frames[b]++;
      sentFrames++;
      sentBytes += wire;
      if (!full) deltas++;
      if (manyClasses) {
        this.classFrames[cls]++;
        this.classBytes[cls] += wire;
        this.classUpdates[cls]++;
      }
      const last = slotLastSeq[slot];
      if (seq === last) this.flow.duplicated++;
      else if (seq < last) this.flow.outOfOrder++;
      else slotLastSeq[slot] = seq;
      if (probed) {
        const pr = (this.probes as StalenessProbes).probeOf(slot);
        if (pr >= 0) {
          (this.probes as StalenessProbes).deliver(pr, seq, arrival);
          this.deltaLogRows.push(slot, seq, full ? 1 : 0, full ? this.fullMask : mask, arrival);
        }
      }
      pending.add(arrival, arrival - created, arrival - serverInUs, cls * CLASSES + tag0);
      hasher.add(u);
      hasher.add(arrival);
      if (onDeliver !== null) onDeliver(slot, u, id, arrival);
      if (traced && u % TRACE_USER_STRIDE === 0)
        this.trace.write(TRACE_HOP1, now, arrival, 2 + s, 2 + p.servers + s, id, u);
    }
    this.nicFree[s] = nic;
    this.busyUs[s] += busyUs;
    this.hop1LinkBytes[s] += sentBytes;
    this.hop1LinkMessages[s] += sentFrames;
    this.serverFrames[s] += sentFrames;
    this.serverBytes[s] += sentBytes;
    this.framesSent += sentFrames;
    this.wireBytes += sentBytes;
    this.updatesSent += sentFrames;
    if (!manyClasses) {
      this.classFrames[0] += sentFrames;
      this.classBytes[0] += sentBytes;
      this.classUpdates[0] += sentFrames;
    }
    this.snapshots += sentFrames - deltas;
    this.deltas += deltas;
    this.resyncs += resyncs;
    this.cpu.send += writes * this.sendCostUs;
    if (this.deflateFrames) this.cpu.compress += busyUs - writes * this.sendCostUs;
    this.saved.deltaBytes += deltaWrites * (fullRaw - deltaRaw);
    this.saved.deflateBytes +=
      (writes - deltaWrites) * (fullRaw - fullPayload) + deltaWrites * (deltaRaw - deltaPayload);
    return owed;
  }

  /**
   * The fan-out of one emission into per-connection batches (one lane, no per-connection limit,
   * no priorities). Most connections get one update per window, so the update is not copied into
   * each of their outboxes: the server keeps one record of the emission, and each live
   * subscriber only notes that its first update this window is that record. A connection that
   * gets a second update turns the first into an outbox entry and takes the general path
   * (conflation folds the newer one in, or it queues behind).
   */
  private fanOutBatched(
    now: number,
    ready: number,
    s: number,
    q: number,
    first: number,
    end: number,
    id: number,
    mask: number,
    allFull: boolean,
    base: number,
  ): number {
    const active = this.subs ? this.subs.slotActive : null;
    const slotUser = this.pop.slotUser;
    const em = this.em;
    const w = this.winId[s];
    const recs = this.recs[s];
    const r = recs.add(id, q, mask, allFull, base, ready, now);
    let owed = 0;
    let firsts = 0;
    for (let slot = first; slot < end; slot++) {
      if (active !== null && active[slot] === 0) continue;
      owed++;
      const u = slotUser[slot];
      const e = u * EM_STRIDE;
      if (em[e + EM_STAMP] !== w) {
        em[e + EM_STAMP] = w;
        em[e + EM_FIRST] = r;
        em[e + EM_COUNT] = 1;
        firsts++;
        continue;
      }
      if (em[e + EM_COUNT]++ === 1) this.materialize(s, u, recs, em[e + EM_FIRST]);
      recs.mixed[r] = 1;
      this.offer(now, ready, s, u, slot, id, mask, allFull, base);
    }
    this.fastWaiting += firsts;
    const tick = this.ticks[0];
    if (owed > 0 && !tick.scheduled[s]) {
      tick.scheduled[s] = 1;
      const phase = tick.phaseUs[s];
      const at = phase + Math.ceil((now - phase) / tick.periodUs) * tick.periodUs;
      this.queue.push(Math.max(now, at), word0(EV_FLUSH, s * this.lanes), 0);
    }
    return owed;
  }

  /** User u's first update this window (emission record r) becomes an entry of its outbox. */
  private materialize(s: number, u: number, recs: EmissionRecords, r: number): void {
    const p = this.pop;
    const q = recs.pair[r];
    let slot = p.pairMemberStart[q];
    while (p.slotUser[slot] !== u) slot++;
    const full = recs.full[r] === 1;
    recs.mixed[r] = 1;
    this.outbox.append(
      u,
      recs.msg[r],
      slot,
      recs.mask[r],
      full,
      recs.base[r],
      recs.serverInUs[r],
      recs.enqueuedUs[r],
      this.entryRaw(recs.mask[r], full),
    );
    this.fastWaiting--;
    void s;
  }

  private wireOfPayload(payload: number): number {
    return payload < this.wireMemo.length ? this.wireMemo[payload] : wireBytesOf(payload);
  }

  /** Audience all / region: server s writes to every user it holds, or scans them for the region. */
  onServerAll(now: number, s: number, id: number, readyUs: number): void {
    const h = this.h;
    const c = this.config;
    const t = c.table;
    const encodeUs = t.encodeUs(t.messageBytes(t.fullMask));
    this.cpu.encode += encodeUs;
    let ready = this.runCpu(s, readyUs, encodeUs);
    const from = this.serverUserStart[s];
    const to = this.serverUserStart[s + 1];
    const region = c.audience === 'region' ? h.msgs.channel[id] % c.regions : -1;
    if (region >= 0) {
      const filterUs = (to - from) * c.filterCostUs;
      this.filterEvaluations += to - from;
      this.cpu.filter += filterUs;
      if (filterUs > 0) ready = this.runCpu(s, ready, filterUs);
    }
    let owed = 0;
    for (let k = from; k < to; k++) {
      const u = this.serverUsers[k];
      if (region >= 0 && this.userRegion[u] !== region) continue;
      owed++;
      this.offer(now, ready, s, u, -1, id, t.fullMask, true, -1);
    }
    this.saved.selective += to - from - owed;
    this.audienceOwed += owed;
    this.audienceConnected += to - from;
    this.arrive(id, owed);
  }

  /**
   * One update for one connection: sent at once, or left in the connection's outbox (a batch
   * window, a per-connection rate limit, a backed-up socket while conflating), where a newer
   * update for the same key folds into it.
   */
  private offer(
    now: number,
    ready: number,
    s: number,
    u: number,
    slot: number,
    id: number,
    mask: number,
    full: boolean,
    base: number,
  ): void {
    const o = this.outbox;
    const lane = this.lanes > 1 ? this.msgClass[id] : 0;
    const l = lane * this.users + u;
    if (o.count[l] > 0) {
      if (this.conflating) {
        const e = o.find(l, this.msgChannel(id), this.msgs.channel);
        if (e >= 0) {
          const before = this.entryRaw(o.mask(e), o.full(e));
          o.conflate(l, e, this.config.conflation, id, mask, full, ready, 0);
          o.bytes[l] += this.entryRaw(o.mask(e), o.full(e)) - before;
          this.saved.conflation++;
          return;
        }
      }
      // Something already waits on this connection: the update queues behind it.
      return this.hold(now, ready, s, lane, l, u, slot, id, mask, full, base, false);
    }
    if (
      this.laneWindowUs[lane] > 0 ||
      (this.perConnUs > 0 && now < this.nextAllowedUs[u]) ||
      (this.conflating && this.userLink[2 * u] - now > this.conflationUs)
    )
      return this.hold(now, ready, s, lane, l, u, slot, id, mask, full, base, true);
    if (this.perConnUs > 0) this.nextAllowedUs[u] = now + this.perConnUs;
    if (this.cpuQueue) {
      const e = o.single(l, id, slot, mask, full, base, ready, now);
      return this.queueFrame(s, u, lane, e, 1, ready);
    }
    this.sendOne(now, ready, s, u, slot, id, mask, full, base, ready);
  }

  private msgChannel(id: number): number {
    return this.msgs.channel[id];
  }

  private hold(
    now: number,
    ready: number,
    s: number,
    lane: number,
    l: number,
    u: number,
    slot: number,
    id: number,
    mask: number,
    full: boolean,
    base: number,
    first: boolean,
  ): void {
    const o = this.outbox;
    o.append(l, id, slot, mask, full, base, ready, now, this.entryRaw(mask, full));
    if (first) this.markDirty(now, s, lane, u);
    if (o.count[l] >= this.config.batchMaxMessages || o.bytes[l] >= this.config.batchMaxBytes)
      this.flushUser(now, s, lane, u);
  }

  /** Raw bytes of an entry inside a batch (for the batch's size limit). */
  private entryRaw(mask: number, full: boolean): number {
    return this.entryBytes[full ? this.fullMask : mask];
  }

  private markDirty(now: number, s: number, lane: number, u: number): void {
    const tick = this.ticks[lane];
    tick.dirty[s].push(u);
    if (tick.scheduled[s] || tick.periodUs === 0) return;
    tick.scheduled[s] = 1;
    const phase = tick.phaseUs[s];
    const at = phase + Math.ceil((now - phase) / tick.periodUs) * tick.periodUs;
    this.queue.push(Math.max(now, at), word0(EV_FLUSH, s * this.lanes + lane), 0);
  }

  /** A server's outbox tick for one lane: every waiting connection that may send does. */
  onFlush(now: number, arg: number): void {
    const s = Math.floor(arg / this.lanes);
    const lane = arg - s * this.lanes;
    const tick = this.ticks[lane];
    tick.scheduled[s] = 0;
    const list = tick.dirty[s];
    const n = list.n;
    const ids = list.ids;
    tick.dirty[s] = tick.spare[s];
    tick.spare[s] = list;
    if (this.batchOnly && !generalPathOnly) this.flushEmissions(now, s);
    for (let k = 0; k < n; k++) {
      const u = ids[k];
      if (this.outbox.count[lane * this.users + u] === 0) continue;
      if (!this.maySend(now, u, lane)) {
        this.markDirty(now + 1, s, lane, u);
        continue;
      }
      this.flushUser(now, s, lane, u);
    }
    list.n = 0;
  }

  /**
   * A batching tick with nothing else in the way (no priorities, no per-connection limit): each
   * waiting connection gets its frame now. At a million users most batches hold one update, so
   * that case is written out here with its state in locals; bigger batches go through flushUser.
   * Its frame code repeats fanOutDirect's on purpose, to keep the hot loop's state in locals;
   * a unit test holds both to the general path's run.
   */
  private flushEmissions(now: number, s: number): void {
    const lane = 0;
    const o = this.outbox;
    const t = this.table;
    const recs = this.recs[s];
    const w = this.winId[s];
    this.winId[s] = w + 1;
    const em = this.em;
    const slotUser = this.pop.slotUser;
    const memberStart = this.pop.pairMemberStart;
    const memberEnd = this.pop.pairMemberEnd;
    const overhead = t.batchOverheadBytes(1);
    const entryBytes = this.entryBytes;
    const fullMask = this.fullMask;
    const fullEntry = entryBytes[fullMask];
    const slotLastSeq = this.slotLastSeq;
    const coreFree = this.coreFree;
    const coreFirst = s * this.cores;
    const coreEnd = coreFirst + this.cores;
    const intervalUs = this.seriesIntervalUs;
    const lastBucket = this.seriesLast;
    const busyRow = s * (lastBucket + 1);
    const busy = this.serverBusy;
    const hop1Bytes = this.hop1Bytes;
    const frames = this.seriesFrames;
    const link = this.userLink;
    const userClass = this.userClass;
    const manyClasses = userClass.length > 0;
    const classBits = this.classBitsPerUs;
    const classExtra = this.classExtraUs;
    const nicUsPerByte = this.nicUsPerByte;
    const bufferBytes = this.sendBufferBytes;
    const jitterUs = this.jitterUs;
    const loss = this.loss;
    const rtoUs = this.rtoUs;
    const rng = this.hop1Rng;
    const latencyMs = this.hop1LatencyMs;
    const pending = this.pending;
    const onDeliver = this.onDeliver;
    const hasher = this.hasher;
    const msgs = this.msgs;
    const probeChannel = this.probeChannel;
    const probes = this.probes;
    const churning = this.subs !== null;
    const traceEvery = this.traceEvery;
    const sendCost = this.sendCostUs;
    const delta = this.delta;
    const deflate = this.deflate;
    const deflateFrames = this.deflateFrames;
    const windowUs = this.laneWindowUs[lane];
    let nic = this.nicFree[s];
    let sentFrames = 0;
    let sentBytes = 0;
    let busyUs = 0;
    let maxHold = this.maxHoldUs;
    let writes = 0;
    let snapshots = 0;
    let deltas = 0;
    let resyncs = 0;
    let deltaSaved = 0;
    const wireMemo = this.wireMemo;
    // In the order updates first reached each connection (emission by emission, subscriber by
    // subscriber), as the general path's list of waiting connections has them.
    let sentFast = 0;
    for (let r = 0; r < recs.n; r++) {
      const q = recs.pair[r];
      const id = recs.msg[r];
      const recMask = recs.mask[r];
      const recFull = recs.full[r] === 1;
      const recBase = recs.base[r];
      const serverInUs = recs.serverInUs[r];
      const hold = now - recs.enqueuedUs[r];
      // What depends only on the update, read once per record rather than per subscriber.
      const seq = msgs.seq[id];
      const createdUs = msgs.createdUs[id];
      const probing = probes !== null && probeChannel[msgs.channel[id]] >= 0;
      const traced = id % traceEvery === 0;
      const klass = this.msgClass[id];
      // A record every member holds as its only waiting update (the common case at scale) goes
      // to all of them; otherwise each member's state says whether this record is its frame.
      // Subscription changes can empty a member's slot after the record: then always look.
      const check = recs.mixed[r] === 1 || churning;
      for (let slot = memberStart[q]; slot < memberEnd[q]; slot++) {
        const u = slotUser[slot];
        if (check) {
          const e = u * EM_STRIDE;
          if (em[e + EM_STAMP] !== w || em[e + EM_FIRST] !== r) continue;
          if (em[e + EM_COUNT] > 1) {
            this.nicFree[s] = nic;
            if (o.count[u] > 0) this.flushUser(now, s, lane, u);
            nic = this.nicFree[s];
            continue;
          }
        }
        sentFast++;
        let full = recFull;
        if (!full && slotLastSeq[slot] !== recBase) {
          full = true;
          resyncs++;
        }
        const m = full ? fullMask : recMask;
        if (hold > maxHold) maxHold = hold;
        const raw = overhead + entryBytes[m];
        if (delta && !full) deltaSaved += fullEntry - entryBytes[m];
        const payload = deflate ? t.wireBytes(raw, 1) : raw;
        if (deflate) this.saved.deflateBytes += raw - payload;
        const wire = payload < wireMemo.length ? wireMemo[payload] : wireBytesOf(payload);
        const cost = sendCost + (deflateFrames ? t.compressUs(raw) : 0);
        writes++;
        let c = coreFirst;
        for (let j = coreFirst + 1; j < coreEnd; j++) if (coreFree[j] < coreFree[c]) c = j;
        const start = now > coreFree[c] ? now : coreFree[c];
        const written = start + cost;
        coreFree[c] = written;
        busyUs += cost;
        let b = Math.floor(start / intervalUs);
        busy[busyRow + (b < lastBucket ? b : lastBucket)] += cost;
        const sent = (written > nic ? written : nic) + wire * nicUsPerByte;
        nic = sent;
        b = Math.floor(sent / intervalUs);
        if (b > lastBucket) b = lastBucket;
        const cls = manyClasses ? userClass[u] : 0;
        const bitsPerUs = classBits[cls];
        const downStart = sent > link[2 * u] ? sent : link[2 * u];
        if ((downStart - sent) * (bitsPerUs / 8) + wire > bufferBytes) {
          this.dropped(sent, s, u, id);
          continue;
        }
        const downEnd = downStart + (wire * 8) / bitsPerUs;
        link[2 * u] = downEnd;
        let delayUs = latencyMs() * 1000 + classExtra[cls];
        if (jitterUs > 0) delayUs += jitterUs * rng.float();
        while (loss > 0 && rng.float() < loss) delayUs += rtoUs;
        let arrival = Math.round(downEnd + delayUs);
        if (arrival < link[2 * u + 1]) arrival = link[2 * u + 1];
        link[2 * u + 1] = arrival;
        hop1Bytes[b] += wire;
        frames[b]++;
        sentFrames++;
        sentBytes += wire;
        if (full) snapshots++;
        else deltas++;
        if (manyClasses) {
          this.classFrames[cls]++;
          this.classBytes[cls] += wire;
          this.classUpdates[cls]++;
        }
        const last = slotLastSeq[slot];
        if (seq === last) this.flow.duplicated++;
        else if (seq < last) this.flow.outOfOrder++;
        else slotLastSeq[slot] = seq;
        if (probing) {
          const pr = probes.probeOf(slot);
          if (pr >= 0) {
            probes.deliver(pr, seq, arrival);
            this.deltaLogRows.push(slot, seq, full ? 1 : 0, m, arrival);
          }
        }
        pending.add(arrival, arrival - createdUs, arrival - serverInUs, cls * CLASSES + klass);
        hasher.add(u);
        hasher.add(arrival);
        if (onDeliver !== null) onDeliver(slot, u, id, arrival);
        if (traced && u % TRACE_USER_STRIDE === 0)
          this.trace.write(TRACE_HOP1, now, arrival, 2 + s, 2 + this.pop.servers + s, id, u);
      }
    }
    recs.n = 0;
    this.fastWaiting -= sentFast;
    void windowUs;
    this.nicFree[s] = nic;
    this.maxHoldUs = Math.max(this.maxHoldUs, maxHold);
    this.busyUs[s] += busyUs;
    this.hop1LinkBytes[s] += sentBytes;
    this.hop1LinkMessages[s] += sentFrames;
    this.serverFrames[s] += sentFrames;
    this.serverBytes[s] += sentBytes;
    this.framesSent += sentFrames;
    this.wireBytes += sentBytes;
    this.updatesSent += sentFrames;
    this.batchFrames += sentFrames;
    this.batchUpdates += sentFrames;
    if (!manyClasses) {
      this.classFrames[0] += sentFrames;
      this.classBytes[0] += sentBytes;
      this.classUpdates[0] += sentFrames;
    }
    this.cpu.send += writes * sendCost;
    this.snapshots += snapshots;
    this.deltas += deltas;
    this.resyncs += resyncs;
    this.saved.deltaBytes += deltaSaved;
    if (deflateFrames) this.cpu.compress += busyUs - writes * sendCost;
  }

  /** Whether connection u may send lane's waiting entries at this tick. */
  private maySend(now: number, u: number, lane: number): boolean {
    if (this.perConnUs > 0 && now < this.nextAllowedUs[u]) return false;
    if (this.laneWindowUs[lane] === 0 && this.conflating)
      return this.userLink[2 * u] - now <= this.conflationUs;
    return true;
  }

  /** Sends what waits for u in a lane, in frames of at most maxMessages / maxBytes. */
  private flushUser(now: number, s: number, lane: number, u: number): void {
    const o = this.outbox;
    const maxMessages = this.config.batchMaxMessages;
    const maxBytes = this.config.batchMaxBytes;
    if (this.perConnUs > 0) this.nextAllowedUs[u] = now + this.perConnUs;
    let e = o.take(lane * this.users + u);
    while (e >= 0) {
      const head = e;
      let k = 0;
      let bytes = 0;
      let last = e;
      while (e >= 0 && k < maxMessages) {
        const b = this.entryRaw(o.mask(e), o.full(e));
        if (k > 0 && bytes + b > maxBytes) break;
        bytes += b;
        const hold = now - o.enqueuedUs(e);
        if (hold > this.maxHoldUs) this.maxHoldUs = hold;
        last = e;
        e = o.next(e);
        k++;
      }
      o.setNext(last, -1);
      if (this.cpuQueue) this.queueFrame(s, u, lane, head, k, now);
      else if (k === 1 && this.laneWindowUs[lane] === 0) {
        this.sendOne(
          now,
          now,
          s,
          u,
          o.slot(head),
          o.msg(head),
          o.mask(head),
          o.full(head),
          o.base(head),
          o.serverInUs(head),
        );
        o.release(head);
      } else this.sendBatch(now, now, s, u, lane, head, k);
    }
  }

  // ---- Frames: CPU, NIC, the user's downlink, the network.

  /** Runs `costUs` on server s's core that frees first, no earlier than `readyUs`. */
  runCpu(s: number, readyUs: number, costUs: number): number {
    if (this.cpuQueue) {
      const end = this.cpuQueue.runNow(s, readyUs, costUs);
      this.countBusy(s, end - costUs, costUs);
      return end;
    }
    const free = this.coreFree;
    let c = s * this.cores;
    const end = c + this.cores;
    for (let k = c + 1; k < end; k++) if (free[k] < free[c]) c = k;
    const start = readyUs > free[c] ? readyUs : free[c];
    free[c] = start + costUs;
    this.busyUs[s] += costUs;
    let b = Math.floor(start / this.seriesIntervalUs);
    if (b > this.seriesLast) b = this.seriesLast;
    this.serverBusy[s * (this.seriesLast + 1) + b] += costUs;
    return start + costUs;
  }

  /** CPU of one frame: the write, plus (per connection) assembling a batch and deflating it. */
  private frameCpuUs(rawBytes: number, k: number): number {
    const t = this.table;
    const assemble = k > 1 ? t.encodeUs(t.batchOverheadBytes(k)) : 0;
    const deflate = this.deflateFrames || (this.deflate && k > 1) ? t.compressUs(rawBytes) : 0;
    return this.sendCostUs + assemble + deflate;
  }

  private chargeCpu(rawBytes: number, k: number): void {
    const t = this.table;
    this.cpu.send += this.sendCostUs;
    if (k > 1) this.cpu.encode += t.encodeUs(t.batchOverheadBytes(k));
    if (this.deflateFrames || (this.deflate && k > 1)) this.cpu.compress += t.compressUs(rawBytes);
  }

  /** Payload bytes on the wire after deflate (when on) and the whole frame's wire bytes. */
  private wireOf(rawBytes: number, k: number): number {
    const payload = this.deflate ? this.table.wireBytes(rawBytes, k) : rawBytes;
    this.saved.deflateBytes += rawBytes - payload;
    return payload < this.wireMemo.length ? this.wireMemo[payload] : wireBytesOf(payload);
  }

  /**
   * One update alone in a frame, written at once (the hot path of an unbatched stream): the
   * delta needs the client to hold its base — the server knows what it wrote, so a missing base
   * means a full value (a resync).
   */
  private sendOne(
    now: number,
    ready: number,
    s: number,
    u: number,
    slot: number,
    id: number,
    mask: number,
    full: boolean,
    base: number,
    serverInUs: number,
  ): void {
    if (!full && (slot < 0 || this.slotLastSeq[slot] !== base)) {
      full = true;
      this.resyncs++;
    }
    const m = full ? this.fullMask : mask;
    const raw = this.messageBytes[m];
    if (this.delta && !full) this.saved.deltaBytes += this.messageBytes[this.fullMask] - raw;
    const cost = this.deflateFrames ? this.frameCpuUs(raw, 1) : this.sendCostUs;
    this.chargeCpu(raw, 1);
    const written = this.runCpu(s, ready, cost);
    const arrival = this.transmit(s, u, written, this.wireOf(raw, 1));
    if (arrival < 0) return this.dropped(written, s, u, id);
    this.deliver(now, s, u, slot, id, full, m, arrival, serverInUs);
  }

  /** A frame of k entries (a batch); their forms are decided now, as in sendOne. */
  private sendBatch(
    now: number,
    ready: number,
    s: number,
    u: number,
    lane: number,
    head: number,
    k: number,
  ): void {
    const raw = this.composeBatch(head, k);
    const cost = this.frameCpuUs(raw, k);
    this.chargeCpu(raw, k);
    this.afterCpu(now, this.runCpu(s, ready, cost), s, u, lane, head, k, raw);
  }

  /** Decides each entry's form and returns the frame's raw bytes. */
  private composeBatch(head: number, k: number): number {
    const o = this.outbox;
    let raw = this.table.batchOverheadBytes(k);
    const fullEntry = this.entryBytes[this.fullMask];
    for (let e = head; e >= 0; e = o.next(e)) {
      const slot = o.slot(e);
      if (!o.full(e) && (slot < 0 || this.slotLastSeq[slot] !== o.base(e))) {
        o.setFull(e);
        this.resyncs++;
      }
      const b = this.entryBytes[o.full(e) ? this.fullMask : o.mask(e)];
      raw += b;
      if (this.delta && !o.full(e)) this.saved.deltaBytes += fullEntry - b;
    }
    this.saved.batching += k - 1;
    return raw;
  }

  /** Queues a frame for the priority scheduler (priorities on). */
  private queueFrame(
    s: number,
    u: number,
    lane: number,
    head: number,
    k: number,
    ready: number,
  ): void {
    const raw = this.frameRawBytes(head, k, lane);
    const f = this.frameAlloc();
    this.frameUser[f] = u;
    this.frameHead[f] = head;
    this.frameCount[f] = k;
    this.frameLane[f] = lane;
    this.frameReadyUs[f] = ready;
    this.frameCostUs[f] = this.frameCpuUs(raw, k);
    this.framesQueued++;
    this.entriesQueued += k;
    this.cpuQueue?.submit(s, lane, f, ready, this.frameCostUs[f]);
  }

  /** Raw bytes of a frame as currently composed (for its CPU estimate). */
  private frameRawBytes(head: number, k: number, lane: number): number {
    const o = this.outbox;
    if (k === 1 && this.laneWindowUs[lane] === 0)
      return this.messageBytes[o.full(head) ? this.fullMask : o.mask(head)];
    let raw = this.table.batchOverheadBytes(k);
    for (let e = head; e >= 0; e = o.next(e))
      raw += this.entryBytes[o.full(e) ? this.fullMask : o.mask(e)];
    return raw;
  }

  /** Runs the frames of server s whose CPU starts before `untilUs` (priorities on). */
  advance(s: number, untilUs: number): void {
    if (!this.cpuQueue) return;
    this.cpuQueue.advance(s, untilUs, this.startFrame, this.countBusyFn);
  }

  /** Runs every server's queued frames up to `untilUs`. */
  advanceAll(untilUs: number): void {
    if (!this.cpuQueue) return;
    for (let s = 0; s < this.pop.servers; s++) this.advance(s, untilUs);
  }

  private readonly startFrame = (f: number, startUs: number, s: number): boolean => {
    const u = this.frameUser[f];
    const head = this.frameHead[f];
    const k = this.frameCount[f];
    const lane = this.frameLane[f];
    const costUs = this.frameCostUs[f];
    const readyUs = this.frameReadyUs[f];
    this.framesQueued--;
    this.entriesQueued -= k;
    this.frameFree.push(f);
    if (this.shed && startUs - readyUs > this.deadlineUs[lane]) {
      this.dropChain(startUs, s, u, head);
      return false;
    }
    if (k === 1 && this.laneWindowUs[lane] === 0) {
      const o = this.outbox;
      let full = o.full(head);
      const slot = o.slot(head);
      if (!full && (slot < 0 || this.slotLastSeq[slot] !== o.base(head))) {
        full = true;
        this.resyncs++;
      }
      const m = full ? this.fullMask : o.mask(head);
      const raw = this.messageBytes[m];
      if (this.delta && !full) this.saved.deltaBytes += this.messageBytes[this.fullMask] - raw;
      this.chargeCpu(raw, 1);
      const written = startUs + costUs;
      const arrival = this.transmit(s, u, written, this.wireOf(raw, 1));
      if (arrival < 0) this.dropped(written, s, u, o.msg(head));
      else this.deliver(startUs, s, u, slot, o.msg(head), full, m, arrival, o.serverInUs(head));
      o.release(head);
      return true;
    }
    const raw = this.composeBatch(head, k);
    this.chargeCpu(raw, k);
    this.afterCpu(startUs, startUs + costUs, s, u, lane, head, k, raw);
    return true;
  };

  private countBusy(s: number, startUs: number, us: number): void {
    this.busyUs[s] += us;
    let b = Math.floor(startUs / this.seriesIntervalUs);
    if (b > this.seriesLast) b = this.seriesLast;
    this.serverBusy[s * (this.seriesLast + 1) + b] += us;
  }

  private readonly countBusyFn = (s: number, startUs: number, us: number): void =>
    this.countBusy(s, startUs, us);

  /**
   * The frame leaves the core at `writtenUs`: the NIC, the user's downlink (a full send buffer
   * drops it) and the network; then each entry is delivered at the frame's arrival.
   */
  private afterCpu(
    now: number,
    writtenUs: number,
    s: number,
    u: number,
    lane: number,
    head: number,
    k: number,
    raw: number,
  ): void {
    void lane;
    const o = this.outbox;
    const arrival = this.transmit(s, u, writtenUs, this.wireOf(raw, k));
    if (arrival < 0) return this.dropChain(writtenUs, s, u, head);
    this.batchFrames++;
    this.batchUpdates += k;
    for (let e = head; e >= 0;) {
      const next = o.next(e);
      const full = o.full(e);
      this.deliver(
        now,
        s,
        u,
        o.slot(e),
        o.msg(e),
        full,
        full ? this.fullMask : o.mask(e),
        arrival,
        o.serverInUs(e),
      );
      o.release(e);
      e = next;
    }
  }

  /**
   * A frame of `wire` bytes written at `writtenUs` through server s's NIC and user u's downlink;
   * returns its arrival, or -1 when the user's send buffer has no room (a slow consumer).
   */
  private transmit(s: number, u: number, writtenUs: number, wire: number): number {
    const nic = this.nicFree;
    const sent = (writtenUs > nic[s] ? writtenUs : nic[s]) + wire * this.nicUsPerByte;
    nic[s] = sent;
    const cls = this.userClass.length ? this.userClass[u] : 0;
    const bitsPerUs = this.classBitsPerUs[cls];
    const link = this.userLink;
    const downStart = sent > link[2 * u] ? sent : link[2 * u];
    let b = Math.floor(sent / this.seriesIntervalUs);
    if (b > this.seriesLast) b = this.seriesLast;
    if ((downStart - sent) * (bitsPerUs / 8) + wire > this.sendBufferBytes) return -1;
    const downEnd = downStart + (wire * 8) / bitsPerUs;
    link[2 * u] = downEnd;
    let delayUs = this.hop1LatencyMs() * 1000 + this.classExtraUs[cls];
    if (this.jitterUs > 0) delayUs += this.jitterUs * this.hop1Rng.float();
    while (this.loss > 0 && this.hop1Rng.float() < this.loss) delayUs += this.rtoUs;
    let arrival = Math.round(downEnd + delayUs);
    if (arrival < link[2 * u + 1]) arrival = link[2 * u + 1];
    link[2 * u + 1] = arrival;
    this.hop1Bytes[b] += wire;
    this.seriesFrames[b]++;
    this.hop1LinkBytes[s] += wire;
    this.hop1LinkMessages[s]++;
    this.serverFrames[s]++;
    this.serverBytes[s] += wire;
    this.framesSent++;
    this.wireBytes += wire;
    this.classFrames[cls]++;
    this.classBytes[cls] += wire;
    this.hasher.add(u);
    this.hasher.add(arrival);
    return arrival;
  }

  /** One update of a frame the send buffer refused (or a shed frame): dropped. */
  private dropped(now: number, s: number, u: number, id: number): void {
    this.flow.dropped++;
    let b = Math.floor(now / this.seriesIntervalUs);
    if (b > this.seriesLast) b = this.seriesLast;
    this.droppedSeries[b]++;
    this.laneDropped[this.msgClass[id]]++;
    this.hasher.add(u);
    if (id % this.traceEvery === 0 && u % TRACE_USER_STRIDE === 0)
      this.trace.write(TRACE_DROP, now, now, 2 + s, 2 + this.pop.servers + s, id, u);
  }

  private dropChain(now: number, s: number, u: number, head: number): void {
    const o = this.outbox;
    for (let e = head; e >= 0;) {
      const next = o.next(e);
      this.dropped(now, s, u, o.msg(e));
      o.release(e);
      e = next;
    }
  }

  /** An update reaches user u at `arrival`: counted once simulated time passes it. */
  private deliver(
    now: number,
    s: number,
    u: number,
    slot: number,
    id: number,
    full: boolean,
    mask: number,
    arrival: number,
    serverInUs: number,
  ): void {
    const seq = this.msgs.seq[id];
    if (full) this.snapshots++;
    else this.deltas++;
    if (slot >= 0) {
      const last = this.slotLastSeq[slot];
      if (seq === last) this.flow.duplicated++;
      else if (seq < last) this.flow.outOfOrder++;
      else this.slotLastSeq[slot] = seq;
      if (this.probes !== null && this.probeChannel[this.msgs.channel[id]] >= 0) {
        const p = this.probes.probeOf(slot);
        if (p >= 0) {
          this.probes.deliver(p, seq, arrival);
          this.deltaLogRows.push(slot, seq, full ? 1 : 0, mask, arrival);
        }
      }
    }
    const cls = this.userClass.length ? this.userClass[u] : 0;
    this.updatesSent++;
    this.classUpdates[cls]++;
    this.pending.add(
      arrival,
      arrival - this.msgs.createdUs[id],
      arrival - serverInUs,
      cls * CLASSES + this.msgClass[id],
    );
    if (this.onDeliver !== null && slot >= 0) this.onDeliver(slot, u, id, arrival);
    if (id % this.traceEvery === 0 && u % TRACE_USER_STRIDE === 0)
      this.trace.write(TRACE_HOP1, now, arrival, 2 + s, 2 + this.pop.servers + s, id, u);
  }

  /** A delivery counted by the model (simulated time passed its arrival): per-class figures. */
  accepted(e2eUs: number, tag: number): void {
    const lane = tag % CLASSES;
    this.laneDelivered[lane]++;
    // One class of each kind: the model's own histogram already holds the figures.
    if (this.perLane) this.laneHist[lane].record(e2eUs);
    if (this.perUserClass) this.userClassHist[(tag - lane) / CLASSES].record(e2eUs);
  }

  /** More than one priority class in the mix, or priorities on: per-class latency is kept. */
  private get perLane(): boolean {
    return this.perLaneFlag;
  }

  private get perUserClass(): boolean {
    return this.userClassHist.length > 1;
  }

  // ---- Subscription churn.

  onChurn(now: number): void {
    const subs = this.subs;
    if (!subs) return;
    const c = this.config;
    const p = this.h.pop;
    const mean = this.connected * c.churnPerUserPerUs * CHURN_TICK_US;
    const n = this.poisson(mean);
    for (let i = 0; i < n; i++) {
      const u = this.rngChurn.int(this.connected);
      const ops = subs.change(u, this.rngChurn, (slot, on) => {
        // A subscription taken up afresh has no state on the client: its first update is full.
        this.h.slotLastSeq[slot] = -1;
        if (this.probes && this.probes.channelProbe[p.slotChannel[slot]] >= 0) {
          const pr = this.probes.probeOf(slot);
          if (pr >= 0) this.probes.reset(pr);
        }
        void on;
      });
      if (ops > 0) {
        const us = ops * c.subscribeCostUs;
        this.cpu.subscribe += us;
        if (us > 0) this.runCpu(p.userServer[u], now, us);
      }
    }
    const next = now + CHURN_TICK_US;
    if (next <= this.h.durationUs) this.h.queue.push(next, EV_CHURN, 0);
  }

  private poisson(mean: number): number {
    if (mean <= 0) return 0;
    if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.rngChurn.normal()));
    const limit = Math.exp(-mean);
    let k = 0;
    let prod = this.rngChurn.float();
    while (prod > limit) {
      k++;
      prod *= this.rngChurn.float();
    }
    return k;
  }

  // ---- Sampling and figures.

  /** At each sampling instant: run queued frames up to now, sample staleness, close the series row. */
  sample(now: number): void {
    this.advanceAll(now);
    const probes = this.probes;
    if (!probes) {
      this.seriesStaleP50.push(NaN);
      this.seriesStaleP99.push(NaN);
      return;
    }
    const subs = this.subs;
    probes.sample(
      now,
      (c) => this.channelLatest[c],
      (slot) => (subs ? subs.slotActive[slot] === 1 : true),
    );
    const ih = probes.intervalHist;
    this.seriesStaleP50.push(ih.count ? zeroFloor(ih.percentileUs(50) / 1000) : NaN);
    this.seriesStaleP99.push(ih.count ? zeroFloor(ih.percentileUs(99) / 1000) : NaN);
    ih.reset();
  }

  /** Owed deliveries a newer value replaced before they were sent (throttle and conflation). */
  get superseded(): number {
    return this.saved.throttle + this.saved.conflation;
  }

  /**
   * Deliveries owed and not yet handed to the network: in hop 2, held by a throttle, in an
   * outbox or in a frame queued for a core.
   */
  get waiting(): number {
    return (
      this.hop2Owed + this.heldOwed + this.outbox.waiting + this.entriesQueued + this.fastWaiting
    );
  }

  /** The delta checker's input: every delivery to a probe subscription, in send order. */
  deltaLog(): {
    slot: number;
    channel: number;
    seq: number;
    full: boolean;
    mask: number;
    arrivalUs: number;
  }[] {
    const r = this.deltaLogRows;
    const out = [];
    for (let i = 0; i < r.length; i += 5)
      out.push({
        slot: r[i],
        channel: this.h.pop.slotChannel[r[i]],
        seq: r[i + 1],
        full: r[i + 2] === 1,
        mask: r[i + 3],
        arrivalUs: r[i + 4],
      });
    return out;
  }

  stats(
    nowUs: number,
    serverCpu: (s: number) => number,
    serverBusyUs: number,
    e2e: LatencySummaryMs,
  ): ShapingStats {
    const c = this.config;
    const elapsedS = nowUs / 1e6;
    const perUserSec = (x: number, users: number) =>
      elapsedS > 0 && users > 0 ? x / users / elapsedS : 0;
    const connected = this.connected;
    const stale = (hs: LatencyHistogram | undefined): StalenessMs | undefined =>
      hs && hs.count > 0 ? stalenessOf(hs, this.probes?.samples ?? 0) : undefined;
    const allStale = this.probes ? stale(this.probes.allHist) : undefined;
    const series = this.h.series;
    const rows = series.closed;
    const framesPerSec: number[] = [];
    const bytesPerSecPerUser: number[] = [];
    const tS = series.toSeries().tS;
    for (let b = 0; b < rows; b++) {
      const widthS = (tS[b] * 1e6 - b * series.intervalUs) / 1e6;
      framesPerSec.push(this.seriesFrames[b] / widthS);
      bytesPerSecPerUser.push(connected > 0 ? series.hop1Bytes[b] / widthS / connected : 0);
    }
    const lanes = ['P0', 'P1', 'P2', 'P3'] as const;
    const perClass = Object.fromEntries(
      lanes.map((name, l) => {
        const hs = this.laneHist[l];
        // A class that delivered nothing (starved by strict priority, or absent) has no figures.
        const some = hs.count > 0;
        return [
          name,
          {
            p50Ms: some ? hs.percentileUs(50) / 1000 : null,
            p99Ms: some ? hs.percentileUs(99) / 1000 : null,
            p999Ms: some ? hs.percentileUs(99.9) / 1000 : null,
            maxMs: some ? hs.summary().max : null,
            delivered: this.laneDelivered[l],
            dropped: this.laneDropped[l],
            owed: this.laneOwed[l],
            undelivered: Math.max(
              0,
              this.laneOwed[l] - this.laneDelivered[l] - this.laneDropped[l],
            ),
          },
        ];
      }),
    ) as ShapingStats['perClass'];
    const subs = this.subs;
    const stats: ShapingStats = {
      stages: activeStages(c),
      schema: c.schema.id,
      encoding: c.spec.encoding.format,
      deflate: c.deflate,
      messagesPerSecPerUser: perUserSec(this.framesSent, connected),
      bytesPerSecPerUser: perUserSec(this.wireBytes, connected),
      updatesPerSecPerUser: perUserSec(this.updatesSent, connected),
      bytesPerUpdate: this.updatesSent > 0 ? this.wireBytes / this.updatesSent : 0,
      framesSent: this.framesSent,
      updatesSent: this.updatesSent,
      staleness: allStale,
      savedByStage: { ...this.saved },
      resyncs: this.resyncs,
      snapshots: this.snapshots,
      deltas: this.deltas,
      perClass: this.perLane ? perClass : undefined,
      perUserClass: c.userClasses.map((uc, k) => ({
        name: uc.name,
        users: this.classUsers[k],
        messagesPerSecPerUser: perUserSec(this.classFrames[k], this.classUsers[k]),
        bytesPerSecPerUser: perUserSec(this.classBytes[k], this.classUsers[k]),
        updatesPerSecPerUser: perUserSec(this.classUpdates[k], this.classUsers[k]),
        latencyMs: this.perUserClass
          ? {
              p50: this.userClassHist[k].percentileUs(50) / 1000,
              p99: this.userClassHist[k].percentileUs(99) / 1000,
              max: this.userClassHist[k].summary().max,
            }
          : { p50: e2e.p50, p99: e2e.p99, max: e2e.max },
        staleness: this.probes ? stale(this.probes.hist[k]) : undefined,
      })),
      perServer: Array.from({ length: this.h.pop.servers }, (_, s) => ({
        id: `server-${s}`,
        messagesPerSec: elapsedS > 0 ? this.serverFrames[s] / elapsedS : 0,
        bytesPerSec: elapsedS > 0 ? this.serverBytes[s] / elapsedS : 0,
        cpuUtilisation: serverCpu(s),
        brokerSubscriptions: subs ? subs.brokerSubs[s] : this.staticBrokerSubs(s),
      })),
      throttleBacklog: this.throttleBacklog,
      serverCpuUs: serverBusyUs,
      cpuUs: { ...this.cpu },
      series: {
        tS,
        framesPerSec,
        bytesPerSecPerUser,
        stalenessMsP50: this.seriesStaleP50.slice(0, rows),
        stalenessMsP99: this.seriesStaleP99.slice(0, rows),
      },
    };
    if (subs)
      stats.subscriptions = {
        active: subs.activeCount,
        changes: subs.changes,
        indexOps: subs.indexOps,
        indexCpuUs: this.cpu.subscribe,
        indexBytes: subs.activeCount * INDEX_ENTRY_BYTES,
        brokerSubscriptions: subs.brokerTotal,
        brokerSubscribeOps: subs.brokerOps,
        mode: c.pattern ? 'pattern' : 'exact',
      };
    const produced = this.h.flow.produced;
    stats.audience = {
      mode: c.audience,
      // Owed deliveries per update over the users connected: who an update reaches, on average.
      shareReceiving:
        produced > 0 && this.connected > 0 ? this.flow.fanout / produced / this.connected : 0,
      filterEvaluations: this.filterEvaluations,
      filterCpuUs: this.cpu.filter,
    };
    if (this.batchFrames > 0 || c.batchWindowUs > 0)
      stats.batch = {
        framesPerSec: elapsedS > 0 ? this.batchFrames / elapsedS : 0,
        meanUpdatesPerFrame: this.batchFrames > 0 ? this.batchUpdates / this.batchFrames : 0,
        maxHoldMs: this.maxHoldUs / 1000,
      };
    return stats;
  }

  /** Without churn every pair with a subscriber holds one broker subscription (counted once). */
  private staticBrokerSubs(s: number): number {
    if (!this.pairsPerServer) {
      const p = this.pop;
      this.pairsPerServer = new Int32Array(p.servers);
      for (let q = 0; q < p.pairServer.length; q++) this.pairsPerServer[p.pairServer[q]]++;
    }
    return this.pairsPerServer[s];
  }

  private pairsPerServer: Int32Array | null = null;

  private frameAlloc(): number {
    const f = this.frameFree.pop();
    if (f !== undefined) return f;
    if (this.frameUsed === this.frameUser.length) {
      const n = this.frameUsed * 2;
      const i32 = (a: Int32Array) => {
        const b = new Int32Array(n);
        b.set(a);
        return b;
      };
      this.frameUser = i32(this.frameUser);
      this.frameHead = i32(this.frameHead);
      this.frameCount = i32(this.frameCount);
      const lane = new Uint8Array(n);
      lane.set(this.frameLane);
      this.frameLane = lane;
      const ready = new Float64Array(n);
      ready.set(this.frameReadyUs);
      this.frameReadyUs = ready;
      const cost = new Float64Array(n);
      cost.set(this.frameCostUs);
      this.frameCostUs = cost;
    }
    return this.frameUsed++;
  }

  /** Typed-array bytes the shaped path holds. */
  get byteLength(): number {
    return (
      this.outbox.byteLength +
      (this.subs?.byteLength ?? 0) +
      this.userClass.byteLength +
      this.userRegion.byteLength +
      this.userLevel.byteLength +
      this.nextAllowedUs.byteLength +
      this.pairEmitted.byteLength +
      this.pairEmits.byteLength +
      this.pairNextUs.byteLength
    );
  }

  dispose(): void {
    for (const hs of this.laneHist) hs.destroy();
    for (const hs of this.userClassHist) hs.destroy();
    this.probes?.dispose();
  }
}

/** Staleness under a microsecond is "up to date". */
function zeroFloor(ms: number): number {
  return ms <= 0.001 ? 0 : ms;
}

function stalenessOf(h: LatencyHistogram, samples: number): StalenessMs {
  return {
    p50Ms: zeroFloor(h.percentileUs(50) / 1000),
    p99Ms: zeroFloor(h.percentileUs(99) / 1000),
    maxMs: zeroFloor(h.summary().max),
    samples,
  };
}

/** A server's emissions in the current batching window: one record per update, not per user. */
class EmissionRecords {
  n = 0;
  msg = new Int32Array(64);
  pair = new Int32Array(64);
  mask = new Int32Array(64);
  base = new Int32Array(64);
  full = new Uint8Array(64);
  /**
   * 1 when some member of the record's pair does not have it as its only waiting update (it got
   * it as a second one, or got a second one after it): the flush must then look at each member.
   */
  mixed = new Uint8Array(64);
  serverInUs = new Float64Array(64);
  enqueuedUs = new Float64Array(64);

  add(
    msg: number,
    pair: number,
    mask: number,
    full: boolean,
    base: number,
    serverInUs: number,
    nowUs: number,
  ): number {
    if (this.n === this.msg.length) this.grow();
    const r = this.n++;
    this.msg[r] = msg;
    this.pair[r] = pair;
    this.mask[r] = mask;
    this.base[r] = base;
    this.full[r] = full ? 1 : 0;
    this.mixed[r] = 0;
    this.serverInUs[r] = serverInUs;
    this.enqueuedUs[r] = nowUs;
    return r;
  }

  private grow(): void {
    const n = this.msg.length * 2;
    const i32 = (a: Int32Array) => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    const f64 = (a: Float64Array) => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    this.msg = i32(this.msg);
    this.pair = i32(this.pair);
    this.mask = i32(this.mask);
    this.base = i32(this.base);
    const full = new Uint8Array(n);
    full.set(this.full);
    this.full = full;
    const mixed = new Uint8Array(n);
    mixed.set(this.mixed);
    this.mixed = mixed;
    this.serverInUs = f64(this.serverInUs);
    this.enqueuedUs = f64(this.enqueuedUs);
  }
}
