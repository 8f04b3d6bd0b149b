// Deliveries whose arrival time is drawn but not yet reached, held until simulated time passes it.

/**
 * Fan-out computes each user's arrival time up front (a million deliveries per simulated second
 * cannot each be a queue event). A delivery only counts — in the histograms, the counters and the
 * time series — once the clock has passed its arrival, so a snapshot at time t is exact and a run
 * that ends at T reports what arrived before T as delivered and the rest as in flight.
 */
export class PendingDeliveries {
  private arrival = new Float64Array(1024);
  private e2e = new Float64Array(1024);
  private hop1 = new Float64Array(1024);
  /** A model's label for the delivery (the shaped path: user class × priority class). */
  private tag = new Uint8Array(1024);
  private n = 0;

  get size(): number {
    return this.n;
  }

  add(arrivalUs: number, e2eUs: number, hop1Us: number, tag = 0): void {
    if (this.n === this.arrival.length) this.grow();
    const i = this.n++;
    this.arrival[i] = arrivalUs;
    this.e2e[i] = e2eUs;
    this.hop1[i] = hop1Us;
    this.tag[i] = tag;
  }

  /** Hands every delivery that arrived before `untilUs` to `accept` and keeps the rest. */
  flush(
    untilUs: number,
    accept: (arrivalUs: number, e2eUs: number, hop1Us: number, tag: number) => void,
  ): void {
    const arrival = this.arrival;
    const e2e = this.e2e;
    const hop1 = this.hop1;
    const tag = this.tag;
    let kept = 0;
    for (let i = 0; i < this.n; i++) {
      const a = arrival[i];
      if (a < untilUs) {
        accept(a, e2e[i], hop1[i], tag[i]);
      } else {
        arrival[kept] = a;
        e2e[kept] = e2e[i];
        hop1[kept] = hop1[i];
        tag[kept] = tag[i];
        kept++;
      }
    }
    this.n = kept;
  }

  get byteLength(): number {
    return this.arrival.byteLength * 3 + this.tag.byteLength;
  }

  private grow(): void {
    const n = this.arrival.length * 2;
    const grow = (a: Float64Array) => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    this.arrival = grow(this.arrival);
    this.e2e = grow(this.e2e);
    this.hop1 = grow(this.hop1);
    const tag = new Uint8Array(n);
    tag.set(this.tag);
    this.tag = tag;
  }
}
