// Posts whose visibility to a follower is drawn but not yet reached, bucketed by time until the clock passes them.

/**
 * A post becomes visible to a follower at a drawn instant (a push arrival, or the feed open that
 * first shows it); ten million followers cannot each be a queue event, so the instant is drawn
 * when the post reaches the follower's feed and held here. It counts only once simulated time has
 * passed it, so a snapshot at t is exact. Entries sit in the bucket of their time (one per sample
 * interval), so a flush touches each entry once, not every pending entry at every sample.
 */
export class VisibilityCalendar {
  private readonly visibleUs: Float64Array[] = [];
  private readonly post: Int32Array[] = [];
  /** Time from reaching the follower (feed written, or the post stored) to being seen. */
  private readonly waitUs: Float32Array[] = [];
  /** Time from the follower's first open after the post to seeing it, −1 if that open showed it. */
  private readonly staleUs: Float32Array[] = [];
  private readonly fill: Int32Array;
  /** First bucket not yet flushed completely. */
  private cursor = 0;
  private pending = 0;

  constructor(
    private readonly bucketUs: number,
    private readonly buckets: number,
  ) {
    this.fill = new Int32Array(buckets);
    for (let b = 0; b < buckets; b++) {
      this.visibleUs.push(new Float64Array(0));
      this.post.push(new Int32Array(0));
      this.waitUs.push(new Float32Array(0));
      this.staleUs.push(new Float32Array(0));
    }
  }

  get size(): number {
    return this.pending;
  }

  /** Entries held right now × their bytes (simulator memory, not modelled memory). */
  get byteLength(): number {
    let n = 0;
    for (let b = this.cursor; b < this.buckets; b++) n += this.visibleUs[b].length;
    return n * 20;
  }

  add(visibleUs: number, post: number, waitUs: number, staleUs: number): void {
    let b = Math.floor(visibleUs / this.bucketUs);
    if (b >= this.buckets) b = this.buckets - 1;
    if (b < this.cursor) b = this.cursor;
    const i = this.fill[b];
    if (i === this.visibleUs[b].length) this.grow(b);
    this.visibleUs[b][i] = visibleUs;
    this.post[b][i] = post;
    this.waitUs[b][i] = waitUs;
    this.staleUs[b][i] = staleUs;
    this.fill[b] = i + 1;
    this.pending++;
  }

  /** Hands every entry visible before `untilUs` to `accept` (bucket by bucket) and keeps the rest. */
  flush(
    untilUs: number,
    accept: (visibleUs: number, post: number, waitUs: number, staleUs: number) => void,
  ): void {
    while (this.cursor < this.buckets) {
      const b = this.cursor;
      const whole = (b + 1) * this.bucketUs <= untilUs && b < this.buckets - 1;
      const v = this.visibleUs[b];
      const p = this.post[b];
      const w = this.waitUs[b];
      const s = this.staleUs[b];
      const n = this.fill[b];
      let kept = 0;
      for (let i = 0; i < n; i++) {
        if (whole || v[i] < untilUs) accept(v[i], p[i], w[i], s[i]);
        else {
          v[kept] = v[i];
          p[kept] = p[i];
          w[kept] = w[i];
          s[kept] = s[i];
          kept++;
        }
      }
      this.pending -= n - kept;
      this.fill[b] = kept;
      if (!whole) return;
      // A passed bucket is never written again (add() moves late entries to the cursor): free it.
      this.visibleUs[b] = new Float64Array(0);
      this.post[b] = new Int32Array(0);
      this.waitUs[b] = new Float32Array(0);
      this.staleUs[b] = new Float32Array(0);
      this.cursor++;
    }
  }

  private grow(b: number): void {
    const n = Math.max(64, this.visibleUs[b].length * 2);
    const v = new Float64Array(n);
    v.set(this.visibleUs[b]);
    this.visibleUs[b] = v;
    const p = new Int32Array(n);
    p.set(this.post[b]);
    this.post[b] = p;
    const w = new Float32Array(n);
    w.set(this.waitUs[b]);
    this.waitUs[b] = w;
    const s = new Float32Array(n);
    s.set(this.staleUs[b]);
    this.staleUs[b] = s;
  }
}
