// Builds the JSON each protocol carries for one update: { id, seq, channel, createdUs, price or text, bytes }, padded.
import type { Update } from './clients/types.ts';

export interface PayloadInput {
  id: number;
  seq: number;
  channel: number;
  createdUs: number;
  from: Update['from'];
  price?: number;
  text?: string;
  /** The size the simulator gave this update; the JSON is padded up to it. */
  payloadBytes: number;
}

/** The padded update object and its JSON text (ASCII, so characters = bytes). */
export interface Payload {
  update: Update;
  json: string;
}

/** What `"pad":""` adds to the JSON before any filler. */
const PAD_OVERHEAD = ',"pad":""'.length;

/** Text in updates is kept ASCII-safe and short, so byte counts stay honest and the log readable. */
export function cleanText(text: string, max = 140): string {
  return text
    .replace(/[^\x20-\x7e]/g, '?')
    .trim()
    .slice(0, max);
}

/**
 * Builds the update object. `bytes` states the JSON's own length; the `pad` field makes that
 * length equal to `payloadBytes` whenever the unpadded object is smaller.
 */
export function buildPayload(input: PayloadInput): Payload {
  const update: Update = {
    id: input.id,
    seq: input.seq,
    channel: input.channel,
    createdUs: Math.round(input.createdUs),
    from: input.from,
    ...(input.price !== undefined ? { price: input.price } : {}),
    ...(input.text !== undefined ? { text: cleanText(input.text) } : {}),
    bytes: 0,
  };
  const target = Math.max(1, Math.round(input.payloadBytes));
  // `bytes` is part of the text it measures, so settle it (the digits can change once or twice).
  let json = '';
  for (let i = 0; i < 4; i++) {
    delete update.pad;
    const bare = JSON.stringify(update).length;
    const room = target - bare - PAD_OVERHEAD;
    if (room > 0) update.pad = '.'.repeat(room);
    json = JSON.stringify(update);
    if (update.bytes === json.length) break;
    update.bytes = json.length;
  }
  return { update, json };
}

/** Bytes of a string as UTF-8 (what travels on the wire). */
export function utf8Bytes(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
