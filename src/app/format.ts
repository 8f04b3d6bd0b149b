// Number formatting for the lab: counts, durations, rates and bytes, with units last.

const countFormat = new Intl.NumberFormat('en-US');
const compactFormat = new Intl.NumberFormat('en-US', {
  notation: 'compact',
  maximumFractionDigits: 1,
});

/** 1234567 → "1,234,567". */
export function formatCount(value: number): string {
  return Number.isFinite(value) ? countFormat.format(Math.round(value)) : '–';
}

/** 1234567 → "1.2M"; small numbers stay exact. */
export function formatCompact(value: number): string {
  if (!Number.isFinite(value)) return '–';
  return Math.abs(value) < 10_000
    ? countFormat.format(Math.round(value))
    : compactFormat.format(value);
}

/** A latency in milliseconds with precision that suits its size: 0.42 ms, 31.6 ms, 1.24 s. */
export function formatMs(valueMs: number): string {
  if (!Number.isFinite(valueMs)) return '–';
  if (valueMs === 0) return '0 ms';
  if (valueMs >= 1000) return `${(valueMs / 1000).toFixed(valueMs >= 10_000 ? 1 : 2)} s`;
  if (valueMs >= 100) return `${valueMs.toFixed(0)} ms`;
  if (valueMs >= 10) return `${valueMs.toFixed(1)} ms`;
  return `${valueMs.toFixed(2)} ms`;
}

/** An axis tick in milliseconds: ticks are round numbers, so no padding digits (50 ms, 1.5 s). */
export function formatMsTick(valueMs: number): string {
  return valueMs >= 1000
    ? `${+(valueMs / 1000).toPrecision(4)} s`
    : `${+valueMs.toPrecision(4)} ms`;
}

/** Simulated microseconds as seconds: 12_345_678 → "12.346 s". */
export function formatSimTime(us: number): string {
  return `${(us / 1e6).toFixed(us < 10e6 ? 3 : 2)} s`;
}

/** Bytes per second in decimal units: "1.2 MB/s". */
export function formatBytesPerSec(value: number): string {
  return `${formatBytes(value)}/s`;
}

export function formatBytes(value: number): string {
  if (!Number.isFinite(value)) return '–';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = value;
  let i = 0;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(i === 0 || v >= 100 ? 0 : 1)} ${units[i]}`;
}

/** A per-second rate: "1.02M/s". */
export function formatRate(perSec: number): string {
  if (!Number.isFinite(perSec)) return '–';
  if (perSec < 100) return `${perSec.toFixed(perSec < 10 ? 2 : 1)}/s`;
  return `${formatCompact(perSec)}/s`;
}

export function formatPercent(share: number): string {
  return Number.isFinite(share) ? `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%` : '–';
}

/** A parameter value with its unit: "10,000 users", "0.25 ms", "256 bytes". */
export function formatParam(value: number | string, unit = ''): string {
  if (typeof value === 'string') return value;
  const text = Number.isInteger(value) ? countFormat.format(value) : String(value);
  return unit ? `${text} ${unit}` : text;
}

/** A speed multiplier label: 0.1×, 1×, 1,000×, max. */
export function formatSpeed(speed: number | 'max'): string {
  return speed === 'max' ? 'max' : `${countFormat.format(speed)}×`;
}
