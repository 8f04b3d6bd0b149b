// The bridge's control protocol: JSON messages on ws://127.0.0.1:<port>/control?token=<token>.
// Pure data and zod schemas, shared by the bridge (Node) and the lab's "real servers" panel.
import { z } from 'zod';

export const BRIDGE_PROTOCOL_VERSION = 1;
export const BRIDGE_CONTROL_PATH = '/control';
/** Default control port of `hoplab bridge serve` (0 in tests: the OS picks one). */
export const BRIDGE_DEFAULT_PORT = 7357;
/** Largest control message either side accepts, bytes. */
export const BRIDGE_MAX_MESSAGE_BYTES = 64 * 1024;

/**
 * The models the bridge replays against real servers: the ones whose users hold connections.
 * The fan-out model (feeds in a store, a writer pool, feed opens) has none to open, and
 * `plan.ts` refuses it; the lab hides its "run against real servers" card for it.
 */
export const BRIDGE_MODELS = ['two-hop', 'protocols', 'cluster'] as const;
export type BridgeModel = (typeof BRIDGE_MODELS)[number];

/** Whether the bridge replays scenarios of this model (their parameters may still be refused). */
export function bridgeReplaysModel(model: string): model is BridgeModel {
  return (BRIDGE_MODELS as readonly string[]).includes(model);
}

/** Latency percentiles measured (or simulated) over a window or a whole run, milliseconds. */
export const latencySchema = z.strictObject({
  count: z.number().int().nonnegative(),
  p50: z.number(),
  p90: z.number(),
  p99: z.number(),
  max: z.number(),
});
export type BridgeLatency = z.infer<typeof latencySchema>;

/**
 * What the load generator measured, cumulative from the start of the run to `tS` (simulated
 * seconds, i.e. seconds since the first scheduled publish). Same names as the run JSON.
 */
export const measuredSchema = z.strictObject({
  tS: z.number().nonnegative(),
  produced: z.number().int().nonnegative(),
  /** Deliveries owed: one per (update, subscribed connected client). */
  fanout: z.number().int().nonnegative(),
  delivered: z.number().int().nonnegative(),
  lost: z.number().int().nonnegative(),
  duplicated: z.number().int().nonnegative(),
  outOfOrder: z.number().int().nonnegative(),
  /** Delivered ÷ owed (1 when nothing was owed). */
  reach: z.number().nonnegative(),
  latencyMs: latencySchema,
  /** Latency of the deliveries in the last window only (the live overlay). */
  windowLatencyMs: latencySchema.nullable(),
  connections: z.number().int().nonnegative(),
  reconnects: z.number().int().nonnegative(),
  bytes: z.number().nonnegative(),
  serverCpuUtilisation: z.number().nonnegative(),
  serverMemoryMB: z.number().nonnegative(),
});
export type Measured = z.infer<typeof measuredSchema>;

/** UI → bridge: run a scenario for real. The same fields as a lab URL. */
export const runRequestSchema = z.strictObject({
  type: z.literal('run'),
  scenario: z.string().min(1).max(64),
  seed: z.number().int().nonnegative().max(4_294_967_295),
  params: z.record(z.string().max(64), z.union([z.number(), z.string().max(64)])),
  /** Simulated seconds to replay (the bridge caps it). */
  durationS: z.number().positive().max(600).optional(),
  faults: z.array(z.unknown()).max(64).optional(),
});
export const cancelRequestSchema = z.strictObject({ type: z.literal('cancel') });
export const clientMessageSchema = z.discriminatedUnion('type', [
  runRequestSchema,
  cancelRequestSchema,
]);
export type BridgeClientMessage = z.infer<typeof clientMessageSchema>;

/** Bridge → UI. */
export type BridgeServerMessage =
  | {
      type: 'hello';
      version: number;
      /** What this bridge can run: scenario ids. */
      scenarios: string[];
      broker: string;
    }
  | { type: 'started'; scenario: string; seed: number; broker: string; durationS: number }
  | { type: 'progress'; measured: Measured }
  | { type: 'report'; report: BridgeReport }
  /** The run was cancelled (a `cancel`); every process it started has been stopped. */
  | { type: 'cancelled' }
  | { type: 'error'; field: string; message: string };

/** `hoplab bridge … --json` prints this; the UI receives it at the end of a run. */
export interface BridgeReport {
  scenario: string;
  seed: number;
  /** `in-process`, or the broker URL without credentials (`redis://127.0.0.1:6379`). */
  broker: string;
  /** The simulator's run JSON for the same scenario, parameters and seed. */
  simulated: Record<string, unknown>;
  /** The same fields, measured against real servers. */
  measured: Record<string, unknown>;
  agreement: { p50Ratio: number; deliveredEqual: boolean; lostEqual: boolean };
}
