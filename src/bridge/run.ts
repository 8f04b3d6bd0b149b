// One bridge run: start the scenario's real topology on loopback (broker, server processes, load
// balancer), replay the simulator's workload through real clients, apply the fault schedule for
// real, let the run settle, measure, and tear everything down whatever happens.
import { randomBytes } from 'node:crypto';
import type { Fault } from '../scenario/schema.ts';
import type { RunResult } from '../sim/types.ts';
import { Rng } from '../sim/rng.ts';
import { InProcessBroker } from './broker.ts';
import {
  brokerClient,
  deleteRedisKeys,
  type BrokerClient,
  type BrokerTarget,
} from './broker-client.ts';
import { nowUs, sleep } from './common.ts';
import { Fleet } from './fleet.ts';
import { LoadBalancer } from './lb.ts';
import { LoadGenerator, type DownWindow, type LostDelivery } from './loadgen.ts';
import type { Plan } from './plan.ts';
import type { BridgeReport, Measured } from './protocol.ts';
import type { ServerConfig } from './server-main.ts';

export interface BridgeRunOptions {
  /** `redis://host:port`, or undefined for the in-process broker. */
  redisUrl?: string;
  /** Live progress, about 4 times a second. */
  onProgress?: (m: Measured) => void;
  /** Called once the servers are up and the replay starts. */
  onStarted?: () => void;
  signal?: AbortSignal;
  /** Longest wait after the schedule ends for what is owed to arrive (default: by protocol). */
  settleMs?: number;
}

/** What a run found beyond the report (for tests and the CLI's details). */
export interface BridgeRunDetails {
  report: BridgeReport;
  missing: LostDelivery[];
  windows: DownWindow[];
  /** Faults applied, with when (µs since start). */
  applied: { kind: string; atUs: number; target: number; hit: number }[];
  serverPeakRssMB: number[];
  slowDisconnects: number;
}

const PROGRESS_MS = 250;

function brokerLabel(url: string | undefined): string {
  if (!url) return 'in-process';
  const u = new URL(url);
  return `${u.protocol}//${u.hostname}:${u.port || 6379}`;
}

export async function runBridge(
  plan: Plan,
  opts: BridgeRunOptions = {},
): Promise<BridgeRunDetails> {
  const fleet = new Fleet();
  let inproc: InProcessBroker | null = null;
  let lb: LoadBalancer | null = null;
  let publisher: BrokerClient | null = null;
  let gen: LoadGenerator | null = null;
  const prefix = `hoplab:${randomBytes(6).toString('hex')}`;
  const timers: NodeJS.Timeout[] = [];
  try {
    // Hop 2: the broker.
    let target: BrokerTarget | null = null;
    if (plan.distribution.kind !== 'server') {
      if (opts.redisUrl) target = { url: opts.redisUrl, prefix };
      else {
        inproc = new InProcessBroker();
        await inproc.start();
        target = { url: inproc.url, prefix };
      }
    }
    const history = plan.cluster?.history ?? (plan.model === 'protocols' ? 'server' : 'none');
    // The broker keeps history for resume (history=broker) and is the data source when polled.
    const brokerHistory = history === 'broker' || plan.distribution.kind === 'direct';

    // The servers.
    const base: Omit<ServerConfig, 'index'> = {
      port: 0,
      seed: plan.seed,
      protocol: plan.protocol,
      distribution: plan.distribution,
      broker: target,
      channels: plan.channels,
      history,
      assignSeq: plan.model === 'protocols',
      clientDelay: plan.clientDelay,
      brokerDelay: plan.brokerDelay,
      holdS: plan.protocols?.holdS ?? 30,
      missed: plan.protocols?.missed ?? 'buffer',
      historyLimit: 100_000,
    };
    const ports = await Promise.all(
      Array.from({ length: plan.servers }, (_, index) => fleet.start({ ...base, index })),
    );
    if (plan.cluster) {
      lb = new LoadBalancer(ports, { ...plan.cluster, seed: plan.seed });
      await lb.start();
    }
    if (target) {
      publisher = brokerClient(target);
      await publisher.connect();
    }
    const lbPort = lb?.port;
    gen = new LoadGenerator(plan, {
      portOf: (u) => lbPort ?? ports[plan.clientServer[u]] ?? ports[0],
      sourcePort: plan.distribution.kind === 'server' ? ports[0] : undefined,
      publisher: publisher ?? undefined,
      brokerHistory,
    });
    await gen.openSource();
    if (plan.model === 'two-hop') await gen.warmUp(30_000, opts.signal);
    // Subscriptions of pub/sub servers take a moment to reach the broker.
    await sleep(200);
    gen.startClock(plan.model !== 'two-hop');
    gen.schedulePublishes();
    opts.onStarted?.();

    // Faults, at their times on the replay clock.
    const applied: BridgeRunDetails['applied'] = [];
    const unsupported: string[] = [];
    const g = gen;
    const at = (s: number, fn: () => void) => {
      const t = setTimeout(fn, Math.max(0, g.t0 / 1000 + s * 1000 - nowUs() / 1000));
      timers.push(t);
    };
    const brokerDown = (down: boolean) => {
      if (inproc) inproc.setDown(down);
      else {
        fleet.broadcast({ type: down ? 'broker-down' : 'broker-up' });
        if (down) publisher?.cut();
        else publisher?.restore();
      }
    };
    for (const f of plan.cluster?.faults ?? []) {
      const record = (hit: number) =>
        applied.push({ kind: f.kind, atUs: g.nowRelUs(), target: f.target, hit });
      switch (f.kind) {
        case 'server-crash':
          at(f.atS, () => {
            record(g.connectedTo(f.target));
            fleet.crash(f.target);
          });
          if (f.forS > 0) at(f.atS + f.forS, () => void fleet.restart(f.target).catch(() => {}));
          break;
        case 'server-restart':
          at(f.atS, () => {
            record(0);
            void fleet.restart(f.target).catch(() => {});
          });
          break;
        case 'broker-down':
          at(f.atS, () => {
            record(0);
            brokerDown(true);
          });
          if (f.forS > 0) at(f.atS + f.forS, () => brokerDown(false));
          break;
        case 'broker-up':
          at(f.atS, () => {
            record(0);
            brokerDown(false);
          });
          break;
        case 'mass-disconnect':
          at(f.atS, () =>
            record(g.disconnect(f.share, new Rng(plan.seed, `bridge/disconnect/${f.atS}`))),
          );
          break;
        default:
          unsupported.push(unsupportedLabel(f));
      }
    }

    // Progress while the schedule plays.
    const serverFigures = () => {
      const elapsedUs = Math.max(1, nowUs() - g.t0);
      const cpu =
        fleet.stats.reduce((s, st) => s + st.cpuUs, 0) /
        elapsedUs /
        Math.max(1, fleet.stats.length);
      const memoryMB = Math.max(0, ...fleet.stats.map((st) => st.rssBytes)) / 1024 / 1024;
      return { cpu: Math.round(cpu * 1000) / 1000, memoryMB: Math.round(memoryMB * 10) / 10 };
    };
    const progress = setInterval(() => {
      opts.onProgress?.(g.measured(g.nowRelUs() / 1e6, false, serverFigures()));
    }, PROGRESS_MS);
    timers.push(progress);
    const aborted = () => opts.signal?.aborted ?? false;
    while (g.nowRelUs() < plan.durationUs && !aborted()) await sleep(50);

    // Settle: what is owed has until then to arrive (a poll interval, a reconnect, a replay).
    const p = plan.protocols;
    const settleMs =
      opts.settleMs ??
      (p && plan.protocol === 'polling'
        ? p.pollIntervalS * 1000 + 3_000
        : plan.cluster
          ? 15_000
          : 5_000);
    const until = Date.now() + settleMs;
    // Done when everything owed arrived, or when every client is connected and nothing has
    // arrived for 2 s (what is still missing then is lost: at most once, no history).
    let last = g.delivered;
    let quietSince = Date.now();
    while (!g.settled() && Date.now() < until && !aborted()) {
      await sleep(50);
      if (g.delivered !== last) {
        last = g.delivered;
        quietSince = Date.now();
      } else if (
        plan.cluster &&
        Date.now() - quietSince > 2_000 &&
        g.connections() === plan.clients
      )
        break;
    }
    if (!aborted()) await sleep(100);
    clearInterval(progress);
    for (const t of timers) clearTimeout(t);
    const final = g.measured(Math.min(g.nowRelUs(), plan.durationUs) / 1e6, true, serverFigures());
    const missing = g.missing();
    const windows = g.windows.slice();
    gen.stop();

    const stats = fleet.stats;
    const measured: Record<string, unknown> = {
      ...final,
      dropped: final.lost,
      inFlight: 0,
      latencyMs: g.latencySummary(),
      deliveriesPerSec: final.delivered / (plan.durationUs / 1e6),
      lostAtBroker: g.lostAtBroker,
      upstreamFailed: g.upstreamFailed,
      notSent: g.notSent,
      upstreamViaSource: g.viaSource,
      requests: g.requests,
      emptyResponses: g.emptyResponses,
      reconnectMaxMs: Math.round(g.reconnectMaxMs),
      slowDisconnects: stats.reduce((s, st) => s + st.slowDisconnects, 0),
      refusedRequests: stats.reduce((s, st) => s + st.refused, 0),
      servers: stats.map((st) => ({
        id: `server-${st.index}`,
        connections: st.connections,
        cpuUtilisation: Math.round((st.cpuUs / Math.max(1, plan.durationUs)) * 1000) / 1000,
        memoryMB: Math.round((st.rssBytes / 1024 / 1024) * 10) / 10,
        memoryPeakMB: Math.round((st.rssPeakBytes / 1024 / 1024) * 10) / 10,
        crashes: st.crashes,
      })),
      connectionsPerServer: lb?.connectionsPer(),
      faults: applied.map((a) => ({
        kind: a.kind,
        atS: a.atUs / 1e6,
        target: a.target,
        hit: a.hit,
      })),
      unsupportedFaults: unsupported,
      net: plan.clientDelay.kind === 'none' ? 'loopback' : 'emulate',
      notes: plan.notes,
      aborted: aborted(),
    };
    const report = makeReport(plan, brokerLabel(opts.redisUrl), measured);
    return {
      report,
      missing,
      windows,
      applied,
      serverPeakRssMB: stats.map((st) => st.rssPeakBytes / 1024 / 1024),
      slowDisconnects: measured.slowDisconnects as number,
    };
  } finally {
    for (const t of timers) clearTimeout(t);
    gen?.stop();
    gen?.dispose();
    await lb?.stop();
    await fleet.stop();
    await publisher?.close();
    await inproc?.stop();
    if (opts.redisUrl) await deleteRedisKeys(opts.redisUrl, prefix).catch(() => 0);
  }
}

/** A fault the bridge does not reproduce, named with what it would have done. */
function unsupportedLabel(f: Fault): string {
  let what: string = f.kind;
  if (f.kind === 'partition') {
    const between =
      f.from && f.to ? `${f.from}${f.oneWay ? '→' : '↔'}${f.to}` : `broker↔server:${f.target}`;
    what = `partition(${between}${f.oneWay ? ', one way' : ''})`;
  } else if (f.kind === 'slow-link') {
    const parts = [
      f.extraLatencyMs > 0 ? `+${f.extraLatencyMs} ms` : '',
      f.lossProbability > 0 ? `loss ${f.lossProbability}` : '',
      f.bandwidthMbps > 0 ? `${f.bandwidthMbps} Mbit/s` : '',
    ].filter(Boolean);
    what = `slow-link(server:${f.target}${parts.length ? `, ${parts.join(', ')}` : ''})`;
  }
  return `${what}@${f.atS}s`;
}

/** Simulated next to measured; agreement on p50 and on delivered/lost counts. */
export function makeReport(
  plan: Plan,
  broker: string,
  measured: Record<string, unknown>,
): BridgeReport {
  const sim = plan.simulated as RunResult & { lost?: number };
  const simP50 = sim.latencyMs.p50;
  const mP50 = (measured.latencyMs as { p50: number }).p50;
  // The simulator stops its clock at the end with some deliveries in flight; the bridge lets them
  // land, so "delivered" compares with the simulator's delivered + in flight.
  const simDelivered = sim.delivered + sim.inFlight;
  const simLost = sim.lost ?? sim.dropped;
  return {
    scenario: plan.scenario.id,
    seed: plan.seed,
    broker,
    simulated: sim as unknown as Record<string, unknown>,
    measured,
    agreement: {
      p50Ratio: simP50 > 0 ? Math.round((mP50 / simP50) * 1000) / 1000 : 0,
      deliveredEqual: measured.delivered === simDelivered,
      lostEqual: measured.lost === simLost,
    },
  };
}
