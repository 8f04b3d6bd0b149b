// The numbers the "real servers" table sets side by side, read from a simulator snapshot, a run JSON or a measurement.
import type { Measured } from '../../bridge/protocol.ts';
import type { ServerStats, Snapshot } from '../../sim/types.ts';

/**
 * One column of the table. A figure is null when its source does not have it (the simulator does
 * not count reconnects in a run without faults, say): the table shows a dash, never a guess.
 */
export interface Figures {
  latencyMsP50: number | null;
  latencyMsP90: number | null;
  latencyMsP99: number | null;
  latencyMsMax: number | null;
  /** Deliveries behind the percentiles (a percentile of nothing is shown as a dash). */
  latencyCount: number | null;
  delivered: number | null;
  /**
   * Deliveries still travelling when the simulated clock stopped. The bridge lets its own land,
   * so its "delivered equal" compares measured delivered with simulated delivered + in flight.
   */
  inFlight: number | null;
  lost: number | null;
  duplicated: number | null;
  outOfOrder: number | null;
  /** Delivered ÷ owed, 0..1. */
  reach: number | null;
  connections: number | null;
  reconnects: number | null;
  /** Mean busy share of the servers' cores, 0..1. */
  serverCpuUtilisation: number | null;
  serverMemoryMB: number | null;
}

export type FigureKey = keyof Omit<Figures, 'latencyCount' | 'inFlight'>;

/** The table's rows, in order: key, label, and how to read the value. */
export const FIGURE_ROWS: {
  key: FigureKey;
  label: string;
  kind: 'ms' | 'count' | 'share' | 'mb';
}[] = [
  { key: 'latencyMsP50', label: 'p50 latency', kind: 'ms' },
  { key: 'latencyMsP90', label: 'p90 latency', kind: 'ms' },
  { key: 'latencyMsP99', label: 'p99 latency', kind: 'ms' },
  { key: 'latencyMsMax', label: 'max latency', kind: 'ms' },
  { key: 'delivered', label: 'Delivered', kind: 'count' },
  { key: 'lost', label: 'Lost', kind: 'count' },
  { key: 'duplicated', label: 'Duplicated', kind: 'count' },
  { key: 'outOfOrder', label: 'Out of order', kind: 'count' },
  { key: 'reach', label: 'Reach', kind: 'share' },
  { key: 'connections', label: 'Connections', kind: 'count' },
  { key: 'reconnects', label: 'Reconnects', kind: 'count' },
  { key: 'serverCpuUtilisation', label: 'Server CPU', kind: 'share' },
  { key: 'serverMemoryMB', label: 'Server memory', kind: 'mb' },
];

/** A measurement streamed by the bridge, as a column. */
export function figuresFromMeasured(m: Measured): Figures {
  return {
    latencyMsP50: m.latencyMs.p50,
    latencyMsP90: m.latencyMs.p90,
    latencyMsP99: m.latencyMs.p99,
    latencyMsMax: m.latencyMs.max,
    latencyCount: m.latencyMs.count,
    delivered: m.delivered,
    inFlight: null,
    lost: m.lost,
    duplicated: m.duplicated,
    outOfOrder: m.outOfOrder,
    reach: m.reach,
    connections: m.connections,
    reconnects: m.reconnects,
    serverCpuUtilisation: m.serverCpuUtilisation,
    serverMemoryMB: m.serverMemoryMB,
  };
}

/**
 * The lab's own simulated run at its current moment. Lost is the cluster model's count where there
 * is one, else the flow's dropped deliveries (owed and never delivered).
 */
export function figuresFromSnapshot(s: Snapshot): Figures {
  const protocol = s.protocol;
  const cluster = s.cluster;
  const owed = s.flow.fanout;
  return {
    latencyMsP50: s.latencyMs.p50,
    latencyMsP90: s.latencyMs.p90,
    latencyMsP99: s.latencyMs.p99,
    latencyMsMax: s.latencyMs.max,
    latencyCount: s.latencyMs.count,
    delivered: s.flow.delivered,
    inFlight: s.flow.inFlight,
    lost: cluster ? cluster.lost : s.flow.dropped,
    duplicated: s.flow.duplicated,
    outOfOrder: s.flow.outOfOrder,
    reach: cluster ? cluster.reach : owed > 0 ? s.flow.delivered / owed : 1,
    connections: protocol ? protocol.serverConnections : sumOf(s.servers, 'connections'),
    reconnects: cluster ? cluster.reconnect.firstAttempts : null,
    serverCpuUtilisation: protocol ? protocol.serverCpuUtilisation : meanCpu(s.servers),
    serverMemoryMB: protocol ? protocol.serverMemoryMB : sumOf(s.servers, 'memoryMB'),
  };
}

/**
 * A run JSON from the bridge's report (`simulated` or `measured`): untyped data, so every field is
 * checked and a missing or odd one stays null. The measured side uses the progress message's
 * names; the simulated side is `hoplab run --json`, whose servers carry connections, CPU and memory.
 */
export function figuresFromRunJson(json: Record<string, unknown>): Figures {
  const latency = record(json.latencyMs);
  const servers = Array.isArray(json.servers) ? json.servers.map(record) : null;
  const delivered = num(json.delivered);
  const fanout = num(json.fanout);
  const clusterStats = record(json.clusterStats);
  const reconnect = record(json.reconnect ?? clusterStats.reconnect);
  return {
    latencyMsP50: num(latency.p50),
    latencyMsP90: num(latency.p90),
    latencyMsP99: num(latency.p99),
    latencyMsMax: num(latency.max),
    latencyCount: num(latency.count),
    delivered,
    inFlight: num(json.inFlight),
    lost: num(json.lost) ?? num(json.dropped),
    duplicated: num(json.duplicated),
    outOfOrder: num(json.outOfOrder),
    reach:
      num(json.reach) ??
      (delivered !== null && fanout !== null ? (fanout > 0 ? delivered / fanout : 1) : null),
    connections:
      num(json.connections) ??
      num(record(json.protocolStats).serverConnections) ??
      (servers ? sumNums(servers.map((s) => num(s.connections))) : null),
    reconnects: num(json.reconnects) ?? num(reconnect.firstAttempts),
    serverCpuUtilisation:
      num(json.serverCpuUtilisation) ??
      num(record(json.protocolStats).serverCpuUtilisation) ??
      (servers ? meanNums(servers.map((s) => num(s.cpuUtilisation))) : null),
    serverMemoryMB:
      num(json.serverMemoryMB) ?? (servers ? sumNums(servers.map((s) => num(s.memoryMB))) : null),
  };
}

/** Fills the gaps of one column from another (a report's measured side from the last progress). */
export function withFallback(primary: Figures, fallback: Figures | null): Figures {
  if (!fallback) return primary;
  const out = { ...primary };
  for (const key of Object.keys(out) as (keyof Figures)[]) out[key] ??= fallback[key];
  return out;
}

function sumOf(servers: readonly ServerStats[], key: 'connections' | 'memoryMB'): number | null {
  return servers.length ? servers.reduce((total, s) => total + s[key], 0) : null;
}

function meanCpu(servers: readonly ServerStats[]): number | null {
  return servers.length
    ? servers.reduce((total, s) => total + s.cpuUtilisation, 0) / servers.length
    : null;
}

function sumNums(values: (number | null)[]): number | null {
  return values.length && values.every((v) => v !== null)
    ? values.reduce<number>((a, b) => a + (b ?? 0), 0)
    : null;
}

function meanNums(values: (number | null)[]): number | null {
  const sum = sumNums(values);
  return sum === null ? null : sum / values.length;
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
