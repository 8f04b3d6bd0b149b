// A bounded ring of sampled trace records (struct of arrays), drained by the views and the CLI.
import type { TraceRecord } from './types.ts';

export const TRACE_KINDS = ['publish', 'hop2', 'hop1', 'drop'] as const;
export type TraceKind = (typeof TRACE_KINDS)[number];
export const TRACE_PUBLISH = 0;
export const TRACE_HOP2 = 1;
export const TRACE_HOP1 = 2;
export const TRACE_DROP = 3;

/** Keeps the newest `capacity` records; older ones are overwritten, never grown. */
export class TraceRing {
  private readonly kind: Uint8Array;
  private readonly start: Float64Array;
  private readonly end: Float64Array;
  private readonly from: Int32Array;
  private readonly to: Int32Array;
  private readonly message: Int32Array;
  private readonly user: Int32Array;
  private written = 0;
  private drained = 0;

  constructor(readonly capacity = 65_536) {
    this.kind = new Uint8Array(capacity);
    this.start = new Float64Array(capacity);
    this.end = new Float64Array(capacity);
    this.from = new Int32Array(capacity);
    this.to = new Int32Array(capacity);
    this.message = new Int32Array(capacity);
    this.user = new Int32Array(capacity);
  }

  /** Total records ever written. */
  get total(): number {
    return this.written;
  }

  write(
    kind: number,
    startUs: number,
    endUs: number,
    from: number,
    to: number,
    message: number,
    user: number,
  ): void {
    const i = this.written % this.capacity;
    this.kind[i] = kind;
    this.start[i] = startUs;
    this.end[i] = endUs;
    this.from[i] = from;
    this.to[i] = to;
    this.message[i] = message;
    this.user[i] = user;
    this.written++;
  }

  /**
   * Records written since the last drain, oldest first. `describe` turns node indexes and message
   * ids into the record's strings and channel/seq.
   */
  drain(
    nodeIds: readonly string[],
    messageInfo: (id: number) => { channel: number; seq: number },
  ): TraceRecord[] {
    const first = Math.max(this.drained, this.written - this.capacity);
    const out: TraceRecord[] = [];
    for (let n = first; n < this.written; n++) {
      const i = n % this.capacity;
      const info = messageInfo(this.message[i]);
      out.push({
        kind: TRACE_KINDS[this.kind[i]],
        startUs: this.start[i],
        endUs: this.end[i],
        from: nodeIds[this.from[i]],
        to: nodeIds[this.to[i]],
        messageId: this.message[i],
        channel: info.channel,
        seq: info.seq,
        user: this.user[i],
      });
    }
    this.drained = this.written;
    return out;
  }

  get byteLength(): number {
    return this.capacity * (1 + 8 + 8 + 4 * 4);
  }
}
