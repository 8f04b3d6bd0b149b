// The live scoreboard's part of a scenario (zod): games and their feed, ingestion and Kafka, and the multi-tier cache viewers load pages through.
import { z } from 'zod';
import { distSchema } from '../../../scenario/base-schema.ts';

const positive = z.number().finite().positive();
const nonNegative = z.number().finite().nonnegative();
const share = z.number().min(0).max(1);
const onOff = z.enum(['on', 'off']);

/** The guide's event types and their priority classes (0 = P0 highest). */
export const ESPN_EVENTS = ['score', 'timeout', 'substitution', 'stat'] as const;

export const espnSchema = z.strictObject({
  kind: z.literal('espn'),
  feed: z.strictObject({
    /** Events per game per minute (the guide: 100–200). */
    updatesPerGamePerMin: positive.max(60_000),
    /** Shares of the event types; GAME_END (P0) closes each game at the end of the run. */
    mix: z
      .strictObject({ score: share, timeout: share, substitution: share, stat: share })
      .refine((m) => Math.abs(m.score + m.timeout + m.substitution + m.stat - 1) < 1e-9, {
        message: 'the shares must add up to 1',
      }),
    /** Share of feed messages the official feed sends twice (the ingestion deduplicates them). */
    duplicateShare: share,
  }),
  ingestion: z.strictObject({
    /** Validate, enrich, deduplicate: CPU per event. */
    serviceUs: nonNegative.max(1_000_000),
    /** Kafka, one partition per game: append to the moment a WebSocket server has it. */
    kafkaMs: distSchema,
  }),
  /** What viewers load through the caches: pages (static assets, then the game's state). */
  cache: z.strictObject({
    /** Page loads per viewer per minute, and the share of a game's viewers who reload on a score. */
    loadsPerViewerPerMin: nonNegative.max(60),
    reloadOnScoreShare: share,
    /** Those reloads spread over this long after the score reaches them. */
    reloadSpreadMs: positive.max(60_000),
    cdn: z.strictObject({
      edges: z.number().int().min(1).max(10_000),
      /** Static assets (logos, photos), requested by Zipf popularity with this exponent. */
      assets: z.number().int().min(1).max(1_000_000),
      assetZipf: z.number().min(0).max(4),
      assetsPerPage: z.number().int().min(0).max(100),
      ttlS: positive.max(30 * 86_400),
      /** An origin fetch on a miss. */
      originMs: distSchema,
    }),
    redis: z.strictObject({
      /** The game state's time to live (the guide: 1–30 s); a score invalidates it at once. */
      ttlS: positive.max(3_600),
      /** One database query per key at a time: later misses wait for it. */
      collapsing: onOff,
      /** Serve an expired entry (up to this old past its TTL) while one refresh runs. */
      staleWhileRevalidateS: nonNegative.max(3_600),
      hitMs: distSchema,
    }),
    database: z.strictObject({
      connections: z.number().int().min(1).max(10_000),
      queryMs: distSchema,
    }),
  }),
});

export type EspnSpec = z.infer<typeof espnSchema>;
