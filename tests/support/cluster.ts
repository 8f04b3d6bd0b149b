// Test helpers for cluster runs: a run with a fault schedule, its deliveries and convergence.
import { ClusterSimulation } from '../../src/sim/models/cluster/model.ts';
import { getScenario } from '../../src/scenario/registry.ts';
import { resolveRun } from '../../src/scenario/resolve.ts';
import { createSimulation } from '../../src/sim/simulation.ts';
import type { ArrivalRecord } from '../../src/sim/checkers/partition-order.ts';
import type { DeliveryRecord } from '../../src/sim/checkers/sequence.ts';
import type { RunResult } from '../../src/sim/types.ts';
import type { Overrides } from './run.ts';

export interface ClusterRun {
  result: RunResult;
  deliveries: DeliveryRecord[];
  arrivals: ArrivalRecord[];
  convergence: { behind: number; maxBehind: number };
  rerun: string;
}

export async function runCluster(
  id: string,
  overrides: Overrides,
  seed: number,
  faults?: unknown[],
): Promise<ClusterRun> {
  const run = resolveRun(getScenario(id), overrides, seed, { faults });
  const sim = await createSimulation(run);
  if (!(sim instanceof ClusterSimulation)) throw new Error(`${id} is not a cluster scenario`);
  const deliveries = sim.recordDeliveries();
  const arrivals = sim.recordArrivals();
  sim.runUntil(sim.durationUs);
  const result = sim.result(0);
  const convergence = sim.convergence();
  sim.dispose();
  const sets = Object.entries(overrides)
    .map(([k, v]) => ` --set ${k}=${v}`)
    .join('');
  const f = faults === undefined ? '' : ` --faults '${JSON.stringify(faults)}'`;
  return {
    result,
    deliveries,
    arrivals,
    convergence,
    rerun: `rerun: npm run hoplab -- run ${id} --seed ${seed}${sets}${f}`,
  };
}
