// The scenario file format, validated with zod: a scenario is data (topology, workload, parameters).
import { z } from 'zod';
import { distSchema, parameterSchema, scenarioBase } from './base-schema.ts';
import { fanoutScenarioSchema } from './fanout-schema.ts';
import { shapingSchema } from './shaping-schema.ts';
import { appSchema, clusterAppSchema } from '../sim/apps/schemas.ts';

export {
  choiceParameterSchema,
  distSchema,
  numberParameterSchema,
  parameterSchema,
} from './base-schema.ts';

const positive = z.number().finite().positive();
const nonNegative = z.number().finite().nonnegative();

export const linkSchema = z.strictObject({
  /** One-way propagation delay. */
  latencyMs: distSchema,
  /** Extra delay drawn uniformly from [0, jitterMs] per message. */
  jitterMs: nonNegative,
  /** Chance that one transmission is lost; TCP retransmits it after rtoMs. */
  lossProbability: z.number().min(0).max(0.99),
  /** Retransmission timeout after a loss (Linux's minimum RTO is 200 ms). */
  rtoMs: nonNegative,
  /** Link bandwidth; bytes take bytes*8/bandwidth to serialise. */
  bandwidthMbps: positive,
});

export const twoHopTopologySchema = z.strictObject({
  users: z.number().int().min(1).max(2_000_000),
  servers: z.number().int().min(1).max(2_000),
  channels: z.number().int().min(1).max(1_000_000),
  subscriptionsPerUser: z.number().int().min(1).max(64),
  loadBalancer: z.enum(['round-robin', 'random']),
  broker: z.strictObject({
    kind: z.literal('redis-pubsub'),
    /** CPU time Redis spends on one PUBLISH. */
    serviceUs: nonNegative,
    /** Extra CPU time per subscribed server the message is written to. */
    perSubscriberUs: nonNegative,
  }),
  server: z.strictObject({
    cores: z.number().int().min(1).max(256),
    /** CPU time to take one message off the broker connection. */
    cpuPerInboundUs: nonNegative,
    /** CPU time to frame and write one message to one WebSocket. */
    cpuPerSendUs: nonNegative,
    maxConnections: z.number().int().min(1).max(10_000_000),
    memoryPerConnectionKB: nonNegative,
    /** Network interface bandwidth shared by all of the server's sends. */
    egressMbps: positive,
    /** Per-connection send buffer; a slow client whose backlog would exceed it loses the message. */
    sendBufferKB: positive,
  }),
  links: z.strictObject({
    sourceToBroker: linkSchema,
    brokerToServer: linkSchema,
    serverToUser: linkSchema,
  }),
  /** Update shaping on the delivery path; without it payloads are `workload.payloadBytes`. */
  shaping: shapingSchema.optional(),
  /** Skewed interest: channel c is subscribed with weight 1 / (c + 1)^s (absent or 0: uniform). */
  zipfExponent: z.number().min(0).max(4).optional(),
  /**
   * A case-study application in place of the source (`src/sim/apps/`): it publishes the updates
   * and runs its own parts (a bid path, a store) on the run's queue; `workload` then sets only
   * the payload size.
   */
  app: appSchema.optional(),
});

export const twoHopWorkloadSchema = z.strictObject({
  ratePerChannelPerSec: positive.max(100_000),
  /** periodic: every channel publishes at a fixed interval (random phase); poisson: random. */
  arrival: z.enum(['periodic', 'poisson']),
  /** Mean number of updates published back to back in one burst (1 = no bursts). */
  burstSizeMean: z.number().finite().min(1).max(1_000),
  payloadBytes: distSchema,
});

export const PROTOCOLS = ['polling', 'long-polling', 'sse', 'websocket', 'webrtc'] as const;
export type Protocol = (typeof PROTOCOLS)[number];
const onOff = z.enum(['on', 'off']);

/** The client–server protocol ladder: N clients, one server, one protocol (or all five). */
export const protocolsTopologySchema = z.strictObject({
  clients: z.number().int().min(1).max(100_000),
  /** Clients are split evenly: client i follows channel i mod channels (a WebRTC mesh group). */
  channels: z.number().int().min(1).max(100_000),
  network: z.strictObject({
    /** Median client–server round trip; clients sit at random distances from the server. */
    rttMs: positive.max(5_000),
    /** Share of the round trip that is the last mile (access network) rather than distance. */
    accessShare: z.number().min(0).max(1),
    /** Mean queueing noise per one-way trip, as a share of the median one-way delay. */
    jitterShare: z.number().min(0).max(1),
    /** Chance one transmission is lost; TCP and reliable SCTP resend after rtoMs. */
    lossProbability: z.number().min(0).max(0.5),
    rtoMs: nonNegative.max(10_000),
  }),
  server: z.strictObject({
    cores: z.number().int().min(1).max(256),
    cpuPerRequestUs: nonNegative,
    cpuPerPushUs: nonNegative,
    cpuPerHandshakeUs: nonNegative,
    /** Memory a server holds per open connection (or held request), by protocol. */
    memoryPerConnectionKB: z.strictObject({
      polling: nonNegative,
      'long-polling': nonNegative,
      sse: nonNegative,
      websocket: nonNegative,
      webrtc: nonNegative,
    }),
  }),
  http: z.strictObject({
    requestHeaderBytes: z.number().int().min(0).max(65_536),
    responseHeaderBytes: z.number().int().min(0).max(65_536),
    /** Reuse one TCP+TLS connection for successive requests. */
    keepAlive: onOff,
    /** TLS handshake round trips: 1 for TLS 1.3, 2 for TLS 1.2. */
    tlsRoundTrips: z.number().int().min(0).max(3),
    /** HTTP/2 multiplexes every stream on one connection; HTTP/1.1 allows 6 per origin. */
    http2: onOff,
    /** Open tabs per client, each with its own stream of the same feed. */
    tabsPerClient: z.number().int().min(1).max(20),
  }),
  polling: z.strictObject({ intervalS: positive.max(3_600) }),
  longPolling: z.strictObject({
    holdS: positive.max(600),
    /** What happens to updates that arrive while no request is held. */
    missed: z.enum(['buffer', 'drop']),
  }),
  sse: z.strictObject({
    /** The reconnection delay the server announces with `retry:`. */
    retryMs: nonNegative.max(600_000),
    /** Resume from `Last-Event-ID` after a reconnect. */
    resume: onOff,
  }),
  /** Long-lived connections: heartbeat (WebSocket ping, SSE comment line), dead-peer timeout, reconnect delay. */
  connection: z.strictObject({
    heartbeatS: positive.max(3_600),
    timeoutS: positive.max(7_200),
    /** WebSocket and WebRTC reconnect delay (SSE uses its `retry`). */
    reconnectMs: nonNegative.max(600_000),
  }),
  webrtc: z.strictObject({
    /** Chance ICE finds a direct path for a pair of peers; otherwise a TURN server relays. */
    stunSuccessProbability: z.number().min(0).max(1),
    /** Time the TURN server takes to relay one message. */
    turnRelayUs: nonNegative,
    /** Reliable (retransmitting) data channel, or unreliable (lost messages stay lost). */
    reliable: onOff,
    /** ICE consent-freshness check interval (RFC 7675: 5 s). */
    consentIntervalS: positive.max(600),
  }),
  /** Mobile radio model for the battery estimate, or none. */
  radio: z.enum(['none', 'wifi', 'lte', '3g']),
  drops: z.strictObject({
    /** Mean time between connection drops per client (exponential); 0 = never. */
    meanTimeBetweenDropsS: nonNegative.max(86_400),
    /** clean: the peer sees the close at once; silent: it must be detected (dead peer). */
    kind: z.enum(['clean', 'silent']),
  }),
});

export const protocolsWorkloadSchema = z.strictObject({
  protocol: z.enum([...PROTOCOLS, 'all']),
  ratePerChannelPerSec: positive.max(10_000),
  payloadBytes: distSchema,
  /** Share of updates published by a client (chat message) rather than by the server (price tick). */
  clientOriginShare: z.number().min(0).max(1),
});

export const FAULT_KINDS = [
  'server-crash',
  'broker-down',
  'lb-down',
  'mass-disconnect',
  'graceful-shutdown',
  'scale-out',
  'partition',
  'slow-link',
  // Heals, for faults left open (forS 0) — what a click on a failed node does.
  'server-restart',
  'broker-up',
  'lb-up',
  'partition-heal',
] as const;

/** A group of nodes a partition cuts apart. */
export const GROUP_PATTERN = /^(source|broker|servers|users|server:\d{1,4}|users:\d|region:\d)$/;
const GROUP_MESSAGE =
  'must be source, broker, servers, server:N, users, users:R (users of region R) or region:R';

/** One scheduled fault: what, when, to which target, for how long. */
export const faultSchema = z.strictObject({
  kind: z.enum(FAULT_KINDS),
  /** When it happens; a fault injected by click happens at the current time whatever this says. */
  atS: nonNegative.default(0),
  /** Server index for server faults and for a broker ↔ server partition; ignored otherwise. */
  target: z.number().int().min(0).max(10_000).default(0),
  /** Down time before recovery (restart, broker up, LB up); 0 = stays down. */
  forS: nonNegative.default(0),
  /** Server crash: whether the restarted server lost its in-memory state (history, offsets). */
  loseState: z.boolean().default(true),
  /** Mass disconnect: share of all connections dropped at once. */
  share: z.number().min(0).max(1).default(1),
  /** slow-link: extra one-way delay and loss on the links between a server and its users. */
  extraLatencyMs: nonNegative.max(10_000).default(0),
  lossProbability: z.number().min(0).max(0.5).default(0),
  /** slow-link: a bandwidth cap shared by the server's user links (0 = no cap). */
  bandwidthMbps: nonNegative.max(100_000).default(0),
  /**
   * partition: the two groups cut apart (`source`, `broker`, `servers`, `server:N`, `users`,
   * `users:R` for the users of region R, `region:R` for everything in region R). Without them a
   * partition cuts the broker from server `target`.
   */
  from: z.string().regex(GROUP_PATTERN, GROUP_MESSAGE).optional(),
  to: z.string().regex(GROUP_PATTERN, GROUP_MESSAGE).optional(),
  /** partition: cut only what goes from `from` to `to`; the other direction still flows. */
  oneWay: z.boolean().default(false),
});

/** Hop 2 and the server fleet: brokers, load balancing, connection lifecycle, delivery, faults. */
export const clusterTopologySchema = z.strictObject({
  users: z.number().int().min(1).max(200_000),
  servers: z.number().int().min(1).max(500),
  channels: z.number().int().min(1).max(100_000),
  sources: z.number().int().min(1).max(64),
  /** Regions: server s sits in region s mod regions, user u lives in region u mod regions, the
   * broker in region 0; users connect to their own region while it has a healthy server. */
  regions: z.number().int().min(1).max(6),
  /** One-way delay between two regions. */
  interRegionMs: nonNegative.max(1_000),
  broker: z.strictObject({
    kind: z.enum(['direct', 'redis', 'kafka']),
    /** Broker processing and network delay, one way. */
    latencyMs: nonNegative.max(10_000),
    /** Direct: each server polls the data source this often. */
    pollIntervalMs: positive.max(600_000),
    /** Redis: a subscriber whose backlog exceeds this is disconnected (client-output-buffer-limit). */
    outputBufferKB: positive,
    /** Kafka: partitions, replication factor, producer linger, consumer commit interval, retention. */
    partitions: z.number().int().min(1).max(10_000),
    replicationFactor: z.number().int().min(1).max(5),
    lingerMs: nonNegative.max(10_000),
    acks: z.enum(['0', '1', 'all']),
    commitIntervalMs: positive.max(600_000),
    retentionS: positive.max(30 * 86_400),
    /**
     * Kafka consumers: every server its own group (each reads every partition), or one group of
     * all servers that splits the partitions (each record read once, relayed to the other servers).
     */
    consumers: z.enum(['broadcast', 'group']).default('broadcast'),
    /** Group: a member that stops heartbeating is removed after this; its partitions move. */
    sessionTimeoutS: positive.max(600).default(10),
    /** Group: how long a rebalance stops consumption (eager protocol: every partition revoked). */
    rebalanceMs: nonNegative.max(600_000).default(3_000),
    /**
     * Idempotent producer: the broker drops a retried record it already has (same producer id and
     * sequence). Off, a retry after a lost acknowledgement writes the record twice.
     */
    idempotentProducer: z.enum(['on', 'off']).default('on'),
  }),
  loadBalancer: z.strictObject({
    strategy: z.enum(['round-robin', 'least-connections', 'ip-hash', 'cookie', 'consistent-hash']),
    /** Users behind one public address (NAT): ip-hash sends them all to one server. */
    usersPerIp: z.number().int().min(1).max(100_000),
    virtualNodes: z.number().int().min(1).max(1_000),
    healthCheckIntervalS: positive.max(600),
    unhealthyThreshold: z.number().int().min(1).max(20),
  }),
  server: z.strictObject({
    maxConnections: z.number().int().min(1).max(10_000_000),
    /** New connections the whole fleet accepts per second (TLS + auth), split evenly. */
    acceptPerSec: positive.max(10_000_000),
    /** A connection attempt waiting longer than this in the accept queue fails. */
    acceptTimeoutMs: positive.max(600_000),
    cpuPerSendUs: nonNegative,
    cores: z.number().int().min(1).max(256),
    restartS: nonNegative.max(3_600),
    /** Graceful shutdown: how long the server drains before it force-closes. */
    drainS: nonNegative.max(600),
    /** Autoscaler: add a server when the mean connections per live server pass the target. */
    autoscale: z.strictObject({
      enabled: z.enum(['on', 'off']),
      targetConnections: z.number().int().min(1).max(10_000_000),
      /** Time a new server takes to boot before the balancer can use it. */
      bootS: nonNegative.max(3_600),
      maxServers: z.number().int().min(1).max(500),
    }),
  }),
  network: z.strictObject({
    rttMs: positive.max(5_000),
    jitterShare: z.number().min(0).max(1),
  }),
  connection: z.strictObject({
    heartbeatS: positive.max(3_600),
    timeoutS: positive.max(7_200),
    backoffBaseS: positive.max(600),
    backoffCapS: positive.max(3_600),
    /** none: 1, 2, 4 … s exactly; full: uniform in [0, backoff]; equal: backoff/2 + uniform half; guide: + 0–1000 ms. */
    jitter: z.enum(['none', 'full', 'equal', 'guide']),
  }),
  delivery: z.strictObject({
    guarantee: z.enum(['at-most-once', 'at-least-once', 'exactly-once']),
    ackTimeoutMs: positive.max(600_000),
    /** Where replayable history lives: nowhere, in each server's memory, or in the broker. */
    history: z.enum(['none', 'server', 'broker']),
    /** Resume is possible for gaps younger than this (Socket.IO, Centrifugo: 2 minutes). */
    recoveryWindowS: nonNegative.max(86_400),
    /** Deliveries older than this when they arrive count as stale. */
    staleAfterS: positive.max(86_400),
    /**
     * Users who are away (the app closed) get what they missed on return by the resume rules, or
     * from a per-user mailbox that keeps the newest `mailboxLimit` updates for `mailboxTtlS`.
     */
    offline: z.enum(['resume', 'mailbox']).default('resume'),
    mailboxLimit: z.number().int().min(1).max(1_000_000).default(100),
    mailboxTtlS: positive.max(90 * 86_400).default(30 * 86_400),
    /** Share of users who go away once during the run, and their mean time away. */
    awayShare: z.number().min(0).max(1).default(0),
    awayMeanS: positive.max(86_400).default(120),
  }),
  faults: z.array(faultSchema).max(1_000),
  /** Update shaping on the delivery path; without it payloads are `workload.payloadBytes`. */
  shaping: shapingSchema.optional(),
  /**
   * A case-study application in place of the source (`src/sim/apps/`): it publishes the messages
   * and hears of applies, acks and absences on the fleet (WhatsApp).
   */
  app: clusterAppSchema.optional(),
});

export const clusterWorkloadSchema = z.strictObject({
  ratePerChannelPerSec: positive.max(10_000),
  payloadBytes: distSchema,
});

export const twoHopScenarioSchema = z.strictObject({
  ...scenarioBase,
  model: z.literal('two-hop'),
  topology: twoHopTopologySchema,
  workload: twoHopWorkloadSchema,
});

export const protocolsScenarioSchema = z.strictObject({
  ...scenarioBase,
  model: z.literal('protocols'),
  topology: protocolsTopologySchema,
  workload: protocolsWorkloadSchema,
});

export const clusterScenarioSchema = z.strictObject({
  ...scenarioBase,
  model: z.literal('cluster'),
  topology: clusterTopologySchema,
  workload: clusterWorkloadSchema,
});

export const scenarioSchema = z.discriminatedUnion('model', [
  twoHopScenarioSchema,
  protocolsScenarioSchema,
  clusterScenarioSchema,
  fanoutScenarioSchema,
]);

export type DistSpec = z.infer<typeof distSchema>;
export type LinkSpec = z.infer<typeof linkSchema>;
export type TwoHopTopology = z.infer<typeof twoHopTopologySchema>;
export type TwoHopWorkload = z.infer<typeof twoHopWorkloadSchema>;
export type ProtocolsTopology = z.infer<typeof protocolsTopologySchema>;
export type ProtocolsWorkload = z.infer<typeof protocolsWorkloadSchema>;
export type ScenarioFile = z.input<typeof scenarioSchema>;
export type Scenario = z.infer<typeof scenarioSchema>;
export type TwoHopScenario = z.infer<typeof twoHopScenarioSchema>;
export type ProtocolsScenario = z.infer<typeof protocolsScenarioSchema>;
export type ClusterScenario = z.infer<typeof clusterScenarioSchema>;
export type ClusterTopology = z.infer<typeof clusterTopologySchema>;
export type Fault = z.infer<typeof faultSchema>;
type ParameterDecl = z.infer<typeof parameterSchema>;

/** A parameter as the UI and CLI see it: the declaration plus its default, read from `path`. */
export type Parameter = ParameterDecl & { default: number | string };
export type NumberParameter = Extract<Parameter, { kind: 'number' }>;
