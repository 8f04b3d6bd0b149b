// The fan-out model at full scale (10M followers): write amplification, hybrid's pushes, the Bloom filter, determinism, bad input.
import { beforeAll, describe, expect, it } from 'vitest';
import scenarioFile from '../../simulations/fan-out-celebrity.ts';
import { ScenarioError } from '../../src/scenario/errors.ts';
import type { FanoutScenarioFile } from '../../src/scenario/fanout-schema.ts';
import { initHistograms } from '../../src/sim/histogram.ts';
import { optimalBits } from '../../src/sim/models/fanout/bloom.ts';
import { measureOf, metricOf, verdictOf } from '../../src/sim/claims.ts';
import { compareToWrite } from '../../src/sim/models/fanout/compare.ts';
import { FanoutSimulation, type FanoutRunResult } from '../../src/sim/models/fanout/model.ts';
import { ACTIVE, INACTIVE, INACTIVE_FP, ONLINE } from '../../src/sim/models/fanout/reads.ts';
import { loadFanoutScenario, resolveFanoutRun } from '../../src/sim/models/fanout/resolve.ts';
import { rerun, type Overrides } from '../support/run.ts';

const ID = 'fan-out-celebrity';
const loaded = loadFanoutScenario(scenarioFile);

async function run(
  overrides: Overrides,
  seed = 1,
): Promise<{ result: FanoutRunResult; classes: Uint8Array }> {
  const spec = resolveFanoutRun(loaded, overrides, seed);
  const sim = new FanoutSimulation(spec, spec.scenario);
  while (!sim.done) sim.runUntil(sim.durationUs, 100_000);
  const result = sim.result(0);
  const classes = sim.followerClasses().slice();
  sim.dispose();
  return { result, classes };
}

function countClass(classes: Uint8Array, ...wanted: number[]): number {
  let n = 0;
  for (let u = 0; u < classes.length; u++) if (wanted.includes(classes[u])) n++;
  return n;
}

function expectField(fn: () => unknown, field: string, text?: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected a ScenarioError for ${field}`).toBeInstanceOf(ScenarioError);
  expect((caught as ScenarioError).field).toBe(field);
  if (text) expect((caught as ScenarioError).message).toMatch(text);
}

beforeAll(async () => {
  await initHistograms();
});

describe('fan-out at the defaults, 10M followers', () => {
  const runs: Record<string, FanoutRunResult> = {};

  beforeAll(async () => {
    for (const fanout of ['write', 'read', 'hybrid']) runs[fanout] = (await run({ fanout })).result;
    // The guide's Q2: the celebrity pushed to its active followers.
    runs.q2 = (await run({ fanout: 'hybrid', celebrityThreshold: 20_000_000 })).result;
  }, 120_000);

  it('the scenario’s claims: which of the guide’s figures hold at the defaults', () => {
    const key = (o: Record<string, number | string>) => JSON.stringify(o);
    const byOverrides = new Map<string, FanoutRunResult>([
      [key({ fanout: 'write' }), runs.write],
      [key({ fanout: 'read' }), runs.read],
      [key({ fanout: 'hybrid' }), runs.hybrid],
      [key({ fanout: 'hybrid', celebrityThreshold: 20_000_000 }), runs.q2],
    ]);
    const verdicts: Record<string, string> = {};
    for (const c of loaded.claims) {
      const w = byOverrides.get(key(c.with));
      expect(w, `claim ${c.id} needs a run with ${key(c.with)}`).toBeDefined();
      const b = c.base ? byOverrides.get(key(c.base)) : undefined;
      const measured = measureOf(c, metricOf(w!, c.metric), b ? metricOf(b, c.metric) : null);
      expect(measured, `claim ${c.id}: ${c.metric}`).not.toBeNull();
      verdicts[c.id] = verdictOf(c, measured);
    }
    expect(verdicts, rerun(ID, {}, 1)).toEqual({
      'write-ten-minutes': 'holds',
      'read-500ms': 'holds',
      'hybrid-write-load': 'does-not-hold',
      'hybrid-read-latency': 'holds',
      'q2-push-active': 'does-not-hold',
      'q2-write-load': 'does-not-hold',
      'q2-read-latency': 'does-not-hold',
      'bloom-12mb': 'holds',
      'bloom-fp-rate': 'holds',
    });
    // The Q2 arm pushes the celebrity to its active followers plus the false positives.
    const q2 = runs.q2.fanoutStats;
    expect(q2.celebrityWriteAmplification).toBe(
      q2.activeFollowers + q2.bloom!.falsePositiveFollowers + 1,
    );
  });

  it('models the celebrity at full scale', () => {
    for (const r of Object.values(runs)) {
      expect(r.fanoutStats.followers).toBe(10_000_000);
      expect(r.fanoutStats.celebrityPosts, rerun(ID, { fanout: r.fanoutStats.strategy }, 1)).toBe(
        1,
      );
      // Conservation: every owed (follower, post) is seen or counted as not yet seen.
      expect(r.delivered + r.inFlight).toBe(r.fanout);
      expect(r.fanoutStats.visibility.owed).toBe(r.fanout);
    }
  });

  it('fan-out on write writes one feed entry per follower: amplification = followers per celebrity post', () => {
    const f = runs.write.fanoutStats;
    const why = rerun(ID, { fanout: 'write' }, 1);
    expect(f.celebrityTier, why).toBe('write');
    expect(f.celebrityWriteAmplification, why).toBe(10_000_000);
    expect(f.writes, why).toBe(f.writesIfFanoutOnWrite);
    expect(f.writeLoadReduction, why).toBe(0);
    expect(f.timelineWrites, why).toBe(0);
    // The guide's 10 minutes at its implied 16,667 writes/s; ordinary posts share the pool.
    expect(f.celebrityFanoutIdealS, why).toBeCloseTo(10_000_000 / 16_667, 6);
    expect(f.celebrityFanoutS, why).not.toBeNull();
    expect(f.celebrityFanoutS!, why).toBeGreaterThanOrEqual(f.celebrityFanoutIdealS);
    expect(f.celebrityFanoutS!, why).toBeLessThan(f.celebrityFanoutIdealS * 1.1);
    expect(f.storage.feedEntries, why).toBe(f.feedWritesDone);
    expect(f.storage.feedBytes, why).toBe(f.feedWritesDone * 20);
    expect(f.reads.opsPerOpen, why).toBe(1);
    // Online followers get a live push when their entry is written.
    expect(f.notifications, why).toBeGreaterThanOrEqual(f.onlineFollowers);
  });

  it('fan-out on read writes once per post, and reads merge every followed timeline', () => {
    const f = runs.read.fanoutStats;
    const why = rerun(ID, { fanout: 'read' }, 1);
    expect(f.writeAmplification, why).toBe(1);
    expect(f.celebrityWriteAmplification, why).toBe(1);
    expect(f.feedWrites, why).toBe(0);
    expect(f.timelineWrites, why).toBe(f.posts);
    expect(f.pushes + f.notifications, why).toBe(0);
    expect(f.celebrityFanoutS, why).toBe(0);
    expect(f.reads.opsPerOpen, why).toBe(200);
    expect(f.reads.latencyMs.p50, why).toBeGreaterThan(runs.write.fanoutStats.reads.latencyMs.p50);
  });

  it('hybrid reads the celebrity (above 1M) from the cache and writes everyone below 1K', () => {
    const f = runs.hybrid.fanoutStats;
    const why = rerun(ID, { fanout: 'hybrid' }, 1);
    expect(f.celebrityTier, why).toBe('read');
    expect(f.celebrityWriteAmplification, why).toBe(1);
    const [write, push, read] = f.tiers;
    // Below activeThreshold: a feed entry for every follower, no pushes decided by the filter.
    expect(write.feedWrites, why).toBe(write.owed);
    expect(write.pushes, why).toBe(0);
    // Between the thresholds: only (active + false positives), and one timeline write per post.
    expect(push.posts, why).toBeGreaterThan(0);
    expect(push.feedWrites, why).toBe(push.pushes);
    expect(push.pushes, why).toBeLessThan(push.owed);
    expect(push.timelineWrites, why).toBe(push.posts);
    expect(read.posts, why).toBe(1);
    expect(read.feedWrites, why).toBe(0);
    expect(f.storage.cacheBytes, why).toBe(1_000);
    expect(f.writes, why).toBeLessThan(runs.write.fanoutStats.writes);
    // Same seed, same workload: the posts are drawn from a stream the strategy does not touch.
    expect(f.writesIfFanoutOnWrite, why).toBe(runs.write.fanoutStats.writesIfFanoutOnWrite);
    const cmp = compareToWrite(runs.write.fanoutStats, f);
    expect(cmp.writeLoadReduction, why).toBeCloseTo(
      1 - f.writes / runs.write.fanoutStats.writes,
      12,
    );
    expect(cmp.writeLoadReduction, why).toBeGreaterThan(0.9);
  });

  it('the Bloom filter measures a false-positive rate within sampling error of the configured one', () => {
    const b = runs.hybrid.fanoutStats.bloom!;
    const why = rerun(ID, { fanout: 'hybrid' }, 1);
    expect(b, why).not.toBeNull();
    // Theory for the filter as built (same bits per key and hashes) is close to the target …
    expect(Math.abs(b.expectedFpRate - b.configuredFpRate) / b.configuredFpRate).toBeLessThan(0.02);
    // … and the measured rate is a binomial share of the queries: allow 5 standard errors.
    const p = b.expectedFpRate;
    const se = Math.sqrt((p * (1 - p)) / b.sampleQueries);
    expect(b.sampleQueries, why).toBe(20_000);
    expect(Math.abs(b.measuredFpRate - p), why).toBeLessThan(5 * se);
    expect(b.sampleFalsePositives / b.sampleQueries).toBe(b.measuredFpRate);
    // The extrapolated false positives follow the measured rate over the inactive followers.
    const f = runs.hybrid.fanoutStats;
    const expected = f.inactiveFollowers * b.measuredFpRate;
    expect(Math.abs(b.falsePositiveFollowers - expected), why).toBeLessThan(
      5 * Math.sqrt(expected),
    );
  });

  it('the full-scale filter is the formula’s size: 10M users at 1% ≈ 12 MB', () => {
    const b = runs.hybrid.fanoutStats.bloom!;
    const formulaBytes = -(10_000_000 * Math.log(0.01)) / (Math.LN2 * Math.LN2) / 8;
    expect(Math.abs(b.fullScaleBytes - formulaBytes) / formulaBytes).toBeLessThan(0.01);
    expect(Math.abs(b.fullScaleBytes - 12e6) / 12e6).toBeLessThan(0.01);
    expect(b.hashes).toBe(7);
    expect(b.sampleBits / b.sampleElements).toBeCloseTo(b.bitsPerElement, 3);
    // Holding only the celebrity's ~100K active followers would take a hundredth of that.
    const active = runs.hybrid.fanoutStats.activeFollowers;
    expect(b.activeFollowersOnlyBytes).toBe(optimalBits(active, 0.01) / 8);
  });
});

describe('hybrid with the celebrity in the push tier (the guide’s Q2: push to the active only)', () => {
  it('pushes exactly to the active followers plus the filter’s false positives', async () => {
    const o = { fanout: 'hybrid', celebrityThreshold: 20_000_000, duration: 60 };
    const { result, classes } = await run(o);
    const f = result.fanoutStats;
    const why = rerun(ID, o, 1);
    expect(f.celebrityTier, why).toBe('push');
    const active = countClass(classes, ONLINE, ACTIVE);
    const fp = countClass(classes, INACTIVE_FP);
    expect(active, why).toBe(f.activeFollowers);
    expect(fp, why).toBe(f.bloom!.falsePositiveFollowers);
    // One timeline write (for the rest to read) plus a feed write per active or false positive.
    expect(f.celebrityWriteAmplification, why).toBe(active + fp + 1);
    expect(f.celebrityFanoutS!, why).toBeCloseTo((active + fp) / 16_667, 0);
    expect(f.falsePositivePushes, why).toBeGreaterThanOrEqual(fp);
    // False positives are inactive followers; a 1% filter over 99% inactive doubles the pushes.
    expect(countClass(classes, INACTIVE) + fp, why).toBe(f.inactiveFollowers);
    expect(fp / active, why).toBeGreaterThan(0.5);
  }, 60_000);

  it('below activeThreshold the celebrity is written to every follower', async () => {
    const o = {
      fanout: 'hybrid',
      celebrityThreshold: 20_000_000,
      activeThreshold: 20_000_000,
      duration: 30,
    };
    const { result } = await run(o);
    const f = result.fanoutStats;
    const why = rerun(ID, o, 1);
    expect(f.celebrityTier, why).toBe('write');
    expect(f.celebrityWriteAmplification, why).toBe(10_000_000);
    expect(f.tiers[0].feedWrites, why).toBe(f.tiers[0].owed);
    expect(f.pushes, why).toBe(0);
  }, 60_000);
});

describe('determinism', () => {
  const o = {
    fanout: 'hybrid',
    followers: 300_000,
    celebrityThreshold: 500_000,
    duration: 120,
    bloomSample: 5_000,
    bloomQueries: 5_000,
  };

  it('the same seed gives the same run, byte for byte; another seed another run', async () => {
    const a = (await run(o, 7)).result;
    const b = (await run(o, 7)).result;
    const c = (await run(o, 8)).result;
    expect(a.traceHash, rerun(ID, o, 7)).toBe(b.traceHash);
    expect(JSON.stringify({ ...a, wallMs: 0 })).toBe(JSON.stringify({ ...b, wallMs: 0 }));
    expect(c.traceHash, rerun(ID, o, 8)).not.toBe(a.traceHash);
    expect(a.fanoutStats.pushes, rerun(ID, o, 7)).toBeGreaterThan(0);
  }, 60_000);

  it('the library’s Bloom filter is deterministic (fixed hash seed): same keys, same verdicts', async () => {
    const x = await run({ ...o, duration: 5 }, 3);
    const y = await run({ ...o, duration: 5 }, 3);
    expect(x.result.fanoutStats.bloom!.sampleFalsePositives).toBe(
      y.result.fanoutStats.bloom!.sampleFalsePositives,
    );
    expect(Buffer.from(x.classes).equals(Buffer.from(y.classes))).toBe(true);
  });
});

describe('bad parameters fail with the field named and the allowed range', () => {
  it('overrides', () => {
    expectField(() => resolveFanoutRun(loaded, { followers: 0 }), 'followers', /\[1, 20000000\]/);
    expectField(() => resolveFanoutRun(loaded, { followers: 1.5 }), 'followers', /whole number/);
    expectField(
      () => resolveFanoutRun(loaded, { fanout: 'push' }),
      'fanout',
      /write, read, hybrid/,
    );
    expectField(() => resolveFanoutRun(loaded, { activeShare: 2 }), 'activeShare', /\[0, 1\]/);
    expectField(
      () => resolveFanoutRun(loaded, { activeShare: 0.01, onlineShare: 0.05 }),
      'onlineShare',
      /activeShare/,
    );
    expectField(
      () => resolveFanoutRun(loaded, { activeThreshold: 2_000_000 }),
      'activeThreshold',
      /celebrityThreshold/,
    );
    expectField(() => resolveFanoutRun(loaded, { writesPerSec: 'fast' }), 'writesPerSec', /number/);
    expectField(() => resolveFanoutRun(loaded, { __proto__x: 1 }), '__proto__x', /not a parameter/);
    expectField(() => resolveFanoutRun(loaded, {}, -1), 'seed');
  });

  it('scenario files', () => {
    const bad = (patch: (f: FanoutScenarioFile) => void) => {
      const f = JSON.parse(JSON.stringify(scenarioFile)) as FanoutScenarioFile;
      patch(f);
      return () => loadFanoutScenario(f);
    };
    expectField(
      bad((f) => (f.topology.bloom.falsePositiveRate = 0)),
      `${ID}.topology.bloom.falsePositiveRate`,
    );
    expectField(
      bad((f) => (f.topology.feedStore.writesPerSec = -1)),
      `${ID}.topology.feedStore.writesPerSec`,
    );
    expectField(
      bad((f) => Object.assign(f.topology, { surprise: 1 })),
      `${ID}.topology`,
      /surprise/,
    );
    expectField(
      bad((f) => (f.topology.reads.dbFetchMs = { kind: 'lognormal', median: 5, p99: 1 })),
      `${ID}.topology.reads.dbFetchMs.p99`,
    );
  });
});
