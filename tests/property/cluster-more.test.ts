// Consumer groups, partitions between groups, bandwidth caps, producer ids, offline mailboxes and
// faults that change nothing: what each does, measured on seeded runs.
import { describe, expect, it } from 'vitest';
import { checkExactlyOnce } from '../../src/sim/checkers/exactly-once.ts';
import { checkPartitionOrder } from '../../src/sim/checkers/partition-order.ts';
import { checkSequences } from '../../src/sim/checkers/sequence.ts';
import { runCluster } from '../support/cluster.ts';

describe('a fault that changes nothing', () => {
  it('a crash of a server already down does nothing, schedules no recovery, and leaves the open crash open', async () => {
    const faults = [
      { kind: 'server-crash', atS: 30, target: 1, forS: 10 },
      { kind: 'server-crash', atS: 12, target: 1, forS: 0 },
    ];
    const { result, rerun } = await runCluster('redis-pubsub', { duration: 120 }, 3, faults);
    const c = result.clusterStats!;
    expect(c.faults[0], rerun).toMatchObject({ hit: 0, applied: false, recoveredAtS: null });
    expect(c.faults[1], rerun).toMatchObject({ applied: true, recoveredAtS: null });
    expect(c.faults[1].hit, rerun).toBeGreaterThan(0);
    expect(c.state.servers, rerun).toEqual(['up', 'down', 'up']);
    expect(result.connectionsPerServer![1], rerun).toBe(0);
  });

  it('a restart heals the crash that took the server down, and a later heal finds nothing open', async () => {
    const faults = [
      { kind: 'server-crash', atS: 10, target: 0, forS: 0 },
      { kind: 'server-crash', atS: 20, target: 0, forS: 5 },
      { kind: 'server-restart', atS: 30, target: 0 },
      { kind: 'server-restart', atS: 40, target: 0 },
    ];
    const { result, rerun } = await runCluster('redis-pubsub', { duration: 60 }, 3, faults);
    const f = result.clusterStats!.faults;
    expect(
      f.map((x) => x.applied),
      rerun,
    ).toEqual([true, false, true, false]);
    expect(f[0].recoveredAtS, rerun).toBe(30);
    expect(f[1].recoveredAtS, rerun).toBeNull();
    expect(result.clusterStats!.state.servers[0], rerun).toBe('up');
  });
});

describe('Kafka consumer group', () => {
  const crash = [{ kind: 'server-crash', atS: 30, target: 1, forS: 0 }];

  it('splits the partitions; a crashed member is dropped after the session timeout and its partitions move, replaying what it had not committed', async () => {
    const alo = await runCluster(
      'kafka',
      { consumers: 'group', guarantee: 'at-least-once', duration: 120 },
      3,
      crash,
    );
    const eo = await runCluster(
      'kafka',
      { consumers: 'group', guarantee: 'exactly-once', duration: 120 },
      3,
      crash,
    );
    const c = alo.result.clusterStats!;
    expect(c.rebalances, alo.rerun).toBe(1);
    expect(c.partitionOwners, alo.rerun).toHaveLength(12);
    expect(new Set(c.partitionOwners), alo.rerun).toEqual(new Set([0, 2]));
    expect(c.recoveryPaths.groupReplay, alo.rerun).toBeGreaterThan(0);
    // The replay reaches users as duplicates: counted at least once, suppressed exactly once.
    expect(alo.result.duplicated, alo.rerun).toBeGreaterThan(0);
    expect(eo.result.duplicated, eo.rerun).toBe(0);
    expect(eo.result.clusterStats!.duplicatesSuppressed, eo.rerun).toBe(alo.result.duplicated);
    for (const r of [alo, eo]) expect(r.result.lost, r.rerun).toBe(0);
  });

  it('a server that joins (scale-out) triggers a rebalance and gets partitions; broadcast consumers never rebalance', async () => {
    const join = [{ kind: 'scale-out', atS: 20 }];
    const g = await runCluster('kafka', { consumers: 'group', duration: 60 }, 3, join);
    const b = await runCluster('kafka', { consumers: 'broadcast', duration: 60 }, 3, join);
    const gc = g.result.clusterStats!;
    expect(gc.rebalances, g.rerun).toBe(1);
    expect(new Set(gc.partitionOwners), g.rerun).toEqual(new Set([0, 1, 2, 3]));
    expect(b.result.clusterStats!.rebalances, b.rerun).toBe(0);
    expect(b.result.clusterStats!.partitionOwners, b.rerun).toEqual([]);
    expect(g.result.lost, g.rerun).toBe(0);
  });

  it('a graceful shutdown leaves the group at once (a clean leave commits: no replay)', async () => {
    const leave = [{ kind: 'graceful-shutdown', atS: 20, target: 2 }];
    const { result, rerun } = await runCluster(
      'kafka',
      { consumers: 'group', duration: 80 },
      3,
      leave,
    );
    const c = result.clusterStats!;
    expect(c.rebalances, rerun).toBe(1);
    expect(c.recoveryPaths.groupReplay, rerun).toBe(0);
    expect(new Set(c.partitionOwners), rerun).toEqual(new Set([0, 1]));
  });
});

describe('partitions between groups', () => {
  const base = { duration: 150, guarantee: 'at-least-once' };

  it('users → server cut one way: frames still arrive, acks do not, the server times the clients out', async () => {
    const cut = [
      { kind: 'partition', atS: 30, forS: 40, from: 'users', to: 'server:0', oneWay: true },
    ];
    const { result, rerun } = await runCluster('kafka', base, 3, cut);
    const c = result.clusterStats!;
    expect(c.faults[0].hit, rerun).toBe(1_000);
    expect(c.recoveryPaths.partitionTimeout, rerun).toBeGreaterThan(0);
    expect(c.recoveryPaths.gapFetch, rerun).toBe(0);
    // Resumed from the last ack the server saw: what arrived meanwhile comes again.
    expect(result.duplicated, rerun).toBeGreaterThan(0);
    expect(result.lost, rerun).toBe(0);
  });

  it('server → users cut one way: frames are lost, gaps are fetched after the heal', async () => {
    const cut = [
      { kind: 'partition', atS: 30, forS: 20, from: 'server:0', to: 'users', oneWay: true },
    ];
    const { result, rerun } = await runCluster('kafka', base, 3, cut);
    const c = result.clusterStats!;
    expect(c.recoveryPaths.gapFetch, rerun).toBeGreaterThan(0);
    expect(c.recoveryPaths.partitionTimeout, rerun).toBe(0);
    expect(result.duplicated, rerun).toBe(0);
    expect(result.lost, rerun).toBe(0);
    expect(result.latencyMs.max, rerun).toBeGreaterThan(15_000);
  });

  it('broker → source cut one way: writes land, acks do not; without an idempotent producer the log gets second copies', async () => {
    const cut = [
      { kind: 'partition', atS: 30, forS: 20, from: 'broker', to: 'source', oneWay: true },
    ];
    const off = await runCluster('kafka', { ...base, idempotentProducer: 'off' }, 3, cut);
    const on = await runCluster('kafka', { ...base, idempotentProducer: 'on' }, 3, cut);
    const eo = await runCluster(
      'kafka',
      { ...base, idempotentProducer: 'off', guarantee: 'exactly-once' },
      3,
      cut,
    );
    const copies = off.result.clusterStats!.logCopies;
    expect(copies, off.rerun).toBeGreaterThan(0);
    expect(on.result.clusterStats!.logCopies, on.rerun).toBe(0);
    expect(on.result.clusterStats!.dedupedAtBroker, on.rerun).toBe(copies);
    // At least once applies the copies again; exactly once drops them by producer id + sequence.
    expect(off.result.duplicated, off.rerun).toBeGreaterThan(0);
    expect(on.result.duplicated, on.rerun).toBe(0);
    expect(eo.result.duplicated, eo.rerun).toBe(0);
    expect(eo.result.clusterStats!.duplicatesSuppressed, eo.rerun).toBe(off.result.duplicated);
    for (const r of [off, on, eo]) expect(r.result.fanout, r.rerun).toBe(on.result.fanout);
  });

  it('exactly once by producer id + sequence: the checker sees no effect applied twice', async () => {
    const cut = [
      { kind: 'partition', atS: 30, forS: 20, from: 'broker', to: 'source', oneWay: true },
    ];
    const eo = await runCluster(
      'kafka',
      { ...base, idempotentProducer: 'off', guarantee: 'exactly-once', duration: 100 },
      3,
      cut,
    );
    expect(checkExactlyOnce(eo.result, eo.deliveries), eo.rerun).toEqual([]);
    const seq = checkSequences(eo.deliveries);
    expect(seq.gaps, eo.rerun).toEqual([]);
    // The same run under at least once breaks the exactly-once invariant (the checker can fail).
    const alo = await runCluster(
      'kafka',
      { ...base, idempotentProducer: 'off', duration: 100 },
      3,
      cut,
    );
    const asIfExactly = {
      ...alo.result,
      duplicated: 0,
      clusterStats: { ...alo.result.clusterStats!, guarantee: 'exactly-once' },
    };
    expect(checkExactlyOnce(asIfExactly, alo.deliveries).length, alo.rerun).toBeGreaterThan(0);
  });

  it('a region cut from the broker region: its servers stall (Kafka) and catch up after', async () => {
    const cut = [{ kind: 'partition', atS: 40, forS: 15, from: 'region:0', to: 'region:1' }];
    const { result, rerun } = await runCluster('production-multi-region', {}, 1, cut);
    const c = result.clusterStats!;
    expect(c.faults[0].hit, rerun).toBeGreaterThan(0);
    expect(result.lost, rerun).toBe(0);
    expect(result.latencyMs.max, rerun).toBeGreaterThan(10_000);
  });
});

describe('order', () => {
  it('Kafka keeps order within a partition, not across partitions; Redis and the database keep publication order', async () => {
    const kafka = await runCluster('kafka', { duration: 60 }, 3, []);
    const redis = await runCluster('redis-pubsub', { duration: 60 }, 3, []);
    expect(kafka.result.clusterStats!.serverReorders, kafka.rerun).toBeGreaterThan(0);
    expect(redis.result.clusterStats!.serverReorders, redis.rerun).toBe(0);
    for (const r of [kafka, redis]) expect(checkPartitionOrder(r.arrivals), r.rerun).toEqual([]);
  });
});

describe('bandwidth caps', () => {
  it('a cap on a server’s user links queues its frames; lifting it drains the queue', async () => {
    const cap = (mbps: number) => [
      { kind: 'slow-link', atS: 30, forS: 20, target: 0, bandwidthMbps: mbps },
    ];
    const tight = await runCluster('redis-pubsub', { duration: 100 }, 3, cap(0.1));
    const loose = await runCluster('redis-pubsub', { duration: 100 }, 3, cap(2));
    expect(tight.result.latencyMs.p99, tight.rerun).toBeGreaterThan(5_000);
    expect(tight.result.latencyMs.max, tight.rerun).toBeLessThan(25_000);
    expect(loose.result.latencyMs.p99, loose.rerun).toBeLessThan(1_000);
    for (const r of [tight, loose]) expect(r.result.inFlight, r.rerun).toBe(0);
  });
});

describe('users who go away', () => {
  const away = { duration: 600, awayShare: 0.3, awayMeanS: 200, mailboxLimit: 50 };

  it('a mailbox hands back the newest updates past the recovery window; resume has to resync', async () => {
    const resume = await runCluster('kafka', { ...away, offline: 'resume' }, 3, []);
    const mailbox = await runCluster('kafka', { ...away, offline: 'mailbox' }, 3, []);
    const rc = resume.result.clusterStats!;
    const mc = mailbox.result.clusterStats!;
    expect(rc.recoveryPaths.resumeResync, resume.rerun).toBeGreaterThan(0);
    expect(rc.recoveryPaths.mailboxDelivery, resume.rerun).toBe(0);
    expect(mc.recoveryPaths.mailboxDelivery, mailbox.rerun).toBeGreaterThan(0);
    expect(mc.resynced, mailbox.rerun).toBe(0);
    // What the 50-update mailbox could not keep is lost; the rest arrives as recovered.
    expect(mc.lost, mailbox.rerun).toBeGreaterThan(0);
    expect(mc.recovered, mailbox.rerun).toBeGreaterThan(rc.recovered);
    // Away users are not disconnected clients, and are not expected to be up to date.
    for (const r of [resume, mailbox]) {
      expect(r.result.clusterStats!.away, r.rerun).toBeGreaterThan(0);
      expect(r.result.clusterStats!.disconnected, r.rerun).toBe(0);
      expect(r.convergence.maxBehind, r.rerun).toBeLessThanOrEqual(10);
    }
  });
});
