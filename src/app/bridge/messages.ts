// Checks what the bridge sends before the panel uses it: every message parsed, nothing trusted, no throws.
import { z } from 'zod';
import {
  BRIDGE_MAX_MESSAGE_BYTES,
  measuredSchema,
  type BridgeReport,
  type BridgeServerMessage,
  type Measured,
} from '../../bridge/protocol.ts';

// Fields beyond the ones listed are allowed (a newer bridge may add some); the listed ones must hold.
const helloSchema = z.object({
  type: z.literal('hello'),
  version: z.number().int(),
  scenarios: z.array(z.string().max(64)).max(1000),
  broker: z.string().max(256),
});
const startedSchema = z.object({
  type: z.literal('started'),
  scenario: z.string().max(64),
  seed: z.number().int().nonnegative(),
  broker: z.string().max(256),
  durationS: z.number().positive(),
});
const progressSchema = z.object({ type: z.literal('progress'), measured: measuredSchema });
const reportSchema = z.object({
  type: z.literal('report'),
  report: z.object({
    scenario: z.string().max(64),
    seed: z.number().int().nonnegative(),
    broker: z.string().max(256),
    simulated: z.record(z.string(), z.unknown()),
    measured: z.record(z.string(), z.unknown()),
    agreement: z.object({
      p50Ratio: z.number(),
      deliveredEqual: z.boolean(),
      lostEqual: z.boolean(),
    }),
  }),
});
const errorSchema = z.object({
  type: z.literal('error'),
  field: z.string().max(128),
  message: z.string().max(2000),
});
const cancelledSchema = z.object({ type: z.literal('cancelled') });
const serverMessageSchema = z.discriminatedUnion('type', [
  helloSchema,
  startedSchema,
  progressSchema,
  reportSchema,
  errorSchema,
  cancelledSchema,
]);

export type HelloMessage = Extract<BridgeServerMessage, { type: 'hello' }>;
export type StartedMessage = Extract<BridgeServerMessage, { type: 'started' }>;

/** A message as parsed: the typed message, or why it was refused (shown to the reader). */
export type ParsedMessage = { ok: true; message: BridgeServerMessage } | { ok: false; why: string };

/** Parses one WebSocket frame's data. Never throws. */
export function parseServerMessage(data: unknown): ParsedMessage {
  if (typeof data !== 'string') return { ok: false, why: 'a binary frame (the bridge sends text)' };
  if (data.length > BRIDGE_MAX_MESSAGE_BYTES)
    return { ok: false, why: `a message of ${data.length} characters (over the limit)` };
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return { ok: false, why: `a message that is not JSON: ${preview(data)}` };
  }
  const type =
    json !== null && typeof json === 'object' && 'type' in json ? String(json.type) : undefined;
  const parsed = serverMessageSchema.safeParse(json);
  if (parsed.success) return { ok: true, message: asServerMessage(parsed.data) };
  const issue = parsed.error.issues[0];
  if (
    type === undefined ||
    !['hello', 'started', 'progress', 'report', 'error', 'cancelled'].includes(type)
  )
    return { ok: false, why: `a message of unknown type ${JSON.stringify(type ?? null)}` };
  const where = issue?.path.length ? issue.path.join('.') : type;
  return { ok: false, why: `a malformed “${type}” message (${where}: ${issue?.message})` };
}

/** The schema's output is the protocol's type; the compiler checks that it is. */
function asServerMessage(message: z.infer<typeof serverMessageSchema>): BridgeServerMessage {
  switch (message.type) {
    case 'progress':
      return { type: 'progress', measured: message.measured satisfies Measured };
    case 'report':
      return { type: 'report', report: message.report satisfies BridgeReport };
    default:
      return message;
  }
}

function preview(text: string): string {
  const short = text.slice(0, 60).replace(/\s+/g, ' ');
  return JSON.stringify(text.length > 60 ? `${short}…` : short);
}
