// Fan-out properties over seeds and small populations: conservation, causality, pushes cover the active, false positives are inactive.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import scenarioFile from '../../simulations/fan-out-celebrity.ts';
import { initHistograms } from '../../src/sim/histogram.ts';
import { FanoutSimulation } from '../../src/sim/models/fanout/model.ts';
import { ACTIVE, INACTIVE, INACTIVE_FP, ONLINE } from '../../src/sim/models/fanout/reads.ts';
import { loadFanoutScenario, resolveFanoutRun } from '../../src/sim/models/fanout/resolve.ts';
import { rerun } from '../support/run.ts';

const ID = 'fan-out-celebrity';
const loaded = loadFanoutScenario(scenarioFile);

beforeAll(async () => {
  await initHistograms();
});

const overridesArb = fc
  .record({
    fanout: fc.constantFrom('write', 'read', 'hybrid'),
    followers: fc.integer({ min: 1, max: 4_000 }),
    activeShare: fc.constantFrom(0, 0.01, 0.2, 0.7, 1),
    onlineFraction: fc.constantFrom(0, 0.3, 1),
    celebrityThreshold: fc.integer({ min: 1, max: 5_000 }),
    activeFraction: fc.constantFrom(0, 0.1, 0.5, 1),
    writesPerSec: fc.constantFrom(100, 2_000, 100_000),
    postsPerSec: fc.constantFrom(0, 2, 20),
    celebrityPostsPerHour: fc.constantFrom(60, 720),
    activeOpensPerDay: fc.constantFrom(20, 5_000),
    bloomFpRate: fc.constantFrom(0.01, 0.2),
    duration: fc.integer({ min: 5, max: 40 }),
  })
  .map(({ onlineFraction, activeFraction, ...o }) => ({
    ...o,
    // Shares and thresholds that are only valid together are derived, not drawn apart.
    onlineShare: Math.round(o.activeShare * onlineFraction * 1e4) / 1e4,
    activeThreshold: Math.max(1, Math.round(o.celebrityThreshold * activeFraction)),
    bloomSample: 300,
    bloomQueries: 300,
    // A small ordinary population, so a run takes milliseconds.
    authors: 200,
  }));

describe('fan-out properties', () => {
  it('conservation, causality, pushes ⊇ active, false positives only among the inactive', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 4_294_967_295 }),
        overridesArb,
        async (seed, o) => {
          const spec = resolveFanoutRun(loaded, o, seed);
          const why = rerun(ID, o, seed);
          const sim = new FanoutSimulation(spec, spec.scenario, { recordDeliveries: true });
          while (!sim.done) {
            sim.runUntil(sim.nowUs + 2_000_000, 20_000);
            const { flow } = sim.snapshot();
            expect(flow.delivered + flow.inFlight, why).toBe(flow.fanout);
            expect(flow.inFlight, why).toBeGreaterThanOrEqual(0);
          }
          const r = sim.result(0);
          const f = r.fanoutStats;
          const classes = sim.followerClasses();
          const { deliveries, posts } = sim.deliveryLog();
          const backlog = sim.poolBacklog;
          sim.dispose();

          // Conservation: every owed (follower, post) either was seen or is counted as not yet
          // seen — drawn past the end, or still waiting in the writer pool.
          expect(r.delivered + r.inFlight, why).toBe(r.fanout);
          expect(deliveries.length + backlog, why).toBe(r.fanout);
          const seen = deliveries.filter((d) => d.visibleUs >= 0);
          expect(seen.length, why).toBe(r.delivered);
          expect(deliveries.length - seen.length + backlog, why).toBe(r.inFlight);
          expect(r.latencyMs.count, why).toBe(r.delivered);

          // Per-record checks collect their violations (one expect per record would dominate the
          // test's time); the first few are printed with the rerun line.
          const problems: string[] = [];
          const check = (ok: boolean, what: string) => {
            if (!ok && problems.length < 5) problems.push(what);
          };

          // Causality: nobody sees a post before it reached them (written or pushed, or stored in
          // the timeline for the read path), and nothing reaches anyone before it was posted.
          const endUs = spec.scenario.durationS * 1e6;
          for (const d of deliveries) {
            const at = `post ${d.post} user ${d.user}`;
            check(d.availableUs >= d.createdUs, `${at}: reached before it was posted`);
            if (d.visibleUs >= 0) {
              check(d.visibleUs >= d.availableUs, `${at}: seen before it reached them`);
              check(d.visibleUs < endUs, `${at}: seen after the end`);
            }
            if (d.viaPush) {
              check(d.written && d.cls === ONLINE, `${at}: pushed but not online and written`);
              check(d.visibleUs > d.availableUs, `${at}: push arrived with no latency`);
            }
            if (!d.written) check(d.availableUs === d.createdUs, `${at}: read path not at post`);
          }

          // False positives: never negative, only inactive followers, only under hybrid.
          let fp = 0;
          for (let u = 0; u < classes.length; u++) if (classes[u] === INACTIVE_FP) fp++;
          expect(fp, why).toBe(f.bloom?.falsePositiveFollowers ?? 0);
          if (o.fanout !== 'hybrid') expect(fp, why).toBe(0);
          expect(f.falsePositivePushes, why).toBeGreaterThanOrEqual(0);
          let inactive = 0;
          for (let u = 0; u < classes.length; u++)
            if (classes[u] === INACTIVE || classes[u] === INACTIVE_FP) inactive++;
          expect(inactive, why).toBe(f.inactiveFollowers);

          // Per post: the push tier writes to every active follower (a Bloom filter has no false
          // negatives) plus the false positives, which are inactive; the write tier to everyone.
          const byPost = new Map<number, typeof deliveries>();
          for (const d of deliveries) {
            const list = byPost.get(d.post);
            if (list) list.push(d);
            else byPost.set(d.post, [d]);
          }
          let pushes = 0;
          for (const p of posts) {
            const mine = byPost.get(p.post) ?? [];
            const at = `post ${p.post} (${p.tier})`;
            check(p.falsePositives >= 0 && p.falsePositives <= p.inactive, `${at}: fp count`);
            check(p.online + p.active + p.inactive === p.followers, `${at}: classes`);
            if (p.tier === 'push') {
              pushes += p.targets;
              check(p.targets === p.online + p.active + p.falsePositives, `${at}: targets`);
              check(p.targets >= p.online + p.active, `${at}: pushes miss active followers`);
            }
            if (p.tier === 'write') check(p.targets === p.followers, `${at}: not all written`);
            if (p.tier === 'read') check(p.targets === 0, `${at}: read tier wrote feeds`);
            for (const d of mine) {
              const who = `${at} user ${d.user} class ${d.cls}`;
              // The filter decides only in the push tier; there a false positive is written to.
              if (p.tier === 'push') {
                if (d.written) check(d.cls !== INACTIVE, `${who}: written though ruled out`);
                else check(d.cls === INACTIVE, `${who}: not written though called active`);
              }
              if (p.tier === 'read') check(!d.written, `${who}: written in the read tier`);
              if (p.tier === 'write') check(d.written, `${who}: not written in the write tier`);
            }
            // The celebrity's followers have names: each appears at most once per post, and once
            // its fan-out is done every active follower has been written to.
            if (p.author === -1) {
              const users = new Set(mine.map((d) => d.user));
              check(users.size === mine.length, `${at}: a follower reached twice`);
              const written = mine.filter((d) => d.written).length;
              if (p.tier === 'push' && written === p.targets)
                for (let u = 0; u < classes.length; u++)
                  if (classes[u] === ONLINE || classes[u] === ACTIVE)
                    check(users.has(u), `${at}: active follower ${u} never written`);
              if (mine.length === p.followers)
                check(users.size === p.followers, `${at}: followers missing`);
            }
          }
          expect(problems, why).toEqual([]);
          expect(f.pushes, why).toBe(pushes);
          expect(f.pushes, why).toBeGreaterThanOrEqual(f.falsePositivePushes);
        },
      ),
      { numRuns: 60 },
    );
  }, 120_000);

  it('snapshots do not change the run (driving in slices or at once gives the same run)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 4_294_967_295 }),
        fc.constantFrom('write', 'read', 'hybrid'),
        fc.integer({ min: 100, max: 3_000 }),
        async (seed, fanout, sliceMs) => {
          const o = {
            fanout,
            followers: 3_000,
            celebrityThreshold: 2_000,
            duration: 20,
            celebrityPostsPerHour: 720,
            bloomSample: 300,
            bloomQueries: 300,
            authors: 100,
          };
          const spec = resolveFanoutRun(loaded, o, seed);
          const whole = new FanoutSimulation(spec, spec.scenario);
          whole.runUntil(whole.durationUs);
          const a = whole.result(0);
          whole.dispose();
          const sliced = new FanoutSimulation(spec, spec.scenario);
          while (!sliced.done) {
            sliced.runUntil(sliced.nowUs + sliceMs * 1000);
            sliced.snapshot();
          }
          const b = sliced.result(0);
          sliced.dispose();
          expect(b.traceHash, rerun(ID, o, seed)).toBe(a.traceHash);
          expect(JSON.stringify(b), rerun(ID, o, seed)).toBe(JSON.stringify(a));
        },
      ),
      { numRuns: 15 },
    );
  }, 120_000);
});
