// The case-study applications' scenario blocks (zod only: the lab's page reads these without the apps' code).
import { z } from 'zod';
import { espnSchema } from './espn/schema.ts';
import { liveAuctionSchema } from './live-auction/schema.ts';
import { whatsappSchema } from './whatsapp/schema.ts';

/** `topology.app` of a two-hop scenario: which application replaces the source, and its settings. */
export const appSchema = z.discriminatedUnion('kind', [liveAuctionSchema, espnSchema]);
export type AppSpec = z.infer<typeof appSchema>;

/**
 * `topology.app` of a cluster scenario: apps that need the fleet's connections, absences and
 * acks (a union of its own, so neither fabric is offered an app it cannot host).
 */
export const clusterAppSchema = z.discriminatedUnion('kind', [whatsappSchema]);
export type ClusterAppSpec = z.infer<typeof clusterAppSchema>;
