// Thins the drained trace to a few hundred records per update, keeping whole messages so a publish's fan-out stays visible.
import type { TraceRecord } from '../sim/types.ts';

/**
 * Keeps the records of every `stride`-th message (by id). The stride is a power of two that only
 * changes when the volume does, so a message's hop-1 records that arrive in a later update are
 * kept exactly when its publish was.
 */
export class TraceSampler {
  private stride = 1;

  constructor(private readonly maxPerUpdate: number) {}

  reset(): void {
    this.stride = 1;
  }

  /** Records still worth drawing (ending at or after `minEndUs`), sampled by message. */
  sample(records: readonly TraceRecord[], minEndUs: number): TraceRecord[] {
    let kept = records.filter((r) => r.endUs >= minEndUs && r.messageId % this.stride === 0);
    while (kept.length > this.maxPerUpdate && this.stride < 1 << 24) {
      this.stride *= 2;
      kept = kept.filter((r) => r.messageId % this.stride === 0);
    }
    // Volume fell a lot: sample more densely from the next update on.
    if (kept.length < this.maxPerUpdate / 8 && this.stride > 1) this.stride /= 2;
    return kept.length > this.maxPerUpdate ? kept.slice(-this.maxPerUpdate) : kept;
  }
}
