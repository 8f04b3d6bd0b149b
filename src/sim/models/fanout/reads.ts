// The read path of a feed open: a precomputed feed, timelines fetched from the cache or the database, a merge.
import type { FanoutDist } from '../../../scenario/fanout-schema.ts';
import type { Rng } from '../../rng.ts';
import { binomial, maxOf } from './draw.ts';
import type { FanoutStrategy, FanoutTier } from './types.ts';

/** Follower classes, as the model stores them (one byte per follower). */
export const ONLINE = 0;
export const ACTIVE = 1;
export const INACTIVE = 2;
/** Inactive, but the active-user filter says active (a false positive): pushed to anyway. */
export const INACTIVE_FP = 3;

export interface ReadPathSpec {
  strategy: FanoutStrategy;
  celebrityTier: FanoutTier;
  followsPerUser: number;
  /** Share of a follower's other follows (not the celebrity) in each tier. */
  shares: { write: number; push: number; read: number };
  feedReadMs: FanoutDist;
  cacheFetchMs: FanoutDist;
  dbFetchMs: FanoutDist;
  fetchConcurrency: number;
  mergeUsPerTimeline: number;
}

/**
 * What one feed open costs, by strategy and by who opens:
 * - fan-out on write: read the precomputed feed (one operation);
 * - fan-out on read: fetch every followed author's timeline from the database, `fetchConcurrency`
 *   at a time (each round waits for its slowest fetch), and merge them — the guide's "fetch
 *   celebrity posts + merge";
 * - hybrid: read the feed and, in parallel, fetch the read tier's timelines from the cache / CDN;
 *   a follower back after being inactive also fetches the push tier's timelines from the database
 *   ("others fetch on next open": nothing was pushed to them, and the service cannot tell which
 *   pushes reached them, so it fetches them all).
 * The other follows split over the tiers by follower-count mass (a follow lands on an author in
 * proportion to the author's followers), drawn per open.
 */
export class ReadPath {
  /** Set by `draw`: operations (feed reads + fetches) and timeline fetches of the last open. */
  ops = 0;
  timelines = 0;
  private readonly pushGivenNotRead: number;

  constructor(
    private readonly spec: ReadPathSpec,
    private readonly rng: Rng,
  ) {
    const s = spec.shares;
    this.pushGivenNotRead = s.read < 1 ? Math.min(1, s.push / (1 - s.read)) : 0;
  }

  /** Latency of one open by a follower of class `cls`, µs; sets `ops` and `timelines`. */
  draw(cls: number): number {
    const sp = this.spec;
    const rng = this.rng;
    const merge = sp.mergeUsPerTimeline;
    if (sp.strategy === 'write') {
      this.ops = 1;
      this.timelines = 0;
      return maxOf(sp.feedReadMs, rng, 1) * 1000 + merge;
    }
    if (sp.strategy === 'read') {
      const n = sp.followsPerUser;
      this.ops = n;
      this.timelines = n;
      return this.rounds(sp.dbFetchMs, n) + merge * n;
    }
    const others = sp.followsPerUser - 1;
    const readTier = binomial(rng, others, sp.shares.read);
    const celebrityRead = sp.celebrityTier === 'read' ? 1 : 0;
    const celebrityPush = sp.celebrityTier === 'push' ? 1 : 0;
    const cache = readTier + celebrityRead;
    let db = 0;
    if (cls === INACTIVE || cls === INACTIVE_FP)
      db = binomial(rng, others - readTier, this.pushGivenNotRead) + celebrityPush;
    this.ops = 1 + cache + db;
    this.timelines = cache + db;
    const feed = maxOf(sp.feedReadMs, rng, 1) * 1000;
    const fromCache = this.rounds(sp.cacheFetchMs, cache);
    const fromDb = this.rounds(sp.dbFetchMs, db);
    const slowest =
      feed > fromCache ? (feed > fromDb ? feed : fromDb) : fromCache > fromDb ? fromCache : fromDb;
    return slowest + merge * (1 + cache + db);
  }

  /** n fetches, `fetchConcurrency` at a time: the sum over rounds of each round's slowest, µs. */
  private rounds(dist: FanoutDist, n: number): number {
    if (n <= 0) return 0;
    const c = this.spec.fetchConcurrency;
    const full = Math.floor(n / c);
    let us = 0;
    for (let r = 0; r < full; r++) us += maxOf(dist, this.rng, c) * 1000;
    const rest = n - full * c;
    if (rest > 0) us += maxOf(dist, this.rng, rest) * 1000;
    return us;
  }
}
