// The live auction case: the countdown's arithmetic, the checker, the three controls, determinism and bad input.
import { describe, expect, it } from 'vitest';
import { ScenarioError } from '../../src/scenario/errors.ts';
import type { LiveAuctionApp } from '../../src/sim/apps/live-auction/app.ts';
import { timerErrorUs } from '../../src/sim/apps/live-auction/timer.ts';
import { checkAuction } from '../../src/sim/checkers/auction.ts';
import { differences, figuresOf } from '../../src/sim/compare.ts';
import type { TwoHopSimulation } from '../../src/sim/models/two-hop/model.ts';
import { createSimulation } from '../../src/sim/simulation.ts';
import { rerun, spec, type Overrides } from '../support/run.ts';

/** A smaller auction house than the scenario's: 5,000 watchers, 300 auctions ending in 15–35 s of 40. */
const SMALL: Overrides = {
  users: 5_000,
  channels: 300,
  servers: 2,
  duration: 40,
  endFromS: 15,
  endToS: 35,
};

async function run(o: Overrides, seed = 1) {
  const sim = (await createSimulation(
    spec('live-auction', { ...SMALL, ...o }, seed),
  )) as TwoHopSimulation;
  sim.runUntil(sim.durationUs);
  const result = sim.result(0) as ReturnType<TwoHopSimulation['result']> & {
    bids: ReturnType<LiveAuctionApp['stats']>['bids'];
    auctions: ReturnType<LiveAuctionApp['stats']>['auctions'];
    timerErrorMs: ReturnType<LiveAuctionApp['stats']>['timerErrorMs'];
  };
  const app = sim.caseApp() as LiveAuctionApp;
  const report = checkAuction(app.writes, Number(SMALL.channels), 100, 5);
  sim.dispose();
  return { result, report, why: rerun('live-auction', { ...SMALL, ...o }, seed) };
}

describe('live auction: the countdown', () => {
  const anchor = { sentUs: 10_000_000, arrivalUs: 10_040_000, endUs: 60_000_000 };
  it('with the guide’s rule, the error is the client’s clock offset, whatever the network did', () => {
    expect(timerErrorUs('server-timestamp', anchor, 60_000_000, 300_000, 0)).toBe(-300_000);
    expect(timerErrorUs('server-timestamp', anchor, 60_000_000, -250_000, 0)).toBe(250_000);
  });
  it('counting down from the arrival, the error is the one-way delay, not the offset', () => {
    expect(timerErrorUs('receipt', anchor, 60_000_000, 300_000, 0)).toBe(40_000);
    // A drifting clock runs fast: 100 ppm over the 50 s left ends the timer 5 ms early.
    expect(timerErrorUs('receipt', anchor, 60_000_000, 0, 100e-6)).toBeCloseTo(40_000 - 4_999.5, 0);
  });
  it('an end moved by soft close after the last message leaves the watcher early', () => {
    expect(timerErrorUs('receipt', anchor, 70_000_000, 0, 0)).toBe(40_000 - 10_000_000);
  });
});

describe('live auction: the checker', () => {
  it('finds a write that did not beat what it replaced, and an auction not on its highest bid', () => {
    const w = (bid: number, amount: number) => ({
      bid,
      auction: 0,
      amount,
      replaced: 0,
      atUs: bid,
    });
    const clean = checkAuction([w(0, 100), w(1, 105), w(2, 115)], 1, 100, 5);
    expect(clean.lostUpdates).toEqual([]);
    expect(clean.notHighest).toEqual([]);
    const lost = checkAuction([w(0, 105), w(1, 115), w(2, 110)], 1, 100, 5);
    expect(lost.lostUpdates.map((x) => x.bid)).toEqual([2]);
    expect(lost.notHighest).toEqual([0]);
    // The same amount twice: the second did not beat the first.
    expect(checkAuction([w(0, 105), w(1, 105)], 1, 100, 5).lostUpdates.map((x) => x.bid)).toEqual([
      1,
    ]);
  });
});

describe('live auction: the controls', () => {
  it('atomic and optimistic lose nothing; naive loses bids under contention, and the replay agrees', async () => {
    const hot = { bidRate: 0.05, decideUs: 5_000 };
    const atomic = await run({ ...hot, control: 'atomic' });
    expect(atomic.report.lostUpdates, atomic.why).toEqual([]);
    expect(atomic.report.notHighest, atomic.why).toEqual([]);
    expect(atomic.result.bids.accepted, atomic.why).toBeGreaterThan(1_000);
    const optimistic = await run({ ...hot, control: 'optimistic' });
    expect(optimistic.report.lostUpdates, optimistic.why).toEqual([]);
    expect(optimistic.result.bids.retries, optimistic.why).toBeGreaterThan(0);
    const naive = await run({ ...hot, control: 'naive' });
    expect(naive.result.bids.lostUpdates, naive.why).toBeGreaterThan(0);
    // The app's own count and the independent replay of the store's writes say the same.
    expect(naive.report.lostUpdates.length, naive.why).toBe(naive.result.bids.lostUpdates);
    // A/B arms compare the case's own figures: lost bids, per control.
    const rows = differences([figuresOf(naive.result), figuresOf(atomic.result)], null);
    const lost = rows.find((r) => r.key === 'lostUpdates');
    expect(lost?.values, naive.why).toEqual([naive.result.bids.lostUpdates, 0]);
    expect(
      rows.find((r) => r.key === 'dbQueries'),
      naive.why,
    ).toBeUndefined();
    const figure = (r: typeof naive, id: string) => r.result.guideFigures?.find((g) => g.id === id);
    expect(figure(naive, 'concurrent-bids')?.holds, naive.why).toBe(false);
    expect(figure(atomic, 'concurrent-bids')?.holds, atomic.why).toBe(true);
  });

  it('the guide’s countdown misses ±100 ms when clocks are 150 ms off; counting from arrival meets it', async () => {
    const guide = await run({ timer: 'server-timestamp', clockOffsetSdMs: 150 });
    const receipt = await run({ timer: 'receipt', clockOffsetSdMs: 150 });
    expect(guide.result.timerErrorMs.p99, guide.why).toBeGreaterThan(100);
    expect(receipt.result.timerErrorMs.p99, receipt.why).toBeLessThan(
      guide.result.timerErrorMs.p99,
    );
    const fig = guide.result.guideFigures?.find((g) => g.id === 'timer-accuracy');
    expect(fig?.holds, guide.why).toBe(false);
    expect(fig?.measured, guide.why).toBe(guide.result.timerErrorMs.p99);
  });

  it('is deterministic: the same seed gives the same run, another seed another', async () => {
    const a = await run({ control: 'naive' }, 5);
    const b = await run({ control: 'naive' }, 5);
    const c = await run({ control: 'naive' }, 6);
    expect(a.result.traceHash).toBe(b.result.traceHash);
    expect(a.result.bids).toEqual(b.result.bids);
    expect(c.result.traceHash).not.toBe(a.result.traceHash);
  });
});

describe('live auction: bad input', () => {
  it('names the field of a bad control or clock', async () => {
    const fieldOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(ScenarioError);
        return (e as ScenarioError).field;
      }
      throw new Error('expected a ScenarioError');
    };
    expect(fieldOf(() => spec('live-auction', { control: 'greedy' }))).toBe('control');
    expect(fieldOf(() => spec('live-auction', { clockOffsetSdMs: -1 }))).toBe('clockOffsetSdMs');
  });
});
