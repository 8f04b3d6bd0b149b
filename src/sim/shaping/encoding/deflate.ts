// permessage-deflate (RFC 7692) through fflate: one compressor per connection, with or without context takeover, and the matching decompressor.
import { deflateSync, inflateSync } from 'fflate';
import { ScenarioError } from '../../../scenario/errors.ts';

/**
 * Level 6 is zlib's default, which `ws` and browsers use. fflate's `mem: 3` is a 2^15-entry hash
 * table, the size zlib's default memLevel 8 gives.
 */
export const DEFLATE_OPTIONS = { level: 6, mem: 3 } as const;

/** The LZ77 window: 32 KB (server_max_window_bits / client_max_window_bits 15, the default). */
export const WINDOW_BYTES = 32_768;

/**
 * Why not fflate's streaming `Deflate` with `flush(true)`, the obvious sync flush: in fflate 0.8.3
 * it writes the empty stored block misaligned for some bit positions (fflate issue #267, fix in PR
 * #286) and the streaming class can emit invalid distances (#260); fflate's own inflater hides
 * both, zlib (browsers, `ws`) rejects the stream. So every message is one `deflateSync` call,
 * which is correct, and context takeover is the connection's last 32 KB given as the preset
 * dictionary: exactly the window a streaming compressor would search. Its output ends with a
 * BFINAL=1 block, which RFC 7692 §7.2.3.3 allows; §7.2.1 then appends an empty stored block and
 * drops its last 4 bytes (00 00 ff ff), leaving one 00 byte: one byte more per message than
 * zlib's sync flush (the RFC's own "Hello" example shows both forms).
 */
const STORED_EMPTY_TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff]);
/** An empty final stored block: lets a one-shot inflater finish a sync-flushed message too. */
const FINAL_EMPTY_BLOCK = new Uint8Array([0x01, 0x00, 0x00, 0xff, 0xff]);

export interface Compressor {
  readonly contextTakeover: boolean;
  /** One message's payload as sent (RFC 7692 §7.2.1). */
  compress(message: Uint8Array): Uint8Array;
}

export interface Decompressor {
  readonly contextTakeover: boolean;
  /** The message back from what compress() sent, the 00 00 ff ff tail put back first (§7.2.2). */
  decompress(payload: Uint8Array): Uint8Array;
}

/** The last WINDOW_BYTES of everything a connection has carried (uncompressed). */
class Window {
  private buf = new Uint8Array(WINDOW_BYTES);
  private len = 0;

  view(): Uint8Array | undefined {
    return this.len === 0 ? undefined : this.buf.subarray(0, this.len);
  }

  append(bytes: Uint8Array): void {
    if (bytes.length >= WINDOW_BYTES) {
      this.buf.set(bytes.subarray(bytes.length - WINDOW_BYTES));
      this.len = WINDOW_BYTES;
      return;
    }
    const keep = Math.min(this.len, WINDOW_BYTES - bytes.length);
    if (keep < this.len) this.buf.copyWithin(0, this.len - keep, this.len);
    this.buf.set(bytes, keep);
    this.len = keep + bytes.length;
  }
}

function checkTakeover(contextTakeover: unknown): void {
  if (typeof contextTakeover !== 'boolean')
    throw new ScenarioError(
      'contextTakeover',
      `must be true or false, is ${String(contextTakeover)}`,
    );
}

/**
 * With context takeover a message may refer back to the last 32 KB the connection carried;
 * without it every message starts from an empty window.
 */
export function createCompressor(contextTakeover: boolean): Compressor {
  checkTakeover(contextTakeover);
  const history = new Window();
  return {
    contextTakeover,
    compress(message) {
      const dictionary = contextTakeover ? history.view() : undefined;
      const deflated = deflateSync(
        message,
        dictionary === undefined ? DEFLATE_OPTIONS : { ...DEFLATE_OPTIONS, dictionary },
      );
      if (contextTakeover) history.append(message);
      const out = new Uint8Array(deflated.length + 1);
      out.set(deflated);
      return out;
    },
  };
}

export function createDecompressor(contextTakeover: boolean): Decompressor {
  checkTakeover(contextTakeover);
  const history = new Window();
  return {
    contextTakeover,
    decompress(payload) {
      const input = new Uint8Array(
        payload.length + STORED_EMPTY_TAIL.length + FINAL_EMPTY_BLOCK.length,
      );
      input.set(payload);
      input.set(STORED_EMPTY_TAIL, payload.length);
      input.set(FINAL_EMPTY_BLOCK, payload.length + STORED_EMPTY_TAIL.length);
      const dictionary = contextTakeover ? history.view() : undefined;
      const out = inflateSync(input, dictionary === undefined ? undefined : { dictionary });
      if (contextTakeover) history.append(out);
      return out;
    },
  };
}
