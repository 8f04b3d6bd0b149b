// Thins the drained trace to a few hundred records per update, keeping each sampled publish's fan-out to the servers visible.
import type { TraceRecord } from '../sim/types.ts';

/** Knuth's multiplicative hash: spreads sequential ids so `% stride` keeps an even sample. */
function mix(a: number, b: number): number {
  return (Math.imul(a, 2654435761) ^ Math.imul(b + 1, 40503)) >>> 0;
}

function powerOfTwoAtLeast(x: number): number {
  let p = 1;
  while (p < x) p *= 2;
  return p;
}

/**
 * Splits the budget by hop, so a million-user fan-out (thousands of hop-1 records per message)
 * cannot crowd out the publishes and the broker's writes to the servers:
 * publishes and hop-2 writes are kept by whole message (every `stride`-th id), hop-1 deliveries
 * and drops are sampled one by one.
 */
export class TraceSampler {
  constructor(private readonly maxPerUpdate: number) {}

  /** Records still worth drawing (ending at or after `minEndUs`), sampled to the budget. */
  sample(records: readonly TraceRecord[], minEndUs: number): TraceRecord[] {
    const live = records.filter((r) => r.endUs >= minEndUs);
    const fanIn = live.filter((r) => r.kind === 'publish' || r.kind === 'hop2');
    const fanOut = live.filter((r) => r.kind === 'hop1' || r.kind === 'drop');
    const fanInBudget = Math.floor(this.maxPerUpdate * 0.4);
    const inStride = powerOfTwoAtLeast(fanIn.length / fanInBudget);
    const keptIn = inStride > 1 ? fanIn.filter((r) => mix(r.messageId, 0) % inStride === 0) : fanIn;
    const outBudget = this.maxPerUpdate - Math.min(keptIn.length, fanInBudget);
    const outStride = Math.ceil(fanOut.length / Math.max(1, outBudget));
    const keptOut =
      outStride > 1 ? fanOut.filter((r) => mix(r.messageId, r.user) % outStride === 0) : fanOut;
    const kept = [...keptIn.slice(-fanInBudget), ...keptOut.slice(-outBudget)];
    return kept.sort((a, b) => a.startUs - b.startUs);
  }
}
