// Runs several simulations side by side on one seed: "all five" protocols, or any scenarios.
import type { RunSpec } from '../scenario/resolve.ts';
import { PROTOCOLS, type Protocol } from '../scenario/schema.ts';
import { createSimulation, type Simulation } from './simulation.ts';
import type { RunResult } from './types.ts';

/** One arm of a comparison: what to call it and the run it is. */
export interface Arm {
  label: string;
  run: RunSpec;
}

/**
 * Expands a run into the arms it stands for: a protocol scenario set to `all` becomes one arm per
 * protocol, on the same seed and workload; anything else is a single arm.
 */
export function armsOf(run: RunSpec): Arm[] {
  const scenario = run.scenario;
  if (scenario.model !== 'protocols' || scenario.workload.protocol !== 'all')
    return [{ label: scenario.id, run }];
  return PROTOCOLS.map((protocol: Protocol) => ({
    label: protocol,
    run: {
      ...run,
      params: { ...run.params, protocol },
      scenario: { ...scenario, workload: { ...scenario.workload, protocol } },
    },
  }));
}

export async function createArms(arms: Arm[]): Promise<Simulation[]> {
  return Promise.all(arms.map((a) => createSimulation(a.run)));
}

/** A row of the measured decision matrix: one figure for every arm, and how to read it. */
export interface MatrixRow {
  key: string;
  label: string;
  unit: string;
  /** Lower is better (latency, bytes), higher is better, or neither (a yes/no property). */
  better: 'lower' | 'higher' | 'none';
  values: (number | boolean | null)[];
}

const pick = (r: RunResult, f: (r: RunResult) => number | boolean | undefined) => f(r) ?? null;

/** The guide's protocol decision matrix, measured: every figure comes from the runs. */
export function decisionMatrix(results: RunResult[]): MatrixRow[] {
  const row = (
    key: string,
    label: string,
    unit: string,
    better: MatrixRow['better'],
    f: (r: RunResult) => number | boolean | undefined,
  ): MatrixRow => ({ key, label, unit, better, values: results.map((r) => pick(r, f)) });
  return [
    row('latencyP50', 'Latency p50', 'ms', 'lower', (r) => r.latencyMs.p50),
    row('latencyP99', 'Latency p99', 'ms', 'lower', (r) => r.latencyMs.p99),
    row('bidirectional', 'Bidirectional', '', 'none', (r) => r.protocolStats?.bidirectional),
    row('requestsPerDelivered', 'Requests per update', '', 'lower', (r) => r.requestsPerDelivered),
    row('wasted', 'Wasted requests', 'share', 'lower', (r) => r.wastedRequestShare),
    row('bytes', 'Bytes on the wire per update', 'B', 'lower', (r) => r.wireBytesPerDelivered),
    row(
      'connections',
      'Open server connections (peak)',
      '',
      'lower',
      (r) => r.serverConnectionsPeak,
    ),
    row('memory', 'Server memory', 'MB', 'lower', (r) => r.serverMemoryMB),
    row('cpu', 'Server CPU', 'share', 'lower', (r) => r.protocolStats?.serverCpuUtilisation),
    row('battery', 'Battery per client', 'mAh/h', 'lower', (r) => r.batteryMahPerHour),
    row('reach', 'Delivered ÷ owed', 'share', 'higher', (r) =>
      r.fanout > 0 ? r.delivered / Math.max(1, r.fanout - r.inFlight) : 1,
    ),
  ];
}
