// Staleness probes: a fixed sample of subscriptions whose held value is followed, to measure how long users see out-of-date values.
import { LatencyHistogram } from '../histogram.ts';

/** Probe channels at most, and probe subscriptions at most. */
const MAX_PROBE_CHANNELS = 64;
const MAX_PROBES = 2_048;
/** Creation times kept per probe channel, by sequence number (a power of two). */
const RING = 4_096;

/**
 * A probe is one subscription slot. Deliveries to it are recorded when the simulator decides them
 * (their arrival time is known then), and applied once simulated time passes their arrival; at
 * each sampling instant a probe's staleness is the time since its channel published the first
 * update the user does not have yet (0 when it holds the newest one).
 */
export class StalenessProbes {
  /** Probe index of a slot's channel (-1: not a probe channel). */
  readonly channelProbe: Int32Array;
  private readonly probeChannels: number[] = [];
  private readonly created: Float64Array;
  private readonly slotStride: number;
  // Per probe.
  readonly probeSlot: number[] = [];
  private readonly probeChannelIndex: number[] = [];
  private readonly held: Int32Array;
  private readonly waitArrival: number[][];
  private readonly waitSeq: number[][];
  /** A histogram per group (user class), and the interval's own for the series. */
  readonly hist: LatencyHistogram[];
  readonly allHist = new LatencyHistogram();
  readonly intervalHist = new LatencyHistogram();
  samples = 0;
  /** Probes whose missing update was older than the ring: their staleness is a lower bound. */
  capped = 0;

  constructor(
    channels: number,
    slotChannel: Int32Array,
    private readonly probeGroup: (slot: number) => number,
    groups: number,
  ) {
    const stride = Math.max(1, Math.ceil(channels / MAX_PROBE_CHANNELS));
    this.channelProbe = new Int32Array(channels).fill(-1);
    for (let c = 0; c < channels; c += stride) {
      this.channelProbe[c] = this.probeChannels.length;
      this.probeChannels.push(c);
    }
    let candidates = 0;
    for (let i = 0; i < slotChannel.length; i++)
      if (this.channelProbe[slotChannel[i]] >= 0) candidates++;
    this.slotStride = Math.max(1, Math.ceil(candidates / MAX_PROBES));
    let seen = 0;
    for (let i = 0; i < slotChannel.length; i++) {
      const pc = this.channelProbe[slotChannel[i]];
      if (pc < 0) continue;
      if (seen++ % this.slotStride === 0) {
        this.probeSlot.push(i);
        this.probeChannelIndex.push(pc);
      }
    }
    this.created = new Float64Array(this.probeChannels.length * RING);
    this.held = new Int32Array(this.probeSlot.length).fill(-1);
    this.waitArrival = this.probeSlot.map(() => []);
    this.waitSeq = this.probeSlot.map(() => []);
    this.hist = [];
    for (let g = 0; g < groups; g++) this.hist.push(new LatencyHistogram());
    this.slotProbe = new Map();
    this.probeSlot.forEach((slot, p) => this.slotProbe.set(slot, p));
  }

  /** Lookup only (never iterated): slot → probe index. */
  private readonly slotProbe: Map<number, number>;

  get count(): number {
    return this.probeSlot.length;
  }

  /** The source published `seq` on channel c at `createdUs`. */
  published(c: number, seq: number, createdUs: number): void {
    const pc = this.channelProbe[c];
    if (pc >= 0) this.created[pc * RING + (seq & (RING - 1))] = createdUs;
  }

  /** Probe index of a slot, or -1 (callers check `channelProbe` first, so this is rare). */
  probeOf(slot: number): number {
    return this.slotProbe.get(slot) ?? -1;
  }

  /** A delivery of `seq` to probe p will arrive at `arrivalUs`. */
  deliver(p: number, seq: number, arrivalUs: number): void {
    this.waitArrival[p].push(arrivalUs);
    this.waitSeq[p].push(seq);
  }

  /** The user dropped the subscription (or took it up afresh): it holds nothing. */
  reset(p: number): void {
    this.held[p] = -1;
    this.waitArrival[p].length = 0;
    this.waitSeq[p].length = 0;
  }

  /**
   * Samples every probe at `nowUs`: `latestSeq(c)` is the newest sequence number the source has
   * published on channel c, `active(slot)` whether the subscription is live.
   */
  sample(nowUs: number, latestSeq: (c: number) => number, active: (slot: number) => boolean): void {
    for (let p = 0; p < this.probeSlot.length; p++) {
      const arr = this.waitArrival[p];
      let k = 0;
      while (k < arr.length && arr[k] <= nowUs) {
        if (this.waitSeq[p][k] > this.held[p]) this.held[p] = this.waitSeq[p][k];
        k++;
      }
      if (k > 0) {
        arr.splice(0, k);
        this.waitSeq[p].splice(0, k);
      }
      const slot = this.probeSlot[p];
      if (this.held[p] < 0 || !active(slot)) continue;
      const pc = this.probeChannelIndex[p];
      const latest = latestSeq(this.probeChannels[pc]);
      let staleUs = 0;
      if (latest > this.held[p]) {
        let missing = this.held[p] + 1;
        if (latest - missing >= RING) {
          missing = latest - RING + 1;
          this.capped++;
        }
        staleUs = Math.max(0, nowUs - this.created[pc * RING + (missing & (RING - 1))]);
      }
      this.hist[this.probeGroup(slot)].record(staleUs);
      this.allHist.record(staleUs);
      this.intervalHist.record(staleUs);
      this.samples++;
    }
  }

  dispose(): void {
    for (const h of this.hist) h.destroy();
    this.allHist.destroy();
    this.intervalHist.destroy();
  }
}
