// The live auction's part of a scenario (zod): auctions, bidders, the bid path, the concurrency control and the countdown.
import { z } from 'zod';

const positive = z.number().finite().positive();
const nonNegative = z.number().finite().nonnegative();

/** How the bidding service keeps two bids on one auction from overwriting each other. */
export const AUCTION_CONTROLS = ['naive', 'optimistic', 'atomic'] as const;
export type AuctionControl = (typeof AUCTION_CONTROLS)[number];

/** How a client turns `timeRemaining + timestamp` into its countdown. */
export const TIMER_METHODS = ['server-timestamp', 'receipt'] as const;

export const liveAuctionSchema = z
  .strictObject({
    kind: z.literal('live-auction'),
    /**
     * naive: read the current bid, decide, write (two commands, nothing held between them);
     * optimistic: WATCH the key, read, MULTI/SET/EXEC — EXEC fails if another write came between,
     * and the bid is retried; atomic: one server-side script compares and sets (Redis EVAL).
     */
    control: z.enum(AUCTION_CONTROLS),
    auctions: z.strictObject({
      startPrice: positive,
      /** A bid must beat the current one by at least this much. */
      minIncrement: positive,
      /** Auctions end uniformly between these times of the run (seconds). */
      endFromS: positive,
      endToS: positive,
    }),
    bids: z.strictObject({
      /** Bids per watcher per second: a hot auction (many watchers) draws many bids. */
      perWatcherPerSec: nonNegative.max(100),
      /** A bidder bids its last seen price plus 1 … this many increments (uniform). */
      maxIncrements: z.number().int().min(1).max(100),
      /** Each bidder's token bucket at the gateway: sustained rate and burst. */
      rateLimitPerSec: positive.max(1_000),
      rateLimitBurst: z.number().int().min(1).max(1_000),
    }),
    bidPath: z.strictObject({
      /** API gateway: auth check and rate limit, per bid. */
      gatewayUs: nonNegative.max(1_000_000),
      /** Bidding service: validate the bid and check funds. */
      serviceUs: nonNegative.max(1_000_000),
      /** Round trip between the bidding service and the state store. */
      storeRttUs: nonNegative.max(1_000_000),
      /** The store's time per command (single-threaded, commands in arrival order). */
      storeCommandUs: positive.max(1_000_000),
      /** Naive and optimistic: the service's work between reading the bid and writing it. */
      decideUs: nonNegative.max(1_000_000),
      /** Optimistic: retries of a failed EXEC before the bid is given up, and the wait between. */
      maxRetries: z.number().int().min(0).max(100),
      retryBackoffUs: nonNegative.max(10_000_000),
      /** Notification service: from the write to the outbid user's push leaving. */
      notifyUs: nonNegative.max(10_000_000),
    }),
    /** A bid in the last `windowS` moves the end to `extendS` after it (0: hard close). */
    softClose: z.strictObject({ windowS: nonNegative.max(3_600), extendS: nonNegative.max(3_600) }),
    timer: z.strictObject({
      method: z.enum(TIMER_METHODS),
      /** Every auction re-sends `timeRemaining + timestamp` this often (the guide: 10 s). */
      resyncS: positive.max(3_600),
      /** Clients' clock offset from the server's (normal, mean 0) and drift (ppm, normal). */
      clockOffsetSdMs: nonNegative.max(3_600_000),
      clockDriftSdPpm: nonNegative.max(10_000),
    }),
    /** The guide's two simultaneous bids of the same amount on auction 0 (times in ms). */
    conflict: z.strictObject({
      enabled: z.boolean(),
      firstAtMs: nonNegative,
      secondAtMs: nonNegative,
      amount: positive,
    }),
  })
  .refine((a) => a.auctions.endToS >= a.auctions.endFromS, {
    message: 'must be >= auctions.endFromS',
    path: ['auctions', 'endToS'],
  });

export type LiveAuctionSpec = z.infer<typeof liveAuctionSchema>;
