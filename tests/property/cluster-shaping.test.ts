// Shaping on the cluster model: throttles, conflation and batches keep the fleet's rules (order, accounting, recovery) under faults.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkConservation } from '../../src/sim/checkers/conservation.ts';
import { checkConvergence } from '../../src/sim/checkers/convergence.ts';
import { checkExactlyOnce } from '../../src/sim/checkers/exactly-once.ts';
import { ClusterSimulation } from '../../src/sim/models/cluster/model.ts';
import { loadScenario, resolveRun } from '../../src/scenario/resolve.ts';
import type { ScenarioFile } from '../../src/scenario/schema.ts';
import type { ShapingSpec } from '../../src/scenario/shaping-schema.ts';
import { createSimulation } from '../../src/sim/simulation.ts';
import kafka from '../../simulations/kafka.ts';
import { shapingOff } from '../../simulations/shared/shaping.ts';

function shapedKafka(shaping: Partial<ShapingSpec>): ScenarioFile {
  return {
    ...kafka,
    id: 'kafka-shaped',
    topology: { ...kafka.topology, shaping: { ...shapingOff, ...shaping } },
  } as ScenarioFile;
}

async function run(
  shaping: Partial<ShapingSpec>,
  overrides: Record<string, string | number>,
  seed: number,
  faults: unknown[],
) {
  const scenario = loadScenario(shapedKafka(shaping));
  const sim = await createSimulation(resolveRun(scenario, overrides, seed, { faults }));
  if (!(sim instanceof ClusterSimulation)) throw new Error('not a cluster run');
  const deliveries = sim.recordDeliveries();
  sim.runUntil(sim.durationUs);
  const result = sim.result(0);
  const convergence = sim.convergence();
  sim.dispose();
  const why = `seed ${seed}, shaping ${JSON.stringify(shaping)}, overrides ${JSON.stringify(overrides)}, faults ${JSON.stringify(faults)} (kafka with a shaping block; see tests/property/cluster-shaping.test.ts)`;
  return { result, deliveries, convergence, why };
}

describe('cluster shaping', () => {
  it('batching frames a connection’s updates, conserves every owed delivery and keeps each client’s order', async () => {
    const { result, deliveries, convergence, why } = await run(
      { batch: { windowMs: 100, maxMessages: 100, maxBytes: 65_536 } },
      { users: 1_000, duration: 130 },
      1,
      [{ kind: 'server-crash', atS: 20, target: 1, forS: 5 }],
    );
    const s = result.shaping;
    expect(s?.stages, why).toContain('batching');
    expect(s?.batch?.maxHoldMs ?? Infinity, why).toBeLessThanOrEqual(100);
    expect(checkConservation(result), why).toEqual([]);
    expect(result.lost, why).toBe(0);
    // At the end only the last window's updates may still be waiting in a batch.
    expect(
      checkConvergence(result.clusterStats?.disconnected ?? 0, convergence.maxBehind, 5),
      why,
    ).toEqual([]);
    const last = new Map<number, number>();
    for (const d of deliveries.filter((x) => x.applied !== false)) {
      expect(d.seq, why).toBeGreaterThan(last.get(d.client) ?? -1);
      last.set(d.client, d.seq);
    }
  });

  it('a per-key throttle with conflation supersedes what it skips, and nothing is counted lost', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 4_294_967_295 }),
        fc.constantFrom('merge', 'drop'),
        fc.constantFrom(0, 100),
        fc.constantFrom('at-least-once', 'exactly-once'),
        fc.constantFrom(true, false),
        async (seed, mode, windowMs, guarantee, crash) => {
          const faults = crash ? [{ kind: 'server-crash', atS: 10, target: 0, forS: 3 }] : [];
          const { result, deliveries, convergence, why } = await run(
            {
              throttle: { perKeyHz: 2, perConnectionHz: 'off' },
              conflation: { mode, key: 'symbol', intervalMs: 100 },
              batch: { windowMs, maxMessages: 100, maxBytes: 65_536 },
            },
            { users: 300, duration: 130, guarantee, rate: 20 },
            seed,
            faults,
          );
          expect(checkConservation(result), why).toEqual([]);
          expect(result.superseded ?? 0, why).toBeGreaterThan(0);
          expect(result.lost, why).toBe(0);
          // A throttled key is about one interval (10 updates at 20/s and 2/s) behind at the end, two after a restarted consumer replays; crashes heal and clients are back (detection takes up to 60 s).
          expect(
            checkConvergence(result.clusterStats?.disconnected ?? 0, convergence.maxBehind, 25),
            why,
          ).toEqual([]);
          if (guarantee === 'exactly-once')
            expect(checkExactlyOnce(result, deliveries), why).toEqual([]);
        },
      ),
      { numRuns: 8 },
    );
  });

  it('refuses the stages that run on the two-hop model only, naming them', async () => {
    const scenario = loadScenario(shapedKafka({ delta: { mode: 'on', snapshotEvery: 10 } }));
    await expect(createSimulation(resolveRun(scenario, {}, 1))).rejects.toThrow(
      /delta updates run on the two-hop model/,
    );
  });
});
