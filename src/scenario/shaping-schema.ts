// The update-shaping block of a scenario: subscriptions, audience, throttling, conflation, batching, encoding, deltas, priorities.
import { z } from 'zod';

const positive = z.number().finite().positive();
const nonNegative = z.number().finite().nonnegative();
const onOff = z.enum(['on', 'off']);

/** A rate that is either off or a positive number: `0` is refused (say `off`). */
export const offOrPositive = z.union([z.literal('off'), positive], {
  error: 'must be off or a number > 0',
});

export const PRIORITY_CLASSES = ['P0', 'P1', 'P2', 'P3'] as const;
export type PriorityClass = (typeof PRIORITY_CLASSES)[number];

const classShares = z
  .strictObject({
    P0: z.number().min(0).max(1),
    P1: z.number().min(0).max(1),
    P2: z.number().min(0).max(1),
    P3: z.number().min(0).max(1),
  })
  .refine((m) => Math.abs(m.P0 + m.P1 + m.P2 + m.P3 - 1) < 1e-9, {
    message: 'the shares of P0..P3 must add up to 1',
  });

const classPolicy = z.strictObject({
  /** Delivery target of the class; under overload with `shed`, a send waiting longer is dropped. */
  deadlineMs: positive.max(600_000),
  /** The class's own batching window (0 = send at once), e.g. the guide's P2 every 1 s, P3 every 5 s. */
  batchWindowMs: nonNegative.max(60_000),
});

export const shapingSchema = z.strictObject({
  updates: z.strictObject({
    /** The update schema payloads are built from (fields, which of them change per update). */
    schema: z.string().min(1),
    /** Share of updates in each priority class. */
    classMix: classShares,
  }),
  /** Users who hold a slower (or faster) downlink than the scenario's link: a class of users. */
  userClasses: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[a-z][a-z0-9-]{0,23}$/, 'must be a short lower-case name'),
        share: z.number().min(0).max(1),
        /** This class's downlink bandwidth (replaces the link's; absent = the link's). */
        bandwidthMbps: positive.max(100_000).optional(),
        /** Extra one-way delay of this class's last mile. */
        extraLatencyMs: nonNegative.max(10_000),
      }),
    )
    .min(1)
    .max(4)
    .refine((cs) => Math.abs(cs.reduce((a, c) => a + c.share, 0) - 1) < 1e-9, {
      message: 'the class shares must add up to 1',
    }),
  subscriptions: z.strictObject({
    /** Each user's watchlist universe: subscriptionsPerUser of these are active at a time. */
    candidatesPerUser: z.number().int().min(1).max(255),
    /** Subscription changes per user per minute (each unsubscribes one and subscribes another). */
    churnPerUserPerMin: nonNegative.max(600),
    /** exact: a user names each channel; pattern: `stocks.<sector>.*` — every channel of a sector. */
    mode: z.enum(['exact', 'pattern']),
    /** Channels per sector for pattern subscriptions (channel c is in sector ⌊c / size⌋). */
    sectorSize: z.number().int().min(1).max(100_000),
    /** Server CPU to update its subscription index for one subscribe or unsubscribe. */
    subscribeCostUs: nonNegative.max(100_000),
    /** Server CPU to match one publish against the server's pattern subscriptions (per pattern). */
    patternMatchCostUs: nonNegative.max(10_000),
  }),
  audience: z.strictObject({
    /**
     * subscribers: who subscribed to the channel (the index); all: every connected user; region:
     * the users of the update's region (geo cell), found by scanning the server's users; permission:
     * the channel's subscribers whose permission level allows the update.
     */
    mode: z.enum(['subscribers', 'all', 'region', 'permission']),
    regions: z.number().int().min(1).max(10_000),
    permissionLevels: z.number().int().min(1).max(16),
    /** Server CPU to evaluate the filter for one candidate user. */
    filterCostUs: nonNegative.max(10_000),
  }),
  throttle: z.strictObject({
    /** At most this many updates per second per key (item) on each server's stream. */
    perKeyHz: offOrPositive,
    /** At most this many frames per second on one connection. */
    perConnectionHz: offOrPositive,
  }),
  conflation: z.strictObject({
    /**
     * Wherever an update waits (a throttle, a batch, a backed-up connection), a newer one for the
     * same key replaces it: merge keeps the union of changed fields, drop keeps only the newest.
     */
    mode: z.enum(['off', 'merge', 'drop']),
    /** The field that is the key (must be a field of the update schema). */
    key: z.string().min(1),
    /** How often a server retries connections whose send buffer was backed up. */
    intervalMs: positive.max(60_000),
  }),
  batch: z.strictObject({
    /** Collect a connection's updates for this long and send them as one frame (0 = off). */
    windowMs: nonNegative.max(60_000),
    maxMessages: z.number().int().min(1).max(10_000),
    maxBytes: z
      .number()
      .int()
      .min(64)
      .max(16 * 1024 * 1024),
  }),
  encoding: z.strictObject({
    format: z.enum(['json', 'json-pretty', 'msgpack', 'protobuf']),
    /** permessage-deflate (RFC 7692). */
    deflate: onOff,
    /** Keep the deflate dictionary between messages of a connection (costs memory per connection). */
    contextTakeover: onOff,
  }),
  delta: z.strictObject({
    /** Send only the fields that changed since the client's last state. */
    mode: onOff,
    /** A full snapshot every N updates of a key, whatever the deltas. */
    snapshotEvery: z.number().int().min(1).max(1_000_000),
  }),
  priorities: z.strictObject({
    /** off: one FIFO; on: strict priority P0 > P1 > P2 > P3 on each server's cores and connections. */
    mode: onOff,
    /** Under overload, lower classes wait (delay) or a send that missed its deadline is dropped (shed). */
    overload: z.enum(['delay', 'shed']),
    classes: z.strictObject({ P0: classPolicy, P1: classPolicy, P2: classPolicy, P3: classPolicy }),
  }),
});

export type ShapingSpec = z.infer<typeof shapingSchema>;
