// Number formats the shaping panel adds to the lab's: CPU time, multiples and short per-second rates, units last.
import { formatCompact } from '../format.ts';

/** CPU time from microseconds: "440 µs", "297 ms", "1.50 s". */
export function formatCpuUs(us: number): string {
  if (!Number.isFinite(us)) return '–';
  if (us >= 1e6) return `${(us / 1e6).toFixed(us >= 1e7 ? 1 : 2)} s`;
  if (us >= 1e3) return `${(us / 1e3).toFixed(us >= 1e5 ? 0 : 1)} ms`;
  return `${Math.round(us)} µs`;
}

/** A per-second rate with sensible digits: 0.25/s, 9.8/s, 98/s, 20K/s. */
export function formatPerSec(value: number): string {
  if (!Number.isFinite(value)) return '–';
  if (value === 0) return '0/s';
  if (value < 1) return `${value.toFixed(2)}/s`;
  if (value < 10) return `${value.toFixed(1)}/s`;
  return `${formatCompact(value)}/s`;
}

/** A mean such as updates per frame: "9.8", "20". */
export function formatMean(value: number): string {
  if (!Number.isFinite(value)) return '–';
  return value < 10 ? value.toFixed(1) : value.toFixed(0);
}
