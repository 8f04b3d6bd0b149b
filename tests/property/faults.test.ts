// 1,000 random fault schedules: conservation, order, no duplicate effect, no loss when durable, convergence.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkConservation } from '../../src/sim/checkers/conservation.ts';
import { checkConvergence } from '../../src/sim/checkers/convergence.ts';
import { checkDurability } from '../../src/sim/checkers/durability.ts';
import { checkExactlyOnce } from '../../src/sim/checkers/exactly-once.ts';
import { checkPartitionOrder } from '../../src/sim/checkers/partition-order.ts';
import { checkSequences } from '../../src/sim/checkers/sequence.ts';
import { runCluster } from '../support/cluster.ts';

const RUNS = 1_000;
/** Faults happen in the first 60 s and heal within 40 s; clients detect a dead server within the
 * 60 s heartbeat timeout and back off at most 30 s, so by 200 s every client must be back. Users
 * who go away leave between 20 and 80 s for 10 s on average; those still away are not counted. */
const DURATION_S = 200;

const fault = fc.oneof(
  fc.record({
    kind: fc.constant('server-crash'),
    atS: fc.integer({ min: 3, max: 60 }),
    target: fc.integer({ min: 0, max: 2 }),
    forS: fc.integer({ min: 1, max: 20 }),
    loseState: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('broker-down'),
    atS: fc.integer({ min: 3, max: 60 }),
    forS: fc.integer({ min: 1, max: 20 }),
  }),
  fc.record({
    kind: fc.constant('lb-down'),
    atS: fc.integer({ min: 3, max: 60 }),
    forS: fc.integer({ min: 1, max: 20 }),
  }),
  fc.record({
    kind: fc.constant('mass-disconnect'),
    atS: fc.integer({ min: 3, max: 60 }),
    share: fc.constantFrom(0.3, 1),
  }),
  fc.record({
    kind: fc.constant('graceful-shutdown'),
    atS: fc.integer({ min: 3, max: 60 }),
    target: fc.integer({ min: 0, max: 2 }),
  }),
  fc.record({ kind: fc.constant('scale-out'), atS: fc.integer({ min: 3, max: 60 }) }),
  fc.record({
    kind: fc.constant('slow-link'),
    atS: fc.integer({ min: 3, max: 60 }),
    target: fc.integer({ min: 0, max: 2 }),
    forS: fc.integer({ min: 1, max: 20 }),
    extraLatencyMs: fc.constantFrom(0, 200),
    lossProbability: fc.constantFrom(0, 0.2),
    bandwidthMbps: fc.constantFrom(0, 0.05),
  }),
  fc.record({
    kind: fc.constant('partition'),
    atS: fc.integer({ min: 3, max: 60 }),
    target: fc.integer({ min: 0, max: 2 }),
    forS: fc.integer({ min: 1, max: 20 }),
  }),
  // Between any two groups, both ways or one way, long enough for heartbeats to time out.
  fc.record({
    kind: fc.constant('partition'),
    atS: fc.integer({ min: 3, max: 60 }),
    forS: fc.integer({ min: 1, max: 40 }),
    from: fc.constantFrom(
      'source',
      'broker',
      'servers',
      'server:0',
      'server:2',
      'users',
      'users:0',
    ),
    to: fc.constantFrom('source', 'broker', 'servers', 'server:1', 'users', 'region:0'),
    oneWay: fc.boolean(),
  }),
);

const settings = fc.record({
  broker: fc.constantFrom('redis', 'kafka', 'direct'),
  guarantee: fc.constantFrom('at-most-once', 'at-least-once', 'exactly-once'),
  history: fc.constantFrom('none', 'server', 'broker'),
  recoveryWindowS: fc.constantFrom(5, 3_600),
  jitter: fc.constantFrom('none', 'full', 'equal', 'guide'),
  strategy: fc.constantFrom(
    'round-robin',
    'least-connections',
    'ip-hash',
    'cookie',
    'consistent-hash',
  ),
  consumers: fc.constantFrom('broadcast', 'group'),
  idempotentProducer: fc.constantFrom('on', 'off'),
  offline: fc.constantFrom('resume', 'mailbox'),
  awayShare: fc.constantFrom(0, 0.2),
});

describe('random fault schedules', () => {
  it(`${RUNS} schedules: no invariant is violated and every recovery path is reached`, async () => {
    const paths: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 4_294_967_295 }),
        settings,
        fc.array(fault, { minLength: 1, maxLength: 4 }),
        async (seed, set, faults) => {
          // A graceful shutdown removes its server for good: keep at least one server standing.
          const shutdowns = new Set(
            faults
              .filter((f) => f.kind === 'graceful-shutdown')
              .map((f) => 'target' in f && f.target),
          );
          fc.pre(shutdowns.size < 3);
          const o = {
            ...set,
            users: 40,
            servers: 3,
            channels: 4,
            rate: 2,
            duration: DURATION_S,
            awayMeanS: 10,
            mailboxLimit: 1_000,
          };
          const {
            result: r,
            deliveries,
            arrivals,
            convergence,
            rerun,
          } = await runCluster('redis-pubsub', o, seed, faults);
          const c = r.clusterStats!;
          for (const [k, v] of Object.entries(c.recoveryPaths)) paths[k] = (paths[k] ?? 0) + v;
          // One invariant per checker (src/sim/checkers/), each returning its violations.
          const violations = [
            ...checkConservation(r),
            ...checkExactlyOnce(r, deliveries),
            ...checkPartitionOrder(arrivals),
            ...checkDurability(r, set.history, set.recoveryWindowS),
            ...checkConvergence(c.disconnected, convergence.maxBehind, 10),
          ];
          expect(violations, rerun).toEqual([]);
          // Order per channel: a client applies each update once, in sequence order.
          const seq = checkSequences(deliveries);
          expect(seq.duplicates + seq.outOfOrder, rerun).toBe(0);
          if (c.lost + c.resynced === 0) expect(seq.gaps, rerun).toEqual([]);
          // Each fault that fired says what it hit.
          for (const f of c.faults) expect(f.hit, rerun).toBeGreaterThanOrEqual(0);
        },
      ),
      { numRuns: RUNS },
    );
    for (const [path, count] of Object.entries(paths))
      expect(count, `recovery path ${path} never ran`).toBeGreaterThan(0);
  }, 300_000);
});
