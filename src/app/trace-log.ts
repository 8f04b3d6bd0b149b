// The recent sampled trace records the sequence diagram draws from: a bounded buffer, kept apart from the animation's.
import type { TraceRecord } from '../sim/types.ts';

/** About a minute of sampled messages at the core's ~25 traced messages per simulated second. */
const MAX_RECORDS = 8_000;

export class TraceLog {
  private records: TraceRecord[] = [];

  add(records: readonly TraceRecord[]): void {
    for (const r of records) this.records.push(r);
    if (this.records.length > MAX_RECORDS)
      this.records.splice(0, this.records.length - MAX_RECORDS);
  }

  clear(): void {
    this.records = [];
  }

  /** A copy of the buffer, oldest first. */
  all(): TraceRecord[] {
    return this.records.slice();
  }

  get size(): number {
    return this.records.length;
  }
}
