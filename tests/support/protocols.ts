// Test helpers for protocol runs: run one protocol with a delivery log and collect its result.
import { ProtocolSimulation } from '../../src/sim/models/protocols.ts';
import { createSimulation } from '../../src/sim/simulation.ts';
import type { DeliveryRecord } from '../../src/sim/checkers/sequence.ts';
import type { RunResult } from '../../src/sim/types.ts';
import { loadScenario, resolveRun, type RunSpec } from '../../src/scenario/resolve.ts';
import type { ScenarioFile } from '../../src/scenario/schema.ts';
import { spec, type Overrides } from './run.ts';

export interface ProtocolRun {
  result: RunResult;
  deliveries: DeliveryRecord[];
  radiusUs: number;
}

export async function runProtocol(
  id: string,
  overrides: Overrides = {},
  seed = 1,
): Promise<ProtocolRun> {
  return runSpec(spec(id, overrides, seed));
}

/** Runs a scenario file the tests build themselves (to set what no parameter reaches). */
export async function runProtocolFile(
  file: ScenarioFile,
  overrides: Overrides = {},
  seed = 1,
): Promise<ProtocolRun> {
  return runSpec(resolveRun(loadScenario(file), overrides, seed));
}

async function runSpec(run: RunSpec): Promise<ProtocolRun> {
  const sim = await createSimulation(run);
  if (!(sim instanceof ProtocolSimulation))
    throw new Error(`${run.scenario.id} is not a protocol scenario`);
  const deliveries = sim.recordDeliveries();
  sim.runUntil(sim.durationUs);
  const result = sim.result(0);
  const radiusUs = sim.radiusUs;
  sim.dispose();
  return { result, deliveries, radiusUs };
}
