// The shapes the simulation core hands to its shells (worker, CLI, tests): plain data, JSON-safe.
import type { FanoutStats } from './models/fanout/types.ts';
import type { GuideFigure } from './apps/app.ts';

export type { FanoutStats, FanoutTier } from './models/fanout/types.ts';
export type { GuideFigure } from './apps/app.ts';

/** Percentiles of one latency histogram, in milliseconds (microsecond resolution). */
export interface LatencySummaryMs {
  count: number;
  mean: number;
  /** Exact smallest value recorded. */
  min: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** Counters of one network link (or group of links drawn as one edge). */
export interface LinkStats {
  id: string;
  /** Which hop of the guide's two-hop architecture the link belongs to (source→broker is hop 2). */
  hop: 'hop2' | 'hop1';
  from: string;
  to: string;
  messages: number;
  bytes: number;
  bytesPerSec: number;
}

/** One WebSocket server's state at the moment of the snapshot (or over the run, for the result). */
export interface ServerStats {
  id: string;
  connections: number;
  /** Busy share of all cores over the run so far, 0..1. */
  cpuUtilisation: number;
  /** Sends waiting for a core right now. */
  queueLength: number;
  queueLengthMax: number;
  memoryMB: number;
}

/** Fixed-interval time series; every array has one entry per closed sample interval. */
export interface Series {
  intervalMs: number;
  /** End of each interval, simulated seconds. */
  tS: number[];
  deliveriesPerSec: number[];
  producedPerSec: number[];
  /** End-to-end latency percentiles of the deliveries that arrived in the interval (NaN if none). */
  latencyMsP50: number[];
  latencyMsP99: number[];
  latencyMsMax: number[];
  /** Total bytes per second over all hop-1 links. */
  hop1BytesPerSec: number[];
  hop2BytesPerSec: number[];
  inFlight: number[];
  dropped: number[];
  /** Across servers, per interval: busiest and mean CPU share (0..1), longest send queue. */
  serverCpuMax: number[];
  serverCpuMean: number[];
  serverQueueMax: number[];
  /** Fewest and most connections on one server at the end of each interval. */
  serverConnectionsMin: number[];
  serverConnectionsMax: number[];
}

/** Counts of the update flow. Conservation: fanout = delivered + dropped + inFlight. */
export interface FlowCounts {
  /** Updates published by the sources. */
  produced: number;
  /** Deliveries owed: one per (update, subscribed connected user). */
  fanout: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  outOfOrder: number;
  inFlight: number;
  /**
   * Shaped runs: owed deliveries a newer value of the same key replaced before they were sent
   * (throttle and conflation). Conservation: fanout = delivered + dropped + superseded + inFlight.
   */
  superseded?: number;
}

/** A node of the topology as the views draw it. User groups stand for many users. */
export interface TopologyNode {
  id: string;
  kind: 'source' | 'broker' | 'server' | 'users';
  label: string;
  /** For user groups: how many users; for servers: connection limit. */
  count: number;
  /** For user groups: the server they are connected to. */
  parent?: string;
  /** The line under the label (a case study's source: "gateway · store"); by default its kind. */
  role?: string;
}

export interface TopologyEdge {
  id: string;
  from: string;
  to: string;
  hop: 'hop2' | 'hop1';
}

/** A shaping stage as the topology draws it: where on the path it sits. */
export interface TopologyStage {
  /** subscriptions, selective, throttle, conflation, batching, delta, compression, priorities. */
  name: string;
  /** broker: Redis's subscriptions; server: work each server does once per update; connection: per user. */
  at: 'broker' | 'server' | 'connection';
  /** A short label with the setting: "batch 100 ms", "throttle 1/s per key". */
  label: string;
}

export interface Topology {
  nodes: TopologyNode[];
  edges: TopologyEdge[];
  /** Shaped runs: the stages switched on, in path order. */
  stages?: TopologyStage[];
}

/**
 * One sampled event of the trace: a message moving along an edge. Times are simulated
 * microseconds; a record is written when the simulator decides the move, which can be before
 * `endUs` (arrival times on hop 1 are drawn, not queued).
 */
export interface TraceRecord {
  kind: 'publish' | 'hop2' | 'hop1' | 'drop';
  startUs: number;
  endUs: number;
  from: string;
  to: string;
  messageId: number;
  channel: number;
  seq: number;
  /** User index for hop-1 records, -1 otherwise. */
  user: number;
}

/** What a protocol run measures beyond the common flow (the guide's protocol decision matrix). */
export interface ProtocolStats {
  protocol: 'polling' | 'long-polling' | 'sse' | 'websocket' | 'webrtc';
  /** Client→server messages share the update channel (false for SSE: they need separate requests). */
  bidirectional: boolean;
  /** Client-initiated HTTP requests: polls, held requests, POSTs, stream opens, upgrades. */
  requests: number;
  /** Responses that carried no update (a poll that found nothing, a long-poll timeout). */
  emptyResponses: number;
  requestsPerDelivered: number;
  wastedRequestShare: number;
  /** Bytes both ways on every client's link: headers, framing, handshakes, heartbeats, payload. */
  wireBytes: number;
  wireBytesPerDelivered: number;
  serverConnections: number;
  serverConnectionsPeak: number;
  serverMemoryMB: number;
  serverCpuUtilisation: number;
  /** Mean battery drain per client from its radio (0 without a radio model). */
  batteryMahPerHour: number;
  /** Client-originated updates that could not be sent (no connection, no free HTTP/1.1 slot). */
  upstreamFailed: number;
  /** Deliveries replayed after a reconnect (SSE Last-Event-ID, long-poll cursor). */
  recovered: number;
  /** Deliveries owed to tabs whose stream could not open (HTTP/1.1's 6 per origin). */
  blockedStreams: number;
  /** WebRTC: share of peer pairs that go through the TURN relay, and the bytes it carried. */
  relayedShare: number;
  relayBytes: number;
  /** Time from connecting to being able to receive (handshakes, WebRTC negotiation). */
  setupLatencyMs: LatencySummaryMs;
  /** Client-originated updates: origin → server (or → peer for WebRTC). */
  upstreamLatencyMs: LatencySummaryMs;
  /** Time from a silent connection death to the server noticing (WebSocket heartbeat). */
  deadPeerDetectionMs: LatencySummaryMs;
  /** The median client–server round trip of the drawn population. */
  rttMsMedian: number;
}

/** One update as the source published it (the simulator's event stream, for the playground). */
export interface UpdateRecord {
  id: number;
  channel: number;
  /** Simulated time the update was created, µs. */
  createdUs: number;
  payloadBytes: number;
  /** The client that sent it, or -1 for the server side. */
  origin: number;
  /** Its channel sequence number once the server or broker gave it one (-1: not yet, or never). */
  seq: number;
}

/** One fault of a run and what it did: how many connections or messages it hit. */
export interface FaultRecord {
  kind: string;
  atS: number;
  target: number;
  hit: number;
  recoveredAtS: number | null;
  /** False when the fault changed nothing (a crash of a server already down): no recovery follows. */
  applied: boolean;
  /** Partitions: the groups cut apart, `broker ⇄ server:1` or `users → server:0` (one way). */
  between?: string;
}

/** A cluster run's parts right now: what is up, down, cut off or slowed. */
export interface ClusterState {
  /** Every server the views show (room for scale-outs is `absent` until it joins). */
  servers: ('up' | 'down' | 'draining' | 'shut-down' | 'absent')[];
  /** Per server: cut off from the broker (a partition, or Redis dropped it as a slow subscriber). */
  brokerCut: boolean[];
  /** Per server: a slow-link fault on its user links is in force. */
  slowLink: boolean[];
  brokerUp: boolean;
  lbUp: boolean;
  /** Partitions in force. */
  partitions: number;
  /** Servers a scale-out can still add. */
  scaleOutRoom: number;
  /** Kafka consumer group: a rebalance has stopped consumption. */
  rebalancing: boolean;
}

/** What a cluster run (brokers, load balancing, faults, recovery) measures. */
export interface ClusterStats {
  broker: 'direct' | 'redis' | 'kafka';
  strategy: string;
  guarantee: string;
  /** Owed deliveries that will never arrive (dropped at the broker or skipped in a gap). */
  lost: number;
  /** Messages a broker refused or lost (published into an outage, or cut off from it). */
  lostAtBroker: number;
  /** The deliveries those messages owed (part of `lost`). */
  deliveriesLostAtBroker: number;
  /** Deliveries replayed after a reconnect or a gap fetch. */
  recovered: number;
  /** Updates a client skipped by reloading the state (window exceeded or epoch changed). */
  resynced: number;
  /** Deliveries that arrived older than the staleness bound. */
  stale: number;
  /** Duplicates the client recognised and did not apply (exactly-once effect). */
  duplicatesSuppressed: number;
  /** Delivered ÷ owed. */
  reach: number;
  faults: FaultRecord[];
  reconnect: {
    firstAttempts: number;
    /** Share of first reconnect attempts that fell in the busiest 100 ms bucket. */
    firstAttemptPeakShare: number;
    /** The busiest 100 ms bucket ÷ what a uniform spread over the first backoff would put there. */
    peakToUniformRatio: number;
    /** When the last disconnected client was back (null while some still are not). */
    allReconnectedAtS: number | null;
  };
  connectionsPerServer: number[];
  /** Connections per server at the end of each sample interval (rows: intervals). */
  connectionsSeries: number[][];
  /** Share of users a fresh routing would move to another server if one server were added. */
  remappedShareOnScaleOut: number;
  attempts: number;
  failedAttempts: number;
  /** Redis: slow subscribers disconnected by the output-buffer limit. */
  subscriberDisconnects: number;
  /** Deliveries owed to users of a server Redis was not delivering to (slow subscriber, partition). */
  missedWhileUnsubscribed: number;
  /** Direct polling: requests per second the data source answers. */
  sourceRequestsPerSec: number;
  /** Clients without a connection right now. */
  disconnected: number;
  /** Users away right now (the app closed; they are not counted as disconnected). */
  away: number;
  /** Kafka: retried records the idempotent producer's broker dropped, and second copies written. */
  dedupedAtBroker: number;
  logCopies: number;
  /**
   * Records a server received before something published earlier on another partition or
   * channel: Kafka orders within a partition, not across partitions.
   */
  serverReorders: number;
  /** Kafka consumer group: rebalances, and each partition's owner now (-1: none; [] for broadcast). */
  rebalances: number;
  partitionOwners: number[];
  /** How often each recovery path ran (coverage marks). */
  recoveryPaths: Record<string, number>;
  state: ClusterState;
}

/** Percentiles of a staleness sample, in milliseconds. */
export interface StalenessMs {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Samples behind the figures: probe subscriptions × sampling instants. */
  samples: number;
}

/** One priority class under the shaping stages. */
export interface PriorityClassStats {
  /** Null when the class delivered nothing (starved under strict priority, or not in the mix). */
  p50Ms: number | null;
  p99Ms: number | null;
  p999Ms: number | null;
  maxMs: number | null;
  delivered: number;
  /** Sends of this class dropped: shed past their deadline, or refused by a full send buffer. */
  dropped: number;
  /** Deliveries of this class owed (as `flow.fanout` counts them). */
  owed: number;
  /**
   * Owed and neither delivered nor dropped by the end: still queued or in flight (or replaced by
   * a newer value when a throttle or conflation is on too). A class with many of these reports
   * only its early, lucky deliveries: its percentiles are biased low, not fast.
   */
  undelivered: number;
}

/** One class of users (e.g. desktop on a fast link, mobile on a slow one). */
export interface UserClassStats {
  name: string;
  users: number;
  messagesPerSecPerUser: number;
  bytesPerSecPerUser: number;
  updatesPerSecPerUser: number;
  latencyMs: { p50: number; p99: number; max: number };
  staleness?: StalenessMs;
}

/** What the update-shaping stages did in a run (present when the scenario has a shaping block). */
export interface ShapingStats {
  /** The stages switched on, in the order they sit on the path. */
  stages: string[];
  schema: string;
  encoding: string;
  deflate: boolean;
  /** Frames (WebSocket messages) delivered per connected user per second. */
  messagesPerSecPerUser: number;
  /** Bytes on hop 1 (headers, framing, compressed payload) per connected user per second. */
  bytesPerSecPerUser: number;
  /** Updates delivered per user per second (a batch frame carries several). */
  updatesPerSecPerUser: number;
  /** Hop-1 bytes per update delivered. */
  bytesPerUpdate: number;
  framesSent: number;
  updatesSent: number;
  /**
   * How long the value a user holds has been out of date (time since the source published the
   * first update the user has not got yet), sampled over probe subscriptions.
   */
  staleness?: StalenessMs;
  /**
   * What each stage saved: deliveries not made (throttle, conflation, selective), frames not sent
   * (batching), bytes not sent (deltaBytes, deflateBytes).
   */
  savedByStage: Record<string, number>;
  /** Full snapshots a server sent because the client's base was missing (a drop, a conflation). */
  resyncs: number;
  snapshots: number;
  deltas: number;
  perClass?: Record<'P0' | 'P1' | 'P2' | 'P3', PriorityClassStats>;
  perUserClass: UserClassStats[];
  perServer: {
    id: string;
    messagesPerSec: number;
    bytesPerSec: number;
    cpuUtilisation: number;
    /** Channels (or patterns) the server is subscribed to at the broker right now. */
    brokerSubscriptions: number;
  }[];
  subscriptions?: {
    active: number;
    changes: number;
    /** Subscribe/unsubscribe operations on the servers' indexes, and their CPU. */
    indexOps: number;
    indexCpuUs: number;
    /** Both indexes (user → channels, channel → users) at 8 bytes per entry each, the guide's figure. */
    indexBytes: number;
    brokerSubscriptions: number;
    brokerSubscribeOps: number;
    mode: 'exact' | 'pattern';
  };
  audience?: {
    mode: string;
    /** Mean share of connected users that received an update. */
    shareReceiving: number;
    filterEvaluations: number;
    filterCpuUs: number;
  };
  batch?: {
    framesPerSec: number;
    meanUpdatesPerFrame: number;
    /** Longest time an update waited in a batch (never more than its window). */
    maxHoldMs: number;
  };
  /** Updates waiting behind a per-key throttle right now (a backlog when conflation is off). */
  throttleBacklog: number;
  /** Busy CPU of all servers over the run, µs (receiving, encoding, filtering, writing frames). */
  serverCpuUs: number;
  /** Server CPU by what it was spent on, µs over the run. */
  cpuUs: { encode: number; compress: number; send: number; filter: number; subscribe: number };
  /** Per sample interval: frames/s, hop-1 bytes/s per user, staleness p50/p99 (NaN without samples). */
  series: {
    tS: number[];
    framesPerSec: number[];
    bytesPerSecPerUser: number[];
    stalenessMsP50: number[];
    stalenessMsP99: number[];
  };
}

/** What the worker streams to the page while a run goes on. */
export interface Snapshot {
  nowUs: number;
  durationUs: number;
  events: number;
  done: boolean;
  traceHash: string;
  flow: FlowCounts;
  latencyMs: LatencySummaryMs;
  hop2LatencyMs: LatencySummaryMs;
  hop1LatencyMs: LatencySummaryMs;
  deliveriesPerSec: number;
  links: LinkStats[];
  servers: ServerStats[];
  rejectedConnections: number;
  series: Series;
  /** Present for protocol scenarios. */
  protocol?: ProtocolStats;
  /** Present for cluster scenarios. */
  cluster?: ClusterStats;
  /** Present when the scenario shapes its updates. */
  shaping?: ShapingStats;
  /** Present for fan-out scenarios. */
  fanout?: FanoutStats;
}

/** The result of a finished run, as `hoplab run --json` prints it. */
export interface RunResult extends FlowCounts {
  scenario: string;
  seed: number;
  params: Record<string, number | string>;
  simulatedSeconds: number;
  events: number;
  wallMs: number;
  eventsPerSec: number;
  traceHash: string;
  latencyMs: LatencySummaryMs;
  hop2LatencyMs: LatencySummaryMs;
  hop1LatencyMs: LatencySummaryMs;
  deliveriesPerSec: number;
  links: LinkStats[];
  servers: ServerStats[];
  rejectedConnections: number;
  /** Bytes of simulator state per simulated user (typed arrays), not the modelled server memory. */
  simBytesPerUser: number;
  /** Protocol scenarios: the decision-matrix figures (also spread at the top level, see below). */
  protocolStats?: ProtocolStats;
  protocol?: ProtocolStats['protocol'];
  requestsPerDelivered?: number;
  wastedRequestShare?: number;
  wireBytesPerDelivered?: number;
  serverConnectionsPeak?: number;
  serverMemoryMB?: number;
  batteryMahPerHour?: number;
  /** Cluster scenarios: the full stats, and the headline figures at the top level. */
  clusterStats?: ClusterStats;
  /** Fan-out scenarios: the full stats (`fanout` here is the owed-deliveries count of FlowCounts). */
  fanoutStats?: FanoutStats;
  lost?: number;
  recovered?: number;
  stale?: number;
  reach?: number;
  faults?: FaultRecord[];
  reconnect?: ClusterStats['reconnect'];
  connectionsPerServer?: number[];
  remappedShareOnScaleOut?: number;
  /** Scenarios that shape their updates: what the stages did. */
  shaping?: ShapingStats;
  /**
   * Shaped runs: one full update of the run's schema in each encoding, bare (`json`, `msgpack`,
   * …), after permessage-deflate (`msgpack-deflate`, `msgpack-deflate-no-takeover`), and for the
   * stock-price schema the guide's exact object (`guide-json-pretty`, …), in bytes.
   */
  bytesPerUpdate?: Record<string, number>;
  /**
   * Case studies (`topology.app`): the guide's figures beside the measured ones. The app's own
   * counts (e.g. the auction's `bids`, `timerErrorMs`) sit beside it at the top level.
   */
  guideFigures?: GuideFigure[];
}
