// Probability distributions as data, and samplers that draw from them with a seeded Rng.
import type { Rng } from './rng.ts';

/** A distribution declared as data (scenario files use these). Units are the caller's. */
export type Dist =
  | { kind: 'constant'; value: number }
  | { kind: 'uniform'; min: number; max: number }
  | { kind: 'exponential'; mean: number }
  | { kind: 'normal'; mean: number; sd: number }
  | { kind: 'lognormal'; median: number; p99: number }
  | { kind: 'pareto'; scale: number; shape: number };

/** z-score of the 99th percentile of the standard normal distribution. */
const Z_P99 = 2.3263478740408408;

/** Draws one value; never negative for the non-negative families. */
export type Sampler = () => number;

/**
 * Builds a sampler. Only Math.log/exp/sqrt/cos are used; V8 implements them with the same
 * fdlibm port in Node and in Chromium, so draws are bit-identical across the two (a browser test
 * checks it through the traceHash).
 */
export function sampler(dist: Dist, rng: Rng): Sampler {
  switch (dist.kind) {
    case 'constant': {
      const v = dist.value;
      return () => v;
    }
    case 'uniform': {
      const { min } = dist;
      const width = dist.max - dist.min;
      return () => min + width * rng.float();
    }
    case 'exponential': {
      const mean = dist.mean;
      return () => -mean * Math.log(1 - rng.float());
    }
    case 'normal': {
      const { mean, sd } = dist;
      return () => Math.max(0, mean + sd * rng.normal());
    }
    case 'lognormal': {
      const mu = Math.log(dist.median);
      const sigma = Math.log(dist.p99 / dist.median) / Z_P99;
      return () => Math.exp(mu + sigma * rng.normal());
    }
    case 'pareto': {
      const { scale } = dist;
      const invShape = 1 / dist.shape;
      return () => scale * Math.exp(-invShape * Math.log(1 - rng.float()));
    }
  }
}

/** The smallest value the distribution can produce (used for lower bounds on a path). */
export function distMin(dist: Dist): number {
  switch (dist.kind) {
    case 'constant':
      return dist.value;
    case 'uniform':
      return dist.min;
    case 'pareto':
      return dist.scale;
    default:
      return 0;
  }
}

/** The mean of the distribution (the normal is clamped at 0, ignored here). */
export function distMean(dist: Dist): number {
  switch (dist.kind) {
    case 'constant':
      return dist.value;
    case 'uniform':
      return (dist.min + dist.max) / 2;
    case 'exponential':
      return dist.mean;
    case 'normal':
      return dist.mean;
    case 'lognormal': {
      const sigma = Math.log(dist.p99 / dist.median) / Z_P99;
      return dist.median * Math.exp((sigma * sigma) / 2);
    }
    case 'pareto':
      return dist.shape > 1 ? (dist.shape * dist.scale) / (dist.shape - 1) : Infinity;
  }
}
