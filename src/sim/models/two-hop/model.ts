// The guide's two-hop architecture: source → Redis pub/sub → WebSocket servers → users.
import type { RunSpec } from '../../../scenario/resolve.ts';
import type { TwoHopScenario } from '../../../scenario/schema.ts';
import { sampler, type Sampler } from '../../dist.ts';
import { LatencyHistogram } from '../../histogram.ts';
import { Link, webSocketHeaderBytes } from '../../link.ts';
import { PendingDeliveries } from '../../pending.ts';
import { buildPopulation, populationBytes, type Population } from '../../population.ts';
import { EventModel, KIND_BITS } from '../../engine.ts';
import { Rng } from '../../rng.ts';
import { sampleIntervalUs, SeriesRecorder } from '../../series.ts';
import type { Simulation } from '../../simulation.ts';
import { TRACE_DROP, TRACE_HOP1, TRACE_HOP2, TRACE_PUBLISH } from '../../trace.ts';
import { bytesPerUpdateOf, stageLabels } from '../../shaping/config.ts';
import { EV_CHURN, EV_FLUSH, EV_RELEASE, EV_SERVER_ALL, ShapedPath } from './shaped.ts';
import type { AppResult, CaseApp } from '../../apps/app.ts';
import { createApp } from '../../apps/registry.ts';
import type {
  FlowCounts,
  LinkStats,
  RunResult,
  ServerStats,
  Snapshot,
  Topology,
} from '../../types.ts';

// Event kinds, in the low bits of word0; the rest of word0 is the kind's argument.
const EV_SOURCE = 0; // arg: channel
const EV_BROKER = 1; // word1: message
const EV_SERVER = 2; // arg: (channel, server) pair; word1: message
const EV_SAMPLE = 3;
/** A case-study application's own event (arg and word1 are the app's). Kinds 4–7 are shaping's. */
const EV_APP = 8;

/** RESP framing Redis adds around a PUBLISH and around the message it pushes to a subscriber. */
const REDIS_FRAME_BYTES = 40;
/** Hop-1 deliveries traced per server batch of a sampled message: enough to show the fan-out. */
const TRACE_DELIVERIES_PER_BATCH = 3;
/** Sampled messages per simulated second that the trace aims for. */
const TRACED_MESSAGES_PER_SEC = 25;

// Node indexes in trace records: 0 source, 1 broker, then servers, then user groups.
const NODE_SOURCE = 0;
const NODE_BROKER = 1;

export class TwoHopSimulation extends EventModel implements Simulation {
  readonly durationUs: number;
  private readonly scenario: TwoHopScenario;
  private readonly pending = new PendingDeliveries();
  private readonly series: SeriesRecorder;
  private readonly pop: Population;
  private readonly nodeIdList: string[];

  private readonly e2eHist = new LatencyHistogram();
  private readonly hop1Hist = new LatencyHistogram();
  private readonly hop2Hist = new LatencyHistogram();
  private readonly intervalHist = new LatencyHistogram();

  // Workload.
  private readonly payloadBytes: Sampler;
  private readonly sourceRng: Rng;
  private readonly channelIntervalUs: number;
  private readonly traceEvery: number;
  private readonly channelSeq: Int32Array;
  private readonly channelSubscribers: Int32Array;

  // Messages (growable struct of arrays).

  // Hop 2.
  private readonly sourceLink: Link;
  private readonly brokerLinks: Link[];
  private brokerFreeUs = 0;

  // Servers: cores as earliest-free times, NIC, counters.
  private readonly cores: number;
  private readonly coreFreeUs: Float64Array;
  private readonly nicFreeUs: Float64Array;
  private readonly busyUs: Float64Array;
  private readonly queueMax: Int32Array;
  private readonly hop1LinkBytes: Float64Array;
  private readonly hop1LinkMessages: Float64Array;

  // Hop 1, per user and per subscription slot.
  private readonly hop1Rng: Rng;
  private readonly hop1LatencyMs: Sampler;
  /** Per user u: at 2u when its downlink is next free, at 2u + 1 its last arrival (side by side: one cache line per delivery). */
  private readonly userLinkUs: Float64Array;
  private readonly slotLastSeq: Int32Array;

  /** Deliveries owed by messages still in hop 2 (published, not yet at the server). */
  private hop2Owed = 0;
  /** The delivery path with update shaping, when the scenario has a shaping block. */
  private readonly shaped: ShapedPath | null = null;
  /** A case-study application in place of the source (`topology.app`). */
  private readonly app: CaseApp | null = null;
  private flow: FlowCounts = {
    produced: 0,
    fanout: 0,
    delivered: 0,
    dropped: 0,
    duplicated: 0,
    outOfOrder: 0,
    inFlight: 0,
  };

  constructor(run: RunSpec, sc: TwoHopScenario) {
    super(run);
    this.scenario = sc;
    const t = sc.topology;
    const root = new Rng(run.seed);
    this.durationUs = Math.round(sc.durationS * 1e6);
    this.pop = buildPopulation(
      {
        users: t.users,
        servers: t.servers,
        channels: t.channels,
        subscriptionsPerUser: t.subscriptionsPerUser,
        maxConnections: t.server.maxConnections,
        balancer: t.loadBalancer,
        candidatesPerUser: t.shaping?.subscriptions.candidatesPerUser,
        sectorSize:
          t.shaping?.subscriptions.mode === 'pattern'
            ? t.shaping.subscriptions.sectorSize
            : undefined,
        zipfExponent: t.zipfExponent,
      },
      root.fork('population'),
    );
    const S = t.servers;
    this.nodeIdList = ['source', 'redis'];
    for (let s = 0; s < S; s++) this.nodeIdList.push(`server-${s}`);
    for (let s = 0; s < S; s++) this.nodeIdList.push(`users-${s}`);

    this.series = new SeriesRecorder(
      sampleIntervalUs(sc.sampleIntervalMs, this.durationUs),
      this.durationUs,
      S,
    );
    this.sourceRng = root.fork('source');
    this.payloadBytes = sampler(sc.workload.payloadBytes, root.fork('payload'));
    this.channelIntervalUs = 1e6 / sc.workload.ratePerChannelPerSec;
    const publishesPerSec = sc.workload.ratePerChannelPerSec * t.channels;
    this.traceEvery = Math.max(1, Math.round(publishesPerSec / TRACED_MESSAGES_PER_SEC));
    this.channelSeq = new Int32Array(t.channels);
    this.channelSubscribers = new Int32Array(t.channels);
    const p = this.pop;
    for (let c = 0; c < t.channels; c++) {
      for (let q = p.channelPairStart[c]; q < p.channelPairStart[c + 1]; q++)
        this.channelSubscribers[c] += p.pairMemberEnd[q] - p.pairMemberStart[q];
    }

    this.sourceLink = new Link(t.links.sourceToBroker, root.fork('link/source'));
    this.brokerLinks = [];
    for (let s = 0; s < S; s++)
      this.brokerLinks.push(new Link(t.links.brokerToServer, root.fork(`link/broker/${s}`)));

    this.cores = t.server.cores;
    this.coreFreeUs = new Float64Array(S * this.cores);
    this.nicFreeUs = new Float64Array(S);
    this.busyUs = new Float64Array(S);
    this.queueMax = new Int32Array(S);
    this.hop1LinkBytes = new Float64Array(S);
    this.hop1LinkMessages = new Float64Array(S);

    this.hop1Rng = root.fork('link/hop1');
    this.hop1LatencyMs = sampler(t.links.serverToUser.latencyMs, this.hop1Rng);
    this.userLinkUs = new Float64Array(2 * t.users);
    this.slotLastSeq = new Int32Array(p.slotUser.length).fill(-1);

    if (t.shaping) this.shaped = this.buildShaped(root);
    if (t.app) {
      this.app = createApp(t.app);
      const app = this.app;
      // Told of each delivery, on the shaped path too, when the app asks.
      if (this.shaped && app.delivered)
        this.shaped.onDeliver = (slot, u, id, arrival) => app.delivered?.(slot, u, id, arrival);
      this.startApp(app, root);
    } else this.scheduleSources();
    this.queue.push(Math.min(this.series.intervalUs, this.durationUs), EV_SAMPLE, 0);
  }

  /** The shaped path reads and writes the model's hop-1 state through this view of it. */
  private buildShaped(root: Rng): ShapedPath {
    return new ShapedPath(
      {
        scenario: this.scenario,
        pop: this.pop,
        msgs: this.msgs,
        queue: this.queue,
        hasher: this.hasher,
        trace: this.trace,
        pending: this.pending,
        series: this.series,
        flow: this.flow,
        durationUs: this.durationUs,
        traceEvery: this.traceEvery,
        hop1Rng: this.hop1Rng,
        hop1LatencyMs: this.hop1LatencyMs,
        userLinkUs: this.userLinkUs,
        slotLastSeq: this.slotLastSeq,
        nicFreeUs: this.nicFreeUs,
        hop1LinkBytes: this.hop1LinkBytes,
        hop1LinkMessages: this.hop1LinkMessages,
        coreFreeUs: this.coreFreeUs,
        busyUs: this.busyUs,
        cores: this.cores,
      },
      root,
    );
  }

  private startApp(app: CaseApp, root: Rng): void {
    const appRng = root.fork('app');
    app.start({
      durationUs: this.durationUs,
      pop: this.pop,
      rng: appRng,
      userLatencyMs: sampler(
        this.scenario.topology.links.serverToUser.latencyMs,
        appRng.fork('latency'),
      ),
      schedule: (atUs, arg, word1 = 0) => {
        if (atUs <= this.durationUs) this.queue.push(atUs, (arg << KIND_BITS) | EV_APP, word1);
      },
      publish: (nowUs, channel, klass) => this.publish(nowUs, channel, klass),
      subscribers: (channel) => this.channelSubscribers[channel],
      msgCreatedUs: (message) => this.msgs.createdUs[message],
    });
  }

  protected nodeIds(): readonly string[] {
    return this.nodeIdList;
  }

  protected handle(kind: number, arg: number, word1: number, now: number): void {
    switch (kind) {
      case EV_SOURCE:
        return this.onSource(now, arg);
      case EV_BROKER:
        return this.onBroker(now, word1);
      case EV_SERVER:
        return this.onServer(now, arg, word1);
      case EV_SAMPLE:
        return this.onSample(now);
      case EV_APP:
        return this.app?.handle(now, arg, word1);
    }
    const shaped = this.shaped;
    if (!shaped) return;
    switch (kind) {
      case EV_RELEASE:
        shaped.advance(this.pop.pairServer[arg], now);
        return shaped.onRelease(now, arg);
      case EV_FLUSH:
        shaped.advance(Math.floor(arg / shaped.config.lanes), now);
        return shaped.onFlush(now, arg);
      case EV_CHURN:
        return shaped.onChurn(now);
      case EV_SERVER_ALL:
        return this.onServerAll(now, arg, word1);
    }
  }

  // ---- Source: publishes updates per channel, periodic or Poisson, possibly in bursts.

  private scheduleSources(): void {
    const { arrival, burstSizeMean } = this.scenario.workload;
    const meanGapUs = this.channelIntervalUs * burstSizeMean;
    for (let c = 0; c < this.pop.channels; c++) {
      const first =
        arrival === 'periodic' ? this.sourceRng.float() * meanGapUs : this.exponentialUs(meanGapUs);
      const t = Math.round(first);
      if (t <= this.durationUs) this.queue.push(t, (c << KIND_BITS) | EV_SOURCE, 0);
    }
  }

  private exponentialUs(meanUs: number): number {
    return -meanUs * Math.log(1 - this.sourceRng.float());
  }

  private burstSize(): number {
    const mean = this.scenario.workload.burstSizeMean;
    if (mean <= 1) return 1;
    // Geometric on {1, 2, …} with the given mean.
    return 1 + Math.floor(Math.log(1 - this.sourceRng.float()) / Math.log(1 - 1 / mean));
  }

  private onSource(now: number, channel: number): void {
    const n = this.burstSize();
    for (let i = 0; i < n; i++) this.publish(now, channel);
    const { arrival, burstSizeMean } = this.scenario.workload;
    const meanGapUs = this.channelIntervalUs * burstSizeMean;
    const gapUs = arrival === 'periodic' ? meanGapUs : this.exponentialUs(meanGapUs);
    const next = Math.max(now + 1, Math.round(now + gapUs));
    if (next <= this.durationUs) this.queue.push(next, (channel << KIND_BITS) | EV_SOURCE, 0);
  }

  private publish(now: number, channel: number, klass = -1): number {
    const id = this.newMessage(now, channel);
    this.flow.produced++;
    if (this.shaped) {
      // Shaped: owed deliveries are counted where the server decides who gets the update.
      this.shaped.published(id, klass);
    } else {
      this.flow.fanout += this.channelSubscribers[channel];
      this.hop2Owed += this.channelSubscribers[channel];
    }
    this.series.produced[this.series.bucket(now)]++;
    const bytes = this.msgs.bytes[id] + REDIS_FRAME_BYTES;
    const arrival = this.sourceLink.send(now, bytes);
    this.series.hop2Bytes[this.series.bucket(now)] += bytes;
    this.queue.push(arrival, EV_BROKER, id);
    if (id % this.traceEvery === 0)
      this.trace.write(TRACE_PUBLISH, now, arrival, NODE_SOURCE, NODE_BROKER, id, -1);
    return id;
  }

  private newMessage(now: number, channel: number): number {
    const bytes = this.shaped
      ? this.shaped.fullBytes()
      : Math.max(1, Math.round(this.payloadBytes()));
    const id = this.msgs.add(channel, now, bytes);
    this.msgs.seq[id] = this.channelSeq[channel]++;
    return id;
  }

  // ---- Broker: single-threaded Redis; one PUBLISH writes to every subscribed server.

  private onBroker(now: number, id: number): void {
    if (this.shaped) return this.onBrokerShaped(now, id, this.shaped);
    const p = this.pop;
    const channel = this.msgs.channel[id];
    const first = p.channelPairStart[channel];
    const last = p.channelPairStart[channel + 1];
    const broker = this.scenario.topology.broker;
    const start = now > this.brokerFreeUs ? now : this.brokerFreeUs;
    const done = start + broker.serviceUs + broker.perSubscriberUs * (last - first);
    this.brokerFreeUs = done;
    const bytes = this.msgs.bytes[id] + REDIS_FRAME_BYTES;
    const traced = id % this.traceEvery === 0;
    for (let q = first; q < last; q++) {
      const s = p.pairServer[q];
      const arrival = this.brokerLinks[s].send(done, bytes);
      this.series.hop2Bytes[this.series.bucket(done)] += bytes;
      this.queue.push(arrival, (q << KIND_BITS) | EV_SERVER, id);
      if (traced) this.trace.write(TRACE_HOP2, now, arrival, NODE_BROKER, 2 + s, id, -1);
    }
  }

  /**
   * Shaped: Redis writes to the servers subscribed to the channel right now (subscriptions come
   * and go), or to every server when the audience is not chosen by subscription; pattern
   * subscriptions cost Redis a match per pattern per publish.
   */
  private onBrokerShaped(now: number, id: number, shaped: ShapedPath): void {
    const p = this.pop;
    const channel = this.msgs.channel[id];
    const broker = this.scenario.topology.broker;
    const bytes = this.msgs.bytes[id] + REDIS_FRAME_BYTES;
    const traced = id % this.traceEvery === 0;
    const targets: number[] = [];
    if (shaped.byServer) for (let s = 0; s < p.servers; s++) targets.push(-1 - s);
    else
      for (let q = p.channelPairStart[channel]; q < p.channelPairStart[channel + 1]; q++)
        if (shaped.pairLive(q)) targets.push(q);
    shaped.brokerTargets(id, targets.length);
    const start = now > this.brokerFreeUs ? now : this.brokerFreeUs;
    const done =
      start + broker.serviceUs + shaped.brokerExtraUs() + broker.perSubscriberUs * targets.length;
    this.brokerFreeUs = done;
    for (const q of targets) {
      const s = q >= 0 ? p.pairServer[q] : -1 - q;
      const arrival = this.brokerLinks[s].send(done, bytes);
      this.series.hop2Bytes[this.series.bucket(done)] += bytes;
      if (q >= 0) this.queue.push(arrival, (q << KIND_BITS) | EV_SERVER, id);
      else this.queue.push(arrival, (s << KIND_BITS) | EV_SERVER_ALL, id);
      if (traced) this.trace.write(TRACE_HOP2, now, arrival, NODE_BROKER, 2 + s, id, -1);
    }
  }

  /** Shaped, audience all or region: server s takes the update off the broker connection. */
  private onServerAll(now: number, s: number, id: number): void {
    const shaped = this.shaped as ShapedPath;
    shaped.advance(s, now);
    this.hop2Hist.record(now - this.msgs.createdUs[id]);
    const ready = shaped.runCpu(s, now, this.scenario.topology.server.cpuPerInboundUs);
    shaped.onServerAll(now, s, id, ready);
  }

  // ---- Server: takes the message off the broker connection, then writes it to each local
  // subscriber. Per-user arrival times are drawn here, not queued (see PendingDeliveries).

  /** Index of the core that frees up first on server s. */
  private earliestCore(s: number): number {
    const free = this.coreFreeUs;
    let best = s * this.cores;
    for (let c = best + 1; c < (s + 1) * this.cores; c++) if (free[c] < free[best]) best = c;
    return best;
  }

  /** Runs `costUs` of CPU on server s no earlier than `readyUs`; returns when it finishes. */
  private runOnCore(s: number, readyUs: number, costUs: number): number {
    const c = this.earliestCore(s);
    const start = readyUs > this.coreFreeUs[c] ? readyUs : this.coreFreeUs[c];
    const end = start + costUs;
    this.coreFreeUs[c] = end;
    this.busyUs[s] += costUs;
    this.series.serverBusyUs[s * (this.series.buckets + 1) + this.series.bucket(start)] += costUs;
    return end;
  }

  private onServer(now: number, pair: number, id: number): void {
    if (this.shaped) {
      const s = this.pop.pairServer[pair];
      this.shaped.advance(s, now);
      this.hop2Hist.record(now - this.msgs.createdUs[id]);
      const ready = this.shaped.runCpu(s, now, this.scenario.topology.server.cpuPerInboundUs);
      return this.shaped.onPair(now, pair, id, ready);
    }
    const p = this.pop;
    const s = p.pairServer[pair];
    const created = this.msgs.createdUs[id];
    const seq = this.msgs.seq[id];
    this.hop2Hist.record(now - created);
    const server = this.scenario.topology.server;
    const link = this.scenario.topology.links.serverToUser;
    const ready = this.runOnCore(s, now, server.cpuPerInboundUs);
    const payload = this.msgs.bytes[id];
    const wire = payload + webSocketHeaderBytes(payload);
    const first = p.pairMemberStart[pair];
    const end = p.pairMemberEnd[pair];
    this.hop2Owed -= end - first;
    const traced = id % this.traceEvery === 0;
    let tracedHere = 0;
    // Hot loop (a million iterations per simulated second at two-hop-1m): state in locals.
    const nicSerUs = (wire * 8) / server.egressMbps;
    const userSerUs = (wire * 8) / link.bandwidthMbps;
    const bufferBytes = server.sendBufferKB * 1024;
    const bytesPerUs = link.bandwidthMbps / 8;
    const jitterUs = link.jitterMs * 1000;
    const rtoUs = link.rtoMs * 1000;
    const loss = link.lossProbability;
    const sendCostUs = server.cpuPerSendUs;
    const rng = this.hop1Rng;
    const latencyMs = this.hop1LatencyMs;
    const series = this.series;
    const intervalUs = series.intervalUs;
    const lastBucket = series.buckets;
    const busyRow = s * (lastBucket + 1);
    const busy = series.serverBusyUs;
    const hop1Bytes = series.hop1Bytes;
    const coreFree = this.coreFreeUs;
    const coreFirst = s * this.cores;
    const coreEnd = coreFirst + this.cores;
    const slotUser = p.slotUser;
    const slotLastSeq = this.slotLastSeq;
    const userLink = this.userLinkUs;
    const pending = this.pending;
    const hasher = this.hasher;
    const app = this.app;
    let nicFree = this.nicFreeUs[s];
    let sentCount = 0;
    for (let slot = first; slot < end; slot++) {
      const u = slotUser[slot];
      // Write the frame on the core that frees up first.
      let c = coreFirst;
      for (let k = coreFirst + 1; k < coreEnd; k++) if (coreFree[k] < coreFree[c]) c = k;
      const start = ready > coreFree[c] ? ready : coreFree[c];
      const written = start + sendCostUs;
      coreFree[c] = written;
      let b = Math.floor(start / intervalUs);
      busy[busyRow + (b < lastBucket ? b : lastBucket)] += sendCostUs;
      // Then through the server's NIC, one frame at a time.
      const sent = (written > nicFree ? written : nicFree) + nicSerUs;
      nicFree = sent;
      b = Math.floor(sent / intervalUs);
      if (b > lastBucket) b = lastBucket;
      // The user's downlink drains one message at a time; what waits sits in the send buffer.
      const downStart = sent > userLink[2 * u] ? sent : userLink[2 * u];
      if ((downStart - sent) * bytesPerUs + wire > bufferBytes) {
        this.flow.dropped++;
        series.dropped[b]++;
        hasher.add(u);
        if (traced) this.trace.write(TRACE_DROP, now, sent, 2 + s, 2 + p.servers + s, id, u);
        continue;
      }
      const downEnd = downStart + userSerUs;
      userLink[2 * u] = downEnd;
      sentCount++;
      hop1Bytes[b] += wire;
      let delayUs = latencyMs() * 1000;
      if (jitterUs > 0) delayUs += jitterUs * rng.float();
      while (loss > 0 && rng.float() < loss) delayUs += rtoUs;
      let arrival = Math.round(downEnd + delayUs);
      // One TCP stream per user: nothing overtakes what was sent before it.
      if (arrival < userLink[2 * u + 1]) arrival = userLink[2 * u + 1];
      userLink[2 * u + 1] = arrival;
      const last = slotLastSeq[slot];
      if (seq === last) this.flow.duplicated++;
      else if (seq < last) this.flow.outOfOrder++;
      else slotLastSeq[slot] = seq;
      pending.add(arrival, arrival - created, arrival - now);
      hasher.add(u);
      hasher.add(arrival);
      if (app !== null) app.delivered?.(slot, u, id, arrival);
      if (traced && tracedHere < TRACE_DELIVERIES_PER_BATCH) {
        this.trace.write(TRACE_HOP1, now, arrival, 2 + s, 2 + p.servers + s, id, u);
        tracedHere++;
      }
    }
    this.nicFreeUs[s] = nicFree;
    this.busyUs[s] += sendCostUs * (end - first);
    this.hop1LinkBytes[s] += wire * sentCount;
    this.hop1LinkMessages[s] += sentCount;
  }

  // ---- Sampling: count what has arrived, close the interval, schedule the next one.

  private readonly accept = (
    arrivalUs: number,
    e2eUs: number,
    hop1Us: number,
    tag: number,
  ): void => {
    this.flow.delivered++;
    this.e2eHist.record(e2eUs);
    this.hop1Hist.record(hop1Us);
    this.intervalHist.record(e2eUs);
    this.series.delivered[this.series.bucket(arrivalUs)]++;
    this.shaped?.accepted(e2eUs, tag);
  };

  private flushArrivals(untilUs: number): void {
    this.shaped?.advanceAll(untilUs);
    this.pending.flush(untilUs, this.accept);
    // Counted from where the deliveries are, not as a difference, so conservation can be checked.
    this.flow.inFlight = this.hop2Owed + this.pending.size + (this.shaped?.waiting ?? 0);
    if (this.shaped) this.flow.superseded = this.shaped.superseded;
  }

  private serverQueues(now: number): number[] {
    const cost = this.scenario.topology.server.cpuPerSendUs;
    const out: number[] = [];
    for (let s = 0; s < this.pop.servers; s++) {
      let backlogUs = 0;
      for (let c = s * this.cores; c < (s + 1) * this.cores; c++)
        if (this.coreFreeUs[c] > now) backlogUs += this.coreFreeUs[c] - now;
      out.push(cost > 0 ? Math.round(backlogUs / cost) : 0);
    }
    return out;
  }

  private onSample(now: number): void {
    this.shaped?.sample(now);
    this.flushArrivals(now);
    const h = this.intervalHist;
    const queues = this.serverQueues(now);
    for (let s = 0; s < queues.length; s++)
      if (queues[s] > this.queueMax[s]) this.queueMax[s] = queues[s];
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
      this.pop.connections,
    );
    h.reset();
    const next = Math.min(now + this.series.intervalUs, this.durationUs);
    if (next > now) this.queue.push(next, EV_SAMPLE, 0);
  }

  // ---- Views of the state.

  private linkStats(elapsedS: number): LinkStats[] {
    const perSec = (bytes: number) => (elapsedS > 0 ? bytes / elapsedS : 0);
    const links: LinkStats[] = [
      {
        id: 'source->redis',
        hop: 'hop2',
        from: 'source',
        to: 'redis',
        messages: this.sourceLink.messages,
        bytes: this.sourceLink.bytes,
        bytesPerSec: perSec(this.sourceLink.bytes),
      },
    ];
    this.brokerLinks.forEach((l, s) =>
      links.push({
        id: `redis->server-${s}`,
        hop: 'hop2',
        from: 'redis',
        to: `server-${s}`,
        messages: l.messages,
        bytes: l.bytes,
        bytesPerSec: perSec(l.bytes),
      }),
    );
    for (let s = 0; s < this.pop.servers; s++)
      links.push({
        id: `server-${s}->users-${s}`,
        hop: 'hop1',
        from: `server-${s}`,
        to: `users-${s}`,
        messages: this.hop1LinkMessages[s],
        bytes: this.hop1LinkBytes[s],
        bytesPerSec: perSec(this.hop1LinkBytes[s]),
      });
    return links;
  }

  private serverStats(now: number): ServerStats[] {
    const server = this.scenario.topology.server;
    const queues = this.serverQueues(now);
    const out: ServerStats[] = [];
    for (let s = 0; s < this.pop.servers; s++) {
      const connections = this.pop.connections[s];
      out.push({
        id: `server-${s}`,
        connections,
        cpuUtilisation: now > 0 ? Math.min(1, this.busyUs[s] / (now * this.cores)) : 0,
        queueLength: queues[s],
        queueLengthMax: Math.max(this.queueMax[s], queues[s]),
        memoryMB: (connections * server.memoryPerConnectionKB) / 1024,
      });
    }
    return out;
  }

  snapshot(): Snapshot {
    this.flushArrivals(this.done ? this.durationUs : this.nowUsValue);
    const snap = this.baseSnapshot({
      flow: this.flow,
      e2e: this.e2eHist,
      hop2: this.hop2Hist,
      hop1: this.hop1Hist,
      links: (elapsedS) => this.linkStats(elapsedS),
      servers: (now) => this.serverStats(now),
      rejectedConnections: this.pop.rejected,
      series: this.series.toSeries(),
    });
    if (this.shaped) {
      const now = snap.nowUs;
      let busy = 0;
      for (let s = 0; s < this.pop.servers; s++) busy += this.busyUs[s];
      snap.shaping = this.shaped.stats(
        now,
        (s) => (now > 0 ? Math.min(1, this.busyUs[s] / (now * this.cores)) : 0),
        busy,
        snap.latencyMs,
      );
    }
    return snap;
  }

  result(wallMs: number): RunResult {
    const snap = this.snapshot();
    const out: RunResult = {
      ...this.baseResult(snap, wallMs),
      simBytesPerUser: this.bytesPerUser(),
    };
    if (snap.shaping) {
      out.shaping = snap.shaping;
      out.bytesPerUpdate = bytesPerUpdateOf(snap.shaping.schema);
    }
    if (this.app) Object.assign(out, this.appResult());
    return out;
  }

  /** The case-study application this run hosts (for checkers and tests), if any. */
  caseApp(): CaseApp | null {
    return this.app;
  }

  /** The application's counts and the guide's figures, measured on this run so far. */
  appResult(): AppResult | null {
    if (!this.app) return null;
    this.flushArrivals(this.done ? this.durationUs : this.nowUsValue);
    let bytes = 0;
    for (let s = 0; s < this.pop.servers; s++) bytes += this.hop1LinkBytes[s];
    const connected = this.pop.users - this.pop.rejected;
    const elapsedS = this.nowUsValue / 1e6;
    return this.app.result({
      nowUs: this.nowUsValue,
      latencyMs: this.e2eHist.summary(),
      bytesPerSecPerUser: connected > 0 && elapsedS > 0 ? bytes / connected / elapsedS : 0,
    });
  }

  /** The shaped path's deliveries to probe subscriptions (for the delta-state checker). */
  deltaLog(): ReturnType<ShapedPath['deltaLog']> {
    return this.shaped?.deltaLog() ?? [];
  }

  /** Typed-array bytes of per-user and per-subscription state, divided by the user count. */
  bytesPerUser(): number {
    const perUser =
      populationBytes(this.pop) + this.userLinkUs.byteLength + this.slotLastSeq.byteLength;
    return Math.round((perUser / this.pop.users) * 10) / 10;
  }

  topology(): Topology {
    const S = this.pop.servers;
    const t = this.scenario.topology;
    const perServer = new Int32Array(S);
    for (let u = 0; u < this.pop.users; u++)
      if (this.pop.userServer[u] >= 0) perServer[this.pop.userServer[u]]++;
    const nodes: Topology['nodes'] = [
      {
        id: 'source',
        kind: 'source',
        label: this.app?.source.label ?? 'Event source',
        count: 1,
        ...(this.app ? { role: this.app.source.role } : {}),
      },
      { id: 'redis', kind: 'broker', label: 'Redis pub/sub', count: 1 },
    ];
    const edges: Topology['edges'] = [
      { id: 'source->redis', from: 'source', to: 'redis', hop: 'hop2' },
    ];
    for (let s = 0; s < S; s++) {
      nodes.push({
        id: `server-${s}`,
        kind: 'server',
        label: `WS ${s + 1}`,
        count: t.server.maxConnections,
      });
      edges.push({ id: `redis->server-${s}`, from: 'redis', to: `server-${s}`, hop: 'hop2' });
    }
    for (let s = 0; s < S; s++) {
      nodes.push({
        id: `users-${s}`,
        kind: 'users',
        label: 'users',
        count: perServer[s],
        parent: `server-${s}`,
      });
      edges.push({
        id: `server-${s}->users-${s}`,
        from: `server-${s}`,
        to: `users-${s}`,
        hop: 'hop1',
      });
    }
    if (this.shaped) {
      const stages = stageLabels(this.shaped.config);
      return { nodes, edges, stages };
    }
    return { nodes, edges };
  }

  dispose(): void {
    this.shaped?.dispose();
    this.app?.dispose();
    this.e2eHist.destroy();
    this.hop1Hist.destroy();
    this.hop2Hist.destroy();
    this.intervalHist.destroy();
  }
}
