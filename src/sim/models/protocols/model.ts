// Hop 1 as a choice of protocol: polling, long polling, SSE, WebSocket or WebRTC, by their mechanics.
import type { RunSpec } from '../../../scenario/resolve.ts';
import type { Protocol, ProtocolsScenario } from '../../../scenario/schema.ts';
import { ScenarioError } from '../../../scenario/errors.ts';
import { CpuPool } from '../../cpu.ts';
import { sampler, type Sampler } from '../../dist.ts';
import { LatencyHistogram } from '../../histogram.ts';
import { PendingDeliveries } from '../../pending.ts';
import { EventModel, KIND_BITS } from '../../engine.ts';
import { Rng } from '../../rng.ts';
import { sampleIntervalUs, SeriesRecorder } from '../../series.ts';
import type { Simulation } from '../../simulation.ts';
import { TRACE_HOP1, TRACE_HOP2, TRACE_PUBLISH } from '../../trace.ts';
import type {
  FlowCounts,
  LinkStats,
  ProtocolStats,
  RunResult,
  ServerStats,
  Snapshot,
  Topology,
} from '../../types.ts';
import type { DeliveryRecord } from '../../checkers/sequence.ts';
import { Geometry, pairHash } from './geometry.ts';
import { RADIO_PROFILES, Radios } from './radio.ts';
import * as wire from './wire.ts';

// Event kinds in the low bits of word0; the rest of word0 is a channel or client index.
const EV_PUBLISH = 0; // arg: channel
const EV_AT_SERVER = 1; // word1: message
const EV_REQUEST = 2; // arg: client — sends a poll or long-poll request
const EV_REQ_AT_SERVER = 3; // arg: client
const EV_LP_TIMEOUT = 4; // arg: client; word1: request generation
const EV_CONNECT = 5; // arg: client — opens (or reopens) its stream / socket / signaling
const EV_OPEN = 6; // arg: client — the server accepts it
const EV_DROP = 7; // arg: client — its network drops the connection
const EV_PING = 8; // arg: client; word1: connection generation — heartbeat or ICE consent
const EV_DETECT = 9; // arg: client; word1: generation — the client notices a dead connection
const EV_SAMPLE = 10;

/** Clients start within this window, so a run does not begin with every handshake at once. */
const START_SPREAD_US = 1_000_000;
/** A long-poll client gives up on a request this long after the hold time (it assumes it died). */
const LONG_POLL_GRACE_US = 5_000_000;
/** A WebRTC mesh beyond this many peers is not a mesh anyone runs; it needs an SFU. */
export const MESH_MAX_PEERS = 64;
const TRACED_MESSAGES_PER_SEC = 25;

// Trace node indexes.
const NODE_SOURCE = 0;
const NODE_SERVER = 1;
const NODE_CLIENTS = 2;
const NODE_TURN = 3;
const NODE_IDS = ['source', 'server', 'clients', 'turn'];

const NEVER = Infinity;

export class ProtocolSimulation extends EventModel implements Simulation {
  readonly durationUs: number;
  readonly protocol: Protocol;
  private readonly sc: ProtocolsScenario;
  private readonly pending = new PendingDeliveries();
  private readonly series: SeriesRecorder;
  private readonly geo: Geometry;
  private readonly radios: Radios;
  private readonly cpu: CpuPool;
  private readonly netRng: Rng;
  private readonly sourceRng: Rng;
  private readonly dropRng: Rng;
  private readonly payloadBytes: Sampler;

  private readonly e2eHist = new LatencyHistogram();
  private readonly downHist = new LatencyHistogram();
  private readonly upHist = new LatencyHistogram();
  private readonly intervalHist = new LatencyHistogram();
  private readonly setupHist = new LatencyHistogram();
  private readonly detectHist = new LatencyHistogram();

  // Shape of the population.
  private readonly n: number;
  private readonly channels: number;
  private readonly groupSize: number;
  /** SSE: tabs per client that get a stream, tabs that cannot (HTTP/1.1), connections per client. */
  private readonly activeStreams: number;
  private readonly blockedPerUpdate: number;
  private readonly connsPerClient: number;
  private readonly upstreamBlocked: boolean;
  private readonly traceEvery: number;

  // Per client (typed arrays, index = client).
  private readonly subscribed: Uint8Array;
  private readonly connected: Uint8Array;
  private readonly gen: Int32Array;
  /** Highest sequence number handed to the client (server cursor) and the highest that arrived. */
  private readonly sent: Int32Array;
  private readonly good: Int32Array;
  private readonly seen: Int32Array;
  private readonly waiting: Int32Array;
  private readonly requestSentUs: Float64Array;
  private readonly nextDropUs: Float64Array;
  private readonly lastDownUs: Float64Array;
  private readonly lastUpUs: Float64Array;
  private readonly lastHeardUs: Float64Array;
  private readonly lastPongUs: Float64Array;
  private readonly connectStartUs: Float64Array;
  private readonly readyUs: Float64Array;
  private readonly keepAliveOpen: Uint8Array;
  /** Handshakes a client has done whose server CPU is not charged yet. */
  private readonly handshakes: Uint8Array;
  /** When a silent drop killed the current connection (-1 while it is alive). */
  private readonly diedAtUs: Float64Array;
  /** WebRTC: last arrival per (receiver, sender's place in the group), for per-pair order. */
  private readonly pairLastUs: Float64Array;

  // Channels and messages.
  private readonly latestSeq: Int32Array;
  private readonly logs: number[][];
  /** When each message reached the server (model-specific; grows with the message table). */
  private msgAtServerUs = new Float64Array(1024);

  /** Every delivery, when a checker asked for them (tests); null otherwise. */
  private deliveryLog: DeliveryRecord[] | null = null;
  private readonly firstOwed: Int32Array;
  private replaying = false;

  // Counters.
  private owedOpen = 0;
  private flow: FlowCounts = {
    produced: 0,
    fanout: 0,
    delivered: 0,
    dropped: 0,
    duplicated: 0,
    outOfOrder: 0,
    inFlight: 0,
  };
  private requests = 0;
  private emptyResponses = 0;
  private upBytes = 0;
  private downBytes = 0;
  private relayBytes = 0;
  private relayedPairs = 0;
  private pairsSeen = 0;
  private upstreamFailed = 0;
  private recovered = 0;
  private blockedStreams = 0;
  private openConns = 0;
  private peakConns = 0;
  private upMessages = 0;
  private downMessages = 0;

  constructor(run: RunSpec, sc: ProtocolsScenario, protocol?: Protocol) {
    super(run);
    this.sc = sc;
    const chosen = protocol ?? sc.workload.protocol;
    if (chosen === 'all')
      throw new ScenarioError(
        'protocol',
        'one simulation runs one protocol; compare runs all five',
      );
    this.protocol = chosen;
    const t = sc.topology;
    this.durationUs = Math.round(sc.durationS * 1e6);
    this.n = t.clients;
    this.channels = Math.min(t.channels, t.clients);
    this.groupSize = Math.ceil(this.n / this.channels);
    if (chosen === 'webrtc' && sc.workload.clientOriginShare > 0 && this.groupSize > MESH_MAX_PEERS)
      throw new ScenarioError(
        'channels',
        `a WebRTC mesh of ${this.groupSize} peers (clients ÷ channels) exceeds ${MESH_MAX_PEERS}; raise channels or set the client-origin share to 0`,
      );
    const root = new Rng(run.seed);
    this.geo = new Geometry(
      this.n,
      this.channels,
      t.network.rttMs,
      t.network.accessShare,
      t.network.jitterShare,
      root.fork('geometry'),
    );
    this.radios = new Radios(this.n, t.radio === 'none' ? undefined : RADIO_PROFILES[t.radio]);
    this.cpu = new CpuPool(t.server.cores);
    this.netRng = root.fork('network');
    this.sourceRng = root.fork('source');
    this.dropRng = root.fork('drops');
    this.payloadBytes = sampler(sc.workload.payloadBytes, root.fork('payload'));
    this.series = new SeriesRecorder(
      sampleIntervalUs(sc.sampleIntervalMs, this.durationUs),
      this.durationUs,
      1,
    );

    const tabs = t.http.tabsPerClient;
    const http2 = t.http.http2 === 'on';
    const isSse = chosen === 'sse';
    this.activeStreams = isSse
      ? http2
        ? tabs
        : Math.min(tabs, wire.HTTP1_CONNECTIONS_PER_ORIGIN)
      : 1;
    this.blockedPerUpdate = isSse ? tabs - this.activeStreams : 0;
    this.connsPerClient = isSse && !http2 ? this.activeStreams : 1;
    this.upstreamBlocked = isSse && !http2 && tabs >= wire.HTTP1_CONNECTIONS_PER_ORIGIN;
    const publishesPerSec = sc.workload.ratePerChannelPerSec * this.channels;
    this.traceEvery = Math.max(1, Math.round(publishesPerSec / TRACED_MESSAGES_PER_SEC));

    const n = this.n;
    this.subscribed = new Uint8Array(n);
    this.firstOwed = new Int32Array(n).fill(-1);
    this.connected = new Uint8Array(n);
    this.gen = new Int32Array(n);
    this.sent = new Int32Array(n).fill(-1);
    this.good = new Int32Array(n).fill(-1);
    this.seen = new Int32Array(n).fill(-1);
    this.waiting = new Int32Array(n).fill(-1);
    this.requestSentUs = new Float64Array(n);
    this.nextDropUs = new Float64Array(n).fill(NEVER);
    this.lastDownUs = new Float64Array(n);
    this.lastUpUs = new Float64Array(n);
    this.lastHeardUs = new Float64Array(n);
    this.lastPongUs = new Float64Array(n);
    this.connectStartUs = new Float64Array(n);
    this.readyUs = new Float64Array(n).fill(NEVER);
    this.keepAliveOpen = new Uint8Array(n);
    this.handshakes = new Uint8Array(n);
    this.diedAtUs = new Float64Array(n).fill(-1);
    this.pairLastUs = new Float64Array(chosen === 'webrtc' ? n * this.groupSize : 0);
    this.latestSeq = new Int32Array(this.channels);
    this.logs = Array.from({ length: this.channels }, () => []);

    this.start();
  }

  /** Starts recording every delivery for checkers (tests); returns the live list. */
  /**
   * Per client: the channel sequence number of the first update it was owed (-1: none yet). The
   * bridge has its real clients start from there, so real and simulated owe the same updates.
   */
  firstOwedSeq(): Int32Array {
    return this.firstOwed.slice();
  }

  recordDeliveries(): DeliveryRecord[] {
    this.deliveryLog = [];
    return this.deliveryLog;
  }

  /** The disc's radius, µs: the longest client–server distance (for latency bounds in tests). */
  get radiusUs(): number {
    return this.geo.radiusUs;
  }

  // ---- Set-up and the event loop.

  private start(): void {
    const startRng = this.sourceRng.fork('start');
    const pull = this.protocol === 'polling' || this.protocol === 'long-polling';
    for (let i = 0; i < this.n; i++) {
      const at = Math.round(startRng.float() * START_SPREAD_US);
      this.queue.push(at, (i << KIND_BITS) | (pull ? EV_REQUEST : EV_CONNECT), 0);
    }
    const meanGapUs = 1e6 / this.sc.workload.ratePerChannelPerSec;
    for (let c = 0; c < this.channels; c++) this.schedulePublish(c, 0, meanGapUs);
    const mtbd = this.sc.topology.drops.meanTimeBetweenDropsS;
    if (mtbd > 0 && this.protocol !== 'polling')
      for (let i = 0; i < this.n; i++) this.scheduleDrop(i, 0);
    this.queue.push(Math.min(this.series.intervalUs, this.durationUs), EV_SAMPLE, 0);
  }

  private schedulePublish(c: number, now: number, meanGapUs: number): void {
    const at = Math.max(
      now + 1,
      Math.round(now - meanGapUs * Math.log(1 - this.sourceRng.float())),
    );
    if (at <= this.durationUs) this.queue.push(at, (c << KIND_BITS) | EV_PUBLISH, 0);
  }

  /** Drops are a Poisson process per client, independent of what the connection is doing. */
  private scheduleDrop(i: number, now: number): void {
    const meanUs = this.sc.topology.drops.meanTimeBetweenDropsS * 1e6;
    const at = Math.max(now + 1, Math.round(now - meanUs * Math.log(1 - this.dropRng.float())));
    this.nextDropUs[i] = at;
    if (at <= this.durationUs) this.queue.push(at, (i << KIND_BITS) | EV_DROP, 0);
  }

  protected nodeIds(): readonly string[] {
    return NODE_IDS;
  }

  protected handle(kind: number, arg: number, w1: number, now: number): void {
    switch (kind) {
      case EV_PUBLISH:
        return this.onPublish(now, arg);
      case EV_AT_SERVER:
        return this.onAtServer(now, w1);
      case EV_REQUEST:
        return this.onRequest(now, arg);
      case EV_REQ_AT_SERVER:
        return this.onRequestAtServer(now, arg, w1);
      case EV_LP_TIMEOUT:
        if (this.waiting[arg] === w1) this.respond(now, arg);
        return;
      case EV_CONNECT:
        return this.onConnect(now, arg);
      case EV_OPEN:
        return this.onOpen(now, arg, w1);
      case EV_DROP:
        return this.onDrop(now, arg);
      case EV_PING:
        return this.onPing(now, arg, w1);
      case EV_DETECT:
        return this.onDetect(now, arg, w1);
      case EV_SAMPLE:
        return this.onSample(now);
    }
  }

  // ---- The network: one-way trips over each client's connection.

  /** Extra delay from losses: TCP (and reliable SCTP) resends after the RTO. -1 = lost for good. */
  private lossUs(reliable: boolean): number {
    const p = this.sc.topology.network.lossProbability;
    let extra = 0;
    while (p > 0 && this.netRng.float() < p) {
      if (!reliable) return -1;
      extra += this.sc.topology.network.rtoMs * 1000;
    }
    return extra;
  }

  /** Like lossUs, keyed by (message, receiver) for the peer-to-peer mesh. */
  private keyedLossUs(id: number, j: number): number {
    const net = this.sc.topology.network;
    const reliable = this.sc.topology.webrtc.reliable === 'on';
    let extra = 0;
    for (let k = 0; k < 64; k++) {
      if (pairHash(this.run.seed ^ (0x27d4eb2d + k), id, j) >= net.lossProbability) return extra;
      if (!reliable) return -1;
      extra += net.rtoMs * 1000;
    }
    return extra;
  }

  /** Server → client i, sent at sendUs: FIFO on the connection, radio wake-up at the client. */
  private down(i: number, sendUs: number, bytes: number): number {
    const reach = sendUs + this.geo.serverPathUs(i) + this.geo.noiseUs() + this.lossUs(true);
    let arrival = reach + this.radios.touch(i, reach);
    if (arrival < this.lastDownUs[i]) arrival = this.lastDownUs[i];
    arrival = Math.round(arrival);
    this.lastDownUs[i] = arrival;
    this.downBytes += bytes;
    this.downMessages++;
    return arrival;
  }

  /** Client i → server, sent at sendUs: the radio must be up first. */
  private up(i: number, sendUs: number, bytes: number): number {
    const start = sendUs + this.radios.touch(i, sendUs);
    let arrival = start + this.geo.serverPathUs(i) + this.geo.noiseUs() + this.lossUs(true);
    if (arrival < this.lastUpUs[i]) arrival = this.lastUpUs[i];
    arrival = Math.round(arrival);
    this.lastUpUs[i] = arrival;
    this.upBytes += bytes;
    this.upMessages++;
    return arrival;
  }

  /** A TCP (+TLS) handshake from client i starting at t; returns when the client may send. */
  private handshake(i: number, t: number): number {
    const rounds = 1 + this.sc.topology.http.tlsRoundTrips;
    for (let r = 0; r < rounds; r++) t = this.down(i, this.up(i, t, 80), 80);
    this.upBytes += wire.TCP_HANDSHAKE_BYTES / 2;
    this.downBytes += wire.TCP_HANDSHAKE_BYTES / 2 + (rounds > 1 ? wire.TLS_HANDSHAKE_BYTES : 0);
    // The server's handshake CPU is charged when the request reaches it (serverWork), because
    // cores are FIFO queues and may only take work at the current simulated time.
    this.handshakes[i]++;
    return t;
  }

  /** CPU for a request arriving now, including the handshakes the client did to send it. */
  private serverWork(now: number, i: number, costUs: number): number {
    const hs = this.handshakes[i];
    this.handshakes[i] = 0;
    return this.cpu.run(now, costUs + hs * this.sc.topology.server.cpuPerHandshakeUs);
  }

  /** Whether a message reaching client i at `arrival` is lost: its connection is dead or dies first. */
  private lost(i: number, arrival: number): boolean {
    return this.diedAtUs[i] >= 0 || arrival >= this.nextDropUs[i];
  }

  private connOpened(count: number): void {
    this.openConns += count;
    if (this.openConns > this.peakConns) this.peakConns = this.openConns;
  }

  // ---- Updates: published at the server or by a client, then owed to the channel's members.

  private onPublish(now: number, c: number): void {
    const w = this.sc.workload;
    this.schedulePublish(c, now, 1e6 / w.ratePerChannelPerSec);
    const id = this.newMessage(now, c);
    this.flow.produced++;
    const fromClient = this.sourceRng.float() < w.clientOriginShare;
    if (!fromClient) {
      this.queue.push(now, EV_AT_SERVER, id);
      if (this.traced(id))
        this.trace.write(TRACE_PUBLISH, now, now, NODE_SOURCE, NODE_SERVER, id, -1);
      return;
    }
    const origin = c + this.channels * Math.floor(this.sourceRng.float() * this.groupCount(c));
    this.msgs.origin[id] = origin;
    if (this.protocol === 'webrtc') return this.meshSend(now, id, origin);
    const arrival = this.upstream(now, origin, this.msgs.bytes[id]);
    if (arrival < 0) {
      this.upstreamFailed++;
      return;
    }
    this.upHist.record(arrival - now);
    this.msgAtServerUs[id] = -1;
    this.queue.push(arrival, EV_AT_SERVER, id);
    if (this.traced(id))
      this.trace.write(TRACE_HOP2, now, arrival, NODE_CLIENTS, NODE_SERVER, id, origin);
  }

  /** Members of channel c are c, c + channels, c + 2·channels, … */
  private groupCount(c: number): number {
    return Math.floor((this.n - 1 - c) / this.channels) + 1;
  }

  /** Sends a client's update towards the server; returns when it arrives there, or -1. */
  private upstream(now: number, i: number, payload: number): number {
    if (this.protocol === 'websocket') {
      if (!this.connected[i] || this.lost(i, now)) return -1;
      return this.up(i, now, wire.wsFrameBytes(payload, true) + wire.TCP_TLS_OVERHEAD);
    }
    // Polling, long polling and SSE send a separate HTTP POST.
    if (this.upstreamBlocked) return -1;
    this.requests++;
    const http = this.sc.topology.http;
    const t = http.keepAlive === 'on' ? now : this.handshake(i, now);
    return this.up(i, t, http.requestHeaderBytes + payload + wire.TCP_TLS_OVERHEAD);
  }

  /** The server takes a client's update off the wire (and answers a POST with 204). */
  private acceptUpstream(now: number, i: number): number {
    const server = this.sc.topology.server;
    if (this.protocol === 'websocket') return Math.round(this.cpu.run(now, server.cpuPerPushUs));
    const done = this.serverWork(now, i, server.cpuPerRequestUs);
    this.down(i, done, this.sc.topology.http.responseHeaderBytes + wire.TCP_TLS_OVERHEAD);
    return Math.round(done);
  }

  private onAtServer(now: number, id: number): void {
    const origin = this.msgs.origin[id];
    if (origin >= 0 && this.msgAtServerUs[id] < 0) {
      // A client's update has just arrived: it is stored once the server has processed it.
      this.msgAtServerUs[id] = 0;
      this.queue.push(this.acceptUpstream(now, origin), EV_AT_SERVER, id);
      return;
    }
    const c = this.msgs.channel[id];
    this.msgs.seq[id] = this.latestSeq[c]++;
    this.msgAtServerUs[id] = now;
    this.logs[c].push(id);
    const perClient = this.activeStreams + this.blockedPerUpdate;
    for (let j = c; j < this.n; j += this.channels) {
      if (!this.subscribed[j]) continue;
      if (this.firstOwed[j] < 0) this.firstOwed[j] = this.msgs.seq[id];
      this.flow.fanout += perClient;
      this.owedOpen += perClient;
    }
    switch (this.protocol) {
      case 'polling':
        return;
      case 'long-polling':
        for (let j = c; j < this.n; j += this.channels)
          if (this.waiting[j] >= 0) this.respond(now, j);
        return;
      default:
        for (let j = c; j < this.n; j += this.channels)
          if (this.connected[j]) this.push(now, j, id, false);
    }
  }

  // ---- Deliveries.

  /** One message reaches client i at `arrival` (or is lost in a drop): counted, ordered, traced. */
  private deliver(i: number, id: number, arrival: number, startUs: number, copies: number): void {
    const created = this.msgs.createdUs[id];
    for (let k = 0; k < copies; k++)
      this.pending.add(arrival, arrival - created, arrival - startUs);
    this.owedOpen -= copies;
    const seq = this.msgs.seq[id];
    const seen = this.seen[i];
    if (seq === seen) this.flow.duplicated += copies;
    else if (seq < seen) this.flow.outOfOrder += copies;
    else this.seen[i] = seq;
    if (arrival > this.lastHeardUs[i]) this.lastHeardUs[i] = arrival;
    this.deliveryLog?.push({
      message: id,
      client: i,
      channel: this.msgs.channel[id],
      seq,
      createdUs: created,
      arrivalUs: arrival,
      recovered: this.replaying,
    });
    this.hasher.add(i);
    this.hasher.add(arrival);
    if (this.traced(id) && i % 97 === 0)
      this.trace.write(TRACE_HOP1, startUs, arrival, NODE_SERVER, NODE_CLIENTS, id, i);
  }

  private dropOwed(i: number, count: number): void {
    this.flow.dropped += count;
    this.owedOpen -= count;
    this.hasher.add(i);
  }

  /** SSE, WebSocket and WebRTC's server channel: write one message to client i's open connection. */
  private push(now: number, i: number, id: number, replay: boolean): void {
    const server = this.sc.topology.server;
    let send = this.cpu.run(now, server.cpuPerPushUs);
    if (this.protocol === 'webrtc' && send < this.readyUs[i]) send = this.readyUs[i];
    const payload = this.msgs.bytes[id];
    const bytes =
      this.protocol === 'sse'
        ? (payload + wire.SSE_EVENT_FRAMING + wire.TCP_TLS_OVERHEAD) * this.activeStreams
        : this.protocol === 'websocket'
          ? wire.wsFrameBytes(payload, false) + wire.TCP_TLS_OVERHEAD
          : payload + wire.WEBRTC_OVERHEAD;
    const seq = this.msgs.seq[id];
    this.sent[i] = seq;
    if (this.blockedPerUpdate > 0 && !replay) {
      this.blockedStreams += this.blockedPerUpdate;
      this.dropOwed(i, this.blockedPerUpdate);
    }
    if (this.protocol === 'webrtc' && this.sc.topology.webrtc.reliable === 'off') {
      const loss = this.lossUs(false);
      if (loss < 0) {
        this.downBytes += bytes;
        this.good[i] = seq;
        return this.dropOwed(i, 1);
      }
    }
    const arrival = this.down(i, send, bytes);
    // A drop before arrival loses the message; the gap is replayed or dropped at reconnect.
    if (this.lost(i, arrival)) return;
    this.good[i] = seq;
    if (replay) this.recovered += this.activeStreams;
    this.deliver(i, id, arrival, this.msgAtServerUs[id], this.activeStreams);
  }

  /** WebRTC: the origin sends its update straight to every peer of its group (a mesh). */
  private meshSend(now: number, id: number, origin: number): void {
    if (!this.subscribed[origin] || now < this.readyUs[origin]) {
      this.upstreamFailed++;
      return;
    }
    const c = this.msgs.channel[id];
    this.msgs.seq[id] = this.latestSeq[c]++;
    this.msgAtServerUs[id] = now;
    this.logs[c].push(id);
    const stun = this.sc.topology.webrtc.stunSuccessProbability;
    const relayUs = this.sc.topology.webrtc.turnRelayUs;
    const bytes = this.msgs.bytes[id] + wire.WEBRTC_OVERHEAD;
    const send = now + this.radios.touch(origin, now);
    const originSlot = Math.floor(origin / this.channels);
    for (let j = c; j < this.n; j += this.channels) {
      if (j === origin || !this.subscribed[j]) continue;
      this.flow.fanout++;
      this.owedOpen++;
      this.upBytes += bytes;
      const start = send > this.readyUs[j] ? send : this.readyUs[j];
      if (start === NEVER) {
        this.dropOwed(j, 1);
        continue;
      }
      const relayed = pairHash(this.run.seed, Math.min(origin, j), Math.max(origin, j)) >= stun;
      // Noise and loss are keyed by (message, receiver), not drawn from a stream, so they are the
      // same whichever path the pair takes and however many other sends were skipped.
      const noiseUs = this.geo.noiseFromUniform(pairHash(this.run.seed ^ 0x5bd1e995, id, j));
      const loss = this.keyedLossUs(id, j);
      if (loss < 0) {
        this.dropOwed(j, 1);
        continue;
      }
      const pathUs = relayed
        ? this.geo.relayPathUs(origin, j) + relayUs
        : this.geo.peerPathUs(origin, j);
      if (relayed) this.relayBytes += 2 * bytes;
      const reach = start + pathUs + noiseUs + loss;
      let arrival = reach + this.radios.touch(j, reach);
      // Each peer pair is one ordered SCTP stream: no overtaking within the pair.
      const slot = j * this.groupSize + originSlot;
      if (arrival < this.pairLastUs[slot]) arrival = this.pairLastUs[slot];
      arrival = Math.round(arrival);
      this.pairLastUs[slot] = arrival;
      this.downBytes += bytes;
      this.downMessages++;
      if (this.lost(j, arrival)) {
        this.dropOwed(j, 1);
        continue;
      }
      this.upHist.record(arrival - now);
      this.deliver(j, id, arrival, now, 1);
      if (this.traced(id) && j % 7 === 0) {
        // Peer to peer, or through the TURN relay (two legs) when ICE found no direct path.
        if (relayed) {
          const mid = Math.round((start + arrival) / 2);
          this.trace.write(TRACE_HOP2, start, mid, NODE_CLIENTS, NODE_TURN, id, origin);
          this.trace.write(TRACE_HOP1, mid, arrival, NODE_TURN, NODE_CLIENTS, id, j);
        } else {
          this.trace.write(TRACE_HOP1, start, arrival, NODE_CLIENTS, NODE_CLIENTS, id, j);
        }
      }
    }
  }

  // ---- Polling and long polling: the client asks, the server answers.

  private onRequest(now: number, i: number): void {
    const http = this.sc.topology.http;
    this.requests++;
    let t = now;
    if (http.keepAlive === 'off' || !this.keepAliveOpen[i]) {
      t = this.handshake(i, now);
      if (http.keepAlive === 'on') {
        this.keepAliveOpen[i] = 1;
        if (this.protocol === 'polling') this.connOpened(1);
      }
    }
    this.requestSentUs[i] = now;
    this.diedAtUs[i] = -1;
    const arrival = this.up(i, t, http.requestHeaderBytes + wire.TCP_TLS_OVERHEAD);
    // A long-poll request that dies silently is given up after hold + grace.
    if (this.protocol === 'long-polling' && arrival >= this.nextDropUs[i]) {
      this.scheduleGiveUp(i, now);
      return;
    }
    this.gen[i]++;
    this.queue.push(arrival, (i << KIND_BITS) | EV_REQ_AT_SERVER, this.gen[i]);
  }

  private scheduleGiveUp(i: number, sentUs: number): void {
    const at = Math.round(sentUs + this.sc.topology.longPolling.holdS * 1e6 + LONG_POLL_GRACE_US);
    this.gen[i]++;
    if (at <= this.durationUs) this.queue.push(at, (i << KIND_BITS) | EV_DETECT, this.gen[i]);
  }

  private onRequestAtServer(now: number, i: number, g: number): void {
    if (g !== this.gen[i]) return;
    const c = i % this.channels;
    const done = Math.round(this.serverWork(now, i, this.sc.topology.server.cpuPerRequestUs));
    if (!this.subscribed[i]) {
      this.subscribed[i] = 1;
      this.sent[i] = this.good[i] = this.seen[i] = this.latestSeq[c] - 1;
      this.setupHist.record(now - this.requestSentUs[i]);
    }
    if (this.protocol === 'polling') {
      if (this.sc.topology.http.keepAlive === 'off') this.connOpened(1);
      return this.respond(done, i);
    }
    const behind = this.latestSeq[c] - 1 - this.good[i];
    if (behind > 0 && this.sc.topology.longPolling.missed === 'buffer')
      return this.respond(done, i);
    if (behind > 0) {
      // No buffer: what arrived while no request was held is gone.
      this.dropOwed(i, behind);
      this.sent[i] = this.good[i] = this.latestSeq[c] - 1;
    }
    this.waiting[i] = g;
    this.connOpened(1);
    const timeout = Math.round(now + this.sc.topology.longPolling.holdS * 1e6);
    if (timeout <= this.durationUs) this.queue.push(timeout, (i << KIND_BITS) | EV_LP_TIMEOUT, g);
  }

  /** Answers client i's poll or held request with everything after its cursor. */
  private respond(now: number, i: number): void {
    const c = i % this.channels;
    const http = this.sc.topology.http;
    const from = this.good[i] + 1;
    const to = this.latestSeq[c] - 1;
    let body = 0;
    for (let s = from; s <= to; s++) body += this.msgs.bytes[this.logs[c][s]];
    if (from > to) {
      this.emptyResponses++;
      body = wire.EMPTY_BODY_BYTES;
    }
    const send = this.cpu.run(now, this.sc.topology.server.cpuPerPushUs);
    const arrival = this.down(i, send, http.responseHeaderBytes + body + wire.TCP_TLS_OVERHEAD);
    const wasHeld = this.waiting[i] >= 0;
    this.waiting[i] = -1;
    if (wasHeld || (this.protocol === 'polling' && http.keepAlive === 'off')) this.openConns--;
    if (this.protocol === 'long-polling' && this.lost(i, arrival)) {
      // The response dies with the connection; the client's cursor does not move, and it asks
      // again once it gives up (already arranged if the connection is dead).
      if (this.diedAtUs[i] < 0) this.scheduleGiveUp(i, this.requestSentUs[i]);
      return;
    }
    for (let s = from; s <= to; s++) this.deliver(i, this.logs[c][s], arrival, now, 1);
    if (to >= from) this.sent[i] = this.good[i] = to;
    const next =
      this.protocol === 'polling'
        ? Math.round(arrival + this.sc.topology.polling.intervalS * 1e6)
        : arrival;
    if (next <= this.durationUs) this.queue.push(next, (i << KIND_BITS) | EV_REQUEST, 0);
  }

  // ---- SSE, WebSocket and WebRTC: a long-lived connection with drops and reconnects.

  private onConnect(now: number, i: number): void {
    const http = this.sc.topology.http;
    this.requests++;
    this.connectStartUs[i] = now;
    const t = this.handshake(i, now);
    const arrival = this.up(i, t, http.requestHeaderBytes + wire.TCP_TLS_OVERHEAD);
    this.gen[i]++;
    this.queue.push(arrival, (i << KIND_BITS) | EV_OPEN, this.gen[i]);
  }

  private onOpen(now: number, i: number, g: number): void {
    if (g !== this.gen[i]) return;
    const t = this.sc.topology;
    const c = i % this.channels;
    const done = this.serverWork(now, i, t.server.cpuPerRequestUs);
    if (!this.connected[i]) this.connOpened(this.connsPerClient);
    this.connected[i] = 1;
    this.diedAtUs[i] = -1;
    const headers =
      this.protocol === 'sse' ? t.http.responseHeaderBytes : wire.WS_UPGRADE_RESPONSE_BYTES;
    const open = this.down(i, done, headers + wire.TCP_TLS_OVERHEAD);
    this.lastHeardUs[i] = open;
    this.lastPongUs[i] = now;
    if (this.protocol === 'webrtc') this.readyUs[i] = this.negotiate(i, open);
    const readyAt = this.protocol === 'webrtc' ? this.readyUs[i] : open;
    this.setupHist.record(readyAt - this.connectStartUs[i]);
    if (!this.subscribed[i]) {
      this.subscribed[i] = 1;
      this.sent[i] = this.good[i] = this.seen[i] = this.latestSeq[c] - 1;
    } else {
      this.catchUp(now, i);
    }
    const interval =
      this.protocol === 'webrtc' ? t.webrtc.consentIntervalS : t.connection.heartbeatS;
    const ping = Math.round(now + interval * 1e6);
    if (ping <= this.durationUs) this.queue.push(ping, (i << KIND_BITS) | EV_PING, g);
  }

  /** After a reconnect: replay the gap (SSE with Last-Event-ID) or count it lost. */
  private catchUp(now: number, i: number): void {
    const c = i % this.channels;
    const from = this.good[i] + 1;
    const to = this.latestSeq[c] - 1;
    if (to < from) return;
    if (this.protocol === 'sse' && this.sc.topology.sse.resume === 'on') {
      this.replaying = true;
      for (let s = from; s <= to; s++) this.push(now, i, this.logs[c][s], true);
      this.replaying = false;
      return;
    }
    // Blocked tabs were already counted when each update was pushed.
    this.dropOwed(i, (to - from + 1) * this.activeStreams);
    this.sent[i] = this.good[i] = this.seen[i] = to;
  }

  /**
   * WebRTC after signaling connects: a STUN round trip, offer and answer through the signaling
   * server, then ICE checks (1 round trip), DTLS (2) and SCTP (1) on the slowest peer path.
   */
  private negotiate(i: number, openUs: number): number {
    const serverRtt = 2 * this.geo.serverPathUs(i);
    const c = i % this.channels;
    const stun = this.sc.topology.webrtc.stunSuccessProbability;
    let worstPairUs = 2 * this.geo.serverPathUs(i);
    let peers = 0;
    for (let j = c; j < this.n; j += this.channels) {
      if (j === i) continue;
      peers++;
      const relayed = pairHash(this.run.seed, Math.min(i, j), Math.max(i, j)) >= stun;
      if (j > i) {
        this.pairsSeen++;
        if (relayed) this.relayedPairs++;
      }
      const path = relayed ? this.geo.relayPathUs(i, j) : this.geo.peerPathUs(i, j);
      if (2 * path > worstPairUs) worstPairUs = 2 * path;
    }
    this.upBytes += (peers + 1) * (wire.SIGNALING_BYTES_PER_PAIR / 2 + wire.DTLS_SCTP_BYTES / 2);
    this.downBytes += (peers + 1) * (wire.SIGNALING_BYTES_PER_PAIR / 2 + wire.DTLS_SCTP_BYTES / 2);
    return Math.round(openUs + serverRtt + 2 * serverRtt + 4 * worstPairUs);
  }

  private onDrop(now: number, i: number): void {
    this.scheduleDrop(i, now);
    const clean = this.sc.topology.drops.kind === 'clean';
    if (this.protocol === 'long-polling') {
      if (this.waiting[i] < 0) return;
      if (!clean) {
        this.diedAtUs[i] = now;
        return this.scheduleGiveUp(i, this.requestSentUs[i]);
      }
      this.waiting[i] = -1;
      this.openConns--;
      this.gen[i]++;
      this.queue.push(now, (i << KIND_BITS) | EV_REQUEST, 0);
      return;
    }
    if (!this.connected[i] || this.diedAtUs[i] >= 0) return;
    if (this.protocol === 'webrtc') this.readyUs[i] = NEVER;
    if (clean) {
      this.closeAtServer(i);
      this.reconnectLater(now, i);
      return;
    }
    // Nobody is told. The server keeps writing into the void until its heartbeat notices; the
    // client's watchdog gives up once it has heard nothing for timeout + one heartbeat.
    this.diedAtUs[i] = now;
    const c = this.sc.topology.connection;
    const heard = this.lastHeardUs[i] > now ? now : this.lastHeardUs[i];
    const at = Math.round(Math.max(now, heard + (c.timeoutS + c.heartbeatS) * 1e6));
    if (at <= this.durationUs) this.queue.push(at, (i << KIND_BITS) | EV_DETECT, this.gen[i]);
  }

  private closeAtServer(i: number): void {
    if (!this.connected[i]) return;
    this.connected[i] = 0;
    this.openConns -= this.connsPerClient;
  }

  private reconnectLater(now: number, i: number): void {
    const t = this.sc.topology;
    const delayMs = this.protocol === 'sse' ? t.sse.retryMs : t.connection.reconnectMs;
    const at = Math.round(now + delayMs * 1000);
    this.gen[i]++;
    if (at <= this.durationUs) this.queue.push(at, (i << KIND_BITS) | EV_CONNECT, 0);
  }

  private onDetect(now: number, i: number, g: number): void {
    if (g !== this.gen[i]) return;
    // Measured from the moment the connection died, by whichever side notices first.
    if (this.diedAtUs[i] >= 0 && this.connected[i]) this.detectHist.record(now - this.diedAtUs[i]);
    if (this.protocol === 'long-polling') {
      this.waiting[i] = -1;
      this.queue.push(now, (i << KIND_BITS) | EV_REQUEST, 0);
      return;
    }
    // The old connection is gone for the server too once the client opens a new one.
    this.closeAtServer(i);
    this.reconnectLater(now, i);
  }

  /** Heartbeat (SSE comment, WebSocket ping/pong) or WebRTC consent check, on one connection. */
  private onPing(now: number, i: number, g: number): void {
    if (g !== this.gen[i] || !this.connected[i]) return;
    const t = this.sc.topology;
    if (this.protocol === 'webrtc') {
      // RFC 7675 consent freshness: a STUN check on every peer connection, keeping radios awake.
      const peers = this.groupCount(i % this.channels);
      const back = this.down(i, this.up(i, now, wire.STUN_BYTES * peers), wire.STUN_BYTES * peers);
      if (!this.lost(i, back)) this.lastHeardUs[i] = back;
    } else {
      const bytes =
        (this.protocol === 'sse' ? wire.SSE_HEARTBEAT_BYTES : wire.WS_PING_BYTES) +
        wire.TCP_TLS_OVERHEAD;
      const arrival = this.down(i, this.cpu.run(now, t.server.cpuPerPushUs), bytes);
      if (!this.lost(i, arrival)) {
        this.lastHeardUs[i] = arrival;
        if (this.protocol === 'websocket') {
          const pong = this.up(i, arrival, wire.WS_PONG_BYTES + wire.TCP_TLS_OVERHEAD);
          if (!this.lost(i, pong)) this.lastPongUs[i] = pong;
        }
      }
      if (
        this.protocol === 'websocket' &&
        now - this.lastPongUs[i] >= t.connection.timeoutS * 1e6
      ) {
        // Dead peer: no pong for the timeout. Measured from the moment the connection died.
        if (this.diedAtUs[i] >= 0) this.detectHist.record(now - this.diedAtUs[i]);
        this.closeAtServer(i);
        return;
      }
    }
    const interval =
      this.protocol === 'webrtc' ? t.webrtc.consentIntervalS : t.connection.heartbeatS;
    const next = Math.round(now + interval * 1e6);
    if (next <= this.durationUs) this.queue.push(next, (i << KIND_BITS) | EV_PING, g);
  }

  // ---- Messages.

  private traced(id: number): boolean {
    return id % this.traceEvery === 0;
  }

  private newMessage(now: number, channel: number): number {
    const id = this.msgs.add(channel, now, Math.max(1, Math.round(this.payloadBytes())));
    if (id === this.msgAtServerUs.length) {
      const grown = new Float64Array(2 * id);
      grown.set(this.msgAtServerUs);
      this.msgAtServerUs = grown;
    }
    this.msgAtServerUs[id] = now;
    return id;
  }

  // ---- Sampling and views.

  private readonly accept = (arrivalUs: number, e2eUs: number, downUs: number): void => {
    this.flow.delivered++;
    this.e2eHist.record(e2eUs);
    this.downHist.record(downUs);
    this.intervalHist.record(e2eUs);
    this.series.delivered[this.series.bucket(arrivalUs)]++;
  };

  private flushArrivals(untilUs: number): void {
    this.pending.flush(untilUs, this.accept);
    this.flow.inFlight = this.owedOpen + this.pending.size;
  }

  private queueLength(now: number): number {
    const cost = this.sc.topology.server.cpuPerPushUs;
    return cost > 0 ? Math.round(this.cpu.backlogUs(now) / cost) : 0;
  }

  private onSample(now: number): void {
    this.flushArrivals(now);
    const h = this.intervalHist;
    this.series.serverBusyUs[this.series.bucket(now - 1)] = 0;
    this.series.close(
      now,
      {
        p50: h.percentileUs(50),
        p99: h.percentileUs(99),
        max: h.percentileUs(100),
        count: h.count,
      },
      this.flow.inFlight,
      [this.queueLength(now)],
      Int32Array.of(this.openConns),
    );
    h.reset();
    const next = Math.min(now + this.series.intervalUs, this.durationUs);
    if (next > now) this.queue.push(next, EV_SAMPLE, 0);
  }

  private stats(now: number): ProtocolStats {
    const t = this.sc.topology;
    const delivered = this.flow.delivered;
    const wireBytes = this.upBytes + this.downBytes;
    const serverPaths = Array.from(this.geo.accessUs, (_, i) => 2 * this.geo.serverPathUs(i)).sort(
      (a, b) => a - b,
    );
    return {
      protocol: this.protocol,
      bidirectional: wire.BIDIRECTIONAL[this.protocol],
      requests: this.requests,
      emptyResponses: this.emptyResponses,
      requestsPerDelivered: delivered > 0 ? this.requests / delivered : this.requests,
      wastedRequestShare: this.requests > 0 ? this.emptyResponses / this.requests : 0,
      wireBytes,
      wireBytesPerDelivered: delivered > 0 ? wireBytes / delivered : wireBytes,
      serverConnections: this.openConns,
      serverConnectionsPeak: this.peakConns,
      serverMemoryMB: (this.peakConns * t.server.memoryPerConnectionKB[this.protocol]) / 1024,
      serverCpuUtilisation: now > 0 ? Math.min(1, this.cpu.busyUs / (now * t.server.cores)) : 0,
      batteryMahPerHour: this.radios.mahPerHour(now),
      upstreamFailed: this.upstreamFailed,
      recovered: this.recovered,
      blockedStreams: this.blockedStreams,
      relayedShare: this.pairsSeen > 0 ? this.relayedPairs / this.pairsSeen : 0,
      relayBytes: this.relayBytes,
      setupLatencyMs: this.setupHist.summary(),
      upstreamLatencyMs: this.upHist.summary(),
      deadPeerDetectionMs: this.detectHist.summary(),
      rttMsMedian: serverPaths[Math.floor(serverPaths.length / 2)] / 1000,
    };
  }

  private linkStats(elapsedS: number): LinkStats[] {
    const perSec = (b: number) => (elapsedS > 0 ? b / elapsedS : 0);
    return [
      {
        id: 'clients->server',
        hop: 'hop2',
        from: 'clients',
        to: 'server',
        messages: this.upMessages,
        bytes: this.upBytes,
        bytesPerSec: perSec(this.upBytes),
      },
      {
        id: 'server->clients',
        hop: 'hop1',
        from: 'server',
        to: 'clients',
        messages: this.downMessages,
        bytes: this.downBytes,
        bytesPerSec: perSec(this.downBytes),
      },
    ];
  }

  private serverStats(now: number): ServerStats[] {
    const mem = this.sc.topology.server.memoryPerConnectionKB[this.protocol];
    return [
      {
        id: 'server',
        connections: this.openConns,
        cpuUtilisation: now > 0 ? Math.min(1, this.cpu.busyUs / (now * this.cpu.cores)) : 0,
        queueLength: this.queueLength(now),
        queueLengthMax: this.queueLength(now),
        memoryMB: (this.openConns * mem) / 1024,
      },
    ];
  }

  snapshot(): Snapshot {
    const now = this.nowUsValue;
    this.flushArrivals(this.done ? this.durationUs : now);
    return {
      ...this.baseSnapshot({
        flow: this.flow,
        e2e: this.e2eHist,
        hop2: this.upHist,
        hop1: this.downHist,
        links: (elapsedS) => this.linkStats(elapsedS),
        servers: (t) => this.serverStats(t),
        rejectedConnections: 0,
        series: this.series.toSeries(),
      }),
      protocol: this.stats(now),
    };
  }

  result(wallMs: number): RunResult {
    const snap = this.snapshot();
    const p = snap.protocol!;
    const base = this.baseResult(snap, wallMs);
    return {
      ...base,
      params: { ...base.params, protocol: this.protocol },
      protocolStats: p,
      protocol: p.protocol,
      requestsPerDelivered: p.requestsPerDelivered,
      wastedRequestShare: p.wastedRequestShare,
      wireBytesPerDelivered: p.wireBytesPerDelivered,
      serverConnectionsPeak: p.serverConnectionsPeak,
      serverMemoryMB: p.serverMemoryMB,
      batteryMahPerHour: p.batteryMahPerHour,
    };
  }

  topology(): Topology {
    const nodes: Topology['nodes'] = [
      { id: 'source', kind: 'source', label: 'Update source', count: 1 },
      { id: 'server', kind: 'server', label: this.protocol, count: 1 },
      { id: 'clients', kind: 'users', label: 'clients', count: this.n, parent: 'server' },
    ];
    const edges: Topology['edges'] = [
      { id: 'source->server', from: 'source', to: 'server', hop: 'hop2' },
      { id: 'server->clients', from: 'server', to: 'clients', hop: 'hop1' },
    ];
    if (this.protocol === 'webrtc')
      nodes.push({ id: 'turn', kind: 'broker', label: 'TURN relay', count: 1 });
    return { nodes, edges };
  }

  dispose(): void {
    for (const h of [
      this.e2eHist,
      this.downHist,
      this.upHist,
      this.intervalHist,
      this.setupHist,
      this.detectHist,
    ])
      h.destroy();
  }
}
