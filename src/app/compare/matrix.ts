// The measured decision matrix as the comparison table shows it: cell text with units and which cells are best.
import { decisionMatrix, type MatrixRow } from '../../sim/compare.ts';
import type { RunResult } from '../../sim/types.ts';
import { formatCount, formatMs } from '../format.ts';

export interface MatrixCell {
  text: string;
  /** The raw value for tests and tooltips (null when not measured yet). */
  value: number | boolean | null;
  best: boolean;
}

export interface ShownRow {
  key: string;
  label: string;
  unit: string;
  better: MatrixRow['better'];
  cells: MatrixCell[];
}

/** Rows whose figure needs deliveries: before the first one they show a dash, not a zero. */
const NEEDS_DELIVERIES = new Set(['latencyP50', 'latencyP99', 'bytes', 'requestsPerDelivered']);

/**
 * Indices of the best numeric values of a row (all ties); none when the row has no direction,
 * fewer than two values, or every value is equal (nothing stands out).
 */
export function bestIndices(
  values: readonly (number | boolean | null)[],
  better: MatrixRow['better'],
): number[] {
  if (better === 'none') return [];
  const nums = values
    .map((v, i) => ({ v, i }))
    .filter((x): x is { v: number; i: number } => typeof x.v === 'number' && Number.isFinite(x.v));
  if (nums.length < 2) return [];
  const pick = better === 'lower' ? Math.min : Math.max;
  const target = pick(...nums.map((x) => x.v));
  const close = (a: number) => Math.abs(a - target) <= 1e-9 * Math.max(1, Math.abs(target));
  const best = nums.filter((x) => close(x.v)).map((x) => x.i);
  return best.length === nums.length ? [] : best;
}

/** A value with its row's unit: "76.7 ms", "12%", "1,354 B", "31.3 MB", "187 mAh/h", "yes". */
export function formatCell(value: number | boolean | null, unit: string): string {
  if (value === null) return '–';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (!Number.isFinite(value)) return '–';
  switch (unit) {
    case 'ms':
      return formatMs(value);
    case 'share': {
      const pct = value * 100;
      if (pct === 0) return '0%';
      return `${pct < 1 ? pct.toFixed(2) : pct < 10 ? pct.toFixed(1) : pct.toFixed(0)}%`;
    }
    case 'B':
      return `${formatCount(value)} B`;
    case 'MB':
      return `${value.toFixed(value < 10 ? 2 : 1)} MB`;
    case 'mAh/h':
      return `${value.toFixed(value < 10 ? 1 : 0)} mAh/h`;
    default:
      return value < 10 && !Number.isInteger(value) ? value.toFixed(2) : formatCount(value);
  }
}

/** The matrix for the table: decisionMatrix's rows, dashes where an arm has nothing to show yet. */
export function shownMatrix(results: readonly RunResult[]): ShownRow[] {
  return decisionMatrix([...results]).map((row) => {
    const values = row.values.map((v, i) =>
      NEEDS_DELIVERIES.has(row.key) && results[i].delivered === 0 ? null : v,
    );
    const best = new Set(bestIndices(values, row.better));
    return {
      key: row.key,
      label: row.label,
      unit: row.unit,
      better: row.better,
      cells: values.map((v, i) => ({ text: formatCell(v, row.unit), value: v, best: best.has(i) })),
    };
  });
}
