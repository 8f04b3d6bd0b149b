// Playground feed: the wall-clock mapping, the channel schedule and the simulator-backed feed's determinism.
import { describe, expect, it } from 'vitest';
import {
  chatLine,
  createFeedSimulation,
  DEFAULT_FEED,
  FeedClock,
  FeedSchedule,
  hash32,
  nextPrice,
  type UpdateSource,
} from '../../src/app/playground/feed.ts';
import type { UpdateRecord } from '../../src/sim/types.ts';

/** A hand-written run: fixed updates over a fixed duration. */
function fakeSource(records: Omit<UpdateRecord, 'id'>[], durationUs: number): UpdateSource {
  let now = 0;
  const all = records.map((r, id) => ({ ...r, id }));
  return {
    durationUs,
    get done() {
      return now >= durationUs;
    },
    runUntil(untilUs) {
      now = Math.max(now, Math.min(untilUs, durationUs));
    },
    updates(since, limit = 10_000) {
      return all.filter((r) => r.id >= since && r.createdUs <= now).slice(0, limit);
    },
  };
}

const rec = (createdUs: number, channel = 0, origin = -1) => ({
  channel,
  createdUs,
  payloadBytes: 100,
  origin,
  seq: -1,
});

describe('FeedClock', () => {
  it('maps wall time to simulated time at the chosen speed, and back', () => {
    const clock = new FeedClock(10);
    clock.start(1_000);
    expect(clock.simAt(1_000)).toBe(0);
    expect(clock.simAt(1_500)).toBe(5_000_000); // 0.5 s of wall time at 10× = 5 simulated s
    expect(clock.wallAt(5_000_000)).toBe(1_500);
  });

  it('freezes while paused and resumes where it stopped', () => {
    const clock = new FeedClock(1);
    clock.start(0);
    clock.pause(2_000);
    expect(clock.simAt(10_000)).toBe(2_000_000);
    clock.start(10_000);
    expect(clock.simAt(11_000)).toBe(3_000_000);
    expect(clock.running).toBe(true);
  });

  it('changing speed keeps the simulated time reached so far', () => {
    const clock = new FeedClock(1);
    clock.start(0);
    clock.setSpeed(10, 1_000);
    expect(clock.simAt(1_000)).toBe(1_000_000);
    expect(clock.simAt(2_000)).toBe(11_000_000);
    expect(() => clock.setSpeed(0, 2_000)).toThrow(RangeError);
  });

  it('reset goes back to zero, paused', () => {
    const clock = new FeedClock(2);
    clock.start(0);
    clock.reset();
    expect(clock.running).toBe(false);
    expect(clock.simAt(5_000)).toBe(0);
  });
});

describe('FeedSchedule', () => {
  it('releases one channel’s updates in order as simulated time passes', () => {
    const src = fakeSource([rec(100), rec(200, 1), rec(300), rec(900)], 1_000);
    const schedule = new FeedSchedule(src, () => null);
    schedule.advance(500);
    expect(schedule.takeDue(50)).toEqual([]);
    expect(schedule.nextUs()).toBe(100);
    const due = schedule.takeDue(350);
    expect(due.map((d) => d.simId)).toEqual([0, 2]);
    expect(due.map((d) => d.createdUs)).toEqual([100, 300]);
    expect(schedule.nextUs()).toBeUndefined(); // 900 is not simulated yet
    schedule.advance(1_000);
    expect(schedule.takeDue(1_000).map((d) => d.simId)).toEqual([3]);
  });

  it('loops over the run: the next cycle’s updates are shifted by the run’s duration', () => {
    let restarts = 0;
    const make = () => fakeSource([rec(100), rec(600)], 1_000);
    const schedule = new FeedSchedule(make(), () => {
      restarts++;
      return make();
    });
    schedule.advance(2_500);
    const due = schedule.takeDue(2_500);
    expect(due.map((d) => d.createdUs)).toEqual([100, 600, 1_100, 1_600, 2_100]);
    expect(due.map((d) => d.cycle)).toEqual([0, 0, 1, 1, 2]);
    expect(restarts).toBe(2);
  });

  it('waits at the end of a cycle while no next run is ready', () => {
    let ready: UpdateSource | null = null;
    const schedule = new FeedSchedule(fakeSource([rec(100)], 1_000), () => ready);
    schedule.advance(1_500);
    expect(schedule.takeDue(1_500).map((d) => d.createdUs)).toEqual([100]);
    ready = fakeSource([rec(100)], 1_000);
    schedule.advance(1_500);
    expect(schedule.takeDue(1_500).map((d) => d.createdUs)).toEqual([1_100]);
  });
});

describe('the simulator-backed feed', () => {
  async function firstUpdates(seed: number, rate = DEFAULT_FEED.rate, untilS = 120) {
    const sim = await createFeedSimulation({ ...DEFAULT_FEED, seed, rate });
    sim.runUntil(untilS * 1e6);
    const out = sim.updates(0);
    sim.dispose();
    return out;
  }

  it('same seed, same feed; another seed, another feed', async () => {
    const a = await firstUpdates(7);
    const b = await firstUpdates(7);
    const c = await firstUpdates(8);
    expect(a.length).toBeGreaterThan(20);
    expect(b).toEqual(a);
    expect(c.map((u) => u.createdUs)).not.toEqual(a.map((u) => u.createdUs));
  });

  it('publishes on channel 0 in time order at about the chosen rate', async () => {
    const updates = await firstUpdates(3, 2, 300);
    expect(updates.every((u) => u.channel === 0)).toBe(true);
    for (let i = 1; i < updates.length; i++)
      expect(updates[i].createdUs).toBeGreaterThanOrEqual(updates[i - 1].createdUs);
    // 2 updates/s over 300 s: Poisson count 600 ± ~25 (1σ); allow 5σ.
    expect(updates.length).toBeGreaterThan(475);
    expect(updates.length).toBeLessThan(725);
    expect(updates.some((u) => u.origin >= 0)).toBe(true); // some come from clients (chat)
    expect(updates.some((u) => u.origin < 0)).toBe(true);
  });
});

describe('prices and chat lines', () => {
  it('are deterministic and depend on the seed', () => {
    expect(hash32(1, 2)).toBe(hash32(1, 2));
    expect(hash32(1, 2)).not.toBe(hash32(2, 1));
    expect(chatLine(5, 9)).toBe(chatLine(5, 9));
    let p = 100;
    const walk: number[] = [];
    for (let id = 0; id < 50; id++) walk.push((p = nextPrice(p, 42, id)));
    let q = 100;
    for (let id = 0; id < 50; id++) q = nextPrice(q, 42, id);
    expect(q).toBe(walk[49]);
    for (let i = 1; i < walk.length; i++)
      expect(Math.abs(walk[i] - walk[i - 1])).toBeLessThanOrEqual(0.5 + 1e-9);
    expect(walk.every((x) => Number.isInteger(Math.round(x * 100)))).toBe(true);
  });
});
