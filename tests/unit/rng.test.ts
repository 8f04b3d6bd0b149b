// The seeded generator and distributions: fixed draws per seed, independent forks, right moments.
import { describe, expect, it } from 'vitest';
import { distMean, sampler, type Dist } from '../../src/sim/dist.ts';
import { Rng } from '../../src/sim/rng.ts';

describe('Rng', () => {
  it('gives the same draws for the same seed and path, on every engine', () => {
    // Golden values: if these change, every recorded traceHash changes with them.
    const r = new Rng(42);
    expect([r.u32(), r.u32(), r.u32()]).toMatchInlineSnapshot(`
      [
        1605313379,
        1834796928,
        2967030113,
      ]
    `);
    expect(new Rng(42, 'a/b').float()).toMatchInlineSnapshot(`0.6815024795853284`);
  });

  it('forks streams that depend on the label path, not on draws made before the fork', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    for (let i = 0; i < 100; i++) a.u32();
    expect(a.fork('x').u32()).toBe(b.fork('x').u32());
    expect(a.fork('x').u32()).not.toBe(a.fork('y').u32());
    expect(a.fork('x').fork('y').float()).toBe(new Rng(7, 'x/y').float());
  });

  it('draws floats in [0, 1) and integers in [0, n)', () => {
    const r = new Rng(3);
    for (let i = 0; i < 10_000; i++) {
      const f = r.float();
      expect(f >= 0 && f < 1).toBe(true);
      const k = r.int(7);
      expect(Number.isInteger(k) && k >= 0 && k < 7).toBe(true);
    }
  });
});

describe('distributions', () => {
  const cases: Dist[] = [
    { kind: 'constant', value: 5 },
    { kind: 'uniform', min: 2, max: 6 },
    { kind: 'exponential', mean: 3 },
    { kind: 'normal', mean: 10, sd: 2 },
    { kind: 'lognormal', median: 30, p99: 90 },
    { kind: 'pareto', scale: 1, shape: 3 },
  ];
  for (const dist of cases) {
    it(`${dist.kind}: the sample mean of 200,000 draws is within 2% of the mean`, () => {
      const draw = sampler(dist, new Rng(11, dist.kind));
      let sum = 0;
      const n = 200_000;
      for (let i = 0; i < n; i++) sum += draw();
      expect(Math.abs(sum / n - distMean(dist)) / distMean(dist)).toBeLessThan(0.02);
    });
  }

  it('lognormal: the 99th percentile of the draws matches the declared p99', () => {
    const draw = sampler({ kind: 'lognormal', median: 30, p99: 90 }, new Rng(5));
    const xs = Array.from({ length: 100_000 }, draw).sort((a, b) => a - b);
    expect(xs[50_000]).toBeCloseTo(30, 0);
    expect(Math.abs(xs[99_000] - 90) / 90).toBeLessThan(0.03);
  });

  it('pareto never draws below its scale', () => {
    const draw = sampler({ kind: 'pareto', scale: 4, shape: 1.5 }, new Rng(9));
    for (let i = 0; i < 10_000; i++) expect(draw()).toBeGreaterThanOrEqual(4);
  });
});
