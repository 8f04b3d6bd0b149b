// traceHash: a running 64-bit hash (two 32-bit lanes) over every event a run processes.

const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;
const TWO_32 = 4294967296;

/**
 * Order-sensitive: the same events in the same order give the same hash, anything else almost
 * surely not. Integers only (times are integer microseconds), so it is identical on every engine.
 */
export class TraceHasher {
  private a = 0x12345678;
  private b = 0x9abcdef0;

  /** Mixes one non-negative integer below 2^53. */
  add(value: number): void {
    const lo = value >>> 0;
    const hi = (value / TWO_32) >>> 0;
    this.a = Math.imul(rotl((this.a ^ Math.imul(lo, P1)) >>> 0, 13), 5) + 0xe6546b64;
    this.b = Math.imul(rotl((this.b ^ Math.imul(hi ^ lo, P2)) >>> 0, 17), 9) + 0x3c6ef372;
  }

  /** Mixes a time and two payload words: one processed event. */
  addEvent(timeUs: number, word0: number, word1: number): void {
    this.add(timeUs);
    this.add(word0 >>> 0);
    this.add(word1 >>> 0);
  }

  /** 16 hex digits. */
  digest(): string {
    const a = fmix(this.a ^ Math.imul(this.b, P3));
    const b = fmix(this.b ^ a);
    return hex(a) + hex(b);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hex(x: number): string {
  return (x >>> 0).toString(16).padStart(8, '0');
}
