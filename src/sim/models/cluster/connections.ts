// Connections: attempts through the balancer, accept queues, backoff, detection of a lost connection, and resume on reconnect.
import { KIND_BITS } from '../../engine.ts';
import type { EventQueue } from '../../queue.ts';
import type { Rng } from '../../rng.ts';
import type { FlowCounts } from '../../types.ts';
import { backoffUs } from './backoff.ts';
import type { ClusterContext, ClusterTopology, RecoveryPath } from './context.ts';
import { EV_ATTEMPT, EV_CONNECTED, EV_DETECT, EV_TIMEOUT } from './events.ts';
import type { Distribution } from './distribution.ts';
import type { Fleet } from './fleet.ts';
import type { Hop1 } from './hop1.ts';
import type { Members } from './members.ts';
import type { Messages } from './messages.ts';
import type { Network } from './network.ts';
import type { Partitions } from './partitions.ts';
import type { Presence } from './presence.ts';

/** A connection attempt to a dead server fails after this (connect timeout). */
const CONNECT_TIMEOUT_US = 3_000_000;
/** Users join over at least this window at the start (longer when accepts are the bottleneck). */
const START_SPREAD_MIN_US = 1_000_000;

/** What connections use of the other parts. */
export interface ConnectionsParts {
  fleet: Pick<
    Fleet,
    | 'lbUp'
    | 'route'
    | 'alive'
    | 'draining'
    | 'conns'
    | 'acceptFreeUs'
    | 'aliveServers'
    | 'serverEpoch'
    | 'brokerUp'
    | 'brokerEpoch'
  >;
  /** The network's stream: heartbeat phases are drawn from it. */
  network: Pick<Network, 'rng'>;
  partitions: Pick<Partitions, 'userServer' | 'serverUser'>;
  members: Pick<
    Members,
    'connServer' | 'connId' | 'online' | 'userChannel' | 'memberNext' | 'join' | 'leave'
  >;
  hop1: Pick<
    Hop1,
    'recv' | 'acked' | 'send' | 'skipTo' | 'replayable' | 'epochSeen' | 'historyServer'
  >;
  messages: Pick<Messages, 'latestSeq' | 'startedUsers' | 'channelLog' | 'owedBetween'>;
  /** What each server has received (a first connection starts from there). */
  distribution: Pick<Distribution, 'serverSeq'>;
  presence: Pick<Presence, 'away' | 'goAway' | 'comeBack' | 'resumeFromAway'>;
}

export class Connections {
  private readonly attempt: Int32Array;
  private readonly cookie: Int32Array;
  private readonly disconnectedAtUs: Float64Array;
  /** A resume that waits for the broker holding the history to come back. */
  private readonly resumePending: Uint8Array;
  private readonly firstAttemptDue: Uint8Array;
  /** Connection attempts carry a token; going away voids the attempts already scheduled. */
  private readonly attemptToken: Int32Array;
  /** An accepted attempt waiting for its handshake to finish. */
  private readonly connecting: Uint8Array;
  /** The channel sequence number of the first update each user is owed (-1: not connected yet). */
  readonly firstOwed: Int32Array;
  attempts = 0;
  failedAttempts = 0;
  rejectedConnections = 0;
  readonly firstAttemptsUs: number[] = [];
  lastReconnectUs = 0;
  disconnectedNow = 0;
  /** Deliveries a client skipped by reloading the state (history out of reach on resume). */
  resynced = 0;
  private readonly t: ClusterTopology;
  private readonly queue: EventQueue;
  private readonly flow: FlowCounts;
  private readonly paths: Record<RecoveryPath, number>;
  private readonly durationUs: number;

  constructor(
    ctx: ClusterContext,
    private readonly jitterRng: Rng,
    private readonly parts: ConnectionsParts,
  ) {
    this.t = ctx.t;
    this.queue = ctx.queue;
    this.flow = ctx.flow;
    this.paths = ctx.paths;
    this.durationUs = ctx.durationUs;
    const U = ctx.t.users;
    this.attempt = new Int32Array(U);
    this.cookie = new Int32Array(U).fill(-1);
    this.disconnectedAtUs = new Float64Array(U);
    this.resumePending = new Uint8Array(U);
    this.firstAttemptDue = new Uint8Array(U);
    this.attemptToken = new Int32Array(U);
    this.connecting = new Uint8Array(U);
    this.firstOwed = new Int32Array(U).fill(-1);
  }

  /** Every user's first attempt, spread so the fleet's accept rate can take them. */
  start(startRng: Rng): void {
    const spreadUs = Math.max(
      START_SPREAD_MIN_US,
      (1.2e6 * this.t.users) / this.t.server.acceptPerSec,
    );
    for (let u = 0; u < this.t.users; u++)
      this.queue.push(Math.round(startRng.float() * spreadUs), (u << KIND_BITS) | EV_ATTEMPT, 0);
  }

  onAttempt(now: number, u: number, token: number): void {
    const { fleet, members } = this.parts;
    if (token !== this.attemptToken[u] || this.parts.presence.away[u]) return;
    // Two retry chains can meet (a return from away and a late detection): one connection only.
    if (members.online[u] || this.connecting[u]) return;
    this.attempts++;
    if (this.firstAttemptDue[u]) {
      this.firstAttemptDue[u] = 0;
      this.firstAttemptsUs.push(now);
    }
    if (!fleet.lbUp) return this.retryLater(now, u, now + CONNECT_TIMEOUT_US);
    const s = fleet.route(u, this.cookie[u]);
    if (s < 0) return this.retryLater(now, u, now + CONNECT_TIMEOUT_US);
    if (!fleet.alive[s] || fleet.draining[s])
      return this.retryLater(now, u, now + CONNECT_TIMEOUT_US);
    // A partition between the user and the server: the handshake never completes.
    if (this.parts.partitions.userServer(u, s))
      return this.retryLater(now, u, now + CONNECT_TIMEOUT_US);
    if (fleet.conns[s] >= this.t.server.maxConnections) {
      this.rejectedConnections++;
      return this.retryLater(now, u, now + this.t.network.rttMs * 1000);
    }
    // The TLS handshake and auth wait in the server's accept queue (fleet-wide acceptPerSec).
    const arrive = now + (this.t.network.rttMs * 1000) / 2;
    const perServer = this.t.server.acceptPerSec / Math.max(1, fleet.aliveServers());
    const start = Math.max(arrive, fleet.acceptFreeUs[s]);
    if (start - arrive > this.t.server.acceptTimeoutMs * 1000)
      return this.retryLater(now, u, arrive + this.t.server.acceptTimeoutMs * 1000);
    fleet.acceptFreeUs[s] = start + 1e6 / perServer;
    fleet.conns[s]++;
    members.connId[u]++;
    members.connServer[u] = s;
    const ready = Math.round(start + 1e6 / perServer + this.t.network.rttMs * 1000);
    this.connecting[u] = 1;
    this.queue.push(ready, (u << KIND_BITS) | EV_CONNECTED, members.connId[u]);
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

  onConnected(now: number, u: number, conn: number): void {
    const { fleet, members, hop1, messages } = this.parts;
    if (conn !== members.connId[u]) return;
    this.connecting[u] = 0;
    const s = members.connServer[u];
    if (this.parts.presence.away[u]) {
      // The user closed the app while the connection was being set up.
      fleet.conns[s] = Math.max(0, fleet.conns[s] - 1);
      return;
    }
    if (!fleet.alive[s] || fleet.draining[s]) {
      // The server died or started draining while this connection was being accepted.
      fleet.conns[s] = Math.max(0, fleet.conns[s] - 1);
      return this.retryLater(now, u, now);
    }
    members.online[u] = 1;
    this.attempt[u] = 0;
    this.cookie[u] = s;
    members.join(u, s);
    if (this.disconnectedAtUs[u] > 0) {
      this.disconnectedNow--;
      this.lastReconnectUs = now;
    }
    const c = members.userChannel[u];
    if (hop1.recv[u] === -2) {
      // First connection: the user starts from the state its server has; what the server has
      // yet to receive (still in hop 2, or waiting for the next poll) is owed from here on.
      const latest = messages.latestSeq[c] - 1;
      // Kafka and direct servers read every channel; a Redis server subscribes when its first
      // user of a channel arrives, and receives only what is published after that.
      const serverSeq = this.parts.distribution.serverSeq;
      const k = s * this.t.channels + c;
      if (this.t.broker.kind === 'redis' && members.memberNext[u] < 0 && serverSeq[k] < latest)
        serverSeq[k] = latest;
      const start = Math.min(serverSeq[k], latest);
      messages.startedUsers[c]++;
      this.firstOwed[u] = start + 1;
      this.flow.fanout += messages.owedBetween(c, start + 1, latest);
      hop1.recv[u] = start;
      hop1.acked[u] = start;
      hop1.skipTo(u, start);
    } else {
      this.resume(now, u);
    }
    hop1.epochSeen[u] =
      this.t.delivery.history === 'server' ? fleet.serverEpoch[s] : fleet.brokerEpoch;
    hop1.historyServer[u] = s;
  }

  /**
   * Back after a disconnect. At least once: the server resends from the last ack (duplicates
   * are possible). At most once: the client asks from its own offset. Either needs history inside
   * the recovery window and the same epoch; otherwise the client reloads the state (resync).
   */
  private resume(now: number, u: number): void {
    const { hop1, messages } = this.parts;
    const c = this.parts.members.userChannel[u];
    const latest = messages.latestSeq[c] - 1;
    if (this.parts.presence.resumeFromAway(now, u)) return;
    const from =
      this.t.delivery.guarantee === 'at-most-once' ? hop1.recv[u] + 1 : hop1.acked[u] + 1;
    if (from > latest) return;
    // The history is in a broker that is down for now but keeps its data: resume once it is back.
    if (
      this.t.delivery.history === 'broker' &&
      !this.parts.fleet.brokerUp &&
      this.t.broker.kind !== 'redis'
    ) {
      this.resumePending[u] = 1;
      return;
    }
    if (hop1.replayable(now, u, Math.min(from, hop1.recv[u] + 1))) {
      this.paths.resumeReplay++;
      for (let q = from; q <= latest; q++) hop1.send(now, u, messages.channelLog[c][q], true);
      return;
    }
    const missed = latest - hop1.recv[u];
    if (missed > 0) {
      // With no history at all, what was missed is simply gone; with history out of reach
      // (window exceeded, epoch changed) the client reloads the current state instead.
      const owed = messages.owedBetween(c, hop1.recv[u] + 1, latest);
      if (this.t.delivery.history === 'none') {
        this.paths.resumeLost++;
        this.flow.dropped += owed;
      } else {
        this.paths.resumeResync++;
        this.resynced += owed;
      }
      hop1.recv[u] = latest;
      hop1.skipTo(u, latest);
    }
    hop1.acked[u] = latest;
  }

  /** The broker that holds the history is back: the resumes that waited for it go ahead. */
  brokerBack(now: number): void {
    const online = this.parts.members.online;
    for (let u = 0; u < this.t.users; u++)
      if (this.resumePending[u]) {
        this.resumePending[u] = 0;
        if (online[u]) this.resume(now, u);
      }
  }

  /** The user closes the app: attempts already scheduled are void, a live connection closes. */
  onAway(now: number, u: number): void {
    const online = this.parts.members.online;
    // Counted as disconnected already (between connections), or about to be.
    const counted =
      online[u] === 1 || (this.parts.hop1.recv[u] !== -2 && this.disconnectedAtUs[u] > 0);
    if (!this.parts.presence.goAway(u, counted)) return;
    this.attemptToken[u]++;
    if (online[u]) this.dropConnection(now, u, 0);
  }

  /** Back: a fresh attempt at once, with the backoff reset. */
  onReturn(now: number, u: number): void {
    if (!this.parts.presence.comeBack(u, this.parts.hop1.recv[u] !== -2)) return;
    this.attempt[u] = 0;
    this.queue.push(now, (u << KIND_BITS) | EV_ATTEMPT, this.attemptToken[u]);
  }

  /** The server side of a connection ends now; the client notices after `detectUs`. */
  private dropConnection(now: number, u: number, detectUs: number): void {
    const { fleet, members } = this.parts;
    const s = members.connServer[u];
    if (members.online[u]) members.leave(u, s);
    members.online[u] = 0;
    fleet.conns[s] = Math.max(0, fleet.conns[s] - 1);
    this.disconnectedAtUs[u] = now;
    this.disconnectedNow++;
    this.queue.push(Math.round(now + detectUs), (u << KIND_BITS) | EV_DETECT, members.connId[u]);
  }

  onDetect(now: number, u: number, conn: number): void {
    if (
      conn !== this.parts.members.connId[u] ||
      this.parts.members.online[u] ||
      this.parts.presence.away[u]
    )
      return;
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
    return (c.timeoutS - c.heartbeatS * this.parts.network.rng.float()) * 1e6;
  }

  /** A partition cut user u from its server: pings or pongs stop arriving, the heartbeat times out. */
  expectTimeout(now: number, u: number): void {
    this.queue.push(
      Math.round(now + this.silentDetectUs()),
      (u << KIND_BITS) | EV_TIMEOUT,
      this.parts.members.connId[u],
    );
  }

  /** The heartbeat timeout of a connection a partition cut: it ends (if the cut still holds). */
  onTimeout(now: number, u: number, conn: number): void {
    const members = this.parts.members;
    if (conn !== members.connId[u] || !members.online[u]) return;
    const s = members.connServer[u];
    if (!this.parts.partitions.serverUser(s, u)) return;
    this.paths.partitionTimeout++;
    // The server closes it; the client's own watchdog fires at about the same time.
    this.dropConnection(now, u, 0);
  }

  /** Server s crashed: each of its clients notices on the missing heartbeat. */
  crashServer(now: number, s: number): number {
    const members = this.parts.members;
    let hit = 0;
    for (let u = 0; u < this.t.users; u++)
      if (members.online[u] && members.connServer[u] === s) {
        this.dropConnection(now, u, this.silentDetectUs());
        hit++;
      }
    return hit;
  }

  /** Drops a share of all connections at once (`pick` chooses them when the share is below 1). */
  dropShare(now: number, share: number, pick: Rng): number {
    const online = this.parts.members.online;
    let hit = 0;
    for (let u = 0; u < this.t.users; u++)
      if (online[u] && (share >= 1 || pick.float() < share)) {
        this.dropConnection(now, u, 0);
        hit++;
      }
    return hit;
  }

  /** Server s drains: each client leaves at a random moment within the drain window (the server's hint). */
  drainServer(now: number, s: number, spread: Rng, drainUs: number): number {
    const members = this.parts.members;
    let hit = 0;
    for (let u = 0; u < this.t.users; u++)
      if (members.online[u] && members.connServer[u] === s) {
        this.dropConnection(now + 0, u, spread.float() * Math.min(drainUs, 5e6));
        hit++;
      }
    return hit;
  }

  /** The drain time of server s is up: whoever is still connected is closed. */
  closeServer(now: number, s: number): void {
    const members = this.parts.members;
    for (let u = 0; u < this.t.users; u++)
      if (members.online[u] && members.connServer[u] === s) this.dropConnection(now, u, 0);
  }
}
