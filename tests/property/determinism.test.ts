// Same scenario + parameters + seed = the same run, event by event; another seed = another run.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rerun, runToEnd } from '../support/run.ts';

const small = { users: 200, duration: 3, channels: 5 };

describe('determinism', () => {
  it('the same scenario, parameters and seed give the same traceHash and results', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 4_294_967_295 }),
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom('poisson', 'periodic'),
        async (seed, servers, arrival) => {
          const o = { ...small, servers, arrival };
          const a = await runToEnd('two-hop', o, seed);
          const b = await runToEnd('two-hop', o, seed);
          expect(b.result.traceHash, rerun('two-hop', o, seed)).toBe(a.result.traceHash);
          expect({ ...b.result, wallMs: 0, eventsPerSec: 0 }).toEqual({
            ...a.result,
            wallMs: 0,
            eventsPerSec: 0,
          });
          expect(b.trace).toEqual(a.trace);
        },
      ),
      { numRuns: 15 },
    );
  });

  it('different seeds give different traceHashes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 4_294_967_295 }),
        fc.integer({ min: 1, max: 1000 }),
        async (seed, delta) => {
          const other = (seed + delta) % 4_294_967_296;
          const a = await runToEnd('two-hop', small, seed);
          const b = await runToEnd('two-hop', small, other);
          expect(b.result.traceHash, `${rerun('two-hop', small, seed)} vs seed ${other}`).not.toBe(
            a.result.traceHash,
          );
        },
      ),
      { numRuns: 15 },
    );
  });

  it('pausing, stepping and snapshotting do not change the run', async () => {
    const { createSimulation } = await import('../../src/sim/simulation.ts');
    const { spec } = await import('../support/run.ts');
    const straight = await runToEnd('two-hop', small, 9);
    const sim = await createSimulation(spec('two-hop', small, 9));
    let i = 0;
    while (!sim.done) {
      if (i % 3 === 0) sim.step();
      else sim.runUntil(sim.nowUs + 17_000, 101);
      if (i % 5 === 0) sim.snapshot();
      i++;
    }
    const r = sim.result(0);
    sim.dispose();
    expect(r.traceHash, rerun('two-hop', small, 9)).toBe(straight.result.traceHash);
    expect(r.delivered).toBe(straight.result.delivered);
    expect(r.latencyMs).toEqual(straight.result.latencyMs);
  });
});
