// What a fan-out run reports beyond the common flow: writes, pushes, the Bloom filter, reads, storage, staleness.
import type { LatencySummaryMs } from '../../types.ts';

export type FanoutStrategy = 'write' | 'read' | 'hybrid';

/**
 * How a post reaches followers: `write` into every follower's feed, `push` into the feeds of
 * followers the active-user filter says are active (the rest read it), `read` from the
 * author's timeline (hybrid's read tier also caches it in a CDN).
 */
export type FanoutTier = 'write' | 'push' | 'read';

/** The posts of one tier and what they cost. */
export interface FanoutTierStats {
  tier: FanoutTier;
  /** Authors (the celebrity included) whose follower count puts them in this tier. */
  authors: number;
  posts: number;
  /** Followers owed these posts (Σ followers over the posts). */
  owed: number;
  /** Feed entries the strategy decided to write (issued at post time). */
  feedWrites: number;
  /** Push tier: feed writes to followers the filter called active; false positives among them. */
  pushes: number;
  falsePositivePushes: number;
  /** Posts stored in the author's timeline for readers to fetch (one per read or push-tier post). */
  timelineWrites: number;
}

/** The active-user filter, at full scale (formula) and as built and queried (sampled). */
export interface FanoutBloomStats {
  /** Full scale: the platform's active users the filter holds, its size and hash count. */
  fullScaleElements: number;
  fullScaleBits: number;
  fullScaleBytes: number;
  hashes: number;
  bitsPerElement: number;
  /** A filter holding only the celebrity's active followers, for comparison (formula). */
  activeFollowersOnlyBytes: number;
  configuredFpRate: number;
  /** (1 − e^(−k·n/m))^k for the filter as built. */
  expectedFpRate: number;
  /** The built filter: elements inserted, bits, non-active followers queried, positives among them. */
  sampleElements: number;
  sampleBits: number;
  sampleQueries: number;
  sampleFalsePositives: number;
  measuredFpRate: number;
  /** The rate the built filter's bits imply: (bits set ÷ bits)^k. */
  fillFpRate: number;
  /**
   * The library's own `BloomFilter.rate()`, (1 − e^(−bitsSet/m))^k: it misestimates (≈ 0.18% for
   * a filter at 1%), so the model reports it beside the measured rate instead of using it.
   */
  libraryRate: number;
  /** Celebrity followers the filter wrongly calls active: queried ones plus the extrapolated rest. */
  falsePositiveFollowers: number;
  extrapolatedFalsePositiveFollowers: number;
}

/** One kind of feed open and what it cost. */
export interface FanoutReadClassStats {
  opens: number;
  /** Feed reads + timeline fetches per open. */
  opsPerOpen: number;
  p50Ms: number;
  p99Ms: number;
}

export interface FanoutStats {
  strategy: FanoutStrategy;
  celebrityTier: FanoutTier;
  celebrityThreshold: number;
  activeThreshold: number;
  followers: number;
  activeFollowers: number;
  onlineFollowers: number;
  inactiveFollowers: number;
  posts: number;
  celebrityPosts: number;
  /** Feed entries decided at post time, and written by the end (the pool may still be busy). */
  feedWrites: number;
  feedWritesDone: number;
  timelineWrites: number;
  /** Feed writes + timeline writes: the write load. */
  writes: number;
  /** The writes fan-out on write would make for the same posts (Σ followers over the posts). */
  writesIfFanoutOnWrite: number;
  /** 1 − writes ÷ writesIfFanoutOnWrite: this run's write-load reduction against fan-out on write. */
  writeLoadReduction: number;
  /** Writes per post over all posts, and per celebrity post (write amplification). */
  writeAmplification: number;
  celebrityWriteAmplification: number;
  /** The first celebrity post: post → its last feed write (0 when nothing is fanned out; null if unfinished). */
  celebrityFanoutS: number | null;
  /** Share of that post's feed writes done by the end of the run. */
  celebrityFanoutDone: number;
  /** Writes the first celebrity post needs ÷ the pool's throughput: the fan-out time with no other load. */
  celebrityFanoutIdealS: number;
  pushes: number;
  falsePositivePushes: number;
  /** Live pushes to online followers whose feed was written, and their latency (write → screen). */
  notifications: number;
  notificationLatencyMs: LatencySummaryMs;
  reads: {
    opens: number;
    opsPerOpen: number;
    /** Timeline fetches per open (the read path's merge width). */
    timelinesPerOpen: number;
    latencyMs: LatencySummaryMs;
    online: FanoutReadClassStats;
    active: FanoutReadClassStats;
    inactive: FanoutReadClassStats;
  };
  /** Bytes the strategy stores (post bodies, common to all strategies, are left out). */
  storage: {
    feedEntries: number;
    feedBytes: number;
    timelineEntries: number;
    timelineBytes: number;
    /** Read-tier posts cached in the CDN (hybrid), one copy each. */
    cacheBytes: number;
    totalBytes: number;
  };
  /**
   * A follower whose first feed open after a post came before the post reached their feed saw a
   * stale feed; `waitMs` is how long from that open until they saw the post.
   */
  staleness: {
    staleSeen: number;
    staleShare: number;
    waitMs: LatencySummaryMs;
  };
  visibility: {
    owed: number;
    seen: number;
    notYetSeen: number;
    celebrityOwed: number;
    celebritySeen: number;
    /** Seen by a live push, or at a feed open. */
    viaPush: number;
    viaOpen: number;
  };
  writerPool: {
    writesPerSec: number;
    busyShare: number;
    queuedWrites: number;
    queuedWritesMax: number;
  };
  /** Share of each follower's follows that land in each tier (follows ∝ follower counts). */
  followShares: { write: number; push: number; read: number };
  tiers: FanoutTierStats[];
  /** Hybrid only. */
  bloom: FanoutBloomStats | null;
}
