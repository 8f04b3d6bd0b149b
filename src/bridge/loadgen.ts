// The load generator: real clients of each protocol (ws, http polling, long polling, an SSE reader),
// the source replaying the simulator's publish schedule, and the measurements. The same process
// stamps each update when it publishes it and receives it, so one clock measures end to end.
import http from 'node:http';
import { SseReader } from './sse-client.ts';
import { WebSocket } from 'ws';
import { LatencyHistogram } from '../sim/histogram.ts';
import { backoffUs } from '../sim/models/cluster/backoff.ts';
import { Rng } from '../sim/rng.ts';
import type { BrokerClient } from './broker-client.ts';
import { MAX_PAYLOAD_BYTES, nowNs, nowUs, pad, parseJson, type Update } from './common.ts';
import { DelayLine, linkDelay } from './netem.ts';
import type { Plan } from './plan.ts';
import type { BridgeLatency, Measured } from './protocol.ts';

export interface Endpoints {
  /** Port each client connects to: its server (two-hop, protocols) or the load balancer. */
  portOf: (u: number) => number;
  /** Protocol scenarios: the server's port for the source connection. */
  sourcePort?: number;
  /** Two-hop and cluster: the publisher's broker connection. */
  publisher?: BrokerClient;
  /** The broker keeps per-channel history (resume, direct polling): write it there. */
  brokerHistory: boolean;
}

/** A lost delivery and when its update was published (µs since the start). */
export interface LostDelivery {
  u: number;
  c: number;
  s: number;
  publishedUs: number;
}

/** A client's time without a connection: from losing it to the next welcome (µs since start). */
export interface DownWindow {
  u: number;
  fromUs: number;
  toUs: number | null;
}

type Kind = 'ws' | 'sse' | 'poll';

/** "Owed from" of a client the simulator owed nothing: above any seq a run hands out. */
const OWED_NOTHING = 2 ** 30;

class Client {
  /**
   * Seq the client is owed after (exclusive), per channel: the simulator's first owed seq - 1
   * (`Plan.firstOwed`), fixed before the client connects, so both sides owe the same updates.
   */
  owedFrom = new Map<number, number>();
  /** Highest seq seen, and highest contiguous seq received, per channel. */
  maxSeen = new Map<number, number>();
  contiguous = new Map<number, number>();
  received = new Map<number, Uint8Array>();
  connected = false;
  /** A welcome (or a first poll's answer) has arrived: later connections resume. */
  welcomed = false;
  attempt = 0;
  closedByUs = false;
  ws: WebSocket | null = null;
  es: { close(): void } | null = null;
  cookie = '';
  downSince: number | null = null;
  cursor = -2;
  upDue = 0;
  radioUp = false;
  readonly up: () => number;
  readonly down: () => number;
  readonly backoffRng: Rng;
  constructor(
    readonly u: number,
    readonly channels: number[],
    plan: Plan,
    perChannel: Int32Array,
  ) {
    const first = plan.firstOwed[u];
    const from = first >= 0 ? first - 1 : OWED_NOTHING;
    for (const ch of channels) {
      this.owedFrom.set(ch, from);
      this.contiguous.set(ch, from);
      this.maxSeen.set(ch, from);
      this.received.set(ch, new Uint8Array(perChannel[ch] + 1));
    }
    this.cursor = from;
    this.up = linkDelay(plan.clientDelay, plan.seed, 'up', u);
    this.down = linkDelay(plan.clientDelay, plan.seed, 'handshake', u);
    this.backoffRng = new Rng(plan.seed, `bridge/backoff/${u}`);
  }
}

function latencyOf(h: LatencyHistogram): BridgeLatency {
  const s = h.summary();
  return { count: s.count, p50: s.p50, p90: s.p90, p99: s.p99, max: s.max };
}

export class LoadGenerator {
  readonly clients: Client[];
  private readonly line = new DelayLine(nowUs);
  private readonly hist = new LatencyHistogram();
  private readonly windowHist = new LatencyHistogram();
  private readonly kind: Kind;
  /** Updates each channel has in the whole schedule (sizes the received bitmaps). */
  private readonly perChannel: Int32Array;
  /** Sequence numbers handed out per channel (the source's), and publish times by (c, s). */
  private readonly nextSeq: Int32Array;
  private readonly publishedAt = new Map<number, number[]>();
  private readonly sourceDelay: () => number;
  private sourceDue = 0;
  private source: WebSocket | null = null;
  private readonly logBuffer: Update[] = [];
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  /** SSE streams: one socket each, never pooled. */
  private readonly sseAgent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  t0 = 0;
  private t0Ns = 0n;
  private stopped = false;
  produced = 0;
  delivered = 0;
  duplicated = 0;
  outOfOrder = 0;
  bytes = 0;
  reconnects = 0;
  lostAtBroker = 0;
  upstreamFailed = 0;
  /** Updates produced but not sent: the simulator never sequenced them (end of its run). */
  notSent = 0;
  /** A client's update sent through the source connection: its own was not open yet. */
  viaSource = 0;
  requests = 0;
  emptyResponses = 0;
  readonly windows: DownWindow[] = [];
  /** Longest time a client took from losing its connection to its next welcome, ms. */
  reconnectMaxMs = 0;

  constructor(
    private readonly plan: Plan,
    private readonly ep: Endpoints,
  ) {
    this.kind = plan.protocol === 'websocket' ? 'ws' : plan.protocol === 'sse' ? 'sse' : 'poll';
    this.perChannel = new Int32Array(plan.channels);
    for (const m of plan.updates) this.perChannel[m.channel]++;
    this.clients = plan.clientChannels.map((ch, u) => new Client(u, ch, plan, this.perChannel));
    this.nextSeq = new Int32Array(plan.channels);
    this.sourceDelay = linkDelay(plan.sourceDelay, plan.seed, 'source', 0);
  }

  /** Microseconds since the start of the replay. */
  nowRelUs(): number {
    return nowUs() - this.t0;
  }

  // ---- Connections.

  /** Two-hop: connect everyone before the replay starts and wait for their welcomes. */
  async warmUp(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    for (const c of this.clients) this.connect(c);
    const until = Date.now() + timeoutMs;
    while (this.clients.some((c) => !c.welcomed) && Date.now() < until && !signal?.aborted)
      await new Promise((r) => setTimeout(r, 20));
  }

  /** Starts the replay clock; clients with a start time connect at it (protocols, cluster). */
  startClock(connectLater: boolean): void {
    this.t0 = nowUs();
    this.t0Ns = nowNs();
    if (!connectLater) return;
    for (const c of this.clients)
      this.line.at(this.t0 + this.plan.startUs[c.u], () => this.connect(c));
  }

  private handshakeUs(c: Client): number {
    const p = this.plan.protocols;
    let us = c.up();
    if (p && !c.radioUp) {
      c.radioUp = true;
      us += p.radioPromotionUs;
    }
    if (p) for (let r = 0; r < p.handshakeRounds; r++) us += c.up() + c.down();
    return us;
  }

  private connect(c: Client): void {
    if (this.stopped) return;
    if (this.kind === 'ws') this.connectWs(c);
    else if (this.kind === 'sse')
      this.line.at(nowUs() + this.handshakeUs(c), () => this.connectSse(c));
    else this.line.at(nowUs() + this.handshakeUs(c), () => this.poll(c, true));
  }

  /**
   * Where a connection starts: the first one "from" the seq the client is first owed (the server
   * buffers or replays from there), a later one resumes after its last contiguous seq.
   */
  private startParam(c: Client): string {
    const parts: string[] = [];
    for (const ch of c.channels) {
      const s = c.welcomed ? c.contiguous.get(ch) : c.owedFrom.get(ch);
      if (s === undefined) continue;
      parts.push(`${ch}:${c.welcomed ? s : Math.min(s + 1, OWED_NOTHING)}`);
    }
    if (parts.length === 0) return '';
    return `&${c.welcomed ? 'resume' : 'from'}=${parts.join(',')}`;
  }

  private connectWs(c: Client): void {
    const delay = this.plan.protocols ? this.handshakeUs(c) : c.up();
    this.line.at(nowUs() + delay, () => {
      if (this.stopped) return;
      const port = this.ep.portOf(c.u);
      const url = `ws://127.0.0.1:${port}/ws?u=${c.u}&ch=${c.channels.join(',')}${this.startParam(c)}`;
      const cl = this.plan.cluster;
      const headers: Record<string, string> = {
        'x-hoplab-ip': String(Math.floor(c.u / (cl?.usersPerIp ?? 1))),
      };
      if (c.cookie) headers.cookie = c.cookie;
      const ws = new WebSocket(url, {
        headers,
        perMessageDeflate: false,
        maxPayload: MAX_PAYLOAD_BYTES,
      });
      c.ws = ws;
      ws.on('upgrade', (res) => {
        const set = res.headers['set-cookie'];
        const cookie = Array.isArray(set) ? set[0] : set;
        if (cookie) c.cookie = cookie.split(';')[0];
      });
      ws.on('message', (data) => this.onFrame(c, data.toString()));
      ws.on('error', () => {});
      ws.on('close', () => {
        if (c.ws !== ws) return;
        c.ws = null;
        this.lost(c);
      });
    });
  }

  private connectSse(c: Client): void {
    if (this.stopped) return;
    // The first stream asks `from` the seq it is first owed; a reconnect of the reader sends
    // Last-Event-ID, which the server prefers.
    const url = `http://127.0.0.1:${this.ep.portOf(c.u)}/sse?u=${c.u}&ch=${c.channels.join(',')}${this.startParam(c)}`;
    c.es = new SseReader(
      url,
      {
        onEvent: (type, data) => {
          if (type === 'w') return this.onWelcome(c);
          if (type !== 'message') return;
          this.bytes += data.length;
          const m = parseJson(data);
          if (m) this.onUpdate(c, m);
        },
        onError: () => this.sseDown(c),
      },
      this.sseAgent,
    );
  }

  private sseDown(c: Client): void {
    if (c.connected) {
      c.connected = false;
      c.downSince = this.nowRelUs();
      this.windows.push({ u: c.u, fromUs: c.downSince, toUs: null });
    }
  }

  /** A connection ended: back off (the scenario's policy) and reconnect with resume. */
  private lost(c: Client): void {
    if (this.stopped || c.closedByUs) {
      c.connected = false;
      return;
    }
    if (c.connected) {
      c.connected = false;
      c.downSince = this.nowRelUs();
      this.windows.push({ u: c.u, fromUs: c.downSince, toUs: null });
    }
    if (this.stopped || c.closedByUs) return;
    const cl = this.plan.cluster;
    const delayUs = cl
      ? backoffUs(c.attempt, cl.backoffBaseS, cl.backoffCapS, cl.jitter, c.backoffRng)
      : 1_000_000;
    c.attempt++;
    this.line.at(nowUs() + delayUs, () => {
      this.reconnects++;
      this.connect(c);
    });
  }

  /** mass-disconnect: drop a share of the connected clients (they reconnect with backoff). */
  disconnect(share: number, rng: Rng): number {
    let hit = 0;
    for (const c of this.clients) {
      if (!c.ws || !c.connected || rng.float() >= share) continue;
      hit++;
      c.ws.terminate();
    }
    return hit;
  }

  // ---- Polling and long polling.

  private poll(c: Client, first: boolean): void {
    if (this.stopped) return;
    const p = this.plan.protocols!;
    const ch = c.channels[0];
    const path = this.plan.protocol === 'long-polling' ? '/lp' : '/poll';
    const req = http.request(
      {
        host: '127.0.0.1',
        port: this.ep.portOf(c.u),
        path: `${path}?u=${c.u}&c=${ch}&after=${c.cursor}${c.welcomed ? '' : '&first=1'}`,
        agent: p.keepAlive ? this.httpAgent : false,
        headers: p.keepAlive ? {} : { connection: 'close' },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          this.bytes += body.length;
          const r = parseJson(body);
          if (r) {
            const ms = (r.ms as Record<string, unknown>[]) ?? [];
            if (first || !c.welcomed) this.onWelcome(c);
            if (ms.length === 0) this.emptyResponses++;
            for (const m of ms) this.onUpdate(c, m);
            const cur = Number(r.cur);
            // The cursor moves to what was received (or, without a buffer, to the server's latest).
            c.cursor = Math.max(c.cursor, ms.length > 0 ? Number(ms[ms.length - 1].s) : cur);
          }
          this.nextPoll(c);
        });
      },
    );
    this.requests++;
    req.on('error', () => this.nextPoll(c));
    req.end();
  }

  private nextPoll(c: Client): void {
    if (this.stopped) return;
    const p = this.plan.protocols!;
    const wait = this.plan.protocol === 'polling' ? p.pollIntervalS * 1e6 : 0;
    const setup = p.keepAlive ? c.up() : this.handshakeUs(c);
    this.line.at(nowUs() + wait + setup, () => this.poll(c, false));
  }

  // ---- Frames.

  private onFrame(c: Client, text: string): void {
    this.bytes += text.length;
    const m = parseJson(text);
    if (!m) return;
    if (m.t === 'w') this.onWelcome(c);
    else if (m.t === 'm') this.onUpdate(c, m);
  }

  private onWelcome(c: Client): void {
    c.welcomed = true;
    if (!c.connected) {
      c.connected = true;
      c.attempt = 0;
      if (c.downSince !== null) {
        const now = this.nowRelUs();
        const w = this.windows.findLast((x) => x.u === c.u && x.toUs === null);
        if (w) w.toUs = now;
        this.reconnectMaxMs = Math.max(this.reconnectMaxMs, (now - c.downSince) / 1000);
        c.downSince = null;
      }
    }
  }

  private onUpdate(c: Client, m: Record<string, unknown>): void {
    const ch = Number(m.c);
    const s = Number(m.s);
    const from = c.owedFrom.get(ch);
    const bits = c.received.get(ch);
    if (from === undefined || bits === undefined || s <= from || s >= bits.length) return;
    if (bits[s]) {
      // At least once: a replay can repeat what arrived; counted, then removed (not re-applied).
      this.duplicated++;
      return;
    }
    bits[s] = 1;
    if (s < (c.maxSeen.get(ch) ?? -1)) this.outOfOrder++;
    else c.maxSeen.set(ch, s);
    let k = c.contiguous.get(ch)!;
    while (k + 1 < bits.length && bits[k + 1]) k++;
    c.contiguous.set(ch, k);
    this.delivered++;
    const us = Number((nowNs() - BigInt(String(m.t0))) / 1000n);
    this.hist.record(us);
    this.windowHist.record(us);
  }

  // ---- The source.

  /** Opens the source's connection (protocol scenarios: straight to the server). */
  async openSource(): Promise<void> {
    if (this.ep.sourcePort === undefined) return;
    const ws = new WebSocket(`ws://127.0.0.1:${this.ep.sourcePort}/source`, {
      perMessageDeflate: false,
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.on('error', () => {});
    this.source = ws;
  }

  /** Schedules the whole publish schedule on the replay clock. */
  schedulePublishes(): void {
    for (const m of this.plan.updates)
      this.line.at(this.t0 + m.createdUs, () =>
        this.publish(m.id, m.channel, m.payloadBytes, m.origin),
      );
  }

  private publish(id: number, c: number, n: number, origin: number): void {
    if (this.stopped) return;
    const t0 = String(nowNs());
    const nowRel = this.nowRelUs();
    if (!this.plan.replayed[id]) {
      // Never sequenced by the simulator (see Plan.replayed): produced, owed to no one.
      this.produced++;
      if (origin >= 0) this.upstreamFailed++;
      else this.notSent++;
      return;
    }
    if (this.plan.distribution.kind === 'server') {
      if (origin < 0) {
        this.source?.send(JSON.stringify({ c, i: id, t0, n }));
        this.produced++;
        this.seqFor(c, nowRel);
        return;
      }
      // A client's update (chat): over its own connection, after its uplink delay.
      const oc = this.clients[origin];
      const frame = JSON.stringify({ t: 'pub', c, i: id, t0, n, p: pad(n) });
      if (this.kind === 'ws') {
        let due = nowUs() + oc.up();
        if (due < oc.upDue) due = oc.upDue;
        oc.upDue = due;
        this.produced++;
        this.seqFor(c, nowRel);
        this.line.at(due, () => {
          if (oc.ws?.readyState === WebSocket.OPEN) oc.ws.send(frame);
          else {
            // The simulator's client was connected by now and sent it; the real one's connection
            // is still being set up (or just went): the update reaches the server all the same.
            this.viaSource++;
            this.source?.send(JSON.stringify({ c, i: id, t0, n }));
          }
        });
        return;
      }
      this.produced++;
      this.seqFor(c, nowRel);
      this.line.at(nowUs() + oc.up(), () => {
        const req = http.request({
          host: '127.0.0.1',
          port: this.ep.portOf(origin),
          path: `/pub?u=${origin}`,
          method: 'POST',
          agent: this.httpAgent,
        });
        req.on('response', (res) => res.resume());
        req.on('error', () => {});
        this.requests++;
        req.end(frame);
      });
      return;
    }
    // Two-hop and cluster: the source numbers each channel's updates and sends them to the broker.
    const s = this.seqFor(c, nowRel);
    this.produced++;
    const m: Update = { c, s, i: id, t0, n };
    let due = nowUs() + this.sourceDelay();
    if (due < this.sourceDue) due = this.sourceDue;
    this.sourceDue = due;
    this.line.at(due, () => this.toBroker(m));
  }

  private seqFor(c: number, nowRel: number): number {
    const s = this.nextSeq[c]++;
    let list = this.publishedAt.get(c);
    if (!list) this.publishedAt.set(c, (list = []));
    list.push(nowRel);
    return s;
  }

  private toBroker(m: Update): void {
    const pub = this.ep.publisher!;
    const log = this.plan.distribution.kind === 'log' || this.plan.distribution.kind === 'direct';
    const opts = { log, history: this.ep.brokerHistory };
    if (log && this.logBuffer.length > 0) {
      this.logBuffer.push(m);
      return;
    }
    if (pub.publish(m, opts)) return;
    // Broker down. A log producer (acks) keeps it and retries; pub/sub refuses it: lost.
    if (log) {
      this.logBuffer.push(m);
      this.retryLog();
    } else this.lostAtBroker++;
  }

  private retrying = false;
  private retryLog(): void {
    if (this.retrying) return;
    this.retrying = true;
    const tick = () => {
      const pub = this.ep.publisher!;
      while (this.logBuffer.length > 0 && pub.up) {
        if (!pub.publish(this.logBuffer[0], { log: true, history: this.ep.brokerHistory })) break;
        this.logBuffer.shift();
      }
      if (this.logBuffer.length > 0 && !this.stopped) setTimeout(tick, 100);
      else this.retrying = false;
    };
    setTimeout(tick, 100);
  }

  // ---- Measurements.

  /** Deliveries owed so far: per client and channel, everything after its first welcome. */
  owed(): number {
    let owed = 0;
    for (const c of this.clients)
      for (const [ch, from] of c.owedFrom) owed += Math.max(0, this.nextSeq[ch] - 1 - from);
    return owed;
  }

  /** Every owed delivery not received, with its publish time. */
  missing(limit = 100_000): LostDelivery[] {
    const out: LostDelivery[] = [];
    for (const c of this.clients)
      for (const [ch, from] of c.owedFrom) {
        const bits = c.received.get(ch)!;
        for (let s = from + 1; s < this.nextSeq[ch] && out.length < limit; s++)
          if (!bits[s])
            out.push({ u: c.u, c: ch, s, publishedUs: this.publishedAt.get(ch)?.[s] ?? -1 });
      }
    return out;
  }

  /** Whether every client has everything it is owed (the run has settled). */
  settled(): boolean {
    return this.owed() === this.delivered;
  }

  /** Clients connected right now to server s (known from the balancer's cookie). */
  connectedTo(s: number): number {
    const cookie = `hoplab-server=${s}`;
    return this.clients.reduce((n, c) => n + (c.connected && c.cookie === cookie ? 1 : 0), 0);
  }

  connections(): number {
    return this.clients.reduce((n, c) => n + (c.connected ? 1 : 0), 0);
  }

  measured(tS: number, final: boolean, server: { cpu: number; memoryMB: number }): Measured {
    const owed = this.owed();
    const lost = final ? owed - this.delivered : 0;
    const m: Measured = {
      tS: Math.max(0, tS),
      produced: this.produced,
      fanout: owed,
      delivered: this.delivered,
      lost: Math.max(0, lost),
      duplicated: this.duplicated,
      outOfOrder: this.outOfOrder,
      reach: owed > 0 ? this.delivered / owed : 1,
      latencyMs: latencyOf(this.hist),
      windowLatencyMs: this.windowHist.count > 0 ? latencyOf(this.windowHist) : null,
      connections: this.connections(),
      reconnects: this.reconnects,
      bytes: this.bytes,
      serverCpuUtilisation: server.cpu,
      serverMemoryMB: server.memoryMB,
    };
    this.windowHist.reset();
    return m;
  }

  latencySummary(): ReturnType<LatencyHistogram['summary']> {
    return this.hist.summary();
  }

  /** Stops every client and timer (idempotent). */
  stop(): void {
    this.stopped = true;
    this.line.clear();
    for (const c of this.clients) {
      c.closedByUs = true;
      c.ws?.terminate();
      c.es?.close();
    }
    this.source?.terminate();
    this.httpAgent.destroy();
    this.sseAgent.destroy();
  }

  dispose(): void {
    this.hist.destroy();
    this.windowHist.destroy();
  }

  get startNs(): bigint {
    return this.t0Ns;
  }
}
