// The measured decision matrix as the comparison table shows it: cell text with units and which cells are best (by the core's tie rule).
import {
  decisionMatrix,
  differences,
  figuresOf,
  judge,
  MATRIX_METRICS,
  type FigureSet,
  type MatrixRow,
  type Spread,
} from '../../sim/compare.ts';
import type { RunResult } from '../../sim/types.ts';
import { formatBytesPerSec, formatCount, formatMs, formatRate } from '../format.ts';

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
 * Indices of the best values of a row, by the core's tie rule (`judge`): the best value and every
 * value whose spread overlaps it; none when the row has no direction, fewer than two values, or
 * everything ties. Without spreads only equal values tie.
 */
export function bestIndices(
  values: readonly (number | boolean | null)[],
  better: MatrixRow['better'],
  spreads: readonly (Spread | null)[] | null = null,
): number[] {
  const verdict = judge(values, spreads, better);
  return verdict.outcome === 'win' ? verdict.winners : [];
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
    case 'B/s':
      return formatBytesPerSec(value);
    case '/s':
      return formatRate(value);
    case 'MB':
      return `${value.toFixed(value < 10 ? 2 : 1)} MB`;
    case 'mAh/h':
      return `${value.toFixed(value < 10 ? 1 : 0)} mAh/h`;
    default:
      return value < 10 && !Number.isInteger(value) ? value.toFixed(2) : formatCount(value);
  }
}

/** How the best cells are chosen: the noise runs' figures (spreads), and whether to wait for them. */
export interface MatrixJudging {
  /** Per arm, its figures on each noise seed; null: judge on the values alone. */
  noise?: readonly (readonly FigureSet[])[] | null;
  /** True while the verdicts wait (the run or its noise estimate is under way): nothing is best. */
  pending?: boolean;
}

/** The matrix for the table: decisionMatrix's rows, dashes where an arm has nothing to show yet. */
export function shownMatrix(
  results: readonly RunResult[],
  judging: MatrixJudging = {},
): ShownRow[] {
  const main = results.map((r) => figuresOf(r, MATRIX_METRICS));
  const spreads = new Map(
    differences(main, judging.noise ?? null, MATRIX_METRICS).map((d) => [d.key, d.spreads]),
  );
  return decisionMatrix([...results]).map((row) => {
    const values = row.values.map((v, i) =>
      NEEDS_DELIVERIES.has(row.key) && results[i].delivered === 0 ? null : v,
    );
    const best = new Set(
      judging.pending ? [] : bestIndices(values, row.better, spreads.get(row.key) ?? null),
    );
    return {
      key: row.key,
      label: row.label,
      unit: row.unit,
      better: row.better,
      cells: values.map((v, i) => ({ text: formatCell(v, row.unit), value: v, best: best.has(i) })),
    };
  });
}
