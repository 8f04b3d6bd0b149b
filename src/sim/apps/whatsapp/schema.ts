// WhatsApp's part of a cluster scenario (zod): chats, the message rate, reading, who goes offline and for how long, push.
import { z } from 'zod';

const positive = z.number().finite().positive();
const nonNegative = z.number().finite().nonnegative();
const share = z.number().finite().min(0).max(1);

/** How chat messages go to the push provider: each its own, or one per chat that a newer replaces. */
export const PUSH_KINDS = ['non-collapsible', 'collapsible'] as const;

export const whatsappSchema = z
  .strictObject({
    kind: z.literal('whatsapp'),
    chats: z.strictObject({
      /** Share of users in 1:1 chats (a channel of two); the rest are in small groups. */
      directShare: share,
      /** Group sizes, uniform between these (each user is in one chat: the fabric's rule). */
      groupMin: z.number().int().min(3).max(256),
      groupMax: z.number().int().min(3).max(256),
    }),
    messages: z.strictObject({
      /** Messages each user sends per minute while the app is open (Poisson). */
      perUserPerMin: nonNegative.max(600),
      /** Mean time from a message reaching an open app to its being read (exponential). */
      readDelayMeanS: positive.max(3_600),
    }),
    offline: z.strictObject({
      /** Share of users who close the app once (between 10% and 40% of the run). */
      share,
      /** Their mean time away (exponential). */
      meanS: positive.max(86_400),
      /** Devices that go offline at `probeAtS` for exactly `offlineForS` (the "offline for an hour" figure). */
      probeDevices: z.number().int().min(0).max(10_000),
      probeAtS: nonNegative.max(86_400),
      offlineForS: positive.max(86_400),
    }),
    push: z.strictObject({
      /** Share of devices on Android (FCM); the rest are iOS (APNs). */
      androidShare: share,
      /** Chat messages as non-collapsible pushes (FCM keeps 100, then drops all) or one per chat. */
      kind: z.enum(PUSH_KINDS),
      /** The push's lifetime at the provider (FCM's maximum is 28 days). */
      ttlS: nonNegative.max(2_419_200),
    }),
  })
  .superRefine((a, ctx) => {
    if (a.chats.groupMax < a.chats.groupMin)
      ctx.addIssue({
        code: 'custom',
        path: ['chats', 'groupMax'],
        message: `must be at least groupMin (${a.chats.groupMin}), not ${a.chats.groupMax}`,
      });
  });

export type WhatsAppSpec = z.infer<typeof whatsappSchema>;
