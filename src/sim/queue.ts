// The future event list: a binary min-heap on typed arrays, ordered by (time, insertion sequence).

/**
 * Events are two 32-bit words of payload (`word0`, `word1`) at an integer time in microseconds.
 * Ties in time pop in insertion order, which makes runs reproducible. The heap lives in parallel
 * typed arrays (no object per event), so a million pending events cost 24 MB and no GC.
 */
export class EventQueue {
  private times: Float64Array;
  private seqs: Float64Array;
  private w0: Int32Array;
  private w1: Int32Array;
  private count = 0;
  private nextSeq = 0;

  /** Filled by pop(): the event just removed. */
  time = 0;
  word0 = 0;
  word1 = 0;

  constructor(initialCapacity = 1024) {
    const n = Math.max(16, initialCapacity);
    this.times = new Float64Array(n);
    this.seqs = new Float64Array(n);
    this.w0 = new Int32Array(n);
    this.w1 = new Int32Array(n);
  }

  get size(): number {
    return this.count;
  }

  /** Time of the next event, or Infinity when empty. */
  peekTime(): number {
    return this.count > 0 ? this.times[0] : Infinity;
  }

  push(time: number, word0: number, word1: number): void {
    if (this.count === this.times.length) this.grow();
    const times = this.times;
    const seqs = this.seqs;
    const w0 = this.w0;
    const w1 = this.w1;
    const seq = this.nextSeq++;
    let i = this.count++;
    // Sift the hole up until the parent is not later than the new event.
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent];
      if (pt < time || (pt === time && seqs[parent] < seq)) break;
      times[i] = pt;
      seqs[i] = seqs[parent];
      w0[i] = w0[parent];
      w1[i] = w1[parent];
      i = parent;
    }
    times[i] = time;
    seqs[i] = seq;
    w0[i] = word0;
    w1[i] = word1;
  }

  /** Removes the earliest event into `time`, `word0`, `word1`; false when empty. */
  pop(): boolean {
    const n = this.count;
    if (n === 0) return false;
    const times = this.times;
    const seqs = this.seqs;
    const w0 = this.w0;
    const w1 = this.w1;
    this.time = times[0];
    this.word0 = w0[0];
    this.word1 = w1[0];
    const last = n - 1;
    this.count = last;
    if (last === 0) return true;
    const t = times[last];
    const s = seqs[last];
    const a = w0[last];
    const b = w1[last];
    // Sift the hole at the root down, moving the earlier child up.
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= last) break;
      const right = child + 1;
      if (right < last) {
        const ct = times[child];
        const rt = times[right];
        if (rt < ct || (rt === ct && seqs[right] < seqs[child])) child = right;
      }
      const ct = times[child];
      if (t < ct || (t === ct && s < seqs[child])) break;
      times[i] = ct;
      seqs[i] = seqs[child];
      w0[i] = w0[child];
      w1[i] = w1[child];
      i = child;
    }
    times[i] = t;
    seqs[i] = s;
    w0[i] = a;
    w1[i] = b;
    return true;
  }

  clear(): void {
    this.count = 0;
  }

  /** Bytes held by the heap's arrays. */
  get byteLength(): number {
    return this.times.byteLength + this.seqs.byteLength + this.w0.byteLength + this.w1.byteLength;
  }

  private grow(): void {
    const n = this.times.length * 2;
    const grow64 = (a: Float64Array) => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    const grow32 = (a: Int32Array) => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    this.times = grow64(this.times);
    this.seqs = grow64(this.seqs);
    this.w0 = grow32(this.w0);
    this.w1 = grow32(this.w1);
  }
}
