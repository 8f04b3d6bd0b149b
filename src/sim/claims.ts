// The guide's figures, checked: runs what each claim of a scenario needs and says whether the claim holds.
import type { Claim } from '../scenario/claims-schema.ts';
import { resolveRun, type LoadedScenario } from '../scenario/resolve.ts';
import { createSimulation } from './simulation.ts';
import type { RunResult } from './types.ts';

/** One claim, measured. */
export interface ClaimResult {
  id: string;
  claim: string;
  source: string;
  unit: string;
  measure: Claim['measure'];
  guide: { min: number; max: number };
  tolerance: number;
  /** The measured figure (null when the metric is missing from the run). */
  measured: number | null;
  verdict: 'holds' | 'does-not-hold' | 'not-measured';
  why: string;
  /** The runs behind the figure: their overrides and traceHash, to rerun each. */
  runs: { overrides: Record<string, number | string>; traceHash: string; value: number | null }[];
}

/** Reads a dotted path (`shaping.staleness.p50Ms`) from a run's JSON; null when absent or not a number. */
export function metricOf(result: RunResult, path: string): number | null {
  let node: unknown = result;
  for (const key of path.split('.')) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, key)) return null;
    node = (node as Record<string, unknown>)[key];
  }
  return typeof node === 'number' && Number.isFinite(node) ? node : null;
}

/** The figure a claim compares with the guide's, from the metric of its runs. */
export function measureOf(
  claim: Claim,
  withValue: number | null,
  baseValue: number | null,
): number | null {
  if (withValue === null) return null;
  if (claim.measure === 'value') return withValue;
  if (baseValue === null) return null;
  switch (claim.measure) {
    case 'change':
      return baseValue === 0 ? null : withValue / baseValue - 1;
    case 'ratio':
      return withValue === 0 ? null : baseValue / withValue;
    case 'difference':
      return withValue - baseValue;
  }
  return null;
}

/** Holds when the measured figure lies in the guide's band, widened by the tolerance. */
export function verdictOf(claim: Claim, measured: number | null): ClaimResult['verdict'] {
  if (measured === null) return 'not-measured';
  const lo = claim.guide.min - claim.tolerance;
  const hi = claim.guide.max + claim.tolerance;
  return measured >= lo && measured <= hi ? 'holds' : 'does-not-hold';
}

export interface ClaimOptions {
  /** Parameter values the claims start from (the reader's current settings); claims override some. */
  params?: Record<string, number | string>;
  seed?: number;
  /** Called after each run with how many of how many are done. */
  progress?: (done: number, total: number) => void;
  /** Checked between runs and slices; return true to stop (the shells' cancel). */
  cancelled?: () => boolean;
}

/**
 * Evaluates every claim of a scenario on one seed: each distinct set of overrides is run once
 * to its end. Returns the claims in the scenario's order.
 */
export async function evaluateClaims(
  scenario: LoadedScenario,
  options: ClaimOptions = {},
): Promise<ClaimResult[]> {
  const claims = scenario.claims;
  const start = { ...(options.params ?? {}) };
  const keyOf = (o: Record<string, number | string>) => JSON.stringify(Object.entries(o).sort());
  const wanted = new Map<string, Record<string, number | string>>();
  for (const c of claims) {
    const w = { ...start, ...c.with };
    wanted.set(keyOf(w), w);
    if (c.base) {
      const b = { ...start, ...c.base };
      wanted.set(keyOf(b), b);
    }
  }
  const results = new Map<string, RunResult>();
  let done = 0;
  for (const [key, overrides] of wanted) {
    if (options.cancelled?.()) throw new Error('cancelled');
    const sim = await createSimulation(resolveRun(scenario, overrides, options.seed ?? 1));
    while (!sim.done) {
      sim.runUntil(sim.durationUs, 200_000);
      if (options.cancelled?.()) {
        sim.dispose();
        throw new Error('cancelled');
      }
    }
    results.set(key, sim.result(0));
    sim.dispose();
    options.progress?.(++done, wanted.size);
  }
  return claims.map((c) => {
    const w = { ...start, ...c.with };
    const wr = results.get(keyOf(w)) as RunResult;
    const withValue = metricOf(wr, c.metric);
    const runs: ClaimResult['runs'] = [
      { overrides: c.with, traceHash: wr.traceHash, value: withValue },
    ];
    let baseValue: number | null = null;
    if (c.base) {
      const br = results.get(keyOf({ ...start, ...c.base })) as RunResult;
      baseValue = metricOf(br, c.metric);
      runs.unshift({ overrides: c.base, traceHash: br.traceHash, value: baseValue });
    }
    const measured = measureOf(c, withValue, baseValue);
    return {
      id: c.id,
      claim: c.claim,
      source: c.source,
      unit: c.unit,
      measure: c.measure,
      guide: c.guide,
      tolerance: c.tolerance,
      measured,
      verdict: verdictOf(c, measured),
      why: c.why,
      runs,
    };
  });
}
