// Draws the fan-out model needs beyond dist.ts: binomial and Poisson counts, and the maximum of n draws in one.
import type { FanoutDist } from '../../../scenario/fanout-schema.ts';
import type { Rng } from '../../rng.ts';

/** z-score of the 99th percentile of the standard normal distribution (as dist.ts). */
const Z_P99 = 2.3263478740408408;

/** Below this mean a count is drawn exactly (waiting times); above, from the normal approximation. */
const EXACT_MEAN_MAX = 40;

/**
 * Binomial(n, p). Exact by geometric waiting times while n·min(p, 1−p) is small (cost O(np)),
 * else the normal approximation with continuity correction, clamped to [0, n]: at a mean above 40
 * its error is far below the sampling noise of the figures it feeds.
 */
export function binomial(rng: Rng, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(rng, n, 1 - p);
  const mean = n * p;
  if (mean < EXACT_MEAN_MAX) {
    const logQ = Math.log(1 - p);
    let successes = 0;
    let position = 0;
    for (;;) {
      position += Math.floor(Math.log(1 - rng.float()) / logQ) + 1;
      if (position > n) return successes;
      successes++;
    }
  }
  const x = Math.round(mean + Math.sqrt(mean * (1 - p)) * rng.normal());
  return x < 0 ? 0 : x > n ? n : x;
}

/** Poisson(mean): exact by inversion for small means, the normal approximation above. */
export function poisson(rng: Rng, mean: number): number {
  if (mean <= 0) return 0;
  if (mean < EXACT_MEAN_MAX) {
    let k = 0;
    let term = Math.exp(-mean);
    let cdf = term;
    const u = rng.float();
    while (u > cdf && k < 1_000) {
      k++;
      term *= mean / k;
      cdf += term;
    }
    return k;
  }
  const x = Math.round(mean + Math.sqrt(mean) * rng.normal());
  return x < 0 ? 0 : x;
}

/** An exponential draw with the given mean (in the caller's unit). */
export function exponential(rng: Rng, mean: number): number {
  return -mean * Math.log(1 - rng.float());
}

/**
 * The standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9),
 * from + − × ÷, log and sqrt only, so it is identical in Node and Chromium.
 */
export function normalQuantile(q: number): number {
  if (q <= 0) return -Infinity;
  if (q >= 1) return Infinity;
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269];
  const a4 = -30.66479806614716;
  const a5 = 2.506628277459239;
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972];
  const b4 = -13.28068155288572;
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734];
  const c4 = 4.374664141464968;
  const c5 = 2.938163982698783;
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (q < low || q > 1 - low) {
    const t = Math.sqrt(-2 * Math.log(q < low ? q : 1 - q));
    const x =
      (((((c[0] * t + c[1]) * t + c[2]) * t + c[3]) * t + c4) * t + c5) /
      ((((d[0] * t + d[1]) * t + d[2]) * t + d[3]) * t + 1);
    return q < low ? x : -x;
  }
  const r = q - 0.5;
  const s = r * r;
  return (
    ((((((a[0] * s + a[1]) * s + a[2]) * s + a[3]) * s + a4) * s + a5) * r) /
    (((((b[0] * s + b[1]) * s + b[2]) * s + b[3]) * s + b4) * s + 1)
  );
}

/** The quantile function of a distribution (the value below which a share q of draws fall). */
export function quantile(dist: FanoutDist, q: number): number {
  switch (dist.kind) {
    case 'constant':
      return dist.value;
    case 'uniform':
      return dist.min + (dist.max - dist.min) * q;
    case 'exponential':
      return -dist.mean * Math.log(Math.max(1e-300, 1 - q));
    case 'normal':
      return Math.max(0, dist.mean + dist.sd * normalQuantile(q));
    case 'lognormal': {
      const sigma = Math.log(dist.p99 / dist.median) / Z_P99;
      return dist.median * Math.exp(sigma * normalQuantile(q));
    }
    case 'pareto':
      return dist.scale * Math.exp(-Math.log(Math.max(1e-300, 1 - q)) / dist.shape);
  }
}

/**
 * The slowest of n independent draws, drawn once: if U is uniform, F⁻¹(U^(1/n)) has the
 * distribution of the maximum of n draws. A feed that waits for n parallel fetches takes the
 * slowest of them; this costs one draw instead of n.
 */
export function maxOf(dist: FanoutDist, rng: Rng, n: number): number {
  if (n <= 0) return 0;
  const u = 1 - rng.float();
  const q = n === 1 ? u : Math.exp(Math.log(u) / n);
  const x = quantile(dist, q >= 1 ? 1 - 1e-16 : q);
  return x === Infinity ? quantile(dist, 1 - 1e-16) : x;
}
