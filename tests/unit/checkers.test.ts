// The checkers catch what they check: each is fed a result that breaks its invariant.
import { describe, expect, it } from 'vitest';
import { checkConservation } from '../../src/sim/checkers/conservation.ts';
import { checkConvergence } from '../../src/sim/checkers/convergence.ts';
import { checkDurability } from '../../src/sim/checkers/durability.ts';
import { checkExactlyOnce } from '../../src/sim/checkers/exactly-once.ts';
import { checkPartitionOrder } from '../../src/sim/checkers/partition-order.ts';
import { checkSequences } from '../../src/sim/checkers/sequence.ts';
import type { ClusterStats, RunResult } from '../../src/sim/types.ts';

function result(flow: Partial<RunResult>, cluster: Partial<ClusterStats> = {}): RunResult {
  return {
    fanout: 10,
    delivered: 10,
    dropped: 0,
    inFlight: 0,
    duplicated: 0,
    simulatedSeconds: 100,
    ...flow,
    clusterStats: { broker: 'kafka', guarantee: 'exactly-once', lost: 0, resynced: 0, ...cluster },
  } as RunResult;
}

describe('checkers', () => {
  it('conservation: flags deliveries that vanish or appear from nowhere', () => {
    expect(checkConservation(result({}))).toEqual([]);
    expect(checkConservation(result({ delivered: 8 }))).toHaveLength(1);
    expect(checkConservation(result({ delivered: 11, inFlight: -1 }))).toHaveLength(1);
  });

  it('exactly once: flags an applied duplicate, only under exactly-once', () => {
    expect(checkExactlyOnce(result({ duplicated: 1 }), [])).toHaveLength(1);
    expect(checkExactlyOnce(result({ duplicated: 1 }, { guarantee: 'at-least-once' }), [])).toEqual(
      [],
    );
  });

  it('exactly once: flags a second copy applied (same producer id and sequence, new offset)', () => {
    const d = (message: number, seq: number, producerSeq: number, applied: boolean) => ({
      message,
      client: 3,
      channel: 0,
      seq,
      createdUs: 0,
      arrivalUs: seq,
      recovered: false,
      producer: 0,
      producerSeq,
      applied,
    });
    const copyDropped = [d(1, 0, 7, true), d(9, 1, 7, false), d(2, 2, 8, true)];
    const copyApplied = [d(1, 0, 7, true), d(9, 1, 7, true), d(2, 2, 8, true)];
    expect(checkExactlyOnce(result({}), copyDropped)).toEqual([]);
    expect(checkExactlyOnce(result({}), copyApplied)).toHaveLength(1);
  });

  it('partition order: replays are fine, a record overtaking an older one is not', () => {
    const a = (server: number, offset: number) => ({
      server,
      partition: 0,
      offset,
      message: offset,
      arrivalUs: 0,
    });
    expect(checkPartitionOrder([a(0, 0), a(0, 1), a(0, 2), a(0, 1), a(0, 2), a(0, 3)])).toEqual([]);
    expect(checkPartitionOrder([a(0, 0), a(1, 2), a(0, 1), a(1, 1)])).toHaveLength(1);
  });

  it('durability: flags loss or resync with a durable log and history, not with Redis', () => {
    expect(checkDurability(result({}, { lost: 2 }), 'broker', 1_000)).toHaveLength(1);
    expect(checkDurability(result({}, { resynced: 2 }), 'broker', 1_000)).toHaveLength(1);
    expect(checkDurability(result({}, { lost: 2, broker: 'redis' }), 'broker', 1_000)).toEqual([]);
    expect(checkDurability(result({}, { lost: 2 }), 'broker', 5)).toEqual([]);
  });

  it('convergence: flags clients left disconnected or behind', () => {
    expect(checkConvergence(0, 3, 10)).toEqual([]);
    expect(checkConvergence(1, 0, 10)).toHaveLength(1);
    expect(checkConvergence(0, 11, 10)).toHaveLength(1);
  });

  it('sequences: finds gaps, duplicates and reordering per client', () => {
    const d = (client: number, seq: number, arrivalUs: number) => ({
      message: seq,
      client,
      channel: 0,
      seq,
      createdUs: 0,
      arrivalUs,
      recovered: false,
    });
    const report = checkSequences([
      d(1, 0, 1),
      d(1, 1, 2),
      d(1, 3, 3),
      d(2, 5, 1),
      d(2, 5, 2),
      d(2, 4, 3),
    ]);
    expect(report.gaps).toEqual([{ client: 1, after: 1, next: 3 }]);
    expect(report.duplicates).toBe(1);
    expect(report.outOfOrder).toBe(1);
  });
});
