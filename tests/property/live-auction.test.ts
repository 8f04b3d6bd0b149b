// Properties of the live auction over random seeds and loads: the store's writes, replayed, keep the bidding rule under atomic and optimistic control.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LiveAuctionApp } from '../../src/sim/apps/live-auction/app.ts';
import { checkAuction } from '../../src/sim/checkers/auction.ts';
import type { TwoHopSimulation } from '../../src/sim/models/two-hop/model.ts';
import { createSimulation } from '../../src/sim/simulation.ts';
import { rerun, spec } from '../support/run.ts';

describe('live auction', () => {
  it('no accepted bid is lost and every auction ends on its highest accepted bid (atomic, optimistic); naive’s count matches the replay', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 4_294_967_295 }),
        fc.record({
          control: fc.constantFrom('atomic', 'optimistic', 'naive'),
          users: fc.integer({ min: 200, max: 4_000 }),
          channels: fc.integer({ min: 5, max: 200 }),
          bidRate: fc.constantFrom(0.01, 0.05, 0.2),
          decideUs: fc.constantFrom(0, 1_000, 20_000),
          zipf: fc.constantFrom(0, 1, 2),
          duration: fc.constantFrom(20, 30),
          endFromS: fc.constantFrom(5, 10),
          endToS: fc.constantFrom(15, 20),
        }),
        async (seed, o) => {
          const why = rerun('live-auction', o, seed);
          const sim = (await createSimulation(spec('live-auction', o, seed))) as TwoHopSimulation;
          sim.runUntil(sim.durationUs);
          const result = sim.result(0) as { bids?: { lostUpdates: number; accepted: number } };
          const app = sim.caseApp() as LiveAuctionApp;
          const report = checkAuction(app.writes, o.channels, 100, 5);
          sim.dispose();
          expect(report.writes, why).toBe(result.bids?.accepted);
          if (o.control === 'naive') {
            expect(report.lostUpdates.length, why).toBe(result.bids?.lostUpdates);
          } else {
            expect(report.lostUpdates, why).toEqual([]);
            expect(report.notHighest, why).toEqual([]);
          }
        },
      ),
      { numRuns: 20 },
    );
  });
});
