// Compares a fan-out run with a fan-out-on-write run of the same workload: write-load reduction, read-latency change.
import type { FanoutStats } from './types.ts';

/** What a strategy saves and costs against fan-out on write; runs stay independent. */
export interface VersusWrite {
  /** 1 − writes ÷ the write run's writes (the guide's "write load: 95% / 99.5% reduction"). */
  writeLoadReduction: number;
  /** Feed-open latency change, ms (the guide's "read latency: +50ms"). */
  readLatencyMsP50Change: number;
  readLatencyMsP99Change: number;
  /** Feed storage (bytes) ÷ the write run's. */
  storageRatio: number;
  /** Live pushes ÷ the write run's (pushes reach online followers whose feed was written). */
  notificationRatio: number;
}

/**
 * `write` must be a fan-out-on-write run of the same scenario, parameters (but `fanout`) and seed:
 * the posts and followers are drawn from streams the strategy does not touch, so both runs see
 * the same workload (check `writesIfFanoutOnWrite` matches).
 */
export function compareToWrite(write: FanoutStats, other: FanoutStats): VersusWrite {
  const ratio = (a: number, b: number) => (b > 0 ? a / b : a > 0 ? Infinity : 1);
  return {
    writeLoadReduction: write.writes > 0 ? 1 - other.writes / write.writes : 0,
    readLatencyMsP50Change: other.reads.latencyMs.p50 - write.reads.latencyMs.p50,
    readLatencyMsP99Change: other.reads.latencyMs.p99 - write.reads.latencyMs.p99,
    storageRatio: ratio(other.storage.totalBytes, write.storage.totalBytes),
    notificationRatio: ratio(other.notifications, write.notifications),
  };
}
