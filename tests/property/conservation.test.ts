// Conservation: every owed delivery is delivered, dropped or still in flight, at every snapshot.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSimulation } from '../../src/sim/simulation.ts';
import { rerun, spec } from '../support/run.ts';

describe('conservation', () => {
  it('fanout = delivered + dropped + in flight, mid-run and at the end, under loss and overload', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 4_294_967_295 }),
        fc.record({
          users: fc.integer({ min: 1, max: 400 }),
          servers: fc.integer({ min: 1, max: 8 }),
          channels: fc.integer({ min: 1, max: 20 }),
          subscriptions: fc.integer({ min: 1, max: 4 }),
          rate: fc.constantFrom(1, 5, 50),
          burst: fc.constantFrom(1, 3),
          payload: fc.constantFrom(64, 4_000, 60_000),
          hop1Loss: fc.constantFrom(0, 0.05),
          hop1BandwidthMbps: fc.constantFrom(0.5, 20),
          maxConnections: fc.constantFrom(50, 10_000),
          duration: fc.integer({ min: 1, max: 4 }),
        }),
        async (seed, o) => {
          const sim = await createSimulation(spec('two-hop', o, seed));
          const why = rerun('two-hop', o, seed);
          let checks = 0;
          while (!sim.done) {
            sim.runUntil(sim.nowUs + 250_000, 5_000);
            const { flow } = sim.snapshot();
            expect(flow.delivered + flow.dropped + flow.inFlight, why).toBe(flow.fanout);
            expect(flow.inFlight, why).toBeGreaterThanOrEqual(0);
            checks++;
          }
          const r = sim.result(0);
          sim.dispose();
          expect(r.delivered + r.dropped + r.inFlight, why).toBe(r.fanout);
          expect(r.latencyMs.count, why).toBe(r.delivered);
          // Each TCP connection is FIFO and carries one path: nothing arrives twice or out of order.
          expect(r.duplicated + r.outOfOrder, why).toBe(0);
          expect(checks).toBeGreaterThan(0);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('shaped runs: fanout = delivered + dropped + superseded + in flight, whatever the stages do', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 4_294_967_295 }),
        fc.constantFrom(
          'batching',
          'throttling',
          'conflation',
          'subscriptions',
          'priority-queues',
          'delta-updates',
          'selective-broadcast',
        ),
        fc.record({
          users: fc.integer({ min: 1, max: 300 }),
          servers: fc.integer({ min: 1, max: 4 }),
          batchWindowMs: fc.constantFrom(0, 50, 200),
          throttleHz: fc.constantFrom('off', 2, 20),
          connectionHz: fc.constantFrom('off', 5),
          conflation: fc.constantFrom('off', 'merge', 'drop'),
          delta: fc.constantFrom('off', 'on'),
          priorities: fc.constantFrom('off', 'on'),
          overload: fc.constantFrom('delay', 'shed'),
          hop1BandwidthMbps: fc.constantFrom(0.2, 20),
          duration: fc.integer({ min: 1, max: 3 }),
        }),
        async (seed, id, o) => {
          const overrides: Record<string, number | string> =
            id === 'selective-broadcast' ? { ...o, delta: 'off' } : o;
          const sim = await createSimulation(spec(id, overrides, seed));
          const why = rerun(id, overrides, seed);
          while (!sim.done) {
            sim.runUntil(sim.nowUs + 300_000, 20_000);
            const { flow } = sim.snapshot();
            const superseded = flow.superseded ?? 0;
            expect(flow.delivered + flow.dropped + superseded + flow.inFlight, why).toBe(
              flow.fanout,
            );
            expect(flow.inFlight, why).toBeGreaterThanOrEqual(0);
          }
          const r = sim.result(0);
          sim.dispose();
          expect(r.delivered + r.dropped + (r.superseded ?? 0) + r.inFlight, why).toBe(r.fanout);
          expect(r.duplicated, why).toBe(0);
          // Priority lanes may overtake each other (a P1 price ahead of an older, batched P3
          // update of the same key); one FIFO per connection never reorders.
          if (overrides.priorities === 'off') expect(r.outOfOrder, why).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('a tiny send buffer on a slow downlink drops deliveries, and counts each drop', async () => {
    const o = { users: 50, payload: 60_000, hop1BandwidthMbps: 0.5, rate: 50, duration: 2 };
    const sim = await createSimulation(spec('two-hop', o, 4));
    sim.runUntil(sim.durationUs);
    const r = sim.result(0);
    sim.dispose();
    expect(r.dropped, rerun('two-hop', o, 4)).toBeGreaterThan(0);
    expect(r.delivered + r.dropped + r.inFlight).toBe(r.fanout);
  });
});
