// The ESPN case: scores never go back for a client that reads them from score updates, the herd without collapsing, the figures, determinism.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EspnStats } from '../../src/sim/apps/espn/app.ts';
import { createSimulation } from '../../src/sim/simulation.ts';
import type { RunResult } from '../../src/sim/types.ts';
import { rerun, spec, type Overrides } from '../support/run.ts';

/** 20,000 viewers on 4 servers, 20 s: the same parts as the scenario, smaller. */
const SMALL: Overrides = { users: 20_000, servers: 4, duration: 20 };

async function run(o: Overrides, seed = 1) {
  const all = { ...SMALL, ...o };
  const sim = await createSimulation(spec('espn', all, seed));
  sim.runUntil(sim.durationUs);
  const result = sim.result(0) as RunResult & EspnStats;
  sim.dispose();
  return { result, why: rerun('espn', all, seed) };
}

describe('espn', () => {
  it('a viewer reading the score from score updates never sees it go back; reading it from every message does', async () => {
    const { result, why } = await run({});
    expect(result.scoreWentBackwards.fromScoreUpdatesOnly, why).toBe(0);
    // Statistics batched for a second, published before a score, arrive after it.
    expect(result.scoreWentBackwards.fromAnyMessage, why).toBeGreaterThan(0);
    const fig = result.guideFigures?.find((f) => f.id === 'score-never-backwards');
    expect(fig?.holds, why).toBe(true);
  });

  it('holds over random seeds and settings (priorities on or off, any rate and skew)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 4_294_967_295 }),
        fc.record({
          users: fc.integer({ min: 500, max: 8_000 }),
          servers: fc.integer({ min: 1, max: 4 }),
          updatesPerMin: fc.constantFrom(60, 150, 600),
          priorities: fc.constantFrom('on', 'off'),
          zipf: fc.constantFrom(0, 1, 2.5),
          duration: fc.constantFrom(8, 15),
        }),
        async (seed, o) => {
          const { result, why } = await run(o, seed);
          expect(result.scoreWentBackwards.fromScoreUpdatesOnly, why).toBe(0);
          // One FIFO per connection: without priorities nothing overtakes, even for a naive client.
          if (o.priorities === 'off') expect(result.scoreWentBackwards.fromAnyMessage, why).toBe(0);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('without request collapsing the reload herd after each score hits the database', async () => {
    const herd = { reloadOnScore: 0.2, redisTtlS: 30 };
    const off = await run({ ...herd, collapsing: 'off' });
    const on = await run({ ...herd, collapsing: 'on' });
    // The herd's size is its arrival rate times the query's time: here tens of misses per score.
    expect(off.result.cache.database.queries, off.why).toBeGreaterThan(
      1.3 * on.result.cache.database.queries,
    );
    expect(off.result.cache.database.peakPerSec, off.why).toBeGreaterThan(
      on.result.cache.database.peakPerSec,
    );
    expect(on.result.cache.redis.collapsed, on.why).toBeGreaterThan(0);
    // Stale-while-revalidate serves expired entries (scores still invalidate them).
    const swr = await run({ staleWhileRevalidateS: 30, redisTtlS: 1 });
    expect(swr.result.cache.redis.stale, swr.why).toBeGreaterThan(0);
  });

  it('measures the guide’s figures and is the same run for the same seed', async () => {
    const a = await run({}, 4);
    const b = await run({}, 4);
    expect(a.result.traceHash).toBe(b.result.traceHash);
    expect(a.result.cache).toEqual(b.result.cache);
    const ids = a.result.guideFigures?.map((f) => f.id);
    expect(ids).toEqual([
      'feed-to-viewer',
      'broadcast-200ms',
      'bandwidth-per-viewer',
      'updates-per-game',
      'cdn-hit-rate',
      'redis-hit-rate',
      'peak-50m',
      'score-never-backwards',
    ]);
    // Every figure is a measurement of this run (or a computed count), never a constant.
    const updates = a.result.guideFigures?.find((f) => f.id === 'updates-per-game');
    expect(updates?.measured).toBeCloseTo(a.result.feed.perGamePerMin, 9);
    const scaled = await run({ updatesPerMin: 60 }, 4);
    expect(scaled.result.feed.perGamePerMin).toBeLessThan(a.result.feed.perGamePerMin / 2);
  });
});
