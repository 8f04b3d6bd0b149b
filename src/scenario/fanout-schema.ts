// The fan-out model's scenario format (zod): a celebrity, ordinary authors, followers, a feed store, a read path.
import { z } from 'zod';
import { distSchema, scenarioBase } from './base-schema.ts';
import type { Parameter } from './schema.ts';

const positive = z.number().finite().positive();
const nonNegative = z.number().finite().nonnegative();
const share = z.number().min(0).max(1);
const count = (max: number) => z.number().int().min(1).max(max);

/** A distribution in the unit of the field that holds it (the same kinds as every model's). */
export const fanoutDistSchema = distSchema;

export const FANOUT_STRATEGIES = ['write', 'read', 'hybrid'] as const;
export type FanoutStrategyName = (typeof FANOUT_STRATEGIES)[number];

/** The most followers one run models (one byte of state per follower: 20 MB). */
export const MAX_FOLLOWERS = 20_000_000;

export const fanoutTopologySchema = z
  .strictObject({
    /** The celebrity's followers; they are the population every author's followers come from. */
    followers: count(MAX_FOLLOWERS),
    /** Share of followers active in the last 24 hours (the set the Bloom filter holds). */
    activeShare: share,
    /** Share of followers online now (app open, a live connection for pushes); part of the active. */
    onlineShare: share,
    /** Accounts each follower follows: the timelines a read-path feed merges. */
    followsPerUser: count(10_000),
    /** Ordinary authors besides the celebrity, with heavy-tailed follower counts. */
    authors: z.number().int().min(0).max(1_000_000),
    /** Followers per ordinary author (Pareto), rounded, at least 1, at most `followers`. */
    authorFollowers: z.strictObject({
      scale: positive.max(MAX_FOLLOWERS),
      shape: positive.max(10),
    }),
    strategy: z
      .strictObject({
        fanout: z.enum(FANOUT_STRATEGIES),
        /** Hybrid: authors with more followers than this are read (and cached), not pushed. */
        celebrityThreshold: count(MAX_FOLLOWERS),
        /** Hybrid: authors with fewer followers than this are written to every follower. */
        activeThreshold: count(MAX_FOLLOWERS),
      })
      .refine((s) => s.activeThreshold <= s.celebrityThreshold, {
        message: 'must be <= celebrityThreshold (the push tier lies between the two)',
        path: ['activeThreshold'],
      }),
    /** The platform-wide filter of users active in the last 24 hours (hybrid's push tier). */
    bloom: z.strictObject({
      /** Elements the filter holds at full scale (at least the active followers). */
      users: count(1_000_000_000),
      falsePositiveRate: z.number().gt(0).max(0.5),
      /** Elements actually inserted into the library's filter (same bits per element and hashes). */
      sampleElements: z.number().int().min(100).max(1_000_000),
      /** Non-active followers actually queried; the measured rate is extrapolated to the rest. */
      sampleQueries: z.number().int().min(100).max(1_000_000),
    }),
    feedStore: z.strictObject({
      /** Feed-entry writes per second the writer pool sustains across all shards. */
      writesPerSec: positive.max(100_000_000),
      /** Writes one pool event carries (aggregation only: results depend on it by at most a chunk). */
      chunkWrites: count(1_000_000),
      /** Bytes of one feed or timeline entry (post id, author id, flags). */
      entryBytes: z.number().int().min(1).max(65_536),
      /** Bytes of one post as the cache / CDN and a live push carry it. */
      postBytes: z.number().int().min(1).max(10_000_000),
    }),
    reads: z.strictObject({
      /** Reading a precomputed feed from the feed cache. */
      feedReadMs: fanoutDistSchema,
      /** Fetching one author's recent posts from the cache / CDN (hybrid's read tier). */
      cacheFetchMs: fanoutDistSchema,
      /** Fetching one author's recent posts from the timeline database. */
      dbFetchMs: fanoutDistSchema,
      /** Timeline fetches one feed request runs in parallel. */
      fetchConcurrency: count(1_000),
      /** CPU to merge one more timeline (or the feed) into the page. */
      mergeUsPerTimeline: nonNegative.max(1_000_000),
    }),
    /** A live push to an online follower, from the feed write to the follower's screen. */
    pushLatencyMs: fanoutDistSchema,
  })
  .refine((t) => t.onlineShare <= t.activeShare, {
    message: 'must be <= activeShare (online followers are active followers)',
    path: ['onlineShare'],
  });

export const fanoutWorkloadSchema = z.strictObject({
  /** Celebrity posts per hour: one at `firstPostS`, then one every 3600 / rate seconds. */
  celebrityPostsPerHour: positive.max(36_000),
  firstPostS: nonNegative.max(86_400),
  /** Ordinary authors' posts per second in total (Poisson; each by a uniformly drawn author). */
  postsPerSec: nonNegative.max(10_000),
  /** App opens per day of a follower active in the last 24 hours (Poisson). */
  activeOpensPerDay: positive.max(100_000),
  /** Mean time between feed refreshes of an online follower (Poisson). */
  onlineRefreshS: positive.max(86_400),
  /** Mean time until an inactive follower opens the app again (Poisson). */
  inactiveReturnDays: positive.max(3_650),
});

export const fanoutScenarioSchema = z.strictObject({
  ...scenarioBase,
  model: z.literal('fanout'),
  topology: fanoutTopologySchema,
  workload: fanoutWorkloadSchema,
});

export type FanoutDist = z.infer<typeof fanoutDistSchema>;
export type FanoutTopology = z.infer<typeof fanoutTopologySchema>;
export type FanoutWorkload = z.infer<typeof fanoutWorkloadSchema>;
export type FanoutScenarioFile = z.input<typeof fanoutScenarioSchema>;
export type FanoutScenario = z.infer<typeof fanoutScenarioSchema>;
/** What the model reads: everything but the parameter declarations. */
export type FanoutModelScenario = Omit<FanoutScenario, 'parameters'>;
/** A validated fan-out scenario with its parameters' defaults, as `loadScenario` returns it. */
export type LoadedFanoutScenario = FanoutModelScenario & { parameters: Parameter[] };
