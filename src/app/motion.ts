// The page's animation clock and the buffer of sampled trace records the topology view animates.
import type { TraceRecord } from '../sim/types.ts';

/**
 * Simulated time as the page shows it. Updates arrive about every 100 ms; between them the clock
 * glides from where it was shown to the latest snapshot's time, so motion stays smooth at any speed
 * (the view trails the worker by one update, which is what makes the glide possible).
 */
export class SimClock {
  private fromUs = 0;
  private toUs = 0;
  private atMs = 0;
  /** The last non-zero glide rate: a paused clock keeps it so frozen marks stay where they were. */
  private rate = 0;

  constructor(private readonly spanMs = 100) {}

  /** A new snapshot time arrived at wall time `wallMs`; `jump` skips the glide (load, step). */
  set(nowUs: number, wallMs: number, jump = false): void {
    const shown = this.at(wallMs);
    this.fromUs = jump || nowUs < shown ? nowUs : shown;
    this.toUs = nowUs;
    this.atMs = wallMs;
    if (jump && nowUs === 0) this.rate = 0;
    else if (this.toUs > this.fromUs) this.rate = (this.toUs - this.fromUs) / this.spanMs;
  }

  at(wallMs: number): number {
    const p = Math.min(1, Math.max(0, (wallMs - this.atMs) / this.spanMs));
    return this.fromUs + (this.toUs - this.fromUs) * p;
  }

  /** Simulated microseconds per wall millisecond of the latest glide (0 before the first). */
  rateUsPerMs(): number {
    return this.rate;
  }
}

/** A mark to draw: a record, how far along its edge it is (0..1), and its fade after arrival (1 → 0). */
export interface Mark {
  record: TraceRecord;
  progress: number;
  fade: number;
}

/** Wall time a message is shown travelling at least, so fast speeds still show motion. */
export const MIN_TRAVEL_MS = 130;
/** Wall time an arrival pulse fades over. */
export const FADE_MS = 320;
const MAX_RECORDS = 6_000;

export class MotionBuffer {
  private records: TraceRecord[] = [];

  add(records: readonly TraceRecord[]): void {
    for (const r of records) this.records.push(r);
    if (this.records.length > MAX_RECORDS)
      this.records.splice(0, this.records.length - MAX_RECORDS);
  }

  clear(): void {
    this.records = [];
  }

  get size(): number {
    return this.records.length;
  }

  /** The marks visible at `displayUs`; forgets records whose pulse has faded. */
  marks(displayUs: number, rateUsPerMs: number): Mark[] {
    const minTravelUs = MIN_TRAVEL_MS * rateUsPerMs;
    const fadeUs = Math.max(1, FADE_MS * rateUsPerMs);
    const out: Mark[] = [];
    const keep: TraceRecord[] = [];
    for (const r of this.records) {
      const travelUs = Math.max(r.endUs - r.startUs, minTravelUs, 1);
      const endUs = r.startUs + travelUs;
      if (displayUs > endUs + fadeUs) continue;
      keep.push(r);
      if (displayUs < r.startUs) continue;
      if (displayUs <= endUs)
        out.push({ record: r, progress: (displayUs - r.startUs) / travelUs, fade: 1 });
      else out.push({ record: r, progress: 1, fade: 1 - (displayUs - endUs) / fadeUs });
    }
    this.records = keep;
    return out;
  }
}
