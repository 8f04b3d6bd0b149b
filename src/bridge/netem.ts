// Network emulation: each link's propagation delay, drawn with the project's seeded RNG (a stream
// per link), held for real in the sender before the bytes go out on loopback.
import { sampler, type Dist } from '../sim/dist.ts';
import { Rng } from '../sim/rng.ts';

/**
 * How one family of links delays a message, as data (it crosses process boundaries):
 * - `dist`: a latency distribution plus uniform jitter (two-hop links);
 * - `path`: a fixed per-link base (client geometry, cluster round trip) plus exponential noise.
 * `none` sends at once (loopback mode).
 */
export type DelaySpec =
  | { kind: 'none' }
  | { kind: 'dist'; latencyMs: Dist; jitterMs: number }
  | {
      kind: 'path';
      /** Base one-way delay per link index, µs (a single entry applies to every link). */
      baseUs: number[];
      /** Mean of the exponential queueing noise added per message, µs. */
      noiseMeanUs: number;
    };

/** Delays below this are not held: Node's timers have millisecond resolution (see netem notes). */
export const MIN_HELD_US = 500;

/** One link's delay sampler, on its own stream `bridge/<label>/<index>` of the run's seed. */
export function linkDelay(
  spec: DelaySpec,
  seed: number,
  label: string,
  index: number,
): () => number {
  if (spec.kind === 'none') return () => 0;
  const rng = new Rng(seed, `bridge/${label}/${index}`);
  if (spec.kind === 'dist') {
    const draw = sampler(spec.latencyMs, rng);
    const jitterUs = spec.jitterMs * 1000;
    return () => draw() * 1000 + (jitterUs > 0 ? jitterUs * rng.float() : 0);
  }
  const base = spec.baseUs.length === 1 ? spec.baseUs[0] : (spec.baseUs[index] ?? 0);
  const mean = spec.noiseMeanUs;
  return () => base + (mean > 0 ? -mean * Math.log(1 - rng.float()) : 0);
}

/**
 * A delay line: runs callbacks at given monotonic times (µs), in time order, with one timer.
 * Per-link FIFO (TCP: nothing overtakes what was sent before it) is the caller's `due` floor.
 */
export class DelayLine {
  private times: number[] = [];
  private fns: (() => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;

  constructor(private readonly clock: () => number) {}

  get size(): number {
    return this.times.length;
  }

  /** Runs fn at `dueUs` (now if it is already past or closer than MIN_HELD_US). */
  at(dueUs: number, fn: () => void): void {
    const now = this.clock();
    if (dueUs - now < MIN_HELD_US && this.times.length === 0) {
      fn();
      return;
    }
    this.push(dueUs, fn);
    if (dueUs < this.timerAt) this.arm(now);
  }

  clear(): void {
    this.times = [];
    this.fns = [];
    this.seqs = [];
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }

  private arm(now: number): void {
    if (this.timer) clearTimeout(this.timer);
    const head = this.times[0];
    this.timerAt = head;
    this.timer = setTimeout(() => this.fire(), Math.max(0, (head - now) / 1000));
  }

  private fire(): void {
    this.timer = null;
    this.timerAt = Infinity;
    const now = this.clock();
    // Run everything due (within half a millisecond: the timer cannot be more precise).
    while (this.times.length > 0 && this.times[0] <= now + MIN_HELD_US) {
      const fn = this.pop();
      fn();
    }
    if (this.times.length > 0) this.arm(this.clock());
  }

  // A binary heap on (time, insertion order), so equal times run in the order they were given.
  private seqs: number[] = [];
  private seq = 0;
  private less(t1: number, s1: number, t2: number, s2: number): boolean {
    return t1 < t2 || (t1 === t2 && s1 < s2);
  }

  private push(t: number, fn: () => void): void {
    const a = this.times;
    const f = this.fns;
    const q = this.seqs;
    const s = this.seq++;
    let i = a.length;
    a.push(t);
    f.push(fn);
    q.push(s);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(t, s, a[p], q[p])) break;
      a[i] = a[p];
      f[i] = f[p];
      q[i] = q[p];
      i = p;
    }
    a[i] = t;
    f[i] = fn;
    q[i] = s;
  }

  private pop(): () => void {
    const a = this.times;
    const f = this.fns;
    const q = this.seqs;
    const top = f[0];
    const lastT = a.pop()!;
    const lastF = f.pop()!;
    const lastS = q.pop()!;
    const n = a.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && this.less(a[r], q[r], a[l], q[l]) ? r : l;
        if (!this.less(a[c], q[c], lastT, lastS)) break;
        a[i] = a[c];
        f[i] = f[c];
        q[i] = q[c];
        i = c;
      }
      a[i] = lastT;
      f[i] = lastF;
      q[i] = lastS;
    }
    return top;
  }
}
