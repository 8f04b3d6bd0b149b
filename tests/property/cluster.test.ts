// The fleet scenarios reproduce what the issue and the guide promise, at their defaults.
import { describe, expect, it } from 'vitest';
import { runCluster } from '../support/cluster.ts';

describe('reconnect storm', () => {
  it('without jitter at least 90% of first attempts land in one 100 ms bucket', async () => {
    const { result, rerun } = await runCluster('reconnect-storm', { jitter: 'none' }, 1);
    const r = result.reconnect!;
    expect(r.firstAttempts, rerun).toBe(10_000);
    expect(r.firstAttemptPeakShare, rerun).toBeGreaterThanOrEqual(0.9);
    expect(result.faults![0]).toMatchObject({ kind: 'mass-disconnect', hit: 10_000 });
  });

  it('with full jitter the busiest bucket holds at most twice the uniform expectation', async () => {
    const { result, rerun } = await runCluster('reconnect-storm', { jitter: 'full' }, 1);
    const r = result.reconnect!;
    expect(r.firstAttempts, rerun).toBe(10_000);
    expect(r.peakToUniformRatio, rerun).toBeLessThanOrEqual(2);
    expect(r.allReconnectedAtS, rerun).not.toBeNull();
  });
});

describe('broker failure', () => {
  it('Redis loses what was published during the outage; Kafka and direct polling lose nothing', async () => {
    const redis = await runCluster('broker-failure', { broker: 'redis' }, 1);
    const kafka = await runCluster('broker-failure', { broker: 'kafka' }, 1);
    const direct = await runCluster('broker-failure', { broker: 'direct' }, 1);
    const rc = redis.result.clusterStats!;
    expect(rc.lostAtBroker, redis.rerun).toBeGreaterThan(0);
    expect(rc.faults[0].hit, redis.rerun).toBe(rc.lostAtBroker);
    expect(rc.lost, redis.rerun).toBeGreaterThan(0);
    expect(rc.reach, redis.rerun).toBeLessThan(0.9);
    for (const run of [kafka, direct]) {
      expect(run.result.lost, run.rerun).toBe(0);
      expect(run.result.faults![0].hit, run.rerun).toBeGreaterThan(0);
      // Replayed after the outage: the latency spike is about the outage's length.
      expect(run.result.latencyMs.max, run.rerun).toBeGreaterThan(5_000);
    }
  });
});

describe('load balancing', () => {
  it('consistent hashing remaps about 1/(n+1) of users on scale-out; round robin nearly all', async () => {
    const ch = await runCluster('load-balancing', { strategy: 'consistent-hash', duration: 20 }, 1);
    const rr = await runCluster('load-balancing', { strategy: 'round-robin', duration: 20 }, 1);
    expect(ch.result.remappedShareOnScaleOut!, ch.rerun).toBeLessThan(0.3);
    expect(rr.result.remappedShareOnScaleOut!, rr.rerun).toBeGreaterThan(0.7);
  });

  it('IP hashing behind a NAT piles an office onto one server', async () => {
    const nat = await runCluster(
      'load-balancing',
      { strategy: 'ip-hash', usersPerIp: 1_000, duration: 20 },
      1,
    );
    const even = await runCluster(
      'load-balancing',
      { strategy: 'least-connections', duration: 20 },
      1,
    );
    const spread = (c: number[]) => Math.max(...c) / Math.max(1, Math.min(...c.slice(0, 5)));
    expect(spread(nat.result.connectionsPerServer!), nat.rerun).toBeGreaterThan(2);
    expect(spread(even.result.connectionsPerServer!), even.rerun).toBeLessThan(1.1);
  });

  it('a restarted server comes back empty under round robin; new connections go to the new server', async () => {
    const { result, rerun } = await runCluster('load-balancing', {}, 1);
    const c = result.connectionsPerServer!;
    expect(c, rerun).toHaveLength(6);
    expect(c[1], rerun).toBeLessThan(0.5 * c[0]);
    expect(result.faults!.map((f) => f.kind)).toEqual(['server-crash', 'scale-out']);
    expect(result.faults![0].hit, rerun).toBe(1_200);
  });
});

describe('Redis pub/sub', () => {
  it('a server crash with no history loses what its users missed; broker history recovers it', async () => {
    const none = await runCluster('redis-pubsub', { duration: 150 }, 1);
    const history = await runCluster('redis-pubsub', { duration: 150, history: 'broker' }, 1);
    expect(none.result.lost!, none.rerun).toBeGreaterThan(0);
    expect(history.result.lost!, history.rerun).toBe(0);
    expect(history.result.recovered!, history.rerun).toBeGreaterThan(0);
  });

  it('a subscriber slower than its output buffer is disconnected and misses messages', async () => {
    const o = { duration: 20, cpuPerSendUs: 10 };
    const fast = await runCluster('redis-pubsub', o, 1, []);
    expect(fast.result.clusterStats!.subscriberDisconnects, fast.rerun).toBe(0);
    // Each send now takes 3 ms at 10 updates/s: the send backlogs outgrow Redis's 8 MB buffer.
    const slow = await runCluster('redis-pubsub', { ...o, cpuPerSendUs: 3_000, rate: 10 }, 1, []);
    expect(slow.result.clusterStats!.subscriberDisconnects, slow.rerun).toBeGreaterThan(0);
    expect(slow.result.clusterStats!.missedWhileUnsubscribed, slow.rerun).toBeGreaterThan(0);
  });
});

describe('Kafka', () => {
  it('a crashed consumer replays from its committed offset: duplicates at least once, none exactly once', async () => {
    const alo = await runCluster('kafka', { duration: 150 }, 1);
    const eo = await runCluster('kafka', { duration: 150, guarantee: 'exactly-once' }, 1);
    expect(alo.result.lost!, alo.rerun).toBe(0);
    expect(alo.result.clusterStats!.recoveryPaths.consumerReplay, alo.rerun).toBeGreaterThan(0);
    expect(alo.result.duplicated, alo.rerun).toBeGreaterThan(0);
    expect(eo.result.duplicated, eo.rerun).toBe(0);
    expect(eo.result.clusterStats!.duplicatesSuppressed, eo.rerun).toBeGreaterThan(0);
  });
});

describe('direct polling', () => {
  it('adds about half a poll interval and loads the source with servers ÷ interval requests', async () => {
    const a = await runCluster('direct-polling', { duration: 30 }, 1);
    const b = await runCluster('direct-polling', { duration: 30, servers: 6 }, 1);
    expect(a.result.latencyMs.p50, a.rerun).toBeGreaterThan(400);
    expect(a.result.latencyMs.p50, a.rerun).toBeLessThan(700);
    const ra = a.result.clusterStats!.sourceRequestsPerSec;
    expect(ra, a.rerun).toBeCloseTo(3, 0);
    expect(b.result.clusterStats!.sourceRequestsPerSec / ra, b.rerun).toBeCloseTo(2, 0);
  });
});

describe('faults injected while the run goes on', () => {
  it('join the schedule, record what they hit, and the URL of the schedule reproduces the run', async () => {
    const { createSimulation } = await import('../../src/sim/simulation.ts');
    const { queryFromRun, runFromQuery } = await import('../../src/scenario/url.ts');
    const { spec } = await import('../support/run.ts');
    const run = spec('redis-pubsub', { duration: 60 }, 4);
    const sim = await createSimulation(run);
    sim.runUntil(20_000_000);
    const rec = sim.injectFault!({ kind: 'server-crash', atS: 0, target: 2, forS: 5 });
    expect(rec.atS).toBe(20.000001);
    expect(() => sim.injectFault!({ kind: 'server-crash', target: 9 })).toThrow(/fault.target/);
    expect(() => sim.injectFault!({ kind: 'meteor' })).toThrow(/fault.kind/);
    sim.runUntil(sim.durationUs);
    const live = sim.result(0);
    const schedule = sim.faultSchedule!();
    sim.dispose();
    expect(live.faults!.at(-1)).toMatchObject({ kind: 'server-crash', atS: 20.000001, target: 2 });
    expect(live.faults!.at(-1)!.hit).toBeGreaterThan(0);
    // The same run, from a URL that carries the schedule.
    const replayed = runFromQuery(
      `?${queryFromRun({ ...run, scenario: { ...run.scenario, topology: { ...run.scenario.topology, faults: schedule } } } as typeof run)}`,
    );
    const again = await createSimulation(replayed);
    again.runUntil(again.durationUs);
    expect(again.result(0).traceHash).toBe(live.traceHash);
    again.dispose();
  });
});

describe('open faults and heals (what clicks on the topology do)', () => {
  it('a crash left open keeps the server down until a restart heals it; heals of healthy parts hit nothing', async () => {
    const faults = [
      { kind: 'server-crash', atS: 10, target: 0 },
      { kind: 'partition', atS: 10, target: 1 },
      { kind: 'broker-down', atS: 12 },
      { kind: 'server-restart', atS: 25, target: 0 },
      { kind: 'partition-heal', atS: 25, target: 1 },
      { kind: 'broker-up', atS: 25 },
      { kind: 'lb-up', atS: 26 },
    ];
    const { result, rerun } = await runCluster('kafka', { duration: 150 }, 3, faults);
    const f = result.faults!;
    expect(f[0].recoveredAtS, rerun).toBe(25);
    expect(f[1].recoveredAtS, rerun).toBe(25);
    expect(f[2].recoveredAtS, rerun).toBe(25);
    expect(
      f.slice(3).map((x) => x.hit),
      rerun,
    ).toEqual([1, 1, 1, 0]);
    expect(result.lost, rerun).toBe(0);
    expect(result.clusterStats!.disconnected, rerun).toBe(0);
  });
});

describe('production multi-region', () => {
  it('fails a region’s users over to the others, loses nothing, and lands in the guide’s 50–150 ms', async () => {
    const { result, rerun } = await runCluster('production-multi-region', {}, 1);
    const c = result.connectionsPerServer!;
    // EU-West (servers 2, 5, 8) came back empty: its users stayed where they failed over to.
    expect([c[2], c[5], c[8]], rerun).toEqual([0, 0, 0]);
    expect(
      c.reduce((a, b) => a + b, 0),
      rerun,
    ).toBe(6_000);
    expect(result.lost, rerun).toBe(0);
    expect(result.latencyMs.p50, rerun).toBeGreaterThanOrEqual(50);
    expect(result.latencyMs.p50, rerun).toBeLessThanOrEqual(150);
    expect(
      result.faults!.map((f) => f.hit).reduce((a, b) => a + b, 0),
      rerun,
    ).toBe(2_000);
  });
});

describe('the guide’s scale tiers', () => {
  it('each tier runs with the guide’s fleet: 1 server, 5–10 with Redis, 50–100 in regions with Kafka, 100+', async () => {
    const small = await runCluster('scale-small', {}, 1);
    const medium = await runCluster('scale-medium', { duration: 10 }, 1);
    const large = await runCluster('scale-large', { duration: 8 }, 1);
    expect(small.result.servers, small.rerun).toHaveLength(1);
    expect(small.result.clusterStats!.broker).toBe('direct');
    expect(medium.result.servers.length).toBeGreaterThanOrEqual(5);
    expect(medium.result.servers.length).toBeLessThanOrEqual(10);
    expect(medium.result.clusterStats!.broker).toBe('redis');
    expect(large.result.servers.length).toBeGreaterThanOrEqual(50);
    expect(large.result.clusterStats!.broker).toBe('kafka');
    for (const t of [small, medium, large]) {
      expect(t.result.rejectedConnections, t.rerun).toBe(0);
      expect(t.result.reach!, t.rerun).toBeGreaterThan(0.95);
    }
    // Tier 2's Redis hop is sub-millisecond; tier 3 pays Kafka's batching and the regions.
    expect(large.result.latencyMs.p50).toBeGreaterThan(medium.result.latencyMs.p50 + 20);
  });
});

describe('the internet-scale tier', () => {
  it('fans out to 1.5 million users on 150 servers with none rejected', async () => {
    const { runToEnd, rerun } = await import('../support/run.ts');
    const { result } = await runToEnd('scale-internet', { duration: 1 }, 1);
    expect(result.servers, rerun('scale-internet', { duration: 1 }, 1)).toHaveLength(150);
    expect(result.rejectedConnections).toBe(0);
    expect(result.fanout).toBe(1_500_000);
  });
});

describe('autoscaler and slow links', () => {
  it('the autoscaler adds servers while the mean load is over target, each after it boots', async () => {
    const o = { users: 6_000, servers: 2, duration: 120 };
    const { createSimulation } = await import('../../src/sim/simulation.ts');
    const { spec } = await import('../support/run.ts');
    const run = spec('load-balancing', o, 2);
    const t = run.scenario.model === 'cluster' ? run.scenario.topology : undefined;
    if (!t) throw new Error('expected a cluster scenario');
    t.faults = [];
    t.server.autoscale = { enabled: 'on', targetConnections: 1_500, bootS: 10, maxServers: 6 };
    const sim = await createSimulation(run);
    sim.runUntil(sim.durationUs);
    const r = sim.result(0);
    sim.dispose();
    const scaleOuts = r.faults!.filter((f) => f.kind === 'scale-out');
    expect(scaleOuts.length).toBeGreaterThan(0);
    expect(r.connectionsPerServer!.length).toBeLessThanOrEqual(6);
    // Boots are at least bootS apart: the autoscaler waits for the last one.
    for (let k = 1; k < scaleOuts.length; k++)
      expect(scaleOuts[k].atS - scaleOuts[k - 1].atS).toBeGreaterThanOrEqual(10);
    expect(r.rejectedConnections).toBe(0);
  });

  it('a slow link delays its server’s users and nobody else', async () => {
    const faults = [{ kind: 'slow-link', atS: 10, target: 0, forS: 20, extraLatencyMs: 500 }];
    const slow = await runCluster('redis-pubsub', { duration: 40 }, 1, faults);
    const base = await runCluster('redis-pubsub', { duration: 40 }, 1, []);
    expect(slow.result.faults![0].hit, slow.rerun).toBe(1_000);
    expect(slow.result.latencyMs.p90, slow.rerun).toBeGreaterThan(base.result.latencyMs.p90 + 300);
    expect(slow.result.latencyMs.p50, slow.rerun).toBeLessThan(base.result.latencyMs.p50 + 50);
    expect(slow.result.lost, slow.rerun).toBe(0);
  });
});
