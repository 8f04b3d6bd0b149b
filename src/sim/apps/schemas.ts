// The case-study applications' scenario blocks (zod only: the lab's page reads these without the apps' code).
import { z } from 'zod';
import { espnSchema } from './espn/schema.ts';
import { liveAuctionSchema } from './live-auction/schema.ts';

/** `topology.app` of a two-hop scenario: which application replaces the source, and its settings. */
export const appSchema = z.discriminatedUnion('kind', [liveAuctionSchema, espnSchema]);
export type AppSpec = z.infer<typeof appSchema>;
