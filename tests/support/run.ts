// Test helpers: run a scenario headless to the end, and say how to rerun it from the CLI.
import { getScenario } from '../../src/scenario/registry.ts';
import { resolveRun, type RunSpec } from '../../src/scenario/resolve.ts';
import { createSimulation } from '../../src/sim/simulation.ts';
import type { RunResult, TraceRecord } from '../../src/sim/types.ts';

export type Overrides = Record<string, number | string>;

export function spec(id: string, overrides: Overrides = {}, seed = 1): RunSpec {
  return resolveRun(getScenario(id), overrides, seed);
}

/** The command that reproduces a run; every failure message in the tests includes it. */
export function rerun(id: string, overrides: Overrides, seed: number): string {
  const sets = Object.entries(overrides)
    .map(([k, v]) => ` --set ${k}=${v}`)
    .join('');
  return `rerun: npm run hoplab -- run ${id} --seed ${seed}${sets}`;
}

export async function runToEnd(
  id: string,
  overrides: Overrides = {},
  seed = 1,
): Promise<{ result: RunResult; trace: TraceRecord[] }> {
  const sim = await createSimulation(spec(id, overrides, seed));
  const trace: TraceRecord[] = [];
  while (!sim.done) {
    sim.runUntil(sim.durationUs, 50_000);
    trace.push(...sim.drainTrace());
  }
  const result = sim.result(0);
  sim.dispose();
  return { result, trace };
}
