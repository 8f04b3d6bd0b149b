// The active-user Bloom filter of hybrid fan-out: the real bloom-filters library, built at a sampled scale.
// Only the Bloom filter module, not the package index: the index also loads the XOR filter and
// IBLT, whose decorators name Node's `Buffer` when their classes are defined, which throws in a
// browser. The module is CommonJS with `exports.default`: a bundler hands over that default,
// Node's ESM loader hands over `module.exports` (with `.default` on it).
import bloomModule from 'bloom-filters/dist/bloom/bloom-filter.js';
import type BloomFilterType from 'bloom-filters/dist/bloom/bloom-filter.js';

type BloomFilterClass = new (size: number, nbHashes: number) => BloomFilterType;
const loaded = bloomModule as unknown as BloomFilterClass & { default?: BloomFilterClass };
const BloomFilter: BloomFilterClass = loaded.default ?? loaded;

/**
 * The library's sizing formulas (bloom-filters' `optimalFilterSize` and `optimalHashes`, which
 * `BloomFilter.create` uses): m = ⌈−n·ln p / ln²2⌉ bits, k = ⌈(m/n)·ln 2⌉ hashes.
 */
export function optimalBits(elements: number, falsePositiveRate: number): number {
  return Math.ceil(-(elements * Math.log(falsePositiveRate)) / (Math.LN2 * Math.LN2));
}

export function optimalHashes(bits: number, elements: number): number {
  return Math.ceil((bits / elements) * Math.LN2);
}

/** The false-positive rate theory gives for n elements in m bits with k hashes (exp/log, not pow: see ARCHITECTURE rule 3). */
export function theoreticalFpRate(elements: number, bits: number, hashes: number): number {
  return Math.exp(hashes * Math.log(1 - Math.exp((-hashes * elements) / bits)));
}

export interface BloomPlan {
  /** Full scale: the elements the platform's filter holds, its bits, bytes and hashes. */
  fullElements: number;
  fullBits: number;
  hashes: number;
  bitsPerElement: number;
  /** The filter actually built: fewer elements, the same bits per element and hash count. */
  sampleElements: number;
  sampleBits: number;
}

/**
 * Sizes the filter at full scale with the library's formulas, then scales it down to
 * `sampleElements` at the same bits per element and hash count: a Bloom filter's false-positive
 * rate depends only on those two (≈ (1 − e^(−k·n/m))^k), not on its size, so the small filter's
 * measured rate stands for the big one's. (The library costs ~11–15 µs per add or query in Node;
 * ten million of each would take minutes.)
 */
export function planBloom(
  fullElements: number,
  falsePositiveRate: number,
  sampleElements: number,
): BloomPlan {
  const fullBits = optimalBits(fullElements, falsePositiveRate);
  const hashes = optimalHashes(fullBits, fullElements);
  const bitsPerElement = fullBits / fullElements;
  const n = Math.min(fullElements, sampleElements);
  return {
    fullElements,
    fullBits,
    hashes,
    bitsPerElement,
    sampleElements: n,
    sampleBits: Math.max(hashes + 1, Math.ceil(bitsPerElement * n)),
  };
}

/**
 * A Bloom filter of the library's, holding `sampleElements` keys. The library hashes with
 * xxhash64 under a fixed seed (`getDefaultSeed()` = 0x1234567890, never drawn), so the same
 * keys set the same bits in every run and every engine.
 */
export class SampledBloomFilter {
  private readonly filter: BloomFilterType;

  constructor(readonly plan: BloomPlan) {
    this.filter = new BloomFilter(plan.sampleBits, plan.hashes);
  }

  add(key: string): void {
    this.filter.add(key);
  }

  has(key: string): boolean {
    return this.filter.has(key);
  }

  /**
   * The library's own `rate()`: (1 − e^(−bitsSet/m))^k. It is not the false-positive rate — the
   * share of bits set already is 1 − e^(−kn/m), so the estimate from the bits is (bitsSet/m)^k
   * (`fillRate`); at 1% the library's figure comes out near 0.18%.
   */
  libraryRate(): number {
    return this.filter.rate();
  }

  /** (bits set ÷ bits)^k: the false-positive rate the filter's actual bits imply. */
  fillRate(): number {
    return Math.exp(this.plan.hashes * Math.log(this.filter.length / this.plan.sampleBits));
  }
}
