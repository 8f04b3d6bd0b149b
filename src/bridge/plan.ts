// The workload of a bridge run, taken from the simulator itself: the same scenario, parameters
// and seed give the same publish schedule, channels, payload sizes, subscriptions and link delays.
import { activeStages, shapingConfig } from '../sim/shaping/config.ts';
import { ScenarioError } from '../scenario/errors.ts';
import type { LoadedScenario, RunSpec } from '../scenario/resolve.ts';
import type { Fault } from '../scenario/schema.ts';
import { buildPopulation } from '../sim/population.ts';
import { Geometry } from '../sim/models/protocols/geometry.ts';
import { RADIO_PROFILES } from '../sim/models/protocols/radio.ts';
import { Rng } from '../sim/rng.ts';
import { createSimulation } from '../sim/simulation.ts';
import type { RunResult, UpdateRecord } from '../sim/types.ts';
import { MAX_BRIDGE_CONNECTIONS } from './common.ts';
import type { DelaySpec } from './netem.ts';

export type BridgeProtocol = 'websocket' | 'sse' | 'polling' | 'long-polling';
export type NetMode = 'emulate' | 'loopback';

/** Where updates come from and how they reach the servers. */
export type Distribution =
  /** Protocol scenarios: the source is the (one) server itself. */
  | { kind: 'server' }
  /** Redis-style pub/sub, at most once: live messages only. */
  | { kind: 'pubsub' }
  /** Kafka-style log: every server its own consumer group, committed offsets, replay. */
  | { kind: 'log'; commitIntervalMs: number }
  /** Direct polling of the data source every pollIntervalMs. */
  | { kind: 'direct'; pollIntervalMs: number };

export interface Plan {
  run: RunSpec;
  scenario: LoadedScenario;
  seed: number;
  model: LoadedScenario['model'];
  protocol: BridgeProtocol;
  distribution: Distribution;
  /** The simulator's run JSON for the same run. */
  simulated: RunResult;
  /** The exact publish schedule (createdUs relative to the run's start). */
  updates: UpdateRecord[];
  /**
   * Per update (by id): whether the real side replays it. False for what the simulator never put
   * in its channel's sequence: a client's update whose upstream failed (protocols), or one still on
   * its way to the broker or server when the simulated run ended (it is owed to no one there).
   */
  replayed: Uint8Array;
  /**
   * Per client: the channel sequence number of the first update it is owed (the simulator's
   * `firstOwedSeq()`); -1: owed nothing. Two-hop: 0 (everything from the start). A real client
   * subscribes "from" it and the server buffers or replays from there.
   */
  firstOwed: Int32Array;
  durationUs: number;
  clients: number;
  channels: number;
  servers: number;
  /** Channels each client follows. */
  clientChannels: number[][];
  /** Server of each client when fixed by the model (two-hop, protocols); -1: the load balancer picks. */
  clientServer: Int32Array;
  /** When each client first connects, µs after the start (the model's start spread). */
  startUs: Float64Array;
  /** Delays: source → broker, broker → server, server ↔ client (by client index). */
  sourceDelay: DelaySpec;
  brokerDelay: DelaySpec;
  clientDelay: DelaySpec;
  /** Cluster scenarios: the load balancer, reconnects, delivery and faults. */
  cluster?: {
    strategy: string;
    usersPerIp: number;
    virtualNodes: number;
    healthCheckIntervalS: number;
    unhealthyThreshold: number;
    backoffBaseS: number;
    backoffCapS: number;
    jitter: 'none' | 'full' | 'equal' | 'guide';
    guarantee: string;
    history: 'none' | 'server' | 'broker';
    restartS: number;
    faults: Fault[];
  };
  /** Protocol scenarios: the protocol's own knobs. */
  protocols?: {
    pollIntervalS: number;
    holdS: number;
    missed: 'buffer' | 'drop';
    keepAlive: boolean;
    /** Round trips of a connection set-up (TCP + TLS), emulated before each new connection. */
    handshakeRounds: number;
    sseResume: boolean;
    /** A mobile radio is idle at the start: its promotion delays each client's first packet. */
    radioPromotionUs: number;
  };
  /** What the bridge changed or could not reproduce, in words (also printed in the report). */
  notes: string[];
}

/** Scenarios whose real counterpart cannot run here. */
const REFUSED_PROTOCOLS: Record<string, string> = {
  webrtc: 'WebRTC needs a real WebRTC stack (ICE, DTLS, SCTP), which Node does not have',
};

/** Parameters the bridge sets on the simulated side (and says so). */
export interface PlanOptions {
  net: NetMode;
  /** Measured loopback one-way delay, ms (for --net loopback). */
  loopbackOneWayMs?: number;
  /** Cap on connections; default MAX_BRIDGE_CONNECTIONS. */
  maxConnections?: number;
}

function userCount(sc: LoadedScenario): { n: number; param: string } {
  switch (sc.model) {
    case 'two-hop':
      return { n: sc.topology.users, param: 'users' };
    case 'protocols':
      return { n: sc.topology.clients, param: 'clients' };
    case 'cluster':
      return { n: sc.topology.users, param: 'users' };
    case 'fanout':
      throw new ScenarioError('scenario', FANOUT_REFUSED(sc.id));
  }
}

/** The fan-out model has feeds and a writer pool, not connections: nothing for the bridge to replay. */
const FANOUT_REFUSED = (id: string) =>
  `${id} models feed fan-out (writes, reads, pushes), not connections; the bridge replays two-hop, protocol and cluster scenarios`;

interface Simulated {
  result: RunResult;
  updates: UpdateRecord[];
  /** Per client, the first owed seq; null when the model owes everything from the start. */
  firstOwed: Int32Array | null;
  /** Per update, its channel sequence number in the simulator (-1: never given one); or null. */
  seqs: Int32Array | null;
}

/** The sequence numbers the simulator gave its updates, by update id (-1: never given one). */
function simulatorSeqs(updates: readonly UpdateRecord[]): Int32Array {
  const out = new Int32Array(updates.length).fill(-1);
  for (const m of updates) out[m.id] = m.seq;
  return out;
}

/** Runs the simulator to the end: the simulated side and the schedule to replay. */
async function simulate(run: RunSpec): Promise<Simulated> {
  const sim = await createSimulation(run);
  try {
    const start = performance.now();
    while (!sim.done) sim.runUntil(sim.durationUs, 200_000);
    const result = sim.result(performance.now() - start);
    const updates = sim.updates(0, Infinity);
    return {
      result,
      updates,
      firstOwed: sim.firstOwedSeq?.() ?? null,
      seqs: simulatorSeqs(updates),
    };
  } finally {
    sim.dispose();
  }
}

/**
 * Which updates the real side replays. Protocols: exactly those the simulator sequenced (a
 * client's update whose upstream failed there fails here too). Cluster: all but each channel's
 * trailing unsequenced updates — still on their way to the broker when the simulated run ended;
 * one lost at a broker outage mid-run is replayed, so the real broker can lose it too.
 */
function replayedUpdates(
  model: LoadedScenario['model'],
  updates: UpdateRecord[],
  seqs: Int32Array | null,
): Uint8Array {
  const out = new Uint8Array(updates.length).fill(1);
  if (!seqs || model === 'two-hop') return out;
  if (model === 'protocols') {
    for (const m of updates) out[m.id] = seqs[m.id] >= 0 ? 1 : 0;
    return out;
  }
  const tailDone = new Set<number>();
  for (let k = updates.length - 1; k >= 0; k--) {
    const m = updates[k];
    if (tailDone.has(m.channel)) continue;
    if (seqs[m.id] >= 0) tailDone.add(m.channel);
    else out[m.id] = 0;
  }
  return out;
}

/**
 * Builds the plan. `run` is what the user asked for; the bridge may adjust parameters it cannot
 * reproduce (drops in protocol scenarios) and says so in `notes`; the simulated side is always
 * run with exactly the parameters the real side replays.
 */
export async function makePlan(
  run: RunSpec,
  options: PlanOptions,
  resolve: (overrides: Record<string, string | number>) => RunSpec,
): Promise<Plan> {
  const sc = run.scenario;
  // A case study's application (a bid path, a store) is not a fan-out this plan can replay. The
  // live auction's bid path has its own replay (`bridge/auction/`), reached from the command
  // line; every other application runs in the simulator only, so far. Checked first, so an
  // application scenario is not told to cut its users down to a connection count.
  if ((sc.model === 'two-hop' || sc.model === 'cluster') && sc.topology.app) {
    const kind = sc.topology.app.kind;
    throw new ScenarioError(
      'scenario',
      kind === 'live-auction'
        ? `${sc.id} replays its bid path from the command line (npm run hoplab -- bridge ${sc.id} --set control=…), not as a fan-out of real connections`
        : `${sc.id} runs the ${kind} application, which the bridge does not replay against real servers yet`,
    );
  }
  const notes: string[] = [];
  const { n, param } = userCount(sc);
  const limit = options.maxConnections ?? MAX_BRIDGE_CONNECTIONS;
  if (n > limit)
    throw new ScenarioError(
      param,
      `${sc.id} has ${n} ${param}; the bridge runs at most ${limit} real connections on this machine (measured on 2 cores) — set --set ${param}=${limit} or fewer`,
    );
  const overrides: Record<string, string | number> = {};
  const has = (name: string) => sc.parameters.some((p) => p.name === name);
  if (sc.model === 'protocols') {
    const protocol = sc.workload.protocol;
    if (protocol === 'all')
      throw new ScenarioError(
        'protocol',
        `${sc.id} runs all five protocols; the bridge runs one: --set protocol=websocket (or sse, polling, long-polling)`,
      );
    if (REFUSED_PROTOCOLS[protocol])
      throw new ScenarioError(
        'protocol',
        `${protocol} is not supported by the bridge: ${REFUSED_PROTOCOLS[protocol]}`,
      );
    if (sc.topology.drops.meanTimeBetweenDropsS > 0 && has('dropEveryS')) {
      overrides.dropEveryS = 0;
      notes.push(
        `random connection drops (dropEveryS=${sc.topology.drops.meanTimeBetweenDropsS}) are not replayed; both sides run with dropEveryS=0`,
      );
    }
    if (sc.topology.radio !== 'none')
      notes.push(
        `radio (${sc.topology.radio}): the promotion from idle is emulated on each client's first packet only (at these rates the radio then stays active)`,
      );
    if (sc.topology.http.tabsPerClient > 1)
      notes.push('tabsPerClient > 1 is simulated; the bridge opens one stream per client');
  }
  if (sc.model === 'cluster') {
    const t = sc.topology;
    if (t.broker.kind === 'kafka' && t.broker.consumers === 'group')
      throw new ScenarioError(
        'consumers',
        'consumers=group (one Kafka consumer group splitting the partitions, records relayed between servers) is simulated only; the bridge replays consumers=broadcast (each server its own group)',
      );
    if (t.delivery.awayShare > 0)
      throw new ScenarioError(
        'awayShare',
        `awayShare=${t.delivery.awayShare} (users closing the app and coming back) is simulated only; the bridge replays it with awayShare=0`,
      );
    if (t.regions > 1) notes.push('regions > 1: inter-region delays are not emulated');
    if (t.faults.some((f) => f.kind === 'server-crash' && !f.loseState))
      notes.push(
        'server-crash with loseState=false: the real crash is a SIGKILL, so the restarted server has lost its memory anyway',
      );
  }
  if (options.net === 'loopback') {
    const oneWay = Math.max(0.1, Math.round((options.loopbackOneWayMs ?? 0.05) * 10) / 10);
    const set = (name: string, v: number) => {
      if (has(name)) overrides[name] = v;
    };
    if (sc.model === 'two-hop') {
      set('hop1LatencyMsP99', oneWay);
      set('hop1LatencyMs', oneWay);
      notes.push(
        `--net loopback: simulated with hop1LatencyMs=hop1LatencyMsP99=${oneWay} (the measured loopback delay, rounded up to the parameter's minimum); hop-2 links and hop-1 jitter (${sc.topology.links.serverToUser.jitterMs} ms) have no parameter and stay simulated`,
      );
    } else if (has('rttMs')) {
      set('rttMs', 1);
      notes.push(
        '--net loopback: simulated with rttMs=1 (the parameter minimum; loopback is ~0.1 ms)',
      );
    } else {
      notes.push(
        '--net loopback: this scenario has no latency parameter; the simulated side keeps its network delays',
      );
    }
  }
  if (Object.keys(overrides).length > 0) {
    const merged: Record<string, string | number> = { ...run.params, ...overrides };
    // Resolve from the defaults with every value this run uses (faults are already in the copy).
    const delta: Record<string, string | number> = {};
    for (const p of sc.parameters) if (merged[p.name] !== p.default) delta[p.name] = merged[p.name];
    run = { ...resolve(delta), seed: run.seed };
  }
  const scn = run.scenario;
  if (scn.model === 'fanout') throw new ScenarioError('scenario', FANOUT_REFUSED(scn.id));
  if (scn.model !== 'protocols' && scn.topology.shaping) {
    const on = activeStages(shapingConfig(scn.topology.shaping, scn.model));
    // The real servers send each update as it comes: shaping stages are simulated only.
    if (on.length > 0)
      throw new ScenarioError(
        'shaping',
        `the bridge does not reproduce update shaping (${on.join(', ')} on in ${scn.id}); switch the stages off to replay it`,
      );
  }
  const { result: simulated, updates, firstOwed: simFirstOwed, seqs } = await simulate(run);
  const replayed = replayedUpdates(scn.model, updates, seqs);
  const skipped = replayed.length - replayed.reduce((n, x) => n + x, 0);
  if (skipped > 0)
    notes.push(
      `${skipped} update(s) the simulator never sequenced (upstream failed, or still on the way when its run ended) are produced but not sent`,
    );
  const firstOwedOf = (n: number): Int32Array =>
    simFirstOwed && simFirstOwed.length === n ? simFirstOwed : new Int32Array(n);
  const seed = run.seed;
  const durationUs = Math.round(scn.durationS * 1e6);
  const net = options.net;
  const none: DelaySpec = { kind: 'none' };

  if (scn.model === 'two-hop') {
    const t = scn.topology;
    const pop = buildPopulation(
      {
        users: t.users,
        servers: t.servers,
        channels: t.channels,
        subscriptionsPerUser: t.subscriptionsPerUser,
        maxConnections: t.server.maxConnections,
        balancer: t.loadBalancer,
      },
      new Rng(seed).fork('population'),
    );
    const clientChannels: number[][] = Array.from({ length: t.users }, () => []);
    for (let i = 0; i < pop.slotUser.length; i++)
      clientChannels[pop.slotUser[i]].push(pop.slotChannel[i]);
    if (t.links.serverToUser.lossProbability > 0)
      notes.push('hop-1 packet loss (RTO resends) is simulated, not emulated');
    if (t.links.serverToUser.bandwidthMbps < 1000)
      notes.push(
        `user downlinks (${t.links.serverToUser.bandwidthMbps} Mbit/s) are not shaped: loopback bandwidth is real`,
      );
    return {
      run,
      scenario: scn,
      seed,
      model: 'two-hop',
      protocol: 'websocket',
      distribution: { kind: 'pubsub' },
      simulated,
      updates,
      replayed,
      firstOwed: new Int32Array(t.users),
      durationUs,
      clients: t.users,
      channels: t.channels,
      servers: t.servers,
      clientChannels,
      clientServer: pop.userServer,
      startUs: new Float64Array(t.users),
      sourceDelay:
        net === 'emulate'
          ? {
              kind: 'dist',
              latencyMs: t.links.sourceToBroker.latencyMs,
              jitterMs: t.links.sourceToBroker.jitterMs,
            }
          : none,
      brokerDelay:
        net === 'emulate'
          ? {
              kind: 'dist',
              latencyMs: t.links.brokerToServer.latencyMs,
              jitterMs: t.links.brokerToServer.jitterMs,
            }
          : none,
      clientDelay:
        net === 'emulate'
          ? {
              kind: 'dist',
              latencyMs: t.links.serverToUser.latencyMs,
              jitterMs: t.links.serverToUser.jitterMs,
            }
          : none,
      notes,
    };
  }

  if (scn.model === 'protocols') {
    const t = scn.topology;
    const protocol = scn.workload.protocol as BridgeProtocol;
    const channels = Math.min(t.channels, t.clients);
    const geo = new Geometry(
      t.clients,
      channels,
      t.network.rttMs,
      t.network.accessShare,
      t.network.jitterShare,
      new Rng(seed).fork('geometry'),
    );
    const baseUs: number[] = [];
    for (let i = 0; i < t.clients; i++) baseUs.push(geo.serverPathUs(i));
    const startRng = new Rng(seed).fork('source').fork('start');
    const startUs = new Float64Array(t.clients);
    for (let i = 0; i < t.clients; i++) startUs[i] = Math.round(startRng.float() * 1_000_000);
    if (t.network.lossProbability > 0)
      notes.push('packet loss (RTO resends) is simulated, not emulated');
    return {
      run,
      scenario: scn,
      seed,
      model: 'protocols',
      protocol,
      distribution: { kind: 'server' },
      simulated,
      updates,
      replayed,
      firstOwed: firstOwedOf(t.clients),
      durationUs,
      clients: t.clients,
      channels,
      servers: 1,
      clientChannels: Array.from({ length: t.clients }, (_, i) => [i % channels]),
      clientServer: new Int32Array(t.clients),
      startUs,
      sourceDelay: none,
      brokerDelay: none,
      clientDelay:
        net === 'emulate'
          ? {
              kind: 'path',
              baseUs,
              noiseMeanUs: (t.network.jitterShare * t.network.rttMs * 1000) / 2,
            }
          : none,
      protocols: {
        pollIntervalS: t.polling.intervalS,
        holdS: t.longPolling.holdS,
        missed: t.longPolling.missed,
        keepAlive: t.http.keepAlive === 'on',
        handshakeRounds: 1 + t.http.tlsRoundTrips,
        sseResume: t.sse.resume === 'on',
        radioPromotionUs: t.radio === 'none' ? 0 : RADIO_PROFILES[t.radio].promotionUs,
      },
      notes,
    };
  }

  // Cluster.
  const t = scn.topology;
  const subs = new Rng(seed).fork('subscriptions');
  const clientChannels = Array.from({ length: t.users }, () => [subs.int(t.channels)]);
  const spreadUs = Math.max(1_000_000, (1.2e6 * t.users) / t.server.acceptPerSec);
  const startRng = new Rng(seed).fork('start');
  const startUs = new Float64Array(t.users);
  for (let u = 0; u < t.users; u++) startUs[u] = Math.round(startRng.float() * spreadUs);
  const b = t.broker;
  const distribution: Distribution =
    b.kind === 'redis'
      ? { kind: 'pubsub' }
      : b.kind === 'kafka'
        ? { kind: 'log', commitIntervalMs: b.commitIntervalMs }
        : { kind: 'direct', pollIntervalMs: b.pollIntervalMs };
  const oneWayUs = (t.network.rttMs * 1000) / 2;
  const brokerMs = b.latencyMs;
  return {
    run,
    scenario: scn,
    seed,
    model: 'cluster',
    protocol: 'websocket',
    distribution,
    simulated,
    updates,
    replayed,
    firstOwed: firstOwedOf(t.users),
    durationUs,
    clients: t.users,
    channels: t.channels,
    servers: t.servers,
    clientChannels,
    clientServer: new Int32Array(t.users).fill(-1),
    startUs,
    sourceDelay:
      net === 'emulate' ? { kind: 'path', baseUs: [brokerMs * 1000], noiseMeanUs: 0 } : none,
    brokerDelay:
      net === 'emulate' ? { kind: 'path', baseUs: [brokerMs * 1000], noiseMeanUs: 0 } : none,
    clientDelay:
      net === 'emulate'
        ? { kind: 'path', baseUs: [oneWayUs], noiseMeanUs: t.network.jitterShare * oneWayUs }
        : none,
    cluster: {
      strategy: t.loadBalancer.strategy,
      usersPerIp: t.loadBalancer.usersPerIp,
      virtualNodes: t.loadBalancer.virtualNodes,
      healthCheckIntervalS: t.loadBalancer.healthCheckIntervalS,
      unhealthyThreshold: t.loadBalancer.unhealthyThreshold,
      backoffBaseS: t.connection.backoffBaseS,
      backoffCapS: t.connection.backoffCapS,
      jitter: t.connection.jitter,
      guarantee: t.delivery.guarantee,
      history: t.delivery.history,
      restartS: t.server.restartS,
      faults: t.faults,
    },
    notes,
  };
}
